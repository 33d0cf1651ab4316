"""Deps.http(): the plain-http fast path never makes TLS fail open."""

from __future__ import annotations

import io
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import httpx
import pytest

from faas_pro.deps import Deps
from tests.support.tls import self_signed_cert


class _Ok(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *a: object) -> None:
        pass


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    cert, key = self_signed_cert(tmp_path)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"https://127.0.0.1:{httpd.server_address[1]}", cert
    finally:
        httpd.shutdown()
        httpd.server_close()


def _deps(tmp_path: Path) -> Deps:
    return Deps(
        env={},
        stdin=io.StringIO(),
        stdout=io.StringIO(),
        stderr=io.StringIO(),
        config_dir=tmp_path / "c",
        data_dir=tmp_path / "d",
    )


def test_plain_http_client_refuses_any_tls_peer(tls_server: tuple[str, Path], tmp_path: Path) -> None:
    url, cert = tls_server
    deps = _deps(tmp_path)
    try:
        plain = deps.http(only_url="http://127.0.0.1:8080")
        with pytest.raises(httpx.ConnectError):
            plain.get(url)  # even a peer the CA file would trust: the fast path trusts nothing
        trusted = deps.http(ca_file=str(cert))
        assert trusted is not plain
        assert trusted.get(url).text == "ok"
    finally:
        deps.close()


def test_https_gateway_gets_a_verifying_client(tls_server: tuple[str, Path], tmp_path: Path) -> None:
    url, _ = tls_server
    deps = _deps(tmp_path)
    try:
        with pytest.raises(httpx.ConnectError):  # self-signed: not in the system's trust store
            deps.http(only_url=url).get(url)
    finally:
        deps.close()


def test_a_transport_given_to_deps_carries_every_request_with_the_clis_settings(tmp_path: Path) -> None:
    """The seam for fast tests (httpx.MockTransport), and what build_http_client sets on every client."""
    from faas_pro import __version__

    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(302, headers={"Location": "https://elsewhere.test/"})

    deps = Deps(
        env={},
        stdin=io.StringIO(),
        stdout=io.StringIO(),
        stderr=io.StringIO(),
        config_dir=tmp_path / "c",
        data_dir=tmp_path / "d",
        transport=httpx.MockTransport(handler),
    )
    try:
        kinds: list[dict[str, object]] = [{}, {"only_url": "http://gw.test:8080"}, {"verify": False}]
        for kw in kinds:
            client = deps.http(**kw)  # type: ignore[arg-type]
            assert client.post("https://idp.test/token").status_code == 302  # a redirect is never followed
            assert client.timeout.connect == 10.0 and client.timeout.read == 15.0
        assert [r.url.host for r in seen] == ["idp.test"] * 3
        assert {r.headers["User-Agent"] for r in seen} == {f"faas-pro/{__version__}"}
    finally:
        deps.close()


class _Proxy(BaseHTTPRequestHandler):
    lines: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        _Proxy.lines.append(self.path)  # a proxy is sent the absolute URL
        self.send_response(200)
        self.send_header("Content-Length", "7")
        self.end_headers()
        self.wfile.write(b"proxied")

    def log_message(self, *a: object) -> None:
        pass


def test_proxies_come_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Proxy)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # the process's own environment is not read
    deps = _deps(tmp_path)
    deps.env = {"HTTP_PROXY": f"http://127.0.0.1:{httpd.server_address[1]}"}  # Deps.env is
    try:
        r = deps.http(only_url="http://gw.invalid:8080").get("http://gw.invalid:8080/system/functions")
        assert r.text == "proxied" and _Proxy.lines == ["http://gw.invalid:8080/system/functions"]
    finally:
        deps.close()
        httpd.shutdown()
        httpd.server_close()
