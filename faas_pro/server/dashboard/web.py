"""The dashboard's pages and actions (mounted at ``/ui``).

Every read and every action is a request to the gateway's own ASGI app (``api``) carrying the
session's OpenFaaS token, so it is authorised and audited exactly like a CLI call; the IAM engine
is asked only to decide which buttons to show and to explain "What can I do?".
"""

from __future__ import annotations

import secrets
import time
import urllib.parse as up
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from faas_pro.server.dashboard.charts import invocation_bars
from faas_pro.server.dashboard.oidc import LoginError, Provider, pkce_pair
from faas_pro.server.dashboard.session import Sealer, cookie_header, cookie_name

if TYPE_CHECKING:  # pragma: no cover
    import httpx
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response

    from faas_pro.server.dashboard import DashboardConfig

HERE = Path(__file__).resolve().parent
LOGIN_TTL = 600
MAX_FORM = 256 * 1024
MAX_SHOWN = 64 * 1024
ID_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id_token"
SORT_KEYS = ("name", "image", "invocations", "replicas", "created")
ACTIONS_SHOWN = ("Function:Invoke", "Function:Scale", "Function:Delete", "Function:Logs")


class _Redirect(Exception):
    def __init__(self, url: str) -> None:
        self.url = url


class _Page(Exception):
    """Stop and answer with an error page."""

    def __init__(self, status: int, title: str, message: str, advice: str = "", **extra: Any) -> None:
        super().__init__(title)
        self.status, self.title, self.message, self.advice, self.extra = status, title, message, advice, extra


def _origin(url: str) -> str:
    parts = up.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _safe_next(value: str | None) -> str:
    if value and value.startswith("/ui/") and "//" not in value and "\\" not in value and value.isprintable():
        return value
    return "/ui/"


def build(cfg: DashboardConfig, api: Any, gw: Any) -> Starlette:
    import httpx
    from jinja2 import Environment, FileSystemLoader, select_autoescape
    from starlette.applications import Starlette
    from starlette.responses import HTMLResponse, RedirectResponse
    from starlette.responses import Response as StarletteResponse
    from starlette.routing import Route

    env = Environment(
        loader=FileSystemLoader(str(HERE / "templates")),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    sealer = Sealer(cfg.session_key)
    session_cookie = cookie_name("faas-pro-session", cfg.secure)
    login_cookie = cookie_name("faas-pro-login", cfg.secure)
    own_origin = _origin(cfg.gateway_url)
    idp_origin = _origin(cfg.issuer)
    csp = (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        f"form-action 'self' {idp_origin}; frame-ancestors 'none'; base-uri 'none'"
    )
    security_headers = {
        "Content-Security-Policy": csp,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "X-Frame-Options": "DENY",
        "Cache-Control": "no-store",
    }
    idp_client = httpx.AsyncClient(follow_redirects=False, trust_env=False, timeout=gw.fetch_timeout)
    provider = Provider(cfg, idp_client)
    api_client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=api), base_url=cfg.gateway_url, timeout=30.0, follow_redirects=False
    )
    css = (HERE / "static" / "dashboard.css").read_bytes()
    logs_js = (HERE / "static" / "logs.js").read_bytes()

    # ------------------------------------------------------------------ rendering

    def page(template: str, status: int = 200, cookies: list[str] | None = None, **ctx: Any) -> Response:
        html = env.get_template(template).render(**ctx)
        r = HTMLResponse(html, status, headers=security_headers)
        for c in cookies or ():
            r.headers.append("set-cookie", c)
        return r

    def error_page(e: _Page, sess: dict[str, Any] | None = None) -> Response:
        return page("error.html", e.status, title=e.title, message=e.message, advice=e.advice, sess=sess, **e.extra)

    def redirect(url: str, cookies: list[str] | None = None) -> Response:
        r = RedirectResponse(url, 303, headers={"Cache-Control": "no-store"})
        for c in cookies or ():
            r.headers.append("set-cookie", c)
        return r

    def clear(name: str) -> str:
        return cookie_header(name, "", max_age=0, secure=cfg.secure)

    # ------------------------------------------------------------------ the session

    def session(request: Request) -> dict[str, Any] | None:
        from faas_pro.server.enforce import Unauthenticated

        s = sealer.open(session_cookie, request.cookies.get(session_cookie), gw.clock())
        if s is None or not isinstance(s.get("t"), str) or not isinstance(s.get("csrf"), str):
            return None
        try:
            s["claims"] = gw.authn.api_claims("Bearer " + s["t"])
        except Unauthenticated:
            return None
        return s

    def login_url(next_url: str) -> str:
        return "/ui/login?" + up.urlencode({"next": _safe_next(next_url)})

    def need(request: Request) -> dict[str, Any]:
        s = session(request)
        if s is None:
            raise _Redirect(login_url(request.url.path))
        return s

    async def form_of(request: Request) -> dict[str, str]:
        from faas_pro.server.http_io import BadRequest, TooLarge, parse_form, read_body

        try:
            raw = await read_body(request, MAX_FORM)
            return {k: v[0] for k, v in parse_form(raw, "").items()}  # a repeated field is already a 400
        except TooLarge:
            raise _Page(413, "Too large", f"The form is larger than {MAX_FORM} bytes.") from None
        except (BadRequest, UnicodeDecodeError, ValueError):
            raise _Page(400, "Bad form", "The form could not be read.", "Go back and try again.") from None

    async def changing(request: Request) -> tuple[dict[str, Any], dict[str, str]]:
        """A state-changing request: same Origin, then a live session, then the session's CSRF token."""
        if request.headers.get("origin") != own_origin:
            raise _Page(403, "Refused", "This request did not come from the dashboard's own pages (Origin check).")
        form = await form_of(request)
        s = session(request)
        if s is None:
            raise _Page(
                401,
                "Your session has ended",
                "Nothing was done. Your input is kept below: log in again, then submit it once more.",
                kept=form,
                login=login_url(request.url.path.rsplit("/", 1)[0]),
            )
        if not secrets.compare_digest(form.get("csrf", ""), s["csrf"]):
            raise _Page(403, "Refused", "The form's CSRF token does not match this session; nothing was done.")
        return s, form

    def may(s: dict[str, Any], action: str, ns: str, fn: str | None = None) -> bool:
        claims = s["claims"]
        iam = gw.iam.get()
        return bool(iam.authorize(tuple(claims["policy"]), action, ns, fn, claims).allowed)

    # ------------------------------------------------------------------ calling the gateway's API

    async def call(s: dict[str, Any], method: str, path: str, **kw: Any) -> httpx.Response:
        headers = {"Authorization": "Bearer " + s["t"], **kw.pop("headers", {})}
        try:
            return await api_client.request(method, path, headers=headers, **kw)
        except httpx.HTTPError as e:
            raise _Page(502, "Gateway error", f"The gateway's API failed ({type(e).__name__}).", "Try again.") from None

    def api_error(r: httpx.Response, what: str) -> _Page:
        text = r.text.strip()[:500]
        if r.status_code == 401:
            ended = "Your session has ended"
            return _Page(401, ended, f"The gateway refused the session: {text}", login=login_url("/ui/"))
        if r.status_code == 403:
            return _Page(403, "Not allowed", f"Your policies do not allow you to {what}.", "Ask your administrator.")
        if r.status_code == 404:
            return _Page(404, "Not found", f"Cannot {what}: the gateway answered 404 ({text}).")
        if r.status_code >= 500:
            message = f"Cannot {what}: the gateway answered {r.status_code} ({text})."
            return _Page(502, "Upstream error", message, "Try again later.")
        return _Page(r.status_code, "Refused", f"Cannot {what}: the gateway answered {r.status_code} ({text}).")

    async def get_json(s: dict[str, Any], path: str, what: str, **params: str) -> Any:
        r = await call(s, "GET", path, params=params)
        if r.status_code != 200:
            raise api_error(r, what)
        try:
            return r.json()
        except ValueError:
            raise _Page(502, "Upstream error", f"Cannot {what}: the answer is not JSON.") from None

    # ------------------------------------------------------------------ routes

    Handler = Callable[["Request"], Awaitable["Response"]]

    def handle(fn: Handler) -> Handler:
        async def endpoint(request: Request) -> Response:
            try:
                return await fn(request)
            except _Redirect as r:
                return redirect(r.url)
            except _Page as e:
                return error_page(e, session(request))

        return endpoint

    async def login_page(request: Request) -> Response:
        nxt = _safe_next(request.query_params.get("next"))
        if session(request) is not None:
            return redirect(nxt)
        return page("login.html", start="/ui/auth/login?" + up.urlencode({"next": nxt}), issuer=cfg.issuer, sess=None)

    async def auth_login(request: Request) -> Response:
        state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        verifier, challenge = pkce_pair()
        try:
            url = await provider.authorization_url(state, nonce, challenge)
        except LoginError as e:
            raise _Page(502, "Cannot log in", e.reason, "Try again; if it persists, tell your administrator.") from None
        tx = {
            "state": state,
            "nonce": nonce,
            "verifier": verifier,
            "next": _safe_next(request.query_params.get("next")),
            "exp": int(gw.clock()) + LOGIN_TTL,
        }
        value = sealer.seal(login_cookie, tx)
        return redirect(url, [cookie_header(login_cookie, value, max_age=LOGIN_TTL, secure=cfg.secure)])

    async def callback(request: Request) -> Response:
        from faas_pro.server.exchange import ExchangeError
        from faas_pro.server.issuers import IssuerError
        from faas_pro.tokens import TokenError, VerifyOptions, decode_unverified, verify

        q = request.query_params
        again = "Start again from the dashboard's Log in button."

        def refused(message: str, status: int = 400, title: str = "Login refused") -> _Page:
            return _Page(status, title, message, again, retry=True)

        tx = sealer.open(login_cookie, request.cookies.get(login_cookie), gw.clock())
        if tx is None:
            raise _Page(400, "Login expired", "This login attempt is unknown or too old.", again, retry=True)
        if not q.get("state") or not secrets.compare_digest(q.get("state", ""), str(tx.get("state"))):
            raise refused("The answer's state does not match this login attempt.")
        iss = q.get("iss")
        try:
            if iss is None and await provider.iss_required():
                raise refused("The identity provider's answer has no iss.")
        except LoginError as e:
            raise refused(e.reason, 502, "Cannot log in") from None
        if iss is not None and iss != cfg.issuer:
            raise refused("The answer comes from another identity provider (iss).")
        if q.get("error"):
            desc = q.get("error_description") or ""
            raise _Page(400, "The identity provider refused", f"{q['error'][:100]}: {desc[:300]}", again, retry=True)
        code = q.get("code")
        if not code:
            raise refused("The answer carries no authorization code.")
        try:
            answer = await provider.redeem(code, str(tx["verifier"]))
        except LoginError as e:
            raise refused(e.reason, 502, "Cannot log in") from None
        id_token = answer["id_token"]
        iam = gw.iam.get()
        issuer = iam.issuer_for(cfg.issuer)
        if issuer is None or gw.keys is None or gw.exchanger is None:
            raise refused("The dashboard's issuer is no longer configured; tell your administrator.", 503)
        try:
            header, _ = decode_unverified(id_token)
            kid = header.get("kid")
            lookup = await gw.keys.lookup_for(issuer, kid if isinstance(kid, str) else None)
            claims = verify(id_token, lookup, VerifyOptions(issuer=cfg.issuer, audiences=(cfg.client_id,)), gw.clock())
        except (TokenError, IssuerError) as e:
            raise refused(f"The ID token is not valid: {e.reason}", 502, "Cannot log in") from None
        if not isinstance(claims.get("nonce"), str) or not secrets.compare_digest(claims["nonce"], str(tx["nonce"])):
            raise refused("The ID token's nonce does not match this login attempt.")
        try:
            out = await gw.exchanger.exchange(
                {"grant_type": GRANT, "subject_token": id_token, "subject_token_type": ID_TOKEN_TYPE}
            )
        except ExchangeError as e:
            if e.description.startswith("No policies found"):
                return page(
                    "unauthorised.html",
                    403,
                    [clear(login_cookie)],
                    sub=claims.get("sub"),
                    iss=claims.get("iss"),
                    groups=claims.get("groups") if isinstance(claims.get("groups"), list) else [],
                    email=claims.get("email"),
                    sess=None,
                    end=await provider.end_session_url(cfg.gateway_url + "/ui/"),
                )
            raise refused(e.description, 403, "Login refused by the gateway") from None
        expires_in = int(out["expires_in"])
        sess = {"t": out["access_token"], "csrf": secrets.token_urlsafe(24), "exp": int(gw.clock()) + expires_in}
        value = sealer.seal(session_cookie, sess)
        cookies = [clear(login_cookie), cookie_header(session_cookie, value, max_age=expires_in, secure=cfg.secure)]
        return redirect(_safe_next(str(tx.get("next"))), cookies)

    async def logout(request: Request) -> Response:
        if request.headers.get("origin") != own_origin:
            raise _Page(403, "Refused", "This request did not come from the dashboard's own pages (Origin check).")
        form = await form_of(request)
        s = session(request)
        if s is not None and not secrets.compare_digest(form.get("csrf", ""), s["csrf"]):
            raise _Page(403, "Refused", "The form's CSRF token does not match this session; nothing was done.")
        end = await provider.end_session_url(cfg.gateway_url + "/ui/")
        return redirect(end or "/ui/login", [clear(session_cookie)])

    async def namespaces(request: Request) -> Response:
        s = need(request)
        names = await get_json(s, "/system/namespaces", "list namespaces")
        return page("namespaces.html", sess=s, namespaces=[n for n in names if isinstance(n, str)])

    def _ns(request: Request) -> str:
        from faas_pro.server.backends import NAME_RE

        ns = str(request.path_params["ns"])
        if not NAME_RE.fullmatch(ns):
            raise _Page(400, "Bad name", "A namespace is a DNS-1123 label.")
        return ns

    def _fn(request: Request) -> str:
        from faas_pro.server.backends import NAME_RE

        fn = str(request.path_params["fn"])
        if not NAME_RE.fullmatch(fn):
            raise _Page(400, "Bad name", "A function name is a DNS-1123 label.")
        return fn

    def _row(f: dict[str, Any]) -> dict[str, Any]:
        def num(v: Any) -> int:
            return int(v) if isinstance(v, int | float) and not isinstance(v, bool) else 0

        return {
            "name": str(f.get("name", "")),
            "image": str(f.get("image", "")),
            "invocations": num(f.get("invocationCount")),
            "replicas": num(f.get("replicas")),
            "created": str(f.get("createdAt") or ""),
        }

    async def functions(request: Request) -> Response:
        s = need(request)
        ns = _ns(request)
        items = await get_json(s, "/system/functions", f"list the functions of {ns}", namespace=ns)
        rows = [_row(f) for f in items if isinstance(f, dict)]
        sort = request.query_params.get("sort", "name")
        sort = sort if sort in SORT_KEYS else "name"
        desc = request.query_params.get("order") == "desc"
        rows.sort(key=lambda r: (r[sort], r["name"]), reverse=desc)
        chart = invocation_bars([(r["name"], r["invocations"]) for r in rows])
        from markupsafe import Markup

        return page(
            "functions.html",
            sess=s,
            ns=ns,
            rows=rows,
            sort=sort,
            desc=desc,
            chart=Markup(chart),  # noqa: S704
        )

    async def function_page(request: Request, s: dict[str, Any] | None = None, **extra: Any) -> Response:
        s = s or need(request)
        ns, fn = _ns(request), _fn(request)
        f = await get_json(s, f"/system/function/{fn}", f"read {fn} in {ns}", namespace=ns)
        if not isinstance(f, dict):
            raise _Page(502, "Upstream error", "The function's description is not a JSON object.")

        def mapping(v: Any) -> list[tuple[str, str]]:
            return sorted((str(k), str(x)) for k, x in v.items()) if isinstance(v, dict) else []

        env_vars = f.get("envVars")
        info = {
            **_row(f),
            "available": f.get("availableReplicas"),
            "labels": mapping(f.get("labels")),
            "annotations": mapping(f.get("annotations")),
            "env_names": sorted(str(k) for k in env_vars) if isinstance(env_vars, dict) else [],
            "url": f"{cfg.gateway_url}/function/{fn}.{ns}",
        }
        allowed = {a.split(":")[1].lower(): may(s, a, ns, fn) for a in ACTIONS_SHOWN}
        return page("function.html", sess=s, ns=ns, fn=fn, f=info, allowed=allowed, **extra)

    async def invoke(request: Request) -> Response:
        from faas_pro.server.dashboard.stream import ApiStream

        s, form = await changing(request)
        ns, fn = _ns(request), _fn(request)
        body = form.get("body", "")
        ctype = form.get("content_type", "text/plain") or "text/plain"
        if len(ctype) > 200 or not ctype.isprintable() or not ctype.isascii():
            raise _Page(400, "Bad content type", "The content type must be one printable ASCII line.", kept=form)
        if not may(s, "Function:Invoke", ns, fn):
            # the API lets anyone call a function that is not protected (as OpenFaaS does); the
            # dashboard offers and runs only what the person's policies allow
            raise _Page(
                403, "Not allowed", f"Your policies do not allow you to invoke {fn}.", "Ask your administrator."
            )
        # A protected function takes a function token, never the session's API token (as with
        # faas-cli): exchange the session's token at the gateway's own /oauth/token, server-side.
        audience = f"{ns}:{fn}"
        r = await call(
            s,
            "POST",
            "/oauth/token",
            data={
                "grant_type": GRANT,
                "subject_token": s["t"],
                "subject_token_type": ACCESS_TOKEN_TYPE,
                "scope": "function",
                "audience": audience,
            },
        )
        answer = _json_or_none(r)
        headers = [(b"content-type", ctype.encode())]
        if r.status_code == 200 and isinstance(answer, dict) and isinstance(answer.get("access_token"), str):
            headers.append((b"authorization", ("Bearer " + answer["access_token"]).encode()))
            auth = f"Called with a function token for {audience}, exchanged from your session on the server."
        else:
            why = answer.get("error_description") if isinstance(answer, dict) else None
            auth = f"Called without a function token (the exchange was refused: {str(why or r.status_code)[:200]})."
        # streamed in-process: only what is shown is read, however large the answer (the gateway's
        # --invoke-timeout bounds the wait)
        peer = (request.client.host, request.client.port) if request.client else None
        path = f"/function/{fn}.{ns}"
        stream = ApiStream(api, cfg.gateway_url, path, b"", headers, "POST", body.encode(), peer)
        try:
            status = await stream.open(timeout=None)
            raw, more = await stream.read_upto(MAX_SHOWN)
            shown = sorted((k, v) for k, v in stream.headers if k.lower() != "set-cookie")
        finally:
            await stream.close()
        result = {
            "status": status,
            "headers": shown,
            "body": raw.decode("utf-8", "replace"),
            "truncated": more,
            "auth": auth,
        }
        return await function_page(request, s, result=result, form=form)

    async def scale(request: Request) -> Response:
        s, form = await changing(request)
        ns, fn = _ns(request), _fn(request)
        replicas = form.get("replicas", "")
        if not replicas.isdigit() or int(replicas) > 1000:
            raise _Page(400, "Bad number", "Replicas must be a whole number from 0 to 1000.", kept=form)
        r = await call(
            s,
            "POST",
            f"/system/scale-function/{fn}",
            params={"namespace": ns},
            json={"serviceName": fn, "namespace": ns, "replicas": int(replicas)},
        )
        if r.status_code not in (200, 202):
            raise api_error(r, f"scale {fn}")
        return await function_page(request, s, notice=f"Asked for {int(replicas)} replicas of {fn}.")

    async def delete_confirm(request: Request) -> Response:
        s = need(request)
        return page("delete.html", sess=s, ns=_ns(request), fn=_fn(request))

    async def delete(request: Request) -> Response:
        s, form = await changing(request)
        ns, fn = _ns(request), _fn(request)
        if form.get("confirm") != fn:
            raise _Page(400, "Not deleted", f"Type the function's name ({fn}) to confirm the deletion.")
        r = await call(s, "DELETE", "/system/functions", json={"functionName": fn, "namespace": ns})
        if r.status_code not in (200, 202):
            raise api_error(r, f"delete {fn}")
        return redirect(f"/ui/ns/{ns}?" + up.urlencode({"deleted": fn}))

    async def logs(request: Request) -> Response:
        s = need(request)
        ns, fn = _ns(request), _fn(request)
        r = await call(s, "GET", "/system/logs", params={"name": fn, "namespace": ns, "tail": "200"})
        if r.status_code != 200:
            raise api_error(r, f"read the logs of {fn}")
        import json

        lines = []
        for ln in r.text.splitlines():
            try:
                d = json.loads(ln)
            except ValueError:
                continue
            if isinstance(d, dict):
                lines.append((str(d.get("timestamp", "")), str(d.get("instance", "")), str(d.get("text", ""))))
        follow = request.query_params.get("follow", "1") != "0"
        since = lines[-1][0] if lines and _since_ok(lines[-1][0]) else ""
        stream = f"/ui/ns/{ns}/fn/{fn}/logs/stream" + ("?" + up.urlencode({"since": since}) if since else "")
        return page("logs.html", sess=s, ns=ns, fn=fn, lines=lines, follow=follow, stream=stream)

    async def logs_stream(request: Request) -> Response:
        """New log lines as they come (NDJSON), for the logs page's script; the API decides (Function:Logs)."""
        from faas_pro.server.dashboard.stream import ApiStream, LogFollow

        s = session(request)
        if s is None:
            return StarletteResponse(b"your session has ended: log in again\n", 401, headers=security_headers)
        ns, fn = _ns(request), _fn(request)
        q = {"name": fn, "namespace": ns, "follow": "true"}
        since = request.query_params.get("since", "")
        q["since"] = since if _since_ok(since) else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(gw.clock()))
        auth = [(b"authorization", ("Bearer " + s["t"]).encode())]
        stream = ApiStream(api, cfg.gateway_url, "/system/logs", up.urlencode(q).encode(), auth)
        try:
            status = await stream.open()
            text = "" if status == 200 else (await stream.read_all(500)).decode("utf-8", "replace").strip()
        except TimeoutError:
            status, text = 504, "no answer in time"
        if status != 200:
            await stream.close()
            message = f"the gateway answered {status}: {text}"
            return StarletteResponse(message.encode() + b"\n", status, headers=security_headers)
        left = float(s["claims"].get("exp", 0)) - gw.clock()  # never past the session's token
        return LogFollow(stream, max(1.0, min(FOLLOW_SECONDS, left)), security_headers)

    async def me(request: Request) -> Response:
        from faas_pro.iam.explain import explain

        s = need(request)
        c = s["claims"]
        iam = gw.iam.get()
        sub = str(c.get("sub", ""))
        upstream = {**c, "iss": c.get("fed:iss"), "sub": sub.removeprefix("fed:"), "aud": cfg.client_id}
        ex = explain(iam, upstream, gw.issuer_url)
        statements = []
        for name in c.get("policy", []):
            p = iam.policies.get(name)
            for st in p.statements if p else ():
                statements.append((name, st))
        return page(
            "me.html",
            sess=s,
            claims=c,
            ex=ex,
            statements=statements,
            policies=list(c.get("policy", [])),
            expires=time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(float(c["exp"]))),
        )

    async def stylesheet(request: Request) -> Response:
        return StarletteResponse(
            css, media_type="text/css", headers={"Cache-Control": "max-age=3600", "X-Content-Type-Options": "nosniff"}
        )

    async def script(request: Request) -> Response:
        return StarletteResponse(
            logs_js,
            media_type="text/javascript",
            headers={"Cache-Control": "max-age=3600", "X-Content-Type-Options": "nosniff"},
        )

    async def root_redirect(request: Request) -> Response:
        return redirect("/ui/")

    routes = [
        Route("/", handle(namespaces), methods=["GET"]),
        Route("/login", handle(login_page), methods=["GET"]),
        Route("/auth/login", handle(auth_login), methods=["GET"]),
        Route("/auth/callback", handle(callback), methods=["GET"]),
        Route("/auth/logout", handle(logout), methods=["POST"]),
        Route("/me", handle(me), methods=["GET"]),
        Route("/static/dashboard.css", stylesheet, methods=["GET"]),
        Route("/static/logs.js", script, methods=["GET"]),
        Route("/ns/{ns}", handle(functions), methods=["GET"]),
        Route("/ns/{ns}/fn/{fn}", handle(function_page), methods=["GET"]),
        Route("/ns/{ns}/fn/{fn}/invoke", handle(invoke), methods=["POST"]),
        Route("/ns/{ns}/fn/{fn}/scale", handle(scale), methods=["POST"]),
        Route("/ns/{ns}/fn/{fn}/delete", handle(delete_confirm), methods=["GET"]),
        Route("/ns/{ns}/fn/{fn}/delete", handle(delete), methods=["POST"]),
        Route("/ns/{ns}/fn/{fn}/logs", handle(logs), methods=["GET"]),
        Route("/ns/{ns}/fn/{fn}/logs/stream", handle(logs_stream), methods=["GET"]),
    ]
    app = Starlette(routes=routes)
    app.router.redirect_slashes = False
    app.state.close = [idp_client.aclose, api_client.aclose]
    return app


GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"
FOLLOW_SECONDS = 120.0  # one follow stream; the logs page's script then asks again from its last line


def _since_ok(v: str) -> bool:
    """An RFC 3339 time as the API takes it for ``since``."""
    return 0 < len(v) <= 64 and v[:1].isdigit() and all(c.isalnum() or c in ".:-_+" for c in v)


def _json_or_none(r: Any) -> Any:
    try:
        return r.json()
    except ValueError:
        return None
