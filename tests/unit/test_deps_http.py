"""Deps.http(): the plain-http fast path never makes TLS fail open."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from faas_pro.deps import Deps
from tests.support.fakehttp import FakeHTTP, text_answer
from tests.support.tls import self_signed_cert


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    cert, key = self_signed_cert(tmp_path)
    with FakeHTTP(default=text_answer("ok"), tls=(cert, key)) as f:
        yield f.url, cert


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


def test_proxies_come_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    proxy = FakeHTTP(default=text_answer("proxied"))
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # the process's own environment is not read
    deps = _deps(tmp_path)
    deps.env = {"HTTP_PROXY": proxy.url}  # Deps.env is
    try:
        r = deps.http(only_url="http://gw.invalid:8080").get("http://gw.invalid:8080/system/functions")
        assert r.text == "proxied" and proxy.paths() == ["http://gw.invalid:8080/system/functions"]  # absolute
    finally:
        deps.close()
        proxy.close()
