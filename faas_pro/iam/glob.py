"""Strict globs: only ``*`` (any run of characters, possibly empty) and ``?`` (exactly one
character) are special; everything else is literal. Anchored, case-sensitive, no normalisation.

Matching never backtracks: the pattern is split at ``*`` into fixed-length segments; the first
must match at the start, the last at the end, and the ones in between are found left to right,
each at its leftmost place (taking the leftmost place never loses a match, because what follows
a ``*`` can start anywhere after it). Literal segments use ``str.find``; a segment with ``?`` is
anchored on its longest literal run. The cost is at most ``len(value) × len(pattern)`` even for
``*a*a*a*a*a*a*b`` against ``"a" * 10000`` — never exponential. ``fnmatch`` and regular
expressions are not used: ``fnmatch`` treats ``[...]`` as a class and regexes can backtrack.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["Glob", "is_literal"]


def is_literal(pattern: str) -> bool:
    """True when the pattern has no ``*`` or ``?``: it matches only itself."""
    return "*" not in pattern and "?" not in pattern


class _Segment:
    """A star-free piece of a pattern: fixed length, ``?`` matches any one character."""

    __slots__ = ("anchor", "anchor_at", "has_q", "size", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.size = len(text)
        self.has_q = "?" in text
        # the longest literal run, used to find candidate places with str.find
        best, best_at, run_at = "", 0, 0
        for piece in text.split("?"):
            if len(piece) > len(best):
                best, best_at = piece, run_at
            run_at += len(piece) + 1
        self.anchor, self.anchor_at = best, best_at

    def match_at(self, value: str, pos: int) -> bool:
        if not self.has_q:
            return value.startswith(self.text, pos)
        if pos + self.size > len(value):
            return False
        return all(ch == "?" or value[pos + i] == ch for i, ch in enumerate(self.text))

    def find(self, value: str, start: int, end: int) -> int:
        """Leftmost ``pos`` in ``[start, end - size]`` where the segment matches, or -1."""
        if not self.has_q:
            return value.find(self.text, start, end)
        if not self.anchor:  # only "?": any place with room
            return start if end - start >= self.size else -1
        pos = start
        while pos + self.size <= end:
            hit = value.find(self.anchor, pos + self.anchor_at, end - (self.size - self.anchor_at - len(self.anchor)))
            if hit < 0:
                return -1
            cand = hit - self.anchor_at
            if self.match_at(value, cand):
                return cand
            pos = cand + 1
        return -1


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
