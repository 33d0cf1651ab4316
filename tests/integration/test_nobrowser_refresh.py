"""Refresh (RFC 6749 §6) with real refresh tokens from the test IdP: rotation, and reuse of a
spent token → RefreshRejected (the caller then falls back to an interactive login)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from faas_pro.errors import EXIT_AUTH, FaasProError
from faas_pro.oauth.refresh import RefreshRejected, refresh_tokens
from tests.support.device import check_access_token, login, second_device
from tests.support.fakehttp import FakeHTTP, json_answer
from tests.support.idp import IdP


def fresh_login(idp: IdP) -> dict[str, Any]:
    """A device login with offline_access (the device flow needs no prompt=consent for it)."""
    on_prompt, seen = second_device(idp)
    out = login(idp, on_prompt, ["openid", "email", "offline_access"])
    seen["thread"].join(10)
    assert isinstance(out.get("refresh_token"), str)
    return out


def refresh(idp: IdP, token: str, **kw: Any) -> dict[str, Any]:
    with httpx.Client(timeout=10) as http:
        return refresh_tokens(http, idp.discovery, "faas-cli", token, **kw)


def test_refresh_rotates_and_a_spent_token_is_rejected(idp_skip_consent: IdP) -> None:
    idp = idp_skip_consent
    first = fresh_login(idp)
    second = refresh(idp, first["refresh_token"])
    assert second["refresh_token"] != first["refresh_token"]  # public clients: rotation on every use
    assert second["access_token"] != first["access_token"]
    assert check_access_token(idp, second["access_token"])["email"] == "alice@example.test"

    with pytest.raises(RefreshRejected) as e:
        refresh(idp, first["refresh_token"])
    assert e.value.exit_code == EXIT_AUTH
    assert e.value.line().startswith("the identity provider no longer accepts the saved refresh token (invalid_grant")
    assert first["refresh_token"] not in e.value.line()


def test_refresh_with_fewer_scopes(idp_skip_consent: IdP) -> None:
    first = fresh_login(idp_skip_consent)
    out = refresh(idp_skip_consent, first["refresh_token"], scopes=["openid", "offline_access"])
    assert "email" not in out.get("scope", "").split()
    assert "openid" in out["scope"].split()


def test_unknown_refresh_token_is_rejected(idp_skip_consent: IdP) -> None:
    with pytest.raises(RefreshRejected, match="invalid_grant"):
        refresh(idp_skip_consent, "not-a-refresh-token-SENTINEL")


def test_no_saved_refresh_token() -> None:
    with pytest.raises(RefreshRejected, match="no refresh token is saved"):
        refresh_tokens(None, {}, "faas-cli", "")  # type: ignore[arg-type]


def test_refresh_token_kept_when_the_idp_does_not_rotate(server: FakeHTTP) -> None:
    server.on("/token", json_answer({"access_token": "at-2", "token_type": "Bearer"}))
    meta = {"issuer": server.url, "token_endpoint": f"{server.url}/token"}
    with httpx.Client() as http:
        out = refresh_tokens(http, meta, "cli", "rt-1", client_secret="sec-ret")
    assert out == {"access_token": "at-2", "token_type": "Bearer", "refresh_token": "rt-1"}
    (req,) = server.requests
    assert req.form() == {"grant_type": ["refresh_token"], "refresh_token": ["rt-1"]}
    assert req.headers["authorization"].startswith("Basic ")


def test_other_errors_are_not_refresh_rejected(server: FakeHTTP) -> None:
    server.on("/token", json_answer({"error": "invalid_client", "error_description": "rt-1 from cli"}, 400))
    meta = {"issuer": server.url, "token_endpoint": f"{server.url}/token"}
    with httpx.Client() as http, pytest.raises(FaasProError) as e:
        refresh_tokens(http, meta, "cli", "rt-1")
    assert not isinstance(e.value, RefreshRejected)
    assert e.value.line() == "the identity provider's token endpoint refused the request: invalid_client: *** from cli"
