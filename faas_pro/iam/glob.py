"""Strict globs: only ``*`` (any run of characters, possibly empty) and ``?`` (exactly one
character) are special; everything else is literal. Anchored, case-sensitive, no normalisation.

Matching never backtracks: the pattern is split at ``*`` into fixed-length segments; the first
must match at the start, the last at the end, and the ones in between are found left to right,
each at its leftmost place (taking the leftmost place never loses a match, because what follows
a ``*`` can start anywhere after it). Literal segments use ``str.find``; a segment with ``?`` is
searched with a regular expression made only of escaped literals and ``.`` — fixed length, no
quantifier, no alternation, so there is nothing to backtrack into and the search runs in C. The cost
is at most ``len(value) × len(pattern)`` even for ``*a*a*a*a*a*a*b`` against ``"a" * 10000`` — never
exponential. ``fnmatch`` is not used (it treats ``[...]`` as a class), nor is a regular expression for
the whole pattern (``.*`` runs can backtrack).
"""

from __future__ import annotations

import re
from collections.abc import Callable

__all__ = ["Glob", "is_literal"]


def is_literal(pattern: str) -> bool:
    """True when the pattern has no ``*`` or ``?``: it matches only itself."""
    return "*" not in pattern and "?" not in pattern


class _Segment:
    """A star-free piece of a pattern: fixed length, ``?`` matches any one character."""

    __slots__ = ("_rx", "has_q", "size", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.size = len(text)
        self.has_q = "?" in text
        # fixed length: each "?" is one character (DOTALL: a newline too), everything else literal
        self._rx = (
            re.compile("".join("." if c == "?" else re.escape(c) for c in text), re.DOTALL) if self.has_q else None
        )

    def match_at(self, value: str, pos: int) -> bool:
        if self._rx is None:
            return value.startswith(self.text, pos)
        return self._rx.match(value, pos) is not None

    def find(self, value: str, start: int, end: int) -> int:
        """Leftmost ``pos`` in ``[start, end - size]`` where the segment matches, or -1."""
        if self._rx is None:
            return value.find(self.text, start, end)
        m = self._rx.search(value, start, end)
        return m.start() if m is not None else -1


class Glob:
    """A compiled strict glob. ``Glob("staging:*").match("staging:fn1") is True``."""

    __slots__ = ("_match", "pattern")

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self._match = _compile(pattern)

    def match(self, value: str) -> bool:
        """Whether ``value`` (a str; anything else never matches) matches the whole pattern."""
        return isinstance(value, str) and self._match(value)

    @property
    def literal(self) -> bool:
        return is_literal(self.pattern)

    def __repr__(self) -> str:
        return f"Glob({self.pattern!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Glob) and other.pattern == self.pattern

    def __hash__(self) -> int:
        return hash(("Glob", self.pattern))


def _compile(pattern: str) -> Callable[[str], bool]:
    if is_literal(pattern):
        return pattern.__eq__
    parts = pattern.split("*")
    if len(parts) == 1:  # only "?" wildcards
        seg = _Segment(pattern)
        return lambda v: len(v) == seg.size and seg.match_at(v, 0)
    head, tail = parts[0], parts[-1]
    middle = [_Segment(p) for p in parts[1:-1] if p]
    if not middle and is_literal(head) and is_literal(tail):  # fast paths: "*", "a*", "*b", "a*b"
        if not head and not tail:
            return lambda v: True
        need = len(head) + len(tail)
        return lambda v: len(v) >= need and v.startswith(head) and v.endswith(tail)
    head_seg, tail_seg = _Segment(head), _Segment(tail)
    fixed = head_seg.size + tail_seg.size + sum(s.size for s in middle)

    def match(v: str) -> bool:
        n = len(v)
        if n < fixed or not head_seg.match_at(v, 0) or not tail_seg.match_at(v, n - tail_seg.size):
            return False
        pos, end = head_seg.size, n - tail_seg.size
        for seg in middle:
            hit = seg.find(v, pos, end)
            if hit < 0:
                return False
            pos = hit + seg.size
        return True

    return match
