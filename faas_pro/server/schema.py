"""The faas-provider request shapes, parsed strictly and re-serialised with their canonical names.

What the gateway decides on is what it forwards (docs/server.md, "Upstream mode"): a body is
parsed as strict JSON (duplicate keys refused), each key must be one of its type's fields spelled
exactly, and a key that differs from a field only by case or Unicode case folding (``Service``,
``ſervice``) is refused, because Go's ``encoding/json`` would match it case-insensitively. Unknown
keys are dropped; the forwarded body is built from the checked fields only.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from typing import Any

# DNS-1123 label; always used with fullmatch (a ``$`` would let ``prod\n`` through)
NAME_RE = re.compile(r"[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?")
DEFAULT_NAMESPACE = "openfaas-fn"


class Invalid(Exception):
    """A request that is not one of the known shapes; ``reason`` is one line, safe to show."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def is_name(value: Any) -> bool:
    return isinstance(value, str) and NAME_RE.fullmatch(value) is not None


def name(value: Any, what: str) -> str:
    if not is_name(value):
        raise Invalid(f"{what} must be a DNS-1123 label")
    return str(value)


def _show_key(key: str) -> str:
    text = key[:40]
    return ascii(text) if not text.isascii() or not text.isprintable() else repr(text)


# field kinds: "name", "str", "map" (object of strings), "list" (list of strings), "bool", "uint",
# "resources" ({memory, cpu}), "b64" (base64 bytes as Go encodes []byte)
Shape = Mapping[str, str]

FUNCTION_DEPLOYMENT: Shape = {
    "service": "name",
    "image": "str",
    "namespace": "name",
    "envProcess": "str",
    "envVars": "map",
    "constraints": "list",
    "secrets": "list",
    "labels": "map",
    "annotations": "map",
    "limits": "resources",
    "requests": "resources",
    "readOnlyRootFilesystem": "bool",
}
DELETE_FUNCTION: Shape = {"functionName": "name", "namespace": "name"}
SCALE_SERVICE: Shape = {"serviceName": "name", "namespace": "name", "replicas": "uint"}
FUNCTION_NAMESPACE: Shape = {"name": "name", "labels": "map", "annotations": "map"}
SECRET: Shape = {"name": "name", "namespace": "name", "value": "str", "rawValue": "b64"}
RESOURCES: Shape = {"memory": "str", "cpu": "str"}


def _value(kind: str, key: str, v: Any) -> Any:
    if kind == "name":
        return name(v, key)
    if kind == "str":
        if not isinstance(v, str):
            raise Invalid(f"{key} must be a string")
        return v
    if kind == "map":
        if not isinstance(v, dict) or not all(isinstance(x, str) for x in v.values()):
            raise Invalid(f"{key} must be an object of strings")
        return dict(v)
    if kind == "list":
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            raise Invalid(f"{key} must be a list of strings")
        return list(v)
    if kind == "bool":
        if not isinstance(v, bool):
            raise Invalid(f"{key} must be true or false")
        return v
    if kind == "uint":
        if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 1_000_000:
            raise Invalid(f"{key} must be a whole number from 0 to 1000000")
        return v
    if kind == "resources":
        if not isinstance(v, dict):
            raise Invalid(f"{key} must be an object")
        return canonical(v, RESOURCES, key + ".")
    if kind == "b64":
        if not isinstance(v, str):
            raise Invalid(f"{key} must be base64 text")
        try:
            base64.b64decode(v, validate=True)
        except (binascii.Error, ValueError):
            raise Invalid(f"{key} must be base64 text") from None
        return v
    raise AssertionError(kind)  # pragma: no cover


def canonical(doc: Mapping[str, Any], shape: Shape, prefix: str = "") -> dict[str, Any]:
    """``doc`` rebuilt from ``shape``'s fields; variant spellings of a field are refused."""
    folded = {k.casefold(): k for k in shape}
    out: dict[str, Any] = {}
    for key, v in doc.items():
        field = folded.get(key.casefold())
        if field is None:
            continue  # unknown: never forwarded, never stored
        if field != key:
            raise Invalid(f"field {_show_key(prefix + key)} is not {prefix + field}: field names are case-sensitive")
        if v is None:
            continue  # Go decodes null as the zero value
        out[field] = _value(shape[field], prefix + field, v)
    return {k: out[k] for k in shape if k in out}  # the type's own field order, as Go would send it


def parse(raw: bytes, shape: Shape, required: tuple[str, ...] = ()) -> dict[str, Any]:
    from faas_pro import strictjson

    try:
        doc = strictjson.loads(raw)
    except strictjson.StrictJSONError as e:
        raise Invalid(f"the body {e}") from None
    if not isinstance(doc, dict):
        raise Invalid("the body must be a JSON object")
    out = canonical(doc, shape)
    for key in required:
        if key not in out or out[key] in ("", None):
            raise Invalid(f"{key} is required")
    return out


def resolve_namespace(body_ns: Any, query_ns: str | None) -> str:
    """The namespace of a request: the body's and the query's must agree when both are given."""
    if query_ns is not None and query_ns != "":
        name(query_ns, "namespace")
    if body_ns not in (None, "") and query_ns not in (None, "") and body_ns != query_ns:
        raise Invalid("the namespace in the body and in the query differ")
    ns = body_ns if body_ns not in (None, "") else (query_ns or DEFAULT_NAMESPACE)
    return name(ns, "namespace")
