"""Go-style durations for ``--timeout``: ``5m``, ``30s``, ``1h30m``, ``1.5s``, ``250ms``, or bare seconds."""

from __future__ import annotations

import re

from faas_pro.errors import UsageError

_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")


def parse_duration(text: str, *, flag: str = "--timeout") -> float:
    """Seconds in ``text``; a positive value is required. A bare number means seconds."""
    s = text.strip()
    if re.fullmatch(r"\d+(?:\.\d+)?", s):
        seconds = float(s)
    else:
        pos, seconds = 0, 0.0
        for m in _PART.finditer(s):
            if m.start() != pos:
                break
            seconds += float(m.group(1)) * _UNITS[m.group(2)]
            pos = m.end()
        if pos != len(s) or not s:
            raise UsageError(f"{flag}: not a duration: {text!r}", "use e.g. 5m, 30s, 1h30m")
    if seconds <= 0:
        raise UsageError(f"{flag} must be greater than zero: {text!r}")
    return seconds


def format_duration(seconds: float) -> str:
    """The short form used in messages: ``5m``, ``1m30s``, ``2s``, ``0.5s``."""
    if seconds < 60 and seconds != int(seconds):
        return f"{seconds:g}s"
    total = int(seconds)
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    out = (f"{h}h" if h else "") + (f"{m}m" if m else "") + (f"{s}s" if s else "")
    return out or "0s"
