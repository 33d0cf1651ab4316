"""How a route finds the resource it acts on (the ``resource`` of each row in ``app.table``):
``(namespace, function name or None)`` from the path, the query or the canonical body, checked by
``schema.name`` (DNS-1123, matched in full). A finder runs before the decision and asks the backend
nothing, so a refused caller learns nothing about what exists.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from faas_pro.server import schema
from faas_pro.server.routes import Target
from faas_pro.server.schema import DEFAULT_NAMESPACE, Invalid

if TYPE_CHECKING:  # pragma: no cover
    from faas_pro.server.dispatch import Call

# Namespace-level decisions that concern no namespace (System:Info) are asked for this namespace.
SYSTEM_NAMESPACE = "*"
# RFC 3986 path characters, percent escapes well-formed
_VALID_PATH = re.compile(rb"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-Fa-f]{2})*")


def ns_from_query(call: Call) -> Target:
    return schema.resolve_namespace(None, call.query.get("namespace")), None


def system(call: Call) -> Target:
    return SYSTEM_NAMESPACE, None


def ns_from_path(call: Call) -> Target:
    return schema.name(call.params["ns"], "namespace"), None


def ns_from_body_name(call: Call) -> Target:
    return schema.name(call.body.get("name"), "name"), None


def fn_from_path(call: Call) -> Target:
    name = schema.name(call.params["name"], "function name")
    ns = schema.resolve_namespace(call.body.get("namespace"), call.query.get("namespace"))
    return ns, name


def fn_from_body(key: str) -> Callable[[Call], Target]:
    def find(call: Call) -> Target:
        ns = schema.resolve_namespace(call.body.get("namespace"), call.query.get("namespace"))
        return ns, schema.name(call.body.get(key), key)

    find.__name__ = f"fn_from_body_{key}"
    return find


def fn_from_logs_query(call: Call) -> Target:
    name = call.query.get("name")
    if name is None:
        raise Invalid("name is required")
    return schema.resolve_namespace(None, call.query.get("namespace")), schema.name(name, "name")


def fn_from_invoke_path(call: Call) -> Target:
    raw: bytes = call.request.scope.get("raw_path") or b""
    if not _VALID_PATH.fullmatch(raw.split(b"?", 1)[0]):
        raise Invalid("invalid URL: the path has bytes or escapes that are not allowed")
    target = call.params["target"]
    name, dot, ns = target.partition(".")
    return schema.name(ns if dot else DEFAULT_NAMESPACE, "namespace"), schema.name(name, "function name")
