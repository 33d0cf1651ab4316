"""The ASGI application: discovery, token exchange, the authorised OpenFaaS REST API and invocations.

Every route is a row of ``table(gw)`` (``faas_pro.server.routes``): its action and how its resource
is found (``finders.py``) are declared there, and ``dispatch.Dispatcher`` is the one wrapper that
authenticates, parses the body strictly, resolves the resource, decides, audits and only then calls
the handler; ``http_io.py`` reads requests and writes answers. docs/server.md shows the table.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from faas_pro.server import http_io as h
from faas_pro.server import schema
from faas_pro.server.backends import Backend, Forward
from faas_pro.server.dispatch import Asgi, Call, Dispatcher
from faas_pro.server.enforce import Authenticator, Authoriser
from faas_pro.server.exchange import ExchangeError, Exchanger
from faas_pro.server.finders import (
    fn_from_body,
    fn_from_invoke_path,
    fn_from_logs_query,
    fn_from_path,
    ns_from_body_name,
    ns_from_path,
    ns_from_query,
    system,
)
from faas_pro.server.routes import Route, Table
from faas_pro.server.schema import Invalid

if TYPE_CHECKING:  # pragma: no cover
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response

    from faas_pro.server.audit import Deliverer, Outbox
    from faas_pro.server.dashboard import DashboardConfig
    from faas_pro.server.issuers import IssuerKeys
    from faas_pro.server.reload import IamHolder
    from faas_pro.server.signing import Signer

MAX_TOKEN_BODY = 64 * 1024
DEFAULT_INVOKE_BODY = 32 * 1024 * 1024
LOG_EXTRAS = ("instance", "since", "tail", "follow")


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
    app = Starlette(routes=[StarletteRoute("/{path:path}", Asgi(dispatcher))], lifespan=lifespan)
    app.router.redirect_slashes = False
    gateway_app = GatewayApp(app, Asgi(dispatcher))
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

    def __init__(self, starlette: Starlette, http: Asgi) -> None:
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
            raw = await h.read_body(request, MAX_TOKEN_BODY)
            ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if raw and ctype != "application/x-www-form-urlencoded":
                raise h.BadRequest("the body must be application/x-www-form-urlencoded")
            if request.scope.get("query_string"):  # a token there would end up in access logs
                raise h.BadRequest("the token endpoint takes its parameters from the form body only, not the query")
            form = h.parse_form(raw, "", frozenset({"audience"}))
        except h.TooLarge:
            return oauth_error(413, "invalid_request", f"the request body is larger than {MAX_TOKEN_BODY} bytes")
        except (h.BadRequest, UnicodeDecodeError, ValueError) as e:
            msg = str(e) if isinstance(e, h.BadRequest) else "the parameters are not a valid form encoding"
            return oauth_error(400, "invalid_request", msg)
        audiences = form.pop("audience", [])
        params = {k: v[0] for k, v in form.items()}
        try:
            answer = await gw.exchanger.exchange(params, audiences)
        except ExchangeError as e:
            return oauth_error(400, e.error, e.description)
        return JSONResponse(answer, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

    async def healthz(call: Call) -> Response:
        return h.text(200, "OK")

    # ------------------------------------------------------------------ namespaces

    async def list_namespaces(call: Call) -> Response:
        names = await backend.namespaces()
        return JSONResponse(sorted(n for n in names if call.allowed("Namespace:List", n, None)))

    async def create_namespace(call: Call) -> Response:
        return h.reply(await backend.create_namespace(call.body))

    async def get_namespace(call: Call) -> Response:
        return h.reply(await backend.get_namespace(call.namespace))

    async def update_namespace(call: Call) -> Response:
        if call.body.get("name", call.namespace) != call.namespace:
            raise Invalid("the name in the body is not the namespace in the path")
        return h.reply(await backend.update_namespace(call.namespace, {**call.body, "name": call.namespace}))

    async def delete_namespace(call: Call) -> Response:
        return h.reply(await backend.delete_namespace(call.namespace))

    # ------------------------------------------------------------------ functions

    async def list_functions(call: Call) -> Response:
        return h.reply(await backend.list_functions(call.namespace))

    async def get_function(call: Call) -> Response:
        usage = call.query.get("usage", "") in ("1", "true")
        return h.reply(await backend.get_function(call.namespace, call.name or "", usage))

    def deploy(update: bool) -> Callable[[Call], Any]:
        async def handler(call: Call) -> Response:
            body = {**call.body, "namespace": call.namespace}  # what is executed is what was authorised
            return h.reply(await backend.deploy(body, call.namespace, update=update))

        return handler

    async def delete_function(call: Call) -> Response:
        return h.reply(await backend.delete_function(call.namespace, call.name or ""))

    async def scale(call: Call) -> Response:
        if call.body.get("serviceName", call.name) != call.name:
            raise Invalid("serviceName in the body is not the function in the path")
        return h.reply(await backend.scale(call.namespace, call.name or "", int(call.body["replicas"])))

    # ------------------------------------------------------------------ secrets

    async def list_secrets(call: Call) -> Response:
        return h.reply(await backend.list_secrets(call.namespace))

    def write_secret(update: bool) -> Callable[[Call], Any]:
        async def handler(call: Call) -> Response:
            if "value" not in call.body and "rawValue" not in call.body:
                raise Invalid("value or rawValue is required")
            body = {**call.body, "namespace": call.namespace}
            return h.reply(await backend.write_secret(body, update=update))

        return handler

    async def delete_secret(call: Call) -> Response:
        return h.reply(await backend.delete_secret(call.namespace, call.name or ""))

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
        return await h.answer(await backend.logs(q, follow))

    async def info(call: Call) -> Response:
        return h.reply(await backend.info())

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
                if k.decode("latin-1").lower() not in h.HOP_BY_HOP
            ]
            client = request.client
            headers.append(("X-Forwarded-For", client.host if client else "unknown"))
            headers.append(("X-Forwarded-Proto", request.scope.get("scheme", "http")))  # request.url parses it all
            if request.headers.get("host"):
                headers.append(("X-Forwarded-Host", request.headers["host"]))
            declared = request.headers.get("content-length")
            limit = gw.invoke_max_body
            if declared is not None and (not declared.isdigit() or int(declared) > limit):
                raise h.TooLarge
            body: AsyncIterator[bytes] | None = None
            if call.request.method not in ("GET", "HEAD") or declared not in (None, "0"):
                if declared is not None:
                    headers.append(("Content-Length", declared))
                body = h.limited(request, limit)
            path = f"/{prefix}/{call.name}.{call.namespace}" + rest.decode("latin-1")
            forward = Forward(request.method, path, request.scope.get("query_string", b""), headers, body)
            try:
                return await h.answer(await backend.invoke(forward))
            except h.BodyTooLarge:
                raise h.TooLarge from None

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
