"""The ASGI application: discovery, token exchange, the authorised OpenFaaS REST API and invocations.

Every route is a row of ``table(gw)`` (``faas_pro.server.routes``): its action and how its resource
is found are declared there, and ``Dispatcher`` is the one wrapper that authenticates, parses the
body strictly, resolves the resource, decides, audits and only then calls the handler. Refused
callers learn nothing about what exists: the backend is asked nothing before the decision.
docs/server.md shows the table.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from faas_pro.server import schema
from faas_pro.server.backends import Backend, BackendError, Forward, Reply, Streamed
from faas_pro.server.enforce import Authenticator, Authoriser, Unauthenticated
from faas_pro.server.exchange import ExchangeError, Exchanger, show
from faas_pro.server.routes import Route, Table, Target
from faas_pro.server.schema import DEFAULT_NAMESPACE, Invalid

if TYPE_CHECKING:  # pragma: no cover
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response

    from faas_pro.server.audit import Deliverer, Outbox
    from faas_pro.server.dashboard import DashboardConfig
    from faas_pro.server.issuers import IssuerKeys
    from faas_pro.server.reload import IamHolder
    from faas_pro.server.signing import Signer

MAX_API_BODY = 1024 * 1024
MAX_TOKEN_BODY = 64 * 1024
MAX_FORM_FIELDS = 32
DEFAULT_INVOKE_BODY = 32 * 1024 * 1024
# Namespace-level decisions that concern no namespace (System:Info) are asked for this namespace.
SYSTEM_NAMESPACE = "*"
INVOKE_REALM = 'Bearer realm="IAM function invoke"'
# RFC 9110 7.6.1 plus the proxy's own: never passed on in either direction
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
        "authorization",
        "x-forwarded-for",
        "x-forwarded-proto",
        "x-forwarded-host",
        "forwarded",
    }
)
LOG_EXTRAS = ("instance", "since", "tail", "follow")


class TooLarge(Exception):
    pass


class BadRequest(Exception):
    pass


class AuditUnavailable(Exception):
    """Strict audit mode: the outbox cannot record an audited call now, so it is not executed (503)."""


class Forbidden(Exception):
    pass


@dataclass
class Gateway:
    """Everything the app needs, built before it (``faas_pro.server.run.build_gateway``)."""

    issuer_url: str
    signer: Signer
    iam: IamHolder
    backend: Backend
    authn: Authenticator
    authz: Authoriser
    exchanger: Exchanger
    clock: Callable[[], float]
    log: Callable[[str], None]
    audit_verbs: frozenset[str] = frozenset({"PUT", "POST", "DELETE"})
    outbox: Outbox | None = None
    deliverer: Deliverer | None = None
    invoke_auth_all: bool = False
    invoke_max_body: int = DEFAULT_INVOKE_BODY
    closers: list[Callable[[], Any]] = field(default_factory=list)  # async or sync, run once by aclose
    _closed: bool = field(default=False, init=False)
    # the dashboard (docs/dashboard.md) and what its login needs: the issuers' keys, the fetch timeout
    dashboard: DashboardConfig | None = None
    keys: IssuerKeys | None = None
    fetch_timeout: float = 5.0

    async def aclose(self) -> None:
        """Close everything the gateway owns (idempotent): backend, HTTP clients, outbox."""
        if self._closed:
            return
        self._closed = True
        for close in (self.backend.close, *self.closers):
            with suppress(Exception):
                result = close()
                if asyncio.iscoroutine(result):
                    await result
        for box in {id(b): b for b in (self.outbox, self.deliverer.outbox if self.deliverer else None) if b}.values():
            with suppress(Exception):
                box.close()


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise TooLarge
    buf = bytearray()
    async for chunk in request.stream():
        buf += chunk
        if len(buf) > limit:
            raise TooLarge
    return bytes(buf)


def parse_form(raw: bytes, query: str, repeatable: frozenset[str] = frozenset()) -> dict[str, list[str]]:
    """Form parameters (the token endpoint passes its body only); a repeated name is an error
    unless it is ``repeatable``."""
    from urllib.parse import parse_qsl

    out: dict[str, list[str]] = {}
    for source in (raw.decode("utf-8", "strict"), query):
        if not source:
            continue
        pairs = parse_qsl(source, keep_blank_values=True, strict_parsing=True, max_num_fields=MAX_FORM_FIELDS)
        for k, v in pairs:
            if k in out and k not in repeatable:
                raise BadRequest(f"parameter {show(k, 40)} is given more than once")
            out.setdefault(k, []).append(v)
    return out


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


def _query(request: Request) -> dict[str, str]:
    """The query string as single values: a repeated parameter is refused (two parsers could
    disagree about which one counts)."""
    out: dict[str, str] = {}
    if not request.scope.get("query_string"):  # most requests: no parsing, no QueryParams object
        return out
    for k, v in request.query_params.multi_items():
        if k in out:
            raise Invalid(f"query parameter {show(k, 40)} is given more than once")
        out[k] = v
    return out


# ---------------------------------------------------------------------- resource finders


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


# ---------------------------------------------------------------------- the application


def build_app(gw: Gateway) -> GatewayApp:
    from starlette.applications import Starlette
    from starlette.routing import Route as StarletteRoute

    dispatcher = Dispatcher(gw, Table(table(gw)))

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async def poll_iam() -> None:  # edits are picked up (and logged) even without traffic
            while True:
                await asyncio.sleep(1.0)
                gw.iam.get()

        tasks = [asyncio.create_task(poll_iam())]
        if gw.deliverer is not None:
            tasks.append(asyncio.create_task(gw.deliverer.run()))
        try:
            yield
        finally:
            for t in tasks:
                t.cancel()
                with suppress(asyncio.CancelledError):
                    await t
            await gw.aclose()

    # every method and path reaches the dispatcher (a raw ASGI app), which answers 404/405 itself
    app = Starlette(routes=[StarletteRoute("/{path:path}", _Asgi(dispatcher))], lifespan=lifespan)
    app.router.redirect_slashes = False
    gateway_app = GatewayApp(app, _Asgi(dispatcher))
    if gw.dashboard is not None:  # a client of this very app: its API calls come back in through the dispatcher
        gateway_app.ui = _dashboard(gw, gw.dashboard, gateway_app)
    return gateway_app


def _dashboard(gw: Gateway, cfg: DashboardConfig, api: GatewayApp) -> Starlette:
    from starlette.applications import Starlette
    from starlette.responses import RedirectResponse
    from starlette.routing import Mount
    from starlette.routing import Route as StarletteRoute

    from faas_pro.server.dashboard import build_dashboard

    ui = build_dashboard(cfg, api, gw)
    gw.closers.extend(ui.state.close)  # its HTTP clients close with the gateway

    async def to_ui(request: Request) -> Response:
        return RedirectResponse("/ui/", 308)

    return Starlette(routes=[StarletteRoute("/ui", to_ui, methods=["GET"]), Mount("/ui", app=ui)])


class GatewayApp:
    """The ASGI app: HTTP requests go straight to the dispatcher (which answers every path and
    method itself, errors included); the lifespan is Starlette's (``router.lifespan_context``)."""

    def __init__(self, starlette: Starlette, http: _Asgi) -> None:
        self._starlette = starlette
        self._http = http
        self.router = starlette.router
        self.ui: Starlette | None = None  # the dashboard under /ui (docs/dashboard.md), when configured

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            path = scope.get("path", "")
            if self.ui is not None and (path == "/ui" or path.startswith("/ui/")):
                await self.ui(scope, receive, send)
                return
            await self._http(scope, receive, send)
        else:
            await self._starlette(scope, receive, send)


def _text(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    from starlette.responses import PlainTextResponse

    return PlainTextResponse(message if message.endswith("\n") else message + "\n", status, headers=headers)


def _reply(r: Reply) -> Response:
    from starlette.responses import JSONResponse
    from starlette.responses import Response as StarletteResponse

    if isinstance(r.body, bytes):
        return StarletteResponse(r.body, r.status, media_type=r.content_type or "application/json")
    if isinstance(r.body, str):
        return _text(r.status, r.body)
    if r.body is None:
        return StarletteResponse(b"", r.status)
    return JSONResponse(r.body, r.status)


SMALL_ANSWER = 64 * 1024


_ANSWER_DROP = (HOP_BY_HOP - {"content-length"}) | {"date", "server"}


def _headers(s: Streamed) -> list[tuple[bytes, bytes]]:
    """The upstream's answer headers, without hop-by-hop ones (Content-Length kept)."""
    out = []
    for k, v in s.headers:
        low = k.lower()
        if low not in _ANSWER_DROP:
            out.append((low.encode("latin-1"), v.encode("latin-1")))
    return out


async def _answer(s: Streamed) -> Response:
    """A small answer of known length is passed on in one piece (no streaming machinery per
    request); anything else is streamed as it arrives."""
    from starlette.background import BackgroundTask
    from starlette.responses import Response as StarletteResponse
    from starlette.responses import StreamingResponse

    length = next((v for k, v in s.headers if k.lower() == "content-length"), None)
    if length is not None and length.isdigit() and int(length) <= SMALL_ANSWER:
        body = bytearray()
        try:
            async for chunk in s.chunks:
                body += chunk
        finally:
            await s.close()
        response: Response = StarletteResponse(bytes(body), s.status)
    else:
        response = StreamingResponse(s.chunks, s.status, background=BackgroundTask(s.close))
    response.raw_headers = _headers(s)
    return response


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
                _text(404, "Not Found")
                if match.status == 404
                else _text(405, "Method Not Allowed", {"Allow": match.allow})
            )
        else:
            try:
                response = await self._run(route, call)
            except Unauthenticated as e:
                why = e.reason
                if e.oversized:  # RFC 6750 3.1: a malformed request is invalid_request, 400
                    response = _text(
                        400, f"Bad Request: {e.reason}", {"WWW-Authenticate": 'Bearer error="invalid_request"'}
                    )
                else:
                    if route.auth == "invoke":
                        challenge = INVOKE_REALM if e.missing else INVOKE_REALM + ', error="invalid_token"'
                    else:
                        challenge = "Bearer" if e.missing else 'Bearer error="invalid_token"'
                    response = _text(401, f"Unauthorized: {e.reason}", {"WWW-Authenticate": challenge})
            except Forbidden:
                response = _text(403, "Unauthorized")
            except AuditUnavailable:
                why = "the audit trail cannot record it (--audit-strict)"
                response = _text(503, "Service Unavailable: the audit trail cannot record this request")
            except TooLarge:
                limit = gw.invoke_max_body if route.auth == "invoke" else MAX_API_BODY
                response = _text(413, f"request body larger than {limit} bytes")
            except Invalid as e:
                response = _text(400, e.reason)
            except BadRequest as e:
                response = _text(400, str(e))
            except BackendError as e:
                gw.log(f"backend error: {e.reason}")
                response = _text(e.status, e.reason)
            except Exception as e:  # a bug: one line in the log, a plain 500 for the caller
                gw.log(f"internal error: {type(e).__name__}: {show(str(e), 200)}")
                response = _text(500, "Internal Server Error")
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
        call.query = _query(request)
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


def table(gw: Gateway) -> list[Route]:
    """The route table (docs/server.md): every row declares its action and its resource."""
    from starlette.responses import JSONResponse

    backend = gw.backend

    # ------------------------------------------------------------------ public

    async def discovery(call: Call) -> Response:
        return JSONResponse(
            {
                "issuer": gw.issuer_url,
                "jwks_uri": gw.issuer_url + "/.well-known/jwks.json",
                "token_endpoint": gw.issuer_url + "/oauth/token",
                "grant_types_supported": ["urn:ietf:params:oauth:grant-type:token-exchange"],
                "id_token_signing_alg_values_supported": ["ES256"],
            }
        )

    async def jwks(call: Call) -> Response:
        return JSONResponse(gw.signer.jwks())

    def oauth_error(status: int, error: str, description: str) -> Response:
        return JSONResponse(
            {"error": error, "error_description": description},
            status,
            headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
        )

    async def token(call: Call) -> Response:
        request = call.request
        try:
            raw = await read_body(request, MAX_TOKEN_BODY)
            ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if raw and ctype != "application/x-www-form-urlencoded":
                raise BadRequest("the body must be application/x-www-form-urlencoded")
            if request.scope.get("query_string"):  # a token there would end up in access logs
                raise BadRequest("the token endpoint takes its parameters from the form body only, not the query")
            form = parse_form(raw, "", frozenset({"audience"}))
        except TooLarge:
            return oauth_error(413, "invalid_request", f"the request body is larger than {MAX_TOKEN_BODY} bytes")
        except (BadRequest, UnicodeDecodeError, ValueError) as e:
            msg = str(e) if isinstance(e, BadRequest) else "the parameters are not a valid form encoding"
            return oauth_error(400, "invalid_request", msg)
        audiences = form.pop("audience", [])
        params = {k: v[0] for k, v in form.items()}
        try:
            answer = await gw.exchanger.exchange(params, audiences)
        except ExchangeError as e:
            return oauth_error(400, e.error, e.description)
        return JSONResponse(answer, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

    async def healthz(call: Call) -> Response:
        return _text(200, "OK")

    # ------------------------------------------------------------------ namespaces

    async def list_namespaces(call: Call) -> Response:
        names = await backend.namespaces()
        return JSONResponse(sorted(n for n in names if call.allowed("Namespace:List", n, None)))

    async def create_namespace(call: Call) -> Response:
        return _reply(await backend.create_namespace(call.body))

    async def get_namespace(call: Call) -> Response:
        return _reply(await backend.get_namespace(call.namespace))

    async def update_namespace(call: Call) -> Response:
        if call.body.get("name", call.namespace) != call.namespace:
            raise Invalid("the name in the body is not the namespace in the path")
        return _reply(await backend.update_namespace(call.namespace, {**call.body, "name": call.namespace}))

    async def delete_namespace(call: Call) -> Response:
        return _reply(await backend.delete_namespace(call.namespace))

    # ------------------------------------------------------------------ functions

    async def list_functions(call: Call) -> Response:
        return _reply(await backend.list_functions(call.namespace))

    async def get_function(call: Call) -> Response:
        usage = call.query.get("usage", "") in ("1", "true")
        return _reply(await backend.get_function(call.namespace, call.name or "", usage))

    def deploy(update: bool) -> Callable[[Call], Any]:
        async def handler(call: Call) -> Response:
            body = {**call.body, "namespace": call.namespace}  # what is executed is what was authorised
            return _reply(await backend.deploy(body, call.namespace, update=update))

        return handler

    async def delete_function(call: Call) -> Response:
        return _reply(await backend.delete_function(call.namespace, call.name or ""))

    async def scale(call: Call) -> Response:
        if call.body.get("serviceName", call.name) != call.name:
            raise Invalid("serviceName in the body is not the function in the path")
        return _reply(await backend.scale(call.namespace, call.name or "", int(call.body["replicas"])))

    # ------------------------------------------------------------------ secrets

    async def list_secrets(call: Call) -> Response:
        return _reply(await backend.list_secrets(call.namespace))

    def write_secret(update: bool) -> Callable[[Call], Any]:
        async def handler(call: Call) -> Response:
            if "value" not in call.body and "rawValue" not in call.body:
                raise Invalid("value or rawValue is required")
            body = {**call.body, "namespace": call.namespace}
            return _reply(await backend.write_secret(body, update=update))

        return handler

    async def delete_secret(call: Call) -> Response:
        return _reply(await backend.delete_secret(call.namespace, call.name or ""))

    # ------------------------------------------------------------------ logs, info

    async def logs(call: Call) -> Response:
        q = {"name": call.name or "", "namespace": call.namespace}
        for key in LOG_EXTRAS:
            v = call.query.get(key)
            if v is None or v == "":
                continue
            if key == "tail" and not (v.lstrip("-").isdigit() and len(v) < 10):
                raise Invalid("tail must be a whole number")
            if key == "follow" and v not in ("true", "false", "1", "0"):
                raise Invalid("follow must be true or false")
            if key in ("since", "instance") and (len(v) > 64 or not all(c.isalnum() or c in ".:-_+" for c in v)):
                raise Invalid(f"{key} has characters that are not allowed")
            q[key] = v
        follow = q.get("follow") in ("true", "1")
        return await _answer(await backend.logs(q, follow))

    async def info(call: Call) -> Response:
        return _reply(await backend.info())

    # ------------------------------------------------------------------ invocations

    def invoke(prefix: str) -> Callable[[Call], Any]:
        async def handler(call: Call) -> Response:
            request = call.request
            raw_path: bytes = request.scope.get("raw_path") or request.scope["path"].encode()
            raw_path = raw_path.split(b"?", 1)[0]
            rest = b""
            if "rest" in call.params:  # the rest as received (still percent-encoded)
                parts = raw_path.split(b"/", 3)
                rest = b"/" + parts[3] if len(parts) > 3 else b"/"
            headers = [
                (k.decode("latin-1"), v.decode("latin-1"))
                for k, v in request.headers.raw
                if k.decode("latin-1").lower() not in HOP_BY_HOP
            ]
            client = request.client
            headers.append(("X-Forwarded-For", client.host if client else "unknown"))
            headers.append(("X-Forwarded-Proto", request.scope.get("scheme", "http")))  # request.url parses it all
            if request.headers.get("host"):
                headers.append(("X-Forwarded-Host", request.headers["host"]))
            declared = request.headers.get("content-length")
            limit = gw.invoke_max_body
            if declared is not None and (not declared.isdigit() or int(declared) > limit):
                raise TooLarge
            body: AsyncIterator[bytes] | None = None
            if call.request.method not in ("GET", "HEAD") or declared not in (None, "0"):
                if declared is not None:
                    headers.append(("Content-Length", declared))
                body = _limited(request, limit)
            path = f"/{prefix}/{call.name}.{call.namespace}" + rest.decode("latin-1")
            forward = Forward(request.method, path, request.scope.get("query_string", b""), headers, body)
            try:
                return await _answer(await backend.invoke(forward))
            except _BodyTooLarge:
                raise TooLarge from None

        return handler

    inv: dict[str, Any] = {"auth": "invoke", "action": "Function:Invoke", "resource": fn_from_invoke_path}
    D = schema
    return [
        Route(("GET",), "/.well-known/openid-configuration", discovery, public=True),
        Route(("GET",), "/.well-known/jwks.json", jwks, public=True),
        Route(("POST",), "/oauth/token", token, public=True),
        Route(("GET",), "/healthz", healthz, public=True),
        Route(("GET",), "/system/namespaces", list_namespaces, "Namespace:List", system, filtered=True),
        Route(
            ("POST",),
            "/system/namespace/",
            create_namespace,
            "Namespace:Create",
            ns_from_body_name,
            body=D.FUNCTION_NAMESPACE,
            required=("name",),
        ),
        Route(
            ("POST",),
            "/system/namespace",
            create_namespace,
            "Namespace:Create",
            ns_from_body_name,
            body=D.FUNCTION_NAMESPACE,
            required=("name",),
        ),
        Route(("GET",), "/system/namespace/{ns}", get_namespace, "Namespace:Get", ns_from_path),
        Route(
            ("PUT",),
            "/system/namespace/{ns}",
            update_namespace,
            "Namespace:Update",
            ns_from_path,
            body=D.FUNCTION_NAMESPACE,
        ),
        Route(("DELETE",), "/system/namespace/{ns}", delete_namespace, "Namespace:Delete", ns_from_path),
        Route(("GET",), "/system/functions", list_functions, "Function:List", ns_from_query),
        Route(
            ("POST",),
            "/system/functions",
            deploy(update=False),
            "Function:Create",
            fn_from_body("service"),
            body=D.FUNCTION_DEPLOYMENT,
            required=("service", "image"),
        ),
        Route(
            ("PUT",),
            "/system/functions",
            deploy(update=True),
            "Function:Update",
            fn_from_body("service"),
            body=D.FUNCTION_DEPLOYMENT,
            required=("service", "image"),
        ),
        Route(
            ("DELETE",),
            "/system/functions",
            delete_function,
            "Function:Delete",
            fn_from_body("functionName"),
            body=D.DELETE_FUNCTION,
            required=("functionName",),
        ),
        Route(("GET",), "/system/function/{name}", get_function, "Function:Get", fn_from_path),
        Route(
            ("POST",),
            "/system/scale-function/{name}",
            scale,
            "Function:Scale",
            fn_from_path,
            body=D.SCALE_SERVICE,
            required=("replicas",),
        ),
        Route(("GET",), "/system/secrets", list_secrets, "Secret:List", ns_from_query),
        Route(
            ("POST",),
            "/system/secrets",
            write_secret(update=False),
            "Secret:Create",
            fn_from_body("name"),
            body=D.SECRET,
            required=("name",),
        ),
        Route(
            ("PUT",),
            "/system/secrets",
            write_secret(update=True),
            "Secret:Update",
            fn_from_body("name"),
            body=D.SECRET,
            required=("name",),
        ),
        Route(
            ("DELETE",),
            "/system/secrets",
            delete_secret,
            "Secret:Delete",
            fn_from_body("name"),
            body=D.SECRET,
            required=("name",),
        ),
        Route(("GET",), "/system/logs", logs, "Function:Logs", fn_from_logs_query),
        Route(("GET",), "/system/info", info, "System:Info", system),
        Route(("*",), "/function/{target}{rest*}", invoke("function"), **inv),
        Route(("*",), "/async-function/{target}{rest*}", invoke("async-function"), **inv),
    ]


# RFC 3986 path characters, percent escapes well-formed
_VALID_PATH = re.compile(rb"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-Fa-f]{2})*")


class _Asgi:
    """The dispatcher as a plain ASGI app (so that Starlette applies no method list of its own)."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        self._dispatcher = dispatcher

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        from starlette.requests import Request

        response = await self._dispatcher(Request(scope, receive))
        await response(scope, receive, send)


class _BodyTooLarge(Exception):
    pass


async def _limited(request: Request, limit: int) -> AsyncIterator[bytes]:
    seen = 0
    async for chunk in request.stream():
        seen += len(chunk)
        if seen > limit:
            raise _BodyTooLarge
        if chunk:
            yield chunk
