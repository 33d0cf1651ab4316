"""Strict JSON for everything that comes from outside (tokens, discovery documents, JWKS, claims files).

Duplicate keys are rejected rather than resolved (docs/security.md appendix A, row A17: two parsers must never
disagree about which ``iss`` a document has), ``NaN``/``Infinity`` are refused, a byte order mark is
refused, and only UTF-8 is accepted. Nesting deeper than :data:`MAX_DEPTH` is refused by our own
count, before :mod:`json` parses anything, so the reason is the same on every Python (3.11 raises
RecursionError near 1000 levels, 3.13 parses far deeper).
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any

#: Arrays and objects nested deeper than this are refused (no token, JWKS or discovery document
#: comes close; the bound keeps every parser below its own limits).
MAX_DEPTH = 64
_BOM = b"\xef\xbb\xbf"
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


class StrictJSONError(ValueError):
    """The input is not strict JSON; the message says why, without echoing the input."""


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise StrictJSONError(f"duplicate JSON key {k[:40]!r}")
        out[k] = v
    return out


def _no_constants(name: str) -> Any:
    raise StrictJSONError(f"non-standard JSON number {name}")


def too_deep(text: str) -> bool:
    """Whether arrays and objects nest more than :data:`MAX_DEPTH` deep in ``text``.

    Brackets inside strings do not count; an unterminated string ends the count (the text is
    invalid JSON anyway, and json says so).
    """
    if text.count("[") + text.count("{") <= MAX_DEPTH:  # cheap, and the common case
        return False
    outside = _STRING.sub("", text).split('"', 1)[0]
    return max(accumulate(_STEP[c] for c in _BRACKETS.findall(outside)), default=0) > MAX_DEPTH


def loads(raw: bytes | str) -> Any:
    """Parse strict JSON (any value); raises StrictJSONError."""
    if isinstance(raw, bytes):
        if raw.startswith(_BOM):
            raise StrictJSONError("starts with a byte order mark")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise StrictJSONError("is not UTF-8") from e
    else:
        text = raw
        if text.startswith("\ufeff"):
            raise StrictJSONError("starts with a byte order mark")
    if too_deep(text):
        raise StrictJSONError(f"is nested more than {MAX_DEPTH} levels deep")
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constants)
    except StrictJSONError:
        raise
    except (ValueError, RecursionError) as e:  # JSONDecodeError, int too long (RecursionError: belt and braces)
        raise StrictJSONError("is not valid JSON") from e


def loads_object(raw: bytes | str) -> dict[str, Any]:
    """Parse strict JSON that must be an object."""
    value = loads(raw)
    if not isinstance(value, dict):
        raise StrictJSONError("is not a JSON object")
    return value
