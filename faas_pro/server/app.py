"""The ASGI application: discovery, token exchange and the authorised OpenFaaS REST API.

Route → action (DESIGN §3): ``GET /system/namespaces`` → ``Namespace:List`` (filters the list),
``POST /system/namespace/`` → ``Namespace:Create``, ``GET /system/functions`` → ``Function:List``,
``GET /system/function/{name}`` → ``Function:Get``, ``POST|PUT|DELETE /system/functions`` →
``Function:Create|Update|Delete``, ``GET /system/info`` → ``System:Info``. Namespace from the body,
else ``?namespace=``, else ``openfaas-fn``. Authorisation always happens before the backend is
asked anything, so a refused caller learns nothing about what exists.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from faas_pro.server.backends import DEFAULT_NAMESPACE, NAME_RE, Backend, BackendError, Reply
from faas_pro.server.enforce import Authenticator, Unauthenticated
from faas_pro.server.exchange import ExchangeError, Exchanger, show

if TYPE_CHECKING:  # pragma: no cover
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response

    from faas_pro.iam import IamSet
    from faas_pro.server.audit import Deliverer, Outbox
    from faas_pro.server.dashboard import DashboardConfig
    from faas_pro.server.issuers import IssuerKeys
    from faas_pro.server.reload import IamHolder
    from faas_pro.server.signing import Signer

MAX_API_BODY = 1024 * 1024
MAX_TOKEN_BODY = 64 * 1024
MAX_FORM_FIELDS = 32
# Namespace-level decisions that concern no namespace (System:Info) are asked for this namespace.
SYSTEM_NAMESPACE = "*"


class TooLarge(Exception):
    pass


class BadRequest(Exception):
    pass


@dataclass
class Gateway:
    """Everything the app needs; built by ``faas_pro.server.run``."""

    issuer_url: str
    signer: Signer
    iam: IamHolder
    backend: Backend
    clock: Callable[[], float]
    log: Callable[[str], None]
    audit_verbs: frozenset[str] = frozenset({"PUT", "POST", "DELETE"})
    outbox: Outbox | None = None
    audit_webhook: str | None = None
    audit_secret: bytes | None = None
    fetch_timeout: float = 5.0
    no_authz: bool = False
    dashboard: DashboardConfig | None = None
    keys: IssuerKeys | None = field(default=None, init=False)
    exchanger: Exchanger | None = field(default=None, init=False)
    deliverer: Deliverer | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.authn = Authenticator(self.issuer_url, self.signer, self.clock)


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


def parse_form(raw: bytes, query: str) -> dict[str, str]:
    """Token endpoint parameters from the body and the query string; a repeated name is an error."""
    from urllib.parse import parse_qsl

    out: dict[str, str] = {}
    for source in (raw.decode("utf-8", "strict"), query):
        if not source:
            continue
        pairs = parse_qsl(source, keep_blank_values=True, strict_parsing=True, max_num_fields=MAX_FORM_FIELDS)
        for k, v in pairs:
            if k in out:
                raise BadRequest(f"parameter {show(k, 40)} is given more than once")
            out[k] = v
    return out


def parse_json_object(raw: bytes) -> dict[str, Any]:
    from faas_pro import strictjson

    try:
        doc = strictjson.loads(raw)
    except strictjson.StrictJSONError:
        raise BadRequest("the body is not valid JSON") from None
    if not isinstance(doc, dict):
        raise BadRequest("the body must be a JSON object")
    return doc


def build_app(gw: Gateway) -> Starlette:
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse, PlainTextResponse
    from starlette.responses import Response as StarletteResponse
    from starlette.routing import Route

    def text(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
        return PlainTextResponse(message + "\n" if not message.endswith("\n") else message, status, headers=headers)

    def reply(r: Reply) -> Response:
        if isinstance(r.body, bytes):
            return StarletteResponse(r.body, r.status, media_type=r.content_type or "application/json")
        if isinstance(r.body, str):
            return text(r.status, r.body)
        if r.body is None:
            return StarletteResponse(b"", r.status)
        return JSONResponse(r.body, r.status)

    # ------------------------------------------------------------------ discovery and exchange

    async def discovery(request: Request) -> Response:
        return JSONResponse(
            {
                "issuer": gw.issuer_url,
                "jwks_uri": gw.issuer_url + "/.well-known/jwks.json",
                "token_endpoint": gw.issuer_url + "/oauth/token",
                "grant_types_supported": ["urn:ietf:params:oauth:grant-type:token-exchange"],
                "id_token_signing_alg_values_supported": ["ES256"],
            }
        )

    async def jwks(request: Request) -> Response:
        return JSONResponse(gw.signer.jwks())

    def oauth_error(status: int, error: str, description: str) -> Response:
        return JSONResponse(
            {"error": error, "error_description": description},
            status,
            headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
        )

    async def token(request: Request) -> Response:
        try:
            raw = await read_body(request, MAX_TOKEN_BODY)
            ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if raw and ctype != "application/x-www-form-urlencoded":
                raise BadRequest("the body must be application/x-www-form-urlencoded")
            params = parse_form(raw, request.url.query)
        except TooLarge:
            return oauth_error(413, "invalid_request", f"the request body is larger than {MAX_TOKEN_BODY} bytes")
        except (BadRequest, UnicodeDecodeError, ValueError) as e:
            msg = str(e) if isinstance(e, BadRequest) else "the parameters are not a valid form encoding"
            return oauth_error(400, "invalid_request", msg)
        assert gw.exchanger is not None
        try:
            answer = await gw.exchanger.exchange(params)
        except ExchangeError as e:
            return oauth_error(400, e.error, e.description)
        return JSONResponse(answer, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

    # ------------------------------------------------------------------ the authorised API

    Handler = Callable[["Request", "Call"], Awaitable["Response"]]

    def api(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            call = Call(gw, request)
            try:
                response = await handler(request, call)
            except Unauthenticated as e:
                if e.oversized:  # RFC 6750 3.1: a malformed request is invalid_request, 400
                    response = text(
                        400, f"Bad Request: {e.reason}", {"WWW-Authenticate": 'Bearer error="invalid_request"'}
                    )
                else:
                    challenge = "Bearer" if e.missing else 'Bearer error="invalid_token"'
                    response = text(401, f"Unauthorized: {e.reason}", {"WWW-Authenticate": challenge})
            except Forbidden:
                response = text(403, "Unauthorized")
            except TooLarge:
                response = text(413, f"request body larger than {MAX_API_BODY} bytes")
            except BadRequest as e:
                response = text(400, str(e))
            except BackendError as e:
                gw.log(f"backend error: {e.reason}")
                response = text(502, e.reason)
            sub = show(call.claims.get("sub")) if call.claims else "-"
            gw.log(f"{request.method} {request.url.path} {response.status_code} {sub}")
            if request.method in gw.audit_verbs and gw.outbox is not None:
                from faas_pro.server.audit import make_event

                event = make_event(
                    call.claims, request.url.path, request.method, call.actions, response.status_code, gw.clock()
                )
                try:
                    before = gw.outbox.dropped
                    if gw.outbox.put(event) and (before == 0 or before // 1000 != gw.outbox.dropped // 1000):
                        gw.log(f"audit outbox full: dropped the oldest events ({gw.outbox.dropped} so far)")
                except Exception as e:  # the audit trail never fails an API call (SECURITY decisions)
                    gw.log(f"audit outbox error: {type(e).__name__}: {e}")
                if gw.deliverer is not None:
                    gw.deliverer.notify()
            return response

        return endpoint

    def namespace_of(request: Request, body: dict[str, Any] | None = None) -> str:
        ns: Any = body.get("namespace") if body else None
        if ns in (None, ""):
            ns = request.query_params.get("namespace") or DEFAULT_NAMESPACE
        if not isinstance(ns, str) or not NAME_RE.match(ns):
            raise BadRequest("namespace must be a DNS-1123 label")
        return ns

    def name_ok(name: Any, what: str) -> str:
        if not isinstance(name, str) or not NAME_RE.match(name):
            raise BadRequest(f"{what} must be a DNS-1123 label")
        return name

    async def list_namespaces(request: Request, call: Call) -> Response:
        call.authenticate()
        call.actions.append("Namespace:List")
        names = await gw.backend.namespaces()
        return JSONResponse(sorted(n for n in names if call.allowed("Namespace:List", n)))

    async def create_namespace(request: Request, call: Call) -> Response:
        call.authenticate()
        body = parse_json_object(await read_body(request, MAX_API_BODY))
        name = name_ok(body.get("name"), "name")
        call.require("Namespace:Create", name)
        return reply(await gw.backend.create_namespace(name))

    async def functions(request: Request, call: Call) -> Response:
        call.authenticate()
        if request.method == "GET":
            ns = namespace_of(request)
            call.require("Function:List", ns)
            return reply(await gw.backend.list_functions(ns))
        body = parse_json_object(await read_body(request, MAX_API_BODY))
        ns = namespace_of(request, body)
        if request.method == "DELETE":
            name = name_ok(body.get("functionName"), "functionName")
            call.require("Function:Delete", ns, name)
            return reply(await gw.backend.delete_function(ns, name))
        name = name_ok(body.get("service"), "service")
        update = request.method == "PUT"
        call.require("Function:Update" if update else "Function:Create", ns, name)
        body["namespace"] = ns  # what is executed is what was authorised
        return reply(await gw.backend.deploy(body, ns, update=update))

    async def get_function(request: Request, call: Call) -> Response:
        call.authenticate()
        name = name_ok(request.path_params["name"], "function name")
        ns = namespace_of(request)
        call.require("Function:Get", ns, name)
        return reply(await gw.backend.get_function(ns, name))

    async def info(request: Request, call: Call) -> Response:
        call.authenticate()
        call.require("System:Info", SYSTEM_NAMESPACE)
        return reply(await gw.backend.info())

    async def healthz(request: Request) -> Response:
        return text(200, "OK")

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        import httpx

        from faas_pro.server.audit import Deliverer
        from faas_pro.server.issuers import IssuerKeys
        from faas_pro.tokens import jwks_lookup

        fetch_client = httpx.AsyncClient(follow_redirects=False, trust_env=False, timeout=gw.fetch_timeout)
        gw.keys = IssuerKeys(fetch_client, gw.clock, jwks_lookup, timeout=gw.fetch_timeout)
        gw.exchanger = Exchanger(gw.issuer_url, gw.signer, gw.iam.get, gw.keys, gw.clock, gw.log)
        audit_client: httpx.AsyncClient | None = None
        task: asyncio.Task[None] | None = None

        async def poll_iam() -> None:  # edits are picked up (and logged) even without traffic
            while True:
                await asyncio.sleep(1.0)
                gw.iam.get()

        poller = asyncio.create_task(poll_iam())
        if gw.outbox is not None and gw.audit_webhook and gw.audit_secret is not None:
            audit_client = httpx.AsyncClient(follow_redirects=False, trust_env=False, timeout=5.0)
            gw.deliverer = Deliverer(gw.outbox, audit_client, gw.audit_webhook, gw.audit_secret, gw.log)
            task = asyncio.create_task(gw.deliverer.run())
        try:
            yield
        finally:
            for t in (task, poller):
                if t is not None:
                    t.cancel()
                    with suppress(asyncio.CancelledError):
                        await t
            await fetch_client.aclose()
            if audit_client is not None:
                await audit_client.aclose()
            await gw.backend.close()
            if gw.outbox is not None:
                gw.outbox.close()

    routes = [
        Route("/.well-known/openid-configuration", discovery, methods=["GET"]),
        Route("/.well-known/jwks.json", jwks, methods=["GET"]),
        Route("/oauth/token", token, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/system/namespaces", api(list_namespaces), methods=["GET"]),
        Route("/system/namespace/", api(create_namespace), methods=["POST"]),
        Route("/system/namespace", api(create_namespace), methods=["POST"]),
        Route("/system/functions", api(functions), methods=["GET", "POST", "PUT", "DELETE"]),
        Route("/system/function/{name}", api(get_function), methods=["GET"]),
        Route("/system/info", api(info), methods=["GET"]),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.router.redirect_slashes = False
    if gw.dashboard is not None:  # the dashboard is a client of this very app (its API calls come back in)
        from starlette.responses import RedirectResponse
        from starlette.routing import Mount

        from faas_pro.server.dashboard import build_dashboard

        async def to_ui(request: Request) -> Response:
            return RedirectResponse("/ui/", 308)

        app.router.routes.append(Route("/ui", to_ui, methods=["GET"]))
        app.router.routes.append(Mount("/ui", app=build_dashboard(gw.dashboard, app, gw)))
    return app


class Forbidden(Exception):
    pass


class Call:
    """One API request's authentication and authorisation state (also what the audit event needs)."""

    def __init__(self, gw: Gateway, request: Request) -> None:
        self._gw = gw
        self._request = request
        self.claims: dict[str, Any] | None = None
        self.actions: list[str] = []
        self._iam: IamSet | None = None
        self._policies: tuple[str, ...] = ()

    def authenticate(self) -> None:
        if self._gw.no_authz:
            return
        self.claims = self._gw.authn.claims(self._request.headers.get("authorization"))
        self._policies = tuple(self.claims["policy"])
        self._iam = self._gw.iam.get()

    def allowed(self, action: str, namespace: str, function: str | None = None) -> bool:
        if self._gw.no_authz:
            return True
        assert self._iam is not None and self.claims is not None
        return bool(self._iam.authorize(self._policies, action, namespace, function, self.claims).allowed)

    def require(self, action: str, namespace: str, function: str | None = None) -> None:
        self.actions.append(action)
        if not self.allowed(action, namespace, function):
            raise Forbidden
