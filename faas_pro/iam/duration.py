"""Go's ``time.ParseDuration`` syntax, for ``JwtIssuer.spec.tokenExpiry``.

A duration is a sequence of decimal numbers, each with an optional fraction and a unit:
``300ms``, ``1.5h``, ``2h45m``. Units: ``ns``, ``us`` (``µs``, ``μs``), ``ms``, ``s``, ``m``,
``h``. A lone ``0`` is allowed, as in Go. Arithmetic is exact (integer nanoseconds), so
``0.1h`` is exactly 360 s. The result is capped at Go's limit (about 292 years).
"""

from __future__ import annotations

__all__ = ["DurationError", "parse_duration"]

_UNITS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,  # U+00B5 micro sign
    "μs": 1_000,  # U+03BC greek mu
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}
_MAX_NS = 2**63 - 1


class DurationError(ValueError):
    """Not a Go duration; the message says why."""


def parse_duration(text: str) -> int:
    """Parse a Go duration and return it in integer nanoseconds (may be negative)."""
    if not isinstance(text, str) or not text:
        raise DurationError("expected a Go duration such as 12h or 90m")
    s = text
    sign = 1
    if s[0] in "+-":
        sign = -1 if s[0] == "-" else 1
        s = s[1:]
    if s == "0":
        return 0
    if not s:
        raise DurationError(f"{text!r} is not a Go duration (expected e.g. 12h, 90m, 1h30m)")
    total = 0
    i, n = 0, len(s)
    while i < n:
        start = i
        while i < n and s[i].isascii() and s[i].isdigit():
            i += 1
        whole = s[start:i]
        frac = ""
        if i < n and s[i] == ".":
            i += 1
            fstart = i
            while i < n and s[i].isascii() and s[i].isdigit():
                i += 1
            frac = s[fstart:i]
        if not whole and not frac:
            raise DurationError(f"{text!r} is not a Go duration (expected a number before each unit)")
        ustart = i
        while i < n and not (s[i].isascii() and (s[i].isdigit() or s[i] == ".")):
            i += 1
        unit = s[ustart:i]
        if not unit:
            raise DurationError(f"{text!r} is missing a unit (one of ns, us, ms, s, m, h)")
        if unit not in _UNITS:
            raise DurationError(f"{text!r} has an unknown unit {unit!r} (expected ns, us, ms, s, m or h)")
        if len(whole) > 20:
            raise DurationError(f"{text!r} is too long (Go durations stop at about 292 years)")
        scale = _UNITS[unit]
        frac = frac[:20]  # beyond nanosecond precision for every unit
        value = int(whole or "0") * scale
        if frac:
            value += int(frac) * scale // 10 ** len(frac)
        total += value
        if total > _MAX_NS:
            raise DurationError(f"{text!r} is too long (Go durations stop at about 292 years)")
    return sign * total
