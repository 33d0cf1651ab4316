"""faas-cli's output formats, byte for byte (tests/data/formats/ holds the expected output).

Go's ``time.Time.String()`` is reproduced for the RFC 3339 ``createdAt`` values a gateway sends:
``2006-01-02 15:04:05.999999999 -0700 MST`` with trailing zeros of the fraction dropped; ``Z`` (and
``+00:00``, read as in a UTC-local faas-cli) prints ``+0000 UTC``; any other offset has no zone
name and Go prints the offset twice (``+0200 +0200``). A missing or unparsable value prints Go's
zero time, as faas-cli would.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

GO_ZERO_TIME = "0001-01-01 00:00:00 +0000 UTC"
SORTS = ("name", "invocations", "creation")
_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))\Z"
)


def go_time_string(value: Any) -> str:
    """Go's ``time.Time.String()`` of an RFC 3339 string."""
    if not isinstance(value, str):
        return GO_ZERO_TIME
    m = _RFC3339.match(value.strip())
    if not m:
        return GO_ZERO_TIME
    year, month, day, hour, minute, second, frac, z, sign, oh, om = m.groups()
    out = f"{year}-{month}-{day} {hour}:{minute}:{second}"
    digits = (frac or "")[:9].rstrip("0")
    if digits:
        out += "." + digits
    if z or (oh == "00" and om == "00"):
        return out + " +0000 UTC"
    offset = f"{sign}{oh}{om}"
    return f"{out} {offset} {offset}"


def _sort_key_time(value: Any) -> tuple[float, int]:
    """The instant of an RFC 3339 time; unparsable values sort first, like Go's zero time."""
    from datetime import datetime

    m = _RFC3339.match(value.strip()) if isinstance(value, str) else None
    if m is None:
        return (float("-inf"), 0)
    year, month, day, hour, minute, second, frac, z, sign, oh, om = m.groups()
    tz = "+00:00" if z else f"{sign}{oh}:{om}"
    try:
        dt = datetime.fromisoformat(f"{year}-{month}-{day}T{hour}:{minute}:{second}{tz}")
    except ValueError:
        return (float("-inf"), 0)
    return (dt.timestamp(), int((frac or "0")[:9].ljust(9, "0")))


def _count(fn: Mapping[str, Any], key: str) -> int:
    value = fn.get(key, 0)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    try:
        return int(value)  # truncation toward zero, as Go's int64(float64)
    except (OverflowError, ValueError):
        return 0


def sort_functions(functions: Sequence[Mapping[str, Any]], order: str = "name") -> list[Mapping[str, Any]]:
    """faas-cli's orders: name ascending, invocations descending, creation oldest first."""
    fns = list(functions)
    if order == "invocations":
        return sorted(fns, key=lambda f: -_count(f, "invocationCount"))
    if order == "creation":
        return sorted(fns, key=lambda f: _sort_key_time(f.get("createdAt")))
    return sorted(fns, key=lambda f: str(f.get("name", "")))


def namespaces(names: Sequence[str]) -> str:
    return "Namespaces:\n" + "".join(f" - {n}\n" for n in names)


def functions_table(functions: Sequence[Mapping[str, Any]], *, verbose: bool = False, quiet: bool = False) -> str:
    if quiet:
        return "".join(f"{f.get('name', '')}\n" for f in functions)
    if not verbose:
        lines = [f"{'Function':<30}\t{'Invocations':<15}\t{'Replicas':<5}\n"]
        lines += [
            f"{f.get('name', ''):<30}\t{_count(f, 'invocationCount'):<15d}\t{_count(f, 'replicas'):<5d}\n"
            for f in functions
        ]
        return "".join(lines)
    width = max([40, *(len(str(f.get("image", "")).encode()) for f in functions)])
    lines = [f"{'Function':<30}\t{'Image':<{width}}\t{'Invocations':<15}\t{'Replicas':<5}\t{'CreatedAt':<5}\n"]
    lines += [
        f"{f.get('name', ''):<30}\t{f.get('image', ''):<{width}}\t{_count(f, 'invocationCount'):<15d}\t"
        f"{_count(f, 'replicas'):<5d}\t\t{go_time_string(f.get('createdAt')):<5}\n"
        for f in functions
    ]
    return "".join(lines)


def functions_json(functions: Sequence[Mapping[str, Any]]) -> str:
    return json.dumps(list(functions), indent=2, ensure_ascii=False) + "\n"
