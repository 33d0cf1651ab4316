"""SECURITY rule 6 (bounded parsing): oversized documents are refused with a clear line, CLI side
(discovery, token endpoint answer, JWKS, the gateway's exchange answer, a gzip bomb, no
Content-Length) and gateway side (an issuer's JWKS, a huge ``Authorization`` header)."""

from __future__ import annotations

import gzip
import socket
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from faas_pro.errors import EXIT_ERROR
from tests.support.fakehttp import NO_LENGTH, Answer, FakeHTTP, Req, json_answer
from tests.support.hostile import GatewayWorld, client_credentials_argv, fake_idp, run_cli_inproc, sentinel_jwt
from tests.support.issuer import FakeIssuer, exchange

BIG = b'{"pad": "' + b"x" * (300 * 1024) + b'"}'


def _big(req: Req, base: str) -> Answer:
    return 200, {"Content-Type": "application/json"}, BIG


def _big_no_length(req: Req, base: str) -> Answer:  # streamed until the connection closes
    return 200, {"Content-Type": "application/json", NO_LENGTH: "1"}, BIG


def _bomb(req: Req, base: str) -> Answer:  # 10 MB of JSON whitespace in ~10 KB of gzip
    body = gzip.compress(b"{" + b" " * (10 * 1024 * 1024) + b"}")
    return 200, {"Content-Type": "application/json", "Content-Encoding": "gzip"}, body


def _jwt_answer(req: Req, base: str) -> Answer:
    return json_answer({"access_token": sentinel_jwt(iss=base), "token_type": "Bearer", "expires_in": 60})


CASES: dict[str, dict[str, Callable[[Req, str], Answer]]] = {
    "discovery": {".well-known/openid-configuration": _big},
    "discovery-no-length": {".well-known/openid-configuration": _big_no_length},
    "discovery-gzip-bomb": {".well-known/openid-configuration": _bomb},
    "token-answer": {"token": _big},
    "jwks": {"token": _jwt_answer, "jwks": _big},
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_cli_refuses_oversized_idp_documents(case: str, tmp_path: Path) -> None:
    secret = tmp_path / "s"
    secret.write_text("x" * 8)
    idp = fake_idp(CASES[case])
    try:
        r = run_cli_inproc(*client_credentials_argv(idp.url, secret))
        assert r.code == EXIT_ERROR, r
        assert "larger than 256 KiB; refusing to read it" in r.stderr, r.stderr
        assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    finally:
        idp.close()


def test_cli_refuses_an_oversized_exchange_answer(tmp_path: Path) -> None:
    gw = FakeHTTP(lambda req: _big(req, ""))
    try:
        f = tmp_path / "tok"
        f.write_text(sentinel_jwt())
        r = run_cli_inproc("auth", "-g", gw.url, "--token-file", str(f))
        assert r.code == EXIT_ERROR and "larger than 256 KiB" in r.stderr, r
    finally:
        gw.close()


def test_gateway_refuses_an_oversized_jwks(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Discovery fine, JWKS 300 KB: the exchange is refused naming the JWKS; other issuers unaffected."""
    from tests.support.gateway import issuer_yaml, policy_yaml, role_yaml, start_gateway

    holder: dict[str, str] = {}

    def route(req: Req) -> Answer:
        if req.path == "/.well-known/openid-configuration":
            return json_answer({"issuer": holder["url"], "jwks_uri": holder["url"] + "/jwks"})
        return _big(req, "")

    big = FakeHTTP(route)
    holder["url"] = big.url
    good = FakeIssuer()
    d = tmp_path_factory.mktemp("bigjwks")
    objects = (
        issuer_yaml("big", big.url, ["fake-aud"]) + issuer_yaml("good", good.iss, ["fake-aud"])
        + policy_yaml("admin", ["*"], ["*"]) + role_yaml("robot", ["admin"], principal=["robot-1"])
    )  # fmt: skip
    try:
        with start_gateway(d, objects) as s:
            r = exchange(s.url, good.mint(good.claims(iss=big.url)))
            assert r.status_code == 400 and "the JWKS is larger than" in r.json()["error_description"], r.text
            assert exchange(s.url, good.mint()).status_code == 200
    finally:
        big.close()
        good.close()


def _raw_request(url: str, header_value: bytes) -> bytes:
    host, port = url.split("//")[1].split(":")
    with socket.create_connection((host, int(port)), timeout=10) as c:
        try:
            c.sendall(
                b"GET /system/namespaces HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + header_value + b"\r\n\r\n"
            )
            return c.recv(4096)
        except (ConnectionResetError, BrokenPipeError):
            return b""  # the server stopped reading and closed: the request was refused


def test_gateway_refuses_an_oversized_bearer_token_with_400(gateway_world: GatewayWorld) -> None:
    """A 20 KB bearer token (over the 16 KiB cap, under the HTTP parser's limit) is refused before
    any parsing: 400 ``token too long``, not 401 and not a parse error about its content."""
    url = gateway_world.server.url
    for token in ("A" * 20_000, "eyJ" + "a" * 10_000 + ".eyJ" + "b" * 10_000 + ".c"):
        r = httpx.get(url + "/system/namespaces", headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert r.status_code == 400, r.text
        assert r.text == "Bad Request: token too long\n"
        assert r.headers["www-authenticate"] == 'Bearer error="invalid_request"'
    gateway_world.server.wait_log("GET /system/namespaces 400 -")


@pytest.mark.parametrize("size", [20_000, 200_000, 2_000_000])
def test_gateway_survives_a_huge_authorization_header(gateway_world: GatewayWorld, size: int) -> None:
    url = gateway_world.server.url
    answer = _raw_request(url, b"A" * size)
    status = answer.split(b" ", 2)[1] if answer.startswith(b"HTTP/1.1 ") else b"closed"
    assert status in (b"400", b"413", b"431", b"closed"), answer[:200]
    if size == 20_000:
        assert status == b"400" and b'www-authenticate: Bearer error="invalid_request"' in answer, answer[:300]
    if status == b"closed":
        gateway_world.server.wait_log("Invalid HTTP request received.")  # uvicorn answered 400 and closed
    assert httpx.get(url + "/healthz", timeout=10).status_code == 200  # still serving
    assert "Traceback" not in gateway_world.server.stderr()
