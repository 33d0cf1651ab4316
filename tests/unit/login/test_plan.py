"""The pure plan: flags over saved settings over defaults, and every refusal before any I/O."""

from __future__ import annotations

import pytest

from faas_pro.errors import UsageError
from faas_pro.storage.settings import GatewaySettings
from faas_pro.usecases.login.plan import LoginInput, Plan, make_plan, split_scopes

GW = "http://gw.test:8080"
BASE = LoginInput(authority="https://idp.test", client_id="cli")


def _plan(inp: LoginInput = BASE, saved: GatewaySettings | None = None, env: dict[str, str] | None = None) -> Plan:
    return make_plan(inp, GW, saved, env or {})


def test_defaults() -> None:
    p = _plan()
    assert (p.grant, p.scopes, p.port, p.timeout) == ("code", ("openid", "profile", "email"), 31111, 300.0)
    assert p.refresh is None and p.faas_cli_config is False and p.client_secret is None
    assert p.to_save.port is None  # the default port is not written into the settings


def test_saved_settings_fill_what_the_flags_leave_out_and_flags_win() -> None:
    saved = GatewaySettings(
        authority="https://saved.test", client_id="saved", grant="device_code", scopes=["a b", "a"], port=0,
        extra={"refresh": False, "faas_cli_config": True},
    )  # fmt: skip
    p = _plan(LoginInput(), saved)
    assert (p.authority, p.client_id, p.grant, p.port) == ("https://saved.test", "saved", "device_code", 0)
    assert p.scopes == ("openid", "a", "b")  # split, de-duplicated, openid added
    assert p.refresh is False and p.faas_cli_config is True
    p2 = _plan(LoginInput(client_id="flag", grant="code", refresh=True, faas_cli_config=False), saved)
    assert (p2.client_id, p2.grant, p2.refresh, p2.faas_cli_config) == ("flag", "code", True, False)
    assert p2.to_save.extra == {"refresh": True, "faas_cli_config": False}


def test_par_is_saved_per_gateway_and_a_flag_wins() -> None:
    assert _plan().par == "auto" and "par" not in _plan().to_save.extra  # nothing given: nothing saved
    first = _plan(LoginInput(authority="https://idp.test", client_id="cli", par="never"))
    assert first.par == "never" and first.to_save.extra == {"par": "never"}
    again = _plan(LoginInput(), first.to_save)  # `faas-pro auth` with no flags repeats it
    assert again.par == "never" and again.to_save.extra == {"par": "never"}
    changed = _plan(LoginInput(par="always"), first.to_save)
    assert changed.par == "always" and changed.to_save.extra == {"par": "always"}
    edited = GatewaySettings(authority="https://idp.test", client_id="cli", extra={"par": "sometimes"})
    assert _plan(LoginInput(), edited).par == "auto"  # a hand-edited value that is no choice: the default


def test_client_credentials_asks_only_for_the_scopes_given() -> None:
    p = _plan(LoginInput(authority="https://idp.test", client_id="m", grant="client_credentials", scopes=("api",)))
    assert p.scopes == ("api",)
    assert p.scopes_for(idp_offers_offline_access=True) == ("api",)
    assert not p.may_refresh()


@pytest.mark.parametrize(
    ("inp", "env", "message"),
    [
        (LoginInput(), {}, f"--authority and --client-id required: nothing is saved for {GW}"),
        (LoginInput(authority="https://idp.test"), {}, "--client-id required"),
        (LoginInput(authority="https://i", client_id="c", grant="password"), {}, "--grant must be one of"),
        (LoginInput(authority="https://i", client_id="c", port=70000), {}, "--port must be between 0 and 65535"),
        (BASE, {"FAAS_PRO_RESPONSE_MODE": "query"}, "FAAS_PRO_RESPONSE_MODE must be form_post or fragment"),
    ],
)
def test_refusals_are_usage_errors(inp: LoginInput, env: dict[str, str], message: str) -> None:
    with pytest.raises(UsageError) as info:
        _plan(inp, env=env)
    assert info.value.message.startswith(message)


def test_client_credentials_without_a_secret_is_refused_when_the_secret_is_added() -> None:
    p = _plan(LoginInput(authority="https://i", client_id="c", grant="client_credentials"))
    with pytest.raises(UsageError, match="needs a client secret"):
        p.with_secret(None)
    assert p.with_secret("s3cret").client_secret == "s3cret"
    assert "s3cret" not in repr(p.with_secret("s3cret"))
    assert _plan().with_secret(None).client_secret is None  # a public client needs none


@pytest.mark.parametrize(
    ("refresh", "offered", "expected"),
    [(None, True, True), (None, False, False), (True, False, True), (False, True, False)],
)
def test_offline_access_is_asked_for_when_a_refresh_token_is_wanted(
    refresh: bool | None, offered: bool, expected: bool
) -> None:
    scopes = _plan(LoginInput(authority="https://i", client_id="c", refresh=refresh)).scopes_for(offered)
    assert ("offline_access" in scopes) is expected


def test_split_scopes_and_federated() -> None:
    assert split_scopes(["a b", "b", " c "]) == ("a", "b", "c")
    assert not BASE.federated()
    assert LoginInput(ci="github").federated() and LoginInput(token_env="X").federated()
