"""An identity provider and a faas-pro gateway behind one ``httpx.MockTransport``, for the fast login
tests (tests/unit/login/): real ES256 signatures (the code under test verifies them), answers a test can change, and a
record of every request. Nothing listens on a port."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx

from faas_pro.deps import Deps
from tests.support.tokens import Signer

ISSUER = "https://idp.test"
GATEWAY = "https://gw.test:8080"  # https: a token goes to a non-loopback http host only with --insecure-http
CLIENT = "faas-cli"
NOW = 1_700_000_000.0


class FakeWorld:
    """``handler`` serves ISSUER (discovery, JWKS, token, device endpoints) and GATEWAY (exchange,
    discovery, JWKS). ``token_errors``: OAuth error codes the token endpoint answers first, in order."""

    def __init__(self, now: float = NOW) -> None:
        self.now = now
        self.idp = Signer("idp-1")
        self.gw = Signer("gw-1")
        self.requests: list[httpx.Request] = []
        self.token_errors: list[str] = []
        self.discovery: dict[str, Any] = {
            "issuer": ISSUER,
            "authorization_endpoint": f"{ISSUER}/auth",
            "token_endpoint": f"{ISSUER}/token",
            "jwks_uri": f"{ISSUER}/jwks",
            "device_authorization_endpoint": f"{ISSUER}/device",
            "scopes_supported": ["openid", "profile", "offline_access"],
        }
        self.nonce: str | None = None  # put into ID tokens of the code grant
        self.id_token_signer: Signer | None = None  # another key: an ID token that must not verify
        self.refresh_counter = 0

    # ------------------------------------------------------------------ tokens
    def id_token(self, **extra: Any) -> str:
        claims = {"iss": ISSUER, "aud": CLIENT, "sub": "alice-sub", "preferred_username": "alice",
                  "iat": int(self.now), "exp": int(self.now) + 600, **extra}  # fmt: skip
        return (self.id_token_signer or self.idp).mint({k: v for k, v in claims.items() if v is not None})

    def access_token(self, sub: str = "alice-sub", aud: str = "api") -> str:
        return self.idp.mint(
            {"iss": ISSUER, "aud": aud, "sub": sub, "iat": int(self.now), "exp": int(self.now) + 600}, "at+jwt"
        )

    def gateway_token(self, sub: str = "fed:alice-sub") -> str:
        return self.gw.mint(
            {"iss": GATEWAY, "aud": GATEWAY, "sub": sub, "policy": ["read", "deploy"],
             "iat": int(self.now), "exp": int(self.now) + 1800},
            "at+jwt",
        )  # fmt: skip

    # ------------------------------------------------------------------ HTTP
    def of(self, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path == path]

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        url = str(request.url).split("?")[0]
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()} if request.method == "POST" else {}
        routes: dict[str, Callable[[dict[str, str]], httpx.Response]] = {
            f"{ISSUER}/.well-known/openid-configuration": lambda f: httpx.Response(200, json=self.discovery),
            f"{ISSUER}/jwks": lambda f: httpx.Response(200, json=self.idp.jwks()),
            f"{ISSUER}/token": self._token,
            f"{ISSUER}/device": self._device,
            f"{GATEWAY}/oauth/token": self._exchange,
            f"{GATEWAY}/.well-known/openid-configuration": lambda f: httpx.Response(200, json={"issuer": GATEWAY}),
            f"{GATEWAY}/.well-known/jwks.json": lambda f: httpx.Response(200, json=self.gw.jwks()),
        }
        route = routes.get(url)
        return route(form) if route else httpx.Response(404, json={"error": "not_found"})

    def _device(self, form: dict[str, str]) -> httpx.Response:
        body = {"device_code": "dev-1", "user_code": "ABCD-EFGH", "verification_uri": f"{ISSUER}/activate"}
        return httpx.Response(200, json={**body, "expires_in": 600, "interval": 5})

    def _token(self, form: dict[str, str]) -> httpx.Response:
        if self.token_errors:
            return httpx.Response(400, json={"error": self.token_errors.pop(0)})
        grant = form.get("grant_type")
        if grant == "client_credentials":
            machine = self.access_token(sub="machine-sub")
            return httpx.Response(200, json={"access_token": machine, "token_type": "Bearer"})
        body: dict[str, Any] = {"access_token": self.access_token(), "token_type": "Bearer"}
        if grant == "authorization_code":
            body["id_token"] = self.id_token(nonce=self.nonce)
        else:  # refresh_token, device_code
            body["id_token"] = self.id_token()
            self.refresh_counter += 1
            body["refresh_token"] = f"rt-{self.refresh_counter}"
        return httpx.Response(200, json=body)

    def _exchange(self, form: dict[str, str]) -> httpx.Response:
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:token-exchange":
            return httpx.Response(400, json={"error": "unsupported_grant_type"})
        return httpx.Response(200, json={"access_token": self.gateway_token(), "expires_in": 1800})


def make_deps(tmp_path: Path, world: FakeWorld, *, env: dict[str, str] | None = None, stdin: str = "") -> Deps:
    """Deps for one in-process login: memory token store, the fake world as transport, a fixed clock."""
    return Deps(
        env={"FAAS_PRO_TOKEN_STORE": "memory", **(env or {})},
        stdin=io.StringIO(stdin),
        stdout=io.StringIO(),
        stderr=io.StringIO(),
        config_dir=tmp_path / "config",
        data_dir=tmp_path / "data",
        clock=lambda: world.now,
        sleep=lambda s: None,
        transport=httpx.MockTransport(world.handler),
    )


def recorder(opened: list[str]) -> Callable[[str], bool]:
    """A browser opener that only records the URLs it was asked to open (and says it opened them)."""

    def open_url(url: str) -> bool:
        opened.append(url)
        return True

    return open_url


def stderr_of(deps: Deps) -> str:
    assert isinstance(deps.stderr, io.StringIO)
    return deps.stderr.getvalue()


__all__ = ["CLIENT", "GATEWAY", "ISSUER", "NOW", "FakeWorld", "Signer", "make_deps", "recorder", "stderr_of"]
