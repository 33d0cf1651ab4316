"""Every message quoted in docs/troubleshooting.md is one the code can still print.

A quote is a bold code span (**`…`**). In it, ``…`` and ``<name>`` stand for variable text of any
length; anything else is literal, except that an example value may stand where the code has a
field: one word that is not a plain lowercase word (``31111``, ``127.0.0.1``, ``access_denied``,
``'X'``, ``Unauthorized``), or a phrase that faas_pro/ has as a string of its own (``audience is not
ours``, passed around as a reason). The code's side: every string literal, f-string, ``+``
concatenation of strings, and ``FaasProError(message, hint)`` as the line it prints
(``message; hint``) in faas_pro/. A quote must be part of one of them.
"""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "troubleshooting.md"
FIELD = "\x00"  # a field of the code's message (see the module docstring for what it may hold)
ANY = "\x01"  # a placeholder of the doc's quote: any text


def quotes() -> list[str]:
    return re.findall(r"\*\*`([^`]+)`\*\*", DOC.read_text(encoding="utf-8"))


def _pattern(quote: str) -> list[tuple[str, bool]]:
    """The quote as (character, may a field of the code stand for it) pairs; ANY for a placeholder."""
    out: list[tuple[str, bool]] = []
    for token in re.split(r"(\s*…\s*|<[^<>\s]+>|\s+)", quote):
        if not token:
            continue
        if token.strip() == "…" or token.startswith("<"):
            out.append((ANY, False))
            continue
        core = token.strip(".,;:!?()[]'\"")
        example = not token.isspace() and not re.fullmatch(r"[a-z]+", core)
        out.extend((c, example) for c in token)
    return out


def _template(node: ast.AST) -> str | None:
    """The message a string expression builds, fields as FIELD; None when it is not a string."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(str(v.value) if isinstance(v, ast.Constant) else FIELD for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _template(node.left), _template(node.right)
        if left is None and right is None:
            return None
        return (left if left is not None else FIELD) + (right if right is not None else FIELD)
    return None


@cache
def _errors() -> frozenset[str]:
    """FaasProError and its subclasses in faas_pro/ (their line is ``message; hint``)."""
    names, grew = {"FaasProError"}, True
    classes = [n for tree in _sources() for n in ast.walk(tree) if isinstance(n, ast.ClassDef)]
    while grew:
        before = len(names)
        names |= {c.name for c in classes if any(getattr(b, "id", getattr(b, "attr", "")) in names for b in c.bases)}
        grew = len(names) > before
    return frozenset(names)


def _error_line(call: ast.Call) -> str | None:
    name = call.func.id if isinstance(call.func, ast.Name) else getattr(call.func, "attr", "")
    if name not in _errors() or not call.args:
        return None
    hint = call.args[1] if len(call.args) > 1 else next((k.value for k in call.keywords if k.arg == "hint"), None)
    if hint is None:
        return None
    message = _template(call.args[0])
    return f"{FIELD if message is None else message}; {_template(hint) or FIELD}"


@cache
def _sources() -> tuple[ast.AST, ...]:
    return tuple(ast.parse(p.read_text(encoding="utf-8")) for p in sorted((ROOT / "faas_pro").rglob("*.py")))


@cache
def templates() -> tuple[str, ...]:
    found: set[str] = set()
    for tree in _sources():
        for node in ast.walk(tree):
            t = _error_line(node) if isinstance(node, ast.Call) else _template(node)
            if t is not None and t.strip(FIELD + " "):
                found.add(t)
    return tuple(sorted(found))


@cache
def phrases() -> tuple[str, ...]:
    """The code's own multi-word strings (not docstrings): what a field may hold, e.g. a reason."""
    docstrings = {id(n.value) for tree in _sources() for n in ast.walk(tree) if isinstance(n, ast.Expr)}
    found = {
        n.value
        for tree in _sources()
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant)
        and isinstance(n.value, str)
        and id(n) not in docstrings
        and " " in n.value.strip()
        and "\n" not in n.value
    }
    return tuple(sorted(found))


def part_of(pattern: list[tuple[str, bool]], template: str) -> bool:
    """Whether some text matching ``pattern`` is part of some message ``template`` can print."""
    m, n = len(pattern), len(template)
    text = "".join(c for c, _ in pattern)
    fills = [p for p in phrases() if p in text]
    todo = [(0, j) for j in range(n + 1)]  # the quote may begin anywhere in the message, fields included
    seen = set(todo)
    while todo:
        i, j = todo.pop()
        if i == m:
            return True
        c, example = pattern[i]
        nxt: list[tuple[int, int]] = []
        if c == ANY:
            nxt.append((i + 1, j))  # the placeholder ends here
            if j < n:
                nxt.append((i, j + 1))  # or covers one more character or field of the message
        elif j < n and template[j] == FIELD:
            nxt.append((i, j + 1))  # the field ends (or is empty) here
            if example:
                nxt.append((i + 1, j))  # the field holds this character of an example value
            nxt.extend((i + len(f), j + 1) for f in fills if text.startswith(f, i))
        elif j < n and template[j] == c:
            nxt.append((i + 1, j + 1))
        for state in nxt:
            if state not in seen:
                seen.add(state)
                todo.append(state)
    return False


def printed(quote: str) -> bool:
    pattern = _pattern(quote)
    words = set(re.findall(r"[a-z]{4,}", "".join(c if not example else " " for c, example in pattern)))
    # a quick filter first: the message has one of the quote's words (a quote is not all example values)
    return any(any(w in t for w in words) and part_of(pattern, t) for t in templates())


def test_the_doc_quotes_messages() -> None:
    assert len(quotes()) >= 20
    assert {"UsageError", "Unreachable", "PermissionDenied"} <= _errors()


@pytest.mark.parametrize("quote", quotes())
def test_quoted_message_is_printed_by_the_code(quote: str) -> None:
    assert printed(quote), f"docs/troubleshooting.md quotes {quote!r}, which faas_pro/ no longer prints"


@pytest.mark.parametrize(
    "quote",
    [
        "cannot listen on 127.0.0.1:31111: Address already in use",  # the stale line of issue 14
        "… answered … (HTTP 502)",
        "port 31111 on 127.0.0.1 is busy",
        "not logged in to <gateway>; please run faas-pro login",
    ],
)
def test_a_message_the_code_does_not_print_is_caught(quote: str) -> None:
    assert not printed(quote)


def test_matching_fills_fields_and_placeholders() -> None:
    t = f"port {FIELD} on {FIELD} is already in use; pass --port 0"
    assert part_of(_pattern("port 31111 on 127.0.0.1 is already in use"), t)
    assert part_of(_pattern("port <port> on … is already in use"), t)
    assert part_of(_pattern("is already in use; pass"), t)
    assert not part_of(_pattern("port 31111 on the loopback address is already in use"), t)  # a field is one word
    assert not part_of(_pattern("port 31111 on loopback is already in use"), t)  # and no plain word
    assert not part_of(_pattern("port 31111 on 127.0.0.1 is in use"), t)
