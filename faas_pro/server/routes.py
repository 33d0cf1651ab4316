"""The route table: every route declares its method(s), path, IAM action and how its resource is found.

``Route`` refuses to exist without an action (or an explicit ``public=True``) and, for an
authorised route, without a resource finder: a handler cannot be registered unprotected. The one
wrapper in ``faas_pro.server.dispatch`` authenticates, resolves the resource, decides, audits and only
then calls the handler. ``match`` implements the HTTP rules of the table: HEAD is the GET route
(never a write, its body ignored), another method is 405 with ``Allow``, an unknown path 404.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # pragma: no cover
    from faas_pro.server.schema import Shape

ACTIONS = frozenset(
    {
        "Function:List",
        "Function:Get",
        "Function:Create",
        "Function:Update",
        "Function:Delete",
        "Function:Logs",
        "Function:Scale",
        "Function:Invoke",
        "Secret:List",
        "Secret:Create",
        "Secret:Update",
        "Secret:Delete",
        "Namespace:List",
        "Namespace:Get",
        "Namespace:Create",
        "Namespace:Update",
        "Namespace:Delete",
        "System:Info",
    }
)
ANY = "*"  # any method (function invocations)
Auth = Literal["public", "api", "invoke"]
# (namespace, name or None for the namespace-wide resource <ns>:*)
Target = tuple[str, str | None]


class RouteError(Exception):
    """A route table that would let something through undecided; raised when the table is built."""


@dataclass(frozen=True)
class Route:
    """One row of the table.

    - ``path``: ``/system/function/{name}``; ``{x}`` is one segment, ``{rest*}`` an optional rest
      of the path (``/…``).
    - ``action``: the IAM action decided for every call; ``None`` only with ``public=True``.
    - ``resource``: finds ``(namespace, name)`` from the call (path, query, parsed body); raises
      ``schema.Invalid`` (400) before any decision.
    - ``body``: the faas-provider shape the body must have (parsed strictly, canonical names);
      ``required`` fields must be present.
    - ``filtered``: the decision is made per item by the handler (``Namespace:List``), after the
      wrapper authenticated the caller.
    """

    methods: tuple[str, ...]
    path: str
    handler: Callable[[Any], Awaitable[Any]]
    action: str | None = None
    resource: Callable[[Any], Target] | None = None
    public: bool = False
    auth: Auth = "api"
    body: Shape | None = None
    required: tuple[str, ...] = ()
    filtered: bool = False
    pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        where = f"{'|'.join(self.methods)} {self.path}"
        if self.public:
            if self.action is not None or self.resource is not None:
                raise RouteError(f"{where}: a public route decides nothing")
            object.__setattr__(self, "auth", "public")
        else:
            if self.action not in ACTIONS:
                raise RouteError(f"{where}: no IAM action declared (got {self.action!r})")
            if self.resource is None:
                raise RouteError(f"{where}: no resource finder declared")
            if self.auth == "public":
                raise RouteError(f"{where}: an authorised route cannot use public authentication")
        if "HEAD" in self.methods:
            raise RouteError(f"{where}: HEAD is always the GET route")
        if self.body is not None and self.methods != ("GET",) and "GET" in self.methods:
            raise RouteError(f"{where}: a route with a body cannot also be a GET")
        regex = ""
        for part in re.split(r"(\{[a-z_]+\*?\})", self.path):
            if part.startswith("{") and part.endswith("*}"):
                regex += f"(?P<{part[1:-2]}>/.*)?"
            elif part.startswith("{"):
                regex += f"(?P<{part[1:-1]}>[^/]+)"
            else:
                regex += re.escape(part)
        object.__setattr__(self, "pattern", re.compile(regex, re.DOTALL))


@dataclass(frozen=True)
class Match:
    route: Route | None  # None: see status
    params: dict[str, str]
    status: int = 200  # 404 or 405 when route is None
    allow: str = ""


class Table:
    def __init__(self, routes: Sequence[Route]) -> None:
        seen: set[tuple[str, str]] = set()
        for r in routes:
            for m in r.methods:
                if (m, r.path) in seen:
                    raise RouteError(f"{m} {r.path} is declared twice")
                seen.add((m, r.path))
        self.routes = tuple(routes)

    def match(self, method: str, path: str) -> Match:
        want = "GET" if method == "HEAD" else method
        allowed: list[str] = []
        for r in self.routes:
            m = r.pattern.fullmatch(path)
            if m is None:
                continue
            params = {k: v for k, v in m.groupdict().items() if v is not None}
            if want in r.methods or ANY in r.methods:
                return Match(r, params)
            allowed.extend(r.methods)
        if not allowed:
            return Match(None, {}, 404)
        if "GET" in allowed:
            allowed.append("HEAD")
        return Match(None, {}, 405, ", ".join(sorted(set(allowed))))
