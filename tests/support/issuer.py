"""Issuers and tokens for the gateway tests.

- ``FakeIssuer``: discovery + JWKS on a ``FakeHTTP`` for keys the test owns, switchable to down /
  slow / garbage / wrong-issuer / big (all of it, or only its JWKS: ``"jwks-<mode>"``); it records
  every request path. It stands in for what no real IdP produces (hostile tokens, broken key
  endpoints).
- ``user_token(idp, user)``: an access token of the real test IdP for a user, through code + PKCE
  and the provider's login pages (``drive_login``).
- ``exchange``, ``bearer``, ``nodelay_client``: talking to a gateway.
"""

from __future__ import annotations

import hashlib
import secrets
import socket
import time
import urllib.parse as up
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric import ec

from tests.support.fakehttp import NOT_FOUND, Answer, FakeHTTP, Req, json_answer
from tests.support.idp import IdP, drive_login
from tests.support.tokens import alg_of, b64url, mint, new_key, public_jwk


class FakeIssuer:
    """Discovery + JWKS on a real loopback HTTP server, for keys this test owns."""

    def __init__(self) -> None:
        self.ec_key = new_key("ES256")
        self.rsa_key = new_key("RS256")
        # ok | down | slow | garbage | wrong-issuer | big; "jwks-<mode>" breaks only the JWKS
        self.mode = "ok"
        self.jwks_uri: str | None = None  # what discovery names; default <iss>/jwks
        self.published: list[Any] = [self.ec_key]
        self.http = FakeHTTP(self._answer)
        self.iss = self.http.url

    @property
    def requests(self) -> list[str]:
        """The paths requested, in order."""
        return self.http.paths()

    def _answer(self, req: Req) -> Answer:
        mode = self.mode
        if mode.startswith("jwks-"):  # discovery fine, the JWKS broken
            mode = mode[len("jwks-") :] if req.path == "/jwks" else "ok"
        if mode == "down":
            return 503, {}, b""
        if mode == "slow":
            time.sleep(2.5)
        if req.path == "/.well-known/openid-configuration":
            body: Any = {
                "issuer": self.iss if mode != "wrong-issuer" else self.iss + "/",
                "jwks_uri": self.jwks_uri or self.iss + "/jwks",
            }
        elif req.path == "/jwks":
            body = self.jwks()
        else:
            return NOT_FOUND
        status, headers, raw = json_answer(body)
        if mode == "garbage":
            raw = b"<html>not json" + raw[:10]
        if mode == "big":
            raw = b"[" + b"1," * 300_000 + b"1]"
        return status, headers, raw

    def kid(self, key: Any) -> str:
        return "ec-1" if isinstance(key, ec.EllipticCurvePrivateKey) else "rsa-1"

    def jwks(self) -> dict[str, Any]:
        return {"keys": [public_jwk(k, self.kid(k), use=None) for k in self.published]}

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
        """``claims`` (default: ``self.claims()``) signed with ``key`` (default: the published EC key)."""
        key = key or self.ec_key
        return mint(claims or self.claims(), key, alg=alg or alg_of(key), kid=self.kid(key), headers=headers)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> FakeIssuer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ---------------------------------------------------------------------- talking to a gateway


def user_token(idp: IdP, user: str, resource: str | None = None) -> str:
    """An access token (JWT, aud faas-gateway) for a test user through code + PKCE."""
    verifier = secrets.token_urlsafe(48)
    challenge = b64url(hashlib.sha256(verifier.encode()).digest())
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
    """RFC 8693 token exchange at the gateway ``url``."""
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
    transport = httpx.HTTPTransport(socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)])
    return httpx.Client(transport=transport, timeout=10, **kw)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
