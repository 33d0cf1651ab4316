"""The RFC 8252 loopback redirect receiver.

Security properties (RFC 8252 §7.3, §8.3), each with a test in tests/integration/test_auth_hostile.py
or tests/integration/test_auth_port.py:

- binds only the loopback address of the redirect host (``127.0.0.1``, or ``::1`` for ``[::1]``),
  never with ``SO_REUSEPORT``. On Linux and macOS with ``SO_REUSEADDR``: it lets the next login bind
  again over the previous one's connection in TIME_WAIT, and (on Linux) never over a live listener,
  on the same address or on ``0.0.0.0``. On Windows with ``SO_EXCLUSIVEADDRUSE`` and never
  ``SO_REUSEADDR`` (which there would let another socket take the port). See ``socket_options``;
- a busy port fails closed: the error names the port, and says "in use" only when something
  really listens there (the receiver connects to the port to find out);
- the ``Host`` header must be the redirect URI's own host and port (DNS rebinding);
- the CSPRNG ``state`` is checked in the handler in constant time; a request with a wrong or
  missing state is answered 400 and *ignored*, so a stray or hostile request cannot end the login;
- with the right state: ``error=`` stops the login with the IdP's error; an RFC 9207 ``iss`` that is
  not the expected issuer stops it too (mix-up attack); otherwise the first good response wins and
  every later request is refused;
- every page is HTML-escaped, served with a strict CSP and ``no-store``; request targets, headers
  and bodies are size-capped; each connection has a read timeout; nothing is logged.

Implicit responses arrive in the URL fragment, which browsers never send to a server: a GET of the
callback without parameters is answered with a small relay page whose script POSTs the fragment
(``location.hash``) back as a form, the same shape as ``response_mode=form_post``.
"""

from __future__ import annotations

import errno
import hmac
import html
import secrets
import socket
import sys
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from faas_pro.errors import FaasProError, UsageError
from faas_pro.oauth.duration import format_duration
from faas_pro.oauth.fetch import one_line

CALLBACK_PATH = "/oauth/callback"
DEFAULT_REDIRECT_HOST = "http://127.0.0.1"
DEFAULT_PORT = 31111
MAX_TARGET = 16 * 1024  # request line target (code, state, iss fit easily)
MAX_BODY = 64 * 1024  # form_post / relay body (an id token and an access token)
MAX_FIELDS = 32
READ_TIMEOUT = 10.0


@dataclass(frozen=True)
class RedirectTarget:
    """Where the browser is sent back to: ``http://<host>:<port>/oauth/callback``."""

    host: str  # as written in the redirect URI: 127.0.0.1, localhost or [::1]
    bind: str  # the address bound: 127.0.0.1 or ::1
    family: int


def parse_redirect_host(value: str | None) -> RedirectTarget:
    """``--redirect-host``: http only, a loopback host, no port/path (the port is ``--port``)."""
    raw = (value or DEFAULT_REDIRECT_HOST).strip().rstrip("/")
    p = urlsplit(raw if "://" in raw else "http://" + raw)
    if p.scheme != "http":
        raise UsageError(f"--redirect-host must be an http:// loopback URL (RFC 8252 §7.3): {value!r}")
    if p.path or p.query or p.fragment or p.username or p.password or p.port is not None:
        raise UsageError(f"--redirect-host takes a scheme and host only (use --port for the port): {value!r}")
    host = (p.hostname or "").lower()
    if host in ("127.0.0.1", "localhost"):
        return RedirectTarget(host=host, bind="127.0.0.1", family=socket.AF_INET)
    if host == "::1":
        return RedirectTarget(host="[::1]", bind="::1", family=socket.AF_INET6)
    raise UsageError(
        f"--redirect-host must be a loopback host (127.0.0.1, localhost or [::1]): {value!r}",
        "the callback server never listens on anything but loopback",
    )


@dataclass
class _Outcome:
    params: dict[str, str] | None = None
    error: FaasProError | None = None


def socket_options(platform: str) -> tuple[str, ...]:
    """The ``SOL_SOCKET`` options (by name, each set to 1) the callback socket gets before its bind.

    ``platform`` is a ``sys.platform`` value. Linux and macOS: ``SO_REUSEADDR``, so that a login can
    bind the port again while the previous login's connection is in TIME_WAIT (Linux still refuses
    it while anything listens on the port, on that address or the wildcard). Windows:
    ``SO_EXCLUSIVEADDRUSE`` and never ``SO_REUSEADDR``, which on Windows lets a second socket bind
    a port that is in use. Elsewhere a plain bind. ``SO_REUSEPORT`` never.
    """
    if platform == "win32":
        return ("SO_EXCLUSIVEADDRUSE",)
    if platform.startswith(("linux", "darwin")):
        return ("SO_REUSEADDR",)
    return ()


def _listening(family: int, address: str, port: int) -> bool:
    """Whether something accepts connections on ``address:port`` right now."""
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.settimeout(2.0)
        try:
            return probe.connect_ex((address, port)) == 0
        except OSError:  # a timeout: nothing answered
            return False


class _Server(ThreadingHTTPServer):
    allow_reuse_address = False  # TCPServer's own switch; server_bind below chooses the options
    allow_reuse_port = False
    daemon_threads = True
    receiver: LoopbackReceiver

    def server_bind(self) -> None:
        for name in socket_options(sys.platform):
            option = getattr(socket, name, None)
            if option is not None:
                self.socket.setsockopt(socket.SOL_SOCKET, option, 1)
        # skip HTTPServer.server_bind: its getfqdn() is a reverse DNS lookup we do not need
        self.socket.bind(self.server_address)
        self.server_address = self.socket.getsockname()
        self.server_name, self.server_port = "localhost", int(self.server_address[1])


class _Server6(_Server):
    address_family = socket.AF_INET6


_STYLE = "body{font-family:sans-serif;margin:3em;max-width:40em}"


def _page(title: str, elem_id: str, message: str, script: str = "", nonce: str = "", body_extra: str = "") -> bytes:
    tag = f'<script nonce="{nonce}">{script}</script>' if script else ""
    return (
        '<!doctype html><html><head><meta charset="utf-8">'
        f'<title>{html.escape(title)}</title><style nonce="{nonce}">{_STYLE}</style></head>'
        f'<body><h1>{html.escape(title)}</h1><p id="{elem_id}">{html.escape(message)}</p>{body_extra}{tag}'
        "</body></html>"
    ).encode()


_RELAY_SCRIPT = (
    "(function(){var h=window.location.hash.substring(1);"
    "history.replaceState(null,'',window.location.pathname);"
    "var m=document.getElementById('faas-pro-relay');"
    "if(!h){m.textContent='There is no login response in this page address.';return;}"
    "var f=document.getElementById('faas-pro-relay-form');"
    "new URLSearchParams(h).forEach(function(v,k){var i=document.createElement('input');"
    "i.type='hidden';i.name=k;i.value=v;f.appendChild(i);});f.submit();})();"
)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    timeout = READ_TIMEOUT
    server_version = "faas-pro"
    sys_version = ""
    protocol_version = "HTTP/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        """Never log: request lines carry codes and tokens."""

    def _send(self, status: int, body: bytes, nonce: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("X-Frame-Options", "DENY")
        src = f"'nonce-{nonce}'"
        self.send_header(
            "Content-Security-Policy",
            f"default-src 'none'; script-src {src}; style-src {src}; form-action 'self'; base-uri 'none';"
            " frame-ancestors 'none'",
        )
        self.end_headers()
        self.wfile.write(body)

    def _html(self, status: int, title: str, elem_id: str, message: str, script: str = "", extra: str = "") -> None:
        nonce = secrets.token_urlsafe(16)  # per page: the CSP allows only this page's own script and style
        self._send(status, _page(title, elem_id, message, script, nonce, body_extra=extra), nonce)

    def _reject(self, status: int, why: str) -> None:
        self._html(status, "faas-pro: request refused", "faas-pro-rejected", why)

    def _common(self) -> str | None:
        """Checks shared by GET and POST; returns the query string, or None when answered already."""
        if len(self.path) > MAX_TARGET:
            self._reject(414, "The request is too long.")
            return None
        receiver = self.server.receiver
        if (self.headers.get("Host") or "").lower() != receiver.netloc:
            self._reject(400, "Unexpected Host header.")
            return None
        target = urlsplit(self.path)
        if target.path != CALLBACK_PATH:
            self._reject(404, "Not found.")
            return None
        return target.query

    def do_GET(self) -> None:
        query = self._common()
        if query is None:
            return
        receiver = self.server.receiver
        if not query and receiver.relay:
            form = f'<form id="faas-pro-relay-form" method="post" action="{CALLBACK_PATH}"></form>'
            self._html(200, "faas-pro login", "faas-pro-relay", "Completing the login…", _RELAY_SCRIPT, form)
            return
        self._deliver(query)

    def do_POST(self) -> None:
        if self._common() is None:
            return
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if ctype != "application/x-www-form-urlencoded":
            self._reject(415, "Expected a form.")
            return
        try:
            length = int(self.headers.get("Content-Length") or "-1")
        except ValueError:
            length = -1
        if length < 0:
            self._reject(411, "Content-Length required.")
            return
        if length > MAX_BODY:
            self._reject(413, "The request body is too large.")
            return
        try:
            body = self.rfile.read(length).decode("ascii")
        except (UnicodeDecodeError, OSError):
            self._reject(400, "The request body is not a form.")
            return
        self._deliver(body)

    def _deliver(self, query: str) -> None:
        receiver = self.server.receiver
        page, recorded = receiver.judge(query)
        try:
            self._html(*page)
        finally:
            # only now may the login go on (and the CLI exit): the page is in the socket's buffer,
            # so the browser sees the whole page even when the CLI stops at once (an IdP error)
            if recorded:
                receiver.announce()


def parse_params(query: str) -> dict[str, str] | None:
    """A strict form/query parse: at most MAX_FIELDS fields, no duplicates (None when refused)."""
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=False, max_num_fields=MAX_FIELDS)
    except ValueError:
        return None
    params: dict[str, str] = {}
    for k, v in pairs:
        if k in params:
            return None
        params[k] = v
    return params


class LoopbackReceiver:
    """Listen on loopback, wait for the one authorization response that carries our state."""

    def __init__(
        self,
        target: RedirectTarget,
        port: int,
        *,
        state: str,
        issuer: str,
        required: tuple[str, ...],
        relay: bool = False,
    ) -> None:
        self.target = target
        self._requested_port = port
        self._state = state
        self._issuer = issuer
        self.required = required
        self.relay = relay
        self._outcome: _Outcome | None = None
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.port = port

    @property
    def netloc(self) -> str:
        return f"{self.target.host}:{self.port}"

    @property
    def redirect_uri(self) -> str:
        return f"http://{self.netloc}{CALLBACK_PATH}"

    def start(self) -> None:
        """Bind and listen (port busy → FaasProError naming the port), then serve in a thread."""
        cls = _Server6 if self.target.family == socket.AF_INET6 else _Server
        try:
            server = cls((self.target.bind, self._requested_port), _Handler)
        except OSError as e:
            raise self._bind_error(e) from e
        server.receiver = self
        self._server = server
        self.port = server.server_port
        # a short poll interval: close() (shutdown) waits for the loop to notice, up to one interval
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="faas-pro-loopback", daemon=True
        )
        self._thread.start()

    def _bind_error(self, e: OSError) -> FaasProError:
        """The one line for a failed bind or listen: "in use" only when something listens there."""
        port, bind = self._requested_port, self.target.bind
        any_port = "pass --port 0 to let faas-pro pick a free port (when your IdP allows any loopback port)"
        denied = (errno.EACCES, getattr(errno, "WSAEACCES", -1))
        taken = (errno.EADDRINUSE, getattr(errno, "WSAEADDRINUSE", -1), *denied)
        if e.errno not in taken or port == 0:
            return FaasProError(f"cannot listen on {bind}:{port}: {e.strerror}")
        if _listening(self.target.family, bind, port):
            return FaasProError(f"port {port} on {bind} is already in use", any_port)
        if e.errno in denied:
            return FaasProError(f"this user may not listen on {bind} port {port}", f"try another --port, or {any_port}")
        return FaasProError(
            f"port {port} on {bind} is not free yet, though nothing listens there",
            f"a connection that used it may still be closing: try again in a minute, or {any_port}",
        )

    def deliver(self, query: str) -> tuple[int, str, str, str]:
        """Judge one authorization response and let ``wait`` return; the page (status, title,
        element id, message) for whoever delivered it."""
        page, recorded = self.judge(query)
        if recorded:
            self.announce()
        return page

    def judge(self, query: str) -> tuple[tuple[int, str, str, str], bool]:
        """Judge one authorization response: its page, and whether it is the login's outcome (then
        the caller answers first and calls ``announce``, so the page is never cut off by an exit)."""
        refused = 400, "faas-pro: request refused", "faas-pro-rejected"
        params = parse_params(query)
        if params is None:
            return (*refused, "Malformed or duplicated parameters."), False
        state = params.get("state")
        if state is None or not hmac.compare_digest(state.encode(), self._state.encode()):
            return (*refused, "Missing or unexpected state; ignored."), False
        with self._lock:
            if self._outcome is not None:
                return (*refused, "This login is already complete."), False
            outcome = self._judge(params)
            self._outcome = outcome
        if outcome.error is not None:
            return (400, "faas-pro: login failed", "faas-pro-error", outcome.error.message), True
        done = "You can close this window and return to the terminal."
        return (200, "faas-pro: login received", "faas-pro-done", done), True

    def announce(self) -> None:
        """The outcome is recorded and answered: ``wait`` returns."""
        self._done.set()

    def _judge(self, params: dict[str, str]) -> _Outcome:
        iss = params.get("iss")
        if iss is not None and iss != self._issuer:  # RFC 9207: a response from another issuer
            return _Outcome(
                error=FaasProError(f"the login response came from issuer {one_line(iss)!r}, not {self._issuer!r}")
            )
        if "error" in params:
            desc = params.get("error_description")
            text = one_line(params["error"]) + (f": {one_line(desc)}" if desc else "")
            return _Outcome(error=FaasProError(f"the identity provider refused the login: {text}"))
        missing = [k for k in self.required if not params.get(k)]
        if missing:
            return _Outcome(error=FaasProError(f"the login response has no {', '.join(missing)}"))
        return _Outcome(params=params)

    def deliver_url(self, url: str) -> tuple[int, str, str, str]:
        """A redirect URL pasted by the user (query or fragment), judged like a callback."""
        p = urlsplit(url.strip())
        return self.deliver(p.query or p.fragment)

    def wait(self, timeout: float) -> dict[str, str]:
        """Block until the response arrives (its parameters) or raise: IdP error, mix-up, timeout."""
        if not self._done.wait(timeout):
            raise FaasProError(
                f"no login response arrived within {format_duration(timeout)} (--timeout)",
                "finish the login in the browser, or pass a longer --timeout",
            )
        assert self._outcome is not None
        if self._outcome.error is not None:
            raise self._outcome.error
        assert self._outcome.params is not None
        return self._outcome.params

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> LoopbackReceiver:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
