"""The one fake HTTP server of the suite: a real server on a free loopback port, in a thread.

For what no real part produces (hostile IdPs, broken gateways, webhook receivers). Routes map a
path (``"/token"``) or a method and a path (``"POST /token"``) to an answer, a handler
``Req -> Answer``, or a list of them (answered in turn, the last one repeating); whatever matches
no route goes to ``default`` (404). Every request is recorded. Use it as a context manager, or
call ``close()``::

    with FakeHTTP({"/.well-known/openid-configuration": json_answer({...})}) as idp:
        ... idp.url ... idp.hits("/token") ...

An answer is ``(status, headers, body)``. Two answers are special: ``HANG_UP`` closes the
connection without answering, and a ``NO_LENGTH`` header sends the body without Content-Length
and closes the connection after it.
"""

from __future__ import annotations

import email.utils
import json
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

Answer = tuple[int, dict[str, str], bytes]
Handler = Callable[["Req"], Answer]
Route = Answer | Handler | Sequence[Answer | Handler]

NO_LENGTH = "X-Test-No-Content-Length"  # answer header: send no Content-Length, close after the body
HANG_UP: Answer = (0, {}, b"")  # close the connection without an answer
NOT_FOUND: Answer = (404, {}, b"")


@dataclass
class Req:
    """One request as received: ``path`` is the request target as sent (query included)."""

    method: str
    path: str
    headers: dict[str, str]  # names in lower case
    body: bytes

    @property
    def url_path(self) -> str:
        return urlsplit(self.path).path

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.path).query)

    def form(self) -> dict[str, list[str]]:
        """The url-encoded body (every value of each field, so that a repeated one shows)."""
        return parse_qs(self.body.decode())

    def json(self) -> Any:
        return json.loads(self.body)


def json_answer(obj: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Answer:
    """``obj`` as JSON (bytes: sent as they are, still labelled JSON)."""
    body = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
    return status, {"Content-Type": "application/json", **(headers or {})}, body


def text_answer(text: str | bytes, status: int = 200, content_type: str = "text/plain") -> Answer:
    return status, {"Content-Type": content_type}, text.encode() if isinstance(text, str) else text


class FakeHTTP:
    """A scripted HTTP(S) server; ``requests`` records everything received, in order."""

    def __init__(
        self,
        routes: Mapping[str, Route] | Handler | None = None,
        *,
        default: Route = NOT_FOUND,
        tls: tuple[Path, Path] | None = None,
        clock_shift: float = 0.0,
        port: int = 0,
    ) -> None:
        self.routes: dict[str, list[Answer | Handler]] = {}
        if callable(routes):
            default = routes
        else:
            for key, route in (routes or {}).items():
                self.on(key, route)
        self._default = self._queue(default)
        self.requests: list[Req] = []
        self.clock_shift = clock_shift  # seconds added to the Date header (a server clock that is off)
        self._lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), self._handler_class())
        self.httpd.daemon_threads = True
        scheme = "http"
        if tls is not None:
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(str(tls[0]), str(tls[1]))
            self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
            scheme = "https"
        self.port = self.httpd.server_address[1]
        self.url = f"{scheme}://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------ scripting
    @staticmethod
    def _queue(route: Route) -> list[Answer | Handler]:
        if callable(route) or (isinstance(route, tuple) and route and isinstance(route[0], int)):
            return [route]
        return list(route)  # type: ignore[arg-type]

    def on(self, key: str, *answers: Route) -> None:
        """(Re)script ``key`` (``"/path"`` or ``"METHOD /path"``): the answers in turn, the last repeating."""
        queue: list[Answer | Handler] = []
        for a in answers:
            queue.extend(self._queue(a))
        self.routes[key] = queue

    def _answer(self, req: Req) -> Answer:
        with self._lock:
            self.requests.append(req)
            queue = self.routes.get(f"{req.method} {req.url_path}") or self.routes.get(req.url_path) or self._default
            step = queue.pop(0) if len(queue) > 1 else queue[0]
        return step(req) if callable(step) else step

    # ------------------------------------------------------------------ what was received
    def hits(self, path: str) -> list[Req]:
        """The requests to ``path`` (without query)."""
        return [r for r in self.requests if r.url_path == path]

    def paths(self) -> list[str]:
        return [r.path for r in self.requests]

    # ------------------------------------------------------------------ life
    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeHTTP:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a: Any) -> None:
                pass

            def date_time_string(self, timestamp: float | None = None) -> str:
                return email.utils.formatdate(time.time() + outer.clock_shift, usegmt=True)

            def _any(self) -> None:
                n = int(self.headers.get("Content-Length") or 0)
                req = Req(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, self.rfile.read(n))
                status, headers, body = outer._answer(req)
                if status == 0:  # HANG_UP
                    self.close_connection = True
                    return
                self.send_response(status)
                for k, v in headers.items():
                    if k != NO_LENGTH:
                        self.send_header(k, v)
                if NO_LENGTH in headers:  # the body ends when the connection closes
                    self.send_header("Connection", "close")
                    self.close_connection = True
                elif "content-length" not in {k.lower() for k in headers}:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                with suppress(OSError):
                    if self.command != "HEAD":
                        self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _any

        return Handler


@contextmanager
def serve_handler(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """Serve a handler class that is itself under test (not a fake: e.g. the webhook receiver that
    docs/webhooks.md shows) on a free loopback port; yields the base URL."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    t = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        t.join(timeout=5)
