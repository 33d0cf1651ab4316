"""Helpers and fixtures for the gateway tests (tests/integration/test_server_*.py).

(Starting the gateway itself and writing its IAM objects: ``tests/support/gateway.py``.)

- ``FakeIssuer``: a real HTTP server (thread) that serves discovery + JWKS for keys the test
  controls, and can be switched to down / slow / garbage (all of it, or only its JWKS); it records
  every request path. It stands in for what no real IdP produces (hostile tokens, broken key
  endpoints).
- ``user_token(idp, user)``: an IdP access token for a user, via auth code + PKCE through the
  provider's login pages (``drive_login``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
import urllib.parse as up
from collections.abc import Iterator
from contextlib import suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests.support.gateway import keygen
from tests.support.idp import IdP, drive_login

# ---------------------------------------------------------------------- a controllable issuer


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class FakeIssuer:
    """Discovery + JWKS on a real loopback HTTP server, for keys this test owns."""

    def __init__(self) -> None:
        self.ec_key = ec.generate_private_key(ec.SECP256R1())
        self.rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        # ok | down | slow | garbage | wrong-issuer | big; "jwks-<mode>" breaks only the JWKS
        self.mode = "ok"
        self.jwks_uri: str | None = None  # what discovery names; default <iss>/jwks
        self.requests: list[str] = []
        self.published: list[Any] = [self.ec_key]
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a: Any) -> None:
                pass

            def do_GET(self) -> None:
                outer.requests.append(self.path)
                mode = outer.mode
                if mode.startswith("jwks-"):  # discovery fine, the JWKS broken
                    mode = mode[len("jwks-") :] if self.path == "/jwks" else "ok"
                if mode == "down":
                    self.send_response(503)
                    self.end_headers()
                    return
                if mode == "slow":
                    time.sleep(2.5)
                if self.path == "/.well-known/openid-configuration":
                    body: Any = {
                        "issuer": outer.iss if mode != "wrong-issuer" else outer.iss + "/",
                        "jwks_uri": outer.jwks_uri or outer.iss + "/jwks",
                    }
                elif self.path == "/jwks":
                    body = outer.jwks()
                else:
                    self.send_response(404)
                    self.end_headers()
                    return
                raw = json.dumps(body).encode()
                if mode == "garbage":
                    raw = b"<html>not json" + raw[:10]
                if mode == "big":
                    raw = b"[" + b"1," * 300_000 + b"1]"
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                with suppress(OSError):
                    self.wfile.write(raw)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.iss = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def kid(self, key: Any) -> str:
        return "ec-1" if isinstance(key, ec.EllipticCurvePrivateKey) else "rsa-1"

    def jwks(self) -> dict[str, Any]:
        keys = []
        for k in self.published:
            d = json.loads(
                jwt.algorithms.ECAlgorithm.to_jwk(k.public_key())
                if isinstance(k, ec.EllipticCurvePrivateKey)
                else jwt.algorithms.RSAAlgorithm.to_jwk(k.public_key())
            )
            d["kid"] = self.kid(k)
            keys.append(d)
        return {"keys": keys}

    def claims(self, sub: str = "robot-1", aud: Any = "fake-aud", **extra: Any) -> dict[str, Any]:
        now = int(time.time())
        return {
            "iss": self.iss,
            "aud": aud,
            "sub": sub,
            "iat": now,
            "exp": now + 300,
            "jti": secrets.token_hex(8),
            **extra,
        }

    def mint(
        self, claims: dict[str, Any] | None = None, key: Any = None, alg: str | None = None, **headers: Any
    ) -> str:
        key = key or self.ec_key
        alg = alg or ("ES256" if isinstance(key, ec.EllipticCurvePrivateKey) else "RS256")
        h = {"kid": self.kid(key), **headers}
        return jwt.encode(claims or self.claims(), key, algorithm=alg, headers=h)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


# ---------------------------------------------------------------------- tokens from the real IdP


def user_token(idp: IdP, user: str, resource: str | None = None) -> str:
    """An access token (JWT, aud faas-gateway) for a test user through code + PKCE."""
    verifier = secrets.token_urlsafe(48)
    challenge = _b64(hashlib.sha256(verifier.encode()).digest())
    redirect = "http://127.0.0.1:31111/oauth/callback"
    params = {
        "client_id": "faas-cli",
        "response_type": "code",
        "redirect_uri": redirect,
        "scope": "openid profile email groups",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "state": secrets.token_urlsafe(8),
    }
    if resource:
        params["resource"] = resource
    disc = idp.discovery
    with httpx.Client(timeout=10, follow_redirects=False) as c:
        r = drive_login(c, idp.issuer, disc["authorization_endpoint"] + "?" + up.urlencode(params), user=user)
        assert r.status_code in (302, 303), r.text[:300]
        code = up.parse_qs(up.urlsplit(r.headers["location"]).query)["code"][0]
        t = c.post(
            disc["token_endpoint"],
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect,
                "client_id": "faas-cli",
                "code_verifier": verifier,
            },
        )
        t.raise_for_status()
        return t.json()["access_token"]  # type: ignore[no-any-return]


def exchange(url: str, subject_token: str, **extra: str) -> httpx.Response:
    data = {
        "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
        "subject_token": subject_token,
        "subject_token_type": "urn:ietf:params:oauth:token-type:id_token",
        **extra,
    }
    return httpx.post(url + "/oauth/token", data=data, timeout=15)


def nodelay_client(**kw: Any) -> httpx.Client:
    """A keep-alive client with TCP_NODELAY (httpcore writes headers and body separately; with
    Nagle on, every POST would wait for the server's delayed ACK, ~40 ms)."""
    import socket

    transport = httpx.HTTPTransport(socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)])
    return httpx.Client(transport=transport, timeout=10, **kw)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def gateway_key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return keygen(tmp_path_factory.mktemp("key") / "gateway.pem")


@pytest.fixture(scope="module")
def fake_issuer() -> Iterator[FakeIssuer]:
    f = FakeIssuer()
    yield f
    f.close()


# ---------------------------------------------------------------------- raw JWS for hostile tokens


def _enc(part: dict[str, Any] | str | bytes) -> str:
    if isinstance(part, dict):
        part = json.dumps(part, separators=(",", ":"))
    if isinstance(part, str):
        part = part.encode()
    return _b64(part)


def raw_sig(signing_input: bytes, key: Any, alg: str) -> bytes:
    from cryptography.hazmat.primitives import hashes, hmac
    from cryptography.hazmat.primitives.asymmetric import padding
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    if alg == "ES256":
        r, s = decode_dss_signature(key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")
    if alg == "RS256":
        return key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())  # type: ignore[no-any-return]
    if alg == "HS256":
        h = hmac.HMAC(key, hashes.SHA256())
        h.update(signing_input)
        return h.finalize()
    raise ValueError(alg)


def jws(
    header: dict[str, Any] | str | bytes,
    payload: dict[str, Any] | str | bytes,
    key: Any = None,
    alg: str = "ES256",
    sig: bytes | None = None,
) -> str:
    """A compact JWS built by hand, so that any part can be malformed on purpose."""
    signing_input = f"{_enc(header)}.{_enc(payload)}".encode()
    if sig is None:
        sig = raw_sig(signing_input, key, alg) if key is not None else b""
    return signing_input.decode() + "." + _b64(sig)
