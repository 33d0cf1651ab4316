"""Field checks: the shape of an IAM document (the loader's second pass).

:class:`Source` collects the problems of one document and names its object the same way in every
one of them: ``file:line: kind/name: field: message``. The kind is the one written, even when it
is not a kind we know, and the name is ``metadata.name`` as written, so every problem of a
document points at the same object. The ``expect_*`` helpers read one field, report what is
wrong with it and return None then.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

from faas_pro.iam.model import Problem
from faas_pro.iam.yamltree import YMap, YSeq

__all__ = [
    "API_VERSION",
    "KINDS",
    "At",
    "Header",
    "Source",
    "expect_mapping",
    "expect_string",
    "expect_strings",
    "read_header",
    "type_name",
    "unknown_keys",
]

API_VERSION = "iam.openfaas.com/v1"
KINDS = ("JwtIssuer", "Policy", "Role")
Kind = Literal["JwtIssuer", "Policy", "Role"]
_TOP_KEYS = ("apiVersion", "kind", "metadata", "spec", "status")
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-.")

T = TypeVar("T")


@dataclass(frozen=True)
class At(Generic[T]):
    """A value and where it was written: its line and its field path (for messages only)."""

    value: T
    line: int
    field: str


@dataclass
class Source:
    """The problems of one document, all naming its object the same way."""

    file: str
    line: int
    kind: str | None = None  # as written
    name: str | None = None  # metadata.name as written
    problems: list[Problem] = field(default_factory=list)

    def problem(
        self, line: int | None, path: str | None, message: str, severity: Literal["error", "warning"] = "error"
    ) -> Problem:
        text = f"{path}: {message}" if path else message
        return Problem(self.file, line, self.kind, self.name, path, text, severity)

    def error(self, line: int | None, path: str | None, message: str) -> None:
        self.problems.append(self.problem(line, path, message))

    @property
    def failed(self) -> bool:
        return any(p.severity == "error" for p in self.problems)


def type_name(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__}"


def unknown_keys(src: Source, m: YMap, allowed: Sequence[str], path: str) -> None:
    for key in m:
        if key not in allowed:
            where = f"{path}.{key}" if path else key
            src.error(m.line_of(key), where, f"unknown field (expected one of {', '.join(allowed)})")


def expect_mapping(src: Source, parent: YMap, key: str, path: str, required: bool = True) -> YMap | None:
    if key in parent and parent[key] is None and not required:
        # `condition:` with nothing after it: dropping it silently would widen what the object grants
        src.error(parent.line_of(key), path, "is empty: give a mapping or leave the key out")
        return None
    if key not in parent or parent[key] is None:
        if required:
            src.error(parent.line, path, "is required (a mapping)")
        return None
    value = parent[key]
    if not isinstance(value, YMap):
        src.error(parent.line_of(key), path, f"expected a mapping, got {type_name(value)}")
        return None
    return value


def expect_string(src: Source, parent: YMap, key: str, path: str, required: bool = True) -> At[str] | None:
    if key not in parent or parent[key] is None:
        if required:
            src.error(parent.line, path, "is required (a string)")
        return None
    value, line = parent[key], parent.line_of(key)
    if not isinstance(value, str):
        src.error(line, path, f"expected a string, got {type_name(value)} (quote it)")
        return None
    if value == "" or value != value.strip() or any(not c.isprintable() for c in value):
        src.error(line, path, f"{value!r} must be non-empty, without spaces around or control characters")
        return None
    return At(value, line, path)


def expect_strings(src: Source, parent: YMap, key: str, path: str, required: bool = True) -> list[At[str]] | None:
    """A non-empty list of non-empty strings; None after an error."""
    if key not in parent or parent[key] is None:
        if required:
            src.error(parent.line, path, "is required (a list of strings)")
        return None
    value = parent[key]
    if not isinstance(value, YSeq):
        src.error(
            parent.line_of(key), path, f"expected a list, got {type_name(value)} (write [{key!s}-value] or - item)"
        )
        return None
    if not value:
        src.error(value.line, path, "must not be empty")
        return None
    out: list[At[str]] = []
    ok = True
    for i, item in enumerate(value):
        where = f"{path}[{i}]"
        if not isinstance(item, str):
            src.error(value.lines[i], where, f"expected a string, got {type_name(item)} {item!r} (quote it)")
            ok = False
        elif item == "" or any(not c.isprintable() for c in item):
            src.error(value.lines[i], where, f"{item!r} must be a non-empty string without control characters")
            ok = False
        else:
            out.append(At(item, value.lines[i], where))
    return out if ok else None


def _k8s_name(name: str) -> bool:
    return 0 < len(name) <= 253 and set(name) <= _NAME_CHARS and name[0].isalnum() and name[-1].isalnum()


@dataclass(frozen=True)
class Header:
    """What every document has: a known kind, its spec, and its name when it is valid (the spec
    is still checked without one, so that every problem is reported)."""

    kind: Kind
    name: At[str] | None
    spec: YMap
    namespace: At[Any] | None  # metadata.namespace as written (lint looks at it)


def read_header(src: Source, value: Any) -> Header | None:
    """Check ``apiVersion``, ``kind``, ``metadata`` and the top-level keys; name ``src``'s object."""
    if not isinstance(value, YMap):
        src.error(
            src.line, None, f"expected a mapping with apiVersion, kind, metadata and spec, got {type_name(value)}"
        )
        return None
    kind = value.get("kind")
    src.kind = kind if isinstance(kind, str) and kind else None
    meta = value.get("metadata")
    if isinstance(meta, YMap) and isinstance(meta.get("name"), str):
        src.name = meta["name"]
    api = value.get("apiVersion")
    if api != API_VERSION:
        src.error(value.line_of("apiVersion"), "apiVersion", f"expected {API_VERSION}, got {api!r}")
    known: Kind | None = kind if kind in KINDS else None
    if known is None:
        src.error(value.line_of("kind"), "kind", f"expected one of {', '.join(KINDS)}, got {kind!r}")
    unknown_keys(src, value, _TOP_KEYS, "")
    meta = expect_mapping(src, value, "metadata", "metadata")
    name: At[str] | None = None
    namespace: At[Any] | None = None
    if meta is not None:
        name = expect_string(src, meta, "name", "metadata.name")
        if name is not None and not _k8s_name(name.value):
            src.error(
                name.line, name.field, f"{name.value!r} is not a valid name (lower-case letters, digits, '-' and '.')"
            )
            name = None
        if meta.get("namespace") is not None:
            namespace = At(meta["namespace"], meta.line_of("namespace"), "metadata.namespace")
    spec = expect_mapping(src, value, "spec", "spec")
    if known is None or spec is None:
        return None
    return Header(known, name, spec, namespace)
