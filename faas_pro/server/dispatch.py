"""The one wrapper every route runs through (``Dispatcher``): match the route, authenticate, parse
the body strictly, find the resource, decide, audit the decided action, and only then call the
handler. Refused callers learn nothing about what exists: the backend is asked nothing before the
decision (except whether an invoked function is protected, as in OpenFaaS). docs/architecture.md
shows the flow; the rows are in ``app.table``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from faas_pro.server import schema
from faas_pro.server.backends import BackendError
from faas_pro.server.enforce import Unauthenticated
from faas_pro.server.exchange import show
from faas_pro.server.http_io import BadRequest, TooLarge, read_body, single_query, text
from faas_pro.server.routes import Route, Table
from faas_pro.server.schema import DEFAULT_NAMESPACE, Invalid

if TYPE_CHECKING:  # pragma: no cover
    from starlette.requests import Request
    from starlette.responses import Response

    from faas_pro.server.app import Gateway

MAX_API_BODY = 1024 * 1024
INVOKE_REALM = 'Bearer realm="IAM function invoke"'


class AuditUnavailable(Exception):
    """Strict audit mode: the outbox cannot record an audited call now, so it is not executed (503)."""


class Forbidden(Exception):
    pass


@dataclass
class Call:
    """One request as the wrapper decided it; what a handler gets."""

    request: Request
    params: dict[str, str]
    query: dict[str, str]
    body: dict[str, Any] = field(default_factory=dict)  # the canonical body ({} for a route without one)
    claims: dict[str, Any] | None = None
    namespace: str = DEFAULT_NAMESPACE
    name: str | None = None
    actions: list[str] = field(default_factory=list)
    allowed: Callable[[str, str, str | None], bool] = lambda a, n, f: False


class Dispatcher:
    """The one wrapper: match, authenticate, parse, resolve, decide, call, log and audit."""

    def __init__(self, gw: Gateway, routes: Table) -> None:
        self.gw = gw
        self.routes = routes

    async def __call__(self, request: Request) -> Response:
        gw = self.gw
        method = request.method
        path: str = request.scope["path"]  # never request.url: urlsplit drops \n, \r and \t
        match = self.routes.match(method, path)
        call = Call(request, match.params, {})
        route = match.route
        why = ""
        if route is None:
            response = (
                text(404, "Not Found")
                if match.status == 404
                else text(405, "Method Not Allowed", {"Allow": match.allow})
            )
        else:
            try:
                response = await self._run(route, call)
            except Unauthenticated as e:
                why = e.reason
                if e.oversized:  # RFC 6750 3.1: a malformed request is invalid_request, 400
                    response = text(
                        400, f"Bad Request: {e.reason}", {"WWW-Authenticate": 'Bearer error="invalid_request"'}
                    )
                else:
                    if route.auth == "invoke":
                        challenge = INVOKE_REALM if e.missing else INVOKE_REALM + ', error="invalid_token"'
                    else:
                        challenge = "Bearer" if e.missing else 'Bearer error="invalid_token"'
                    response = text(401, f"Unauthorized: {e.reason}", {"WWW-Authenticate": challenge})
            except Forbidden:
                response = text(403, "Unauthorized")
            except AuditUnavailable:
                why = "the audit trail cannot record it (--audit-strict)"
                response = text(503, "Service Unavailable: the audit trail cannot record this request")
            except TooLarge:
                limit = gw.invoke_max_body if route.auth == "invoke" else MAX_API_BODY
                response = text(413, f"request body larger than {limit} bytes")
            except Invalid as e:
                response = text(400, e.reason)
            except BadRequest as e:
                response = text(400, str(e))
            except BackendError as e:
                gw.log(f"backend error: {e.reason}")
                response = text(e.status, e.reason)
            except Exception as e:  # a bug: one line in the log, a plain 500 for the caller
                gw.log(f"internal error: {type(e).__name__}: {show(str(e), 200)}")
                response = text(500, "Internal Server Error")
        sub = show(call.claims.get("sub")) if call.claims else "-"
        if why:
            gw.log(f"{method} {show(path, 200)} refused: {why}")
        gw.log(f"{method} {show(path, 200)} {response.status_code} {sub}")
        # audited: every API call, and the invocations that were decided (protected functions);
        # an unprotected function's invocations decide nothing and are not audit events
        if route is not None and not route.public and (route.auth != "invoke" or call.actions):
            await self._audit(call, "GET" if method == "HEAD" else method, path, response.status_code)
        return response

    async def _audit(self, call: Call, method: str, path: str, status: int) -> None:
        gw = self.gw
        if method not in gw.audit_verbs or gw.outbox is None:
            return
        from faas_pro.server.audit import make_event

        event = make_event(call.claims, path, method, call.actions, status, gw.clock())
        try:  # bounded, off the event loop; drops are counted and logged by the outbox itself
            recorded = await gw.outbox.record(event, authenticated=call.claims is not None)
        except Exception as e:  # the audit trail never fails an API call that already ran
            recorded = False
            gw.log(f"audit outbox error: {type(e).__name__}: {e}")
        if not recorded:  # strict mode only: the call ran (it was recordable when it started)
            gw.log(f"audit: {method} {show(path, 200)} {status} ran but could not be recorded in time")

    async def _run(self, route: Route, call: Call) -> Response:
        """Authenticate, parse, resolve, decide; only then the handler. The action is recorded
        (for the audit event) before the decision, so refusals are audited with it too."""
        gw = self.gw
        request = call.request
        action, resource = route.action, route.resource
        if route.public or action is None or resource is None:  # Route allows None only when public
            return await route.handler(call)  # type: ignore[no-any-return]
        call.query = single_query(request)
        authorization = request.headers.get("authorization")
        claims: dict[str, Any] | None = None
        if route.auth == "api":
            claims = call.claims = gw.authn.api_claims(authorization)
        if route.body is not None:
            call.body = schema.parse(await read_body(request, MAX_API_BODY), route.body, route.required)
        call.namespace, call.name = resource(call)
        if claims is None:  # an invocation: a token only for a protected function, as in OpenFaaS
            if not (gw.invoke_auth_all or await gw.backend.protected(call.namespace, call.name or "")):
                return await route.handler(call)  # type: ignore[no-any-return]  # nothing decided
            call.actions.append(action)
            claims = call.claims = gw.authn.function_claims(authorization, call.namespace, call.name or "")
        else:
            call.actions.append(action)
        if route.filtered:  # decided per item by the handler (Namespace:List)
            decided = claims
            call.allowed = lambda a, n, f: gw.authz.allowed(decided, a, n, f)
        elif not gw.authz.allowed(claims, action, call.namespace, call.name):
            raise Forbidden
        method = "GET" if request.method == "HEAD" else request.method
        if gw.outbox is not None and gw.outbox.strict and method in gw.audit_verbs and not gw.outbox.accepting():
            raise AuditUnavailable  # strict mode: never execute an audited call that cannot be recorded
        return await route.handler(call)  # type: ignore[no-any-return]


class Asgi:
    """The dispatcher as a plain ASGI app (so that Starlette applies no method list of its own)."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        self._dispatcher = dispatcher

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        from starlette.requests import Request

        response = await self._dispatcher(Request(scope, receive))
        await response(scope, receive, send)
