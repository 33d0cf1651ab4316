"""IdpClient: every call that yields tokens hands them back verified, and the documents are fetched once."""

from __future__ import annotations

import io

import httpx
import pytest

from faas_pro.errors import FaasProError
from faas_pro.oauth.idp_client import IdpClient
from faas_pro.oauth.pkce import AuthRequestSecrets
from faas_pro.oauth.progress import Progress
from faas_pro.oauth.refresh import RefreshRejected
from tests.support.loginworld import CLIENT, ISSUER, FakeWorld, Signer


def _client(world: FakeWorld, secret: str | None = None) -> IdpClient:
    http = httpx.Client(transport=httpx.MockTransport(world.handler))
    return IdpClient(
        http, ISSUER, CLIENT, client_secret=secret, clock=lambda: world.now, progress=Progress(io.StringIO())
    )


def test_discovery_and_keys_are_fetched_once() -> None:
    world = FakeWorld()
    idp = _client(world)
    assert idp.issuer == ISSUER and idp.offers_scope("offline_access") and not idp.offers_scope("x")
    idp.refresh("rt-0")
    idp.refresh("rt-1")
    assert len(world.of("/.well-known/openid-configuration")) == 1 and len(world.of("/jwks")) == 1


def test_discovery_naming_another_issuer_is_refused() -> None:
    world = FakeWorld()
    world.discovery["issuer"] = ISSUER + "/"
    with pytest.raises(FaasProError, match="names issuer"):
        _client(world).discovery()


def test_refresh_returns_verified_tokens_and_the_new_refresh_token() -> None:
    world = FakeWorld()
    tok = _client(world).refresh("rt-0")
    assert tok.claims["sub"] == "alice-sub" and tok.refresh_token == "rt-1"
    sent = world.of("/token")[0].content.decode()
    assert "grant_type=refresh_token" in sent and "refresh_token=rt-0" in sent


def test_an_id_token_signed_by_another_key_is_refused_whatever_the_grant() -> None:
    world = FakeWorld()
    world.id_token_signer = Signer("idp-1")  # same kid, another key
    idp = _client(world)
    with pytest.raises(FaasProError, match=f"the ID token from {ISSUER} was refused: signature does not verify"):
        idp.refresh("rt-0")
    sec = AuthRequestSecrets()
    world.nonce = sec.nonce
    with pytest.raises(FaasProError, match="was refused"):
        idp.redeem_code("code-1", redirect_uri="http://127.0.0.1:1/callback", secrets=sec)


def test_code_redemption_checks_the_nonce_and_sends_the_verifier() -> None:
    world = FakeWorld()
    sec = AuthRequestSecrets()
    world.nonce = "another-nonce"
    with pytest.raises(FaasProError, match="nonce"):
        _client(world).redeem_code("code-1", redirect_uri="http://127.0.0.1:1/callback", secrets=sec)
    world.nonce = sec.nonce
    tok = _client(world).redeem_code("code-1", redirect_uri="http://127.0.0.1:1/callback", secrets=sec)
    assert tok.claims["nonce"] == sec.nonce and tok.access_verified
    assert f"code_verifier={sec.code_verifier}" in world.of("/token")[-1].content.decode()


def test_implicit_tokens_must_bind_the_access_token_when_asked() -> None:
    world = FakeWorld()
    sec = AuthRequestSecrets()
    params = {"id_token": world.id_token(nonce=sec.nonce), "access_token": world.access_token()}
    with pytest.raises(FaasProError, match="no at_hash"):
        _client(world).implicit_tokens(params, nonce=sec.nonce, bind_access_token=True)
    tok = _client(world).implicit_tokens(params, nonce=sec.nonce, bind_access_token=False)
    assert tok.id_token == params["id_token"]


def test_refused_refresh_token_is_refresh_rejected() -> None:
    world = FakeWorld()
    world.token_errors = ["invalid_grant"]
    with pytest.raises(RefreshRejected, match="no longer accepts the saved refresh token"):
        _client(world).refresh("rt-0")


def test_client_credentials_counts_the_verified_access_tokens_claims() -> None:
    world = FakeWorld()
    tok = _client(world, secret="s3cret").client_credentials(("api",), audience=None)
    assert tok.id_token is None and tok.claims["sub"] == "machine-sub" and tok.access_verified
    assert world.of("/token")[0].headers["authorization"].startswith("Basic ")


def test_device_flow_polls_until_approved_and_verifies() -> None:
    world = FakeWorld()
    world.token_errors = ["authorization_pending", "slow_down"]
    prompts: list[str] = []
    slept: list[float] = []
    idp = _client(world)
    tok = idp.device(
        ("openid",), audience=None, timeout=300, on_prompt=lambda p: prompts.append(p.user_code),
        sleep=lambda s: slept.append(s),
    )  # fmt: skip
    assert prompts == ["ABCD-EFGH"] and slept == [5, 5, 10]
    assert tok.claims["sub"] == "alice-sub" and tok.refresh_token == "rt-1"
