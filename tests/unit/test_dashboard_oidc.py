"""The dashboard's requests to the identity provider (httpx.MockTransport): PAR when offered,
PKCE S256, client authentication, discovery checks and end-session URLs."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import urllib.parse as up
from typing import Any

import httpx
import pytest

from faas_pro.server.dashboard import DashboardConfig
from faas_pro.server.dashboard.oidc import LoginError, Provider, pkce_pair
from tests.support.tokens import b64url

ISS = "https://idp.example"


def _cfg(secret: str | None = "s3cret") -> DashboardConfig:
    return DashboardConfig("faas-dashboard", ISS, "https://gw.example", b"k" * 32, client_secret=secret)


def _run(doc: dict[str, Any], secret: str | None = "s3cret") -> tuple[str, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/.well-known/openid-configuration":
            return httpx.Response(200, json=doc)
        if request.url.path == "/par":
            return httpx.Response(201, json={"request_uri": "urn:ietf:params:oauth:request_uri:abc", "expires_in": 60})
        return httpx.Response(404)

    async def go() -> str:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as c:
            return await Provider(_cfg(secret), c).authorization_url("st", "no", "ch")

    return asyncio.run(go()), seen


DOC = {"issuer": ISS, "authorization_endpoint": ISS + "/auth", "token_endpoint": ISS + "/token"}


def test_without_par_every_parameter_is_in_the_url() -> None:
    url, seen = _run(DOC)
    q = dict(up.parse_qsl(up.urlsplit(url).query))
    assert url.startswith(ISS + "/auth?")
    assert q["code_challenge_method"] == "S256" and q["code_challenge"] == "ch"
    assert q["state"] == "st" and q["nonce"] == "no" and q["response_type"] == "code"
    assert q["redirect_uri"] == "https://gw.example/ui/auth/callback"
    assert "s3cret" not in url and len(seen) == 1


def test_par_pushes_the_request_with_client_authentication() -> None:
    url, seen = _run({**DOC, "pushed_authorization_request_endpoint": ISS + "/par"})
    q = dict(up.parse_qsl(up.urlsplit(url).query))
    assert q == {"client_id": "faas-dashboard", "request_uri": "urn:ietf:params:oauth:request_uri:abc"}
    par = seen[-1]
    assert par.method == "POST"
    assert par.headers["authorization"] == "Basic " + base64.b64encode(b"faas-dashboard:s3cret").decode()
    body = dict(up.parse_qsl(par.content.decode()))
    assert body["code_challenge"] == "ch" and body["state"] == "st" and body["client_id"] == "faas-dashboard"


def test_public_client_sends_its_id_in_the_body() -> None:
    _, seen = _run({**DOC, "pushed_authorization_request_endpoint": ISS + "/par"}, secret=None)
    assert "authorization" not in seen[-1].headers
    assert dict(up.parse_qsl(seen[-1].content.decode()))["client_id"] == "faas-dashboard"


@pytest.mark.parametrize(
    "doc",
    [{**DOC, "issuer": ISS + "/"}, {**DOC, "authorization_endpoint": "javascript:x"}, {"issuer": ISS}],
    ids=["other-issuer", "bad-endpoint", "no-endpoints"],
)
def test_bad_discovery_is_a_login_error(doc: dict[str, Any]) -> None:
    with pytest.raises(LoginError):
        _run(doc)


def test_end_session_url_and_pkce() -> None:
    async def go(doc: dict[str, Any]) -> str | None:
        transport = httpx.MockTransport(lambda r: httpx.Response(200, content=json.dumps(doc).encode()))
        async with httpx.AsyncClient(transport=transport) as c:
            return await Provider(_cfg(), c).end_session_url("https://gw.example/ui/")

    url = asyncio.run(go({**DOC, "end_session_endpoint": ISS + "/logout"}))
    assert url is not None and url.startswith(ISS + "/logout?")
    q = dict(up.parse_qsl(up.urlsplit(url).query))
    assert q == {"client_id": "faas-dashboard", "post_logout_redirect_uri": "https://gw.example/ui/"}
    assert asyncio.run(go(DOC)) is None
    verifier, challenge = pkce_pair()
    assert len(verifier) >= 43
    assert challenge == b64url(hashlib.sha256(verifier.encode()).digest())
