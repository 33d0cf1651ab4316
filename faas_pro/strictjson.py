"""Strict JSON for everything that comes from outside (tokens, discovery documents, JWKS, claims files).

Duplicate keys are rejected rather than resolved (SECURITY.md appendix A17: two parsers must never
disagree about which ``iss`` a document has), ``NaN``/``Infinity`` are refused, a byte order mark is
refused, and only UTF-8 is accepted.
"""

from __future__ import annotations

import json
from typing import Any

_BOM = b"\xef\xbb\xbf"


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
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constants)
    except StrictJSONError:
        raise
    except (ValueError, RecursionError) as e:  # JSONDecodeError, int too long, nesting too deep
        raise StrictJSONError("is not valid JSON") from e


def loads_object(raw: bytes | str) -> dict[str, Any]:
    """Parse strict JSON that must be an object."""
    value = loads(raw)
    if not isinstance(value, dict):
        raise StrictJSONError("is not a JSON object")
    return value
