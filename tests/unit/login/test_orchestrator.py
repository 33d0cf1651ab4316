"""login() end to end in-process: the fake IdP and gateway behind a MockTransport, a memory store."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from faas_pro.errors import AuthRequired, FaasProError, Interrupted, UsageError
from faas_pro.storage.secrets import MemorySecretStore
from faas_pro.usecases.login import LoginInput, login
from tests.support.loginworld import CLIENT, GATEWAY, ISSUER, FakeWorld, make_deps, recorder, stderr_of

BASE = LoginInput(gateway=GATEWAY, authority=ISSUER, client_id=CLIENT)
SAVED = {"idp_issuer": ISSUER, "idp_client_id": CLIENT, "idp_refresh_token": "rt-0", "openfaas_token": "old"}


def _inp(**kw: object) -> LoginInput:
    return LoginInput(**{**BASE.__dict__, **kw})


def test_client_credentials_exchanges_verifies_and_saves(tmp_path: Path) -> None:
    world = FakeWorld()
    deps = make_deps(tmp_path, world, env={"FAAS_PRO_CLIENT_SECRET": "s3cret"})
    out = login(_inp(client_id="machine", grant="client_credentials", scopes=("api",)), deps)
    assert (out.how, out.exchanged, out.display_name, out.subject) == ("login", True, "client machine", "machine-sub")
    assert out.openfaas_subject == "fed:alice-sub" and out.policies == ["deploy", "read"]
    saved = deps.secrets().get(GATEWAY)
    assert saved is not None and saved["openfaas_token"] == out.token and "idp_refresh_token" not in saved
    assert saved["idp_issuer"] == ISSUER and saved["idp_client_id"] == "machine"
    settings = deps.settings().get(GATEWAY)
    assert settings is not None and settings.grant == "client_credentials"
    assert "s3cret" not in stderr_of(deps)


def test_a_saved_refresh_token_renews_without_a_browser(tmp_path: Path) -> None:
    world = FakeWorld()
    opened: list[str] = []
    deps = make_deps(tmp_path, world)
    deps.open_url = recorder(opened)
    deps.secrets().put(GATEWAY, SAVED)
    out = login(BASE, deps)
    assert out.how == "refreshed" and opened == []
    saved = deps.secrets().get(GATEWAY)
    assert saved is not None and saved["idp_refresh_token"] == "rt-1"  # the rotated one is kept
    assert saved["openfaas_token"] == out.token != "old"


def test_no_refresh_means_the_refresh_token_is_neither_spent_nor_kept(tmp_path: Path) -> None:
    world = FakeWorld()
    deps = make_deps(tmp_path, world)
    deps.secrets().put(GATEWAY, SAVED)
    out = login(_inp(grant="device_code", refresh=False), deps)
    assert out.how == "login"
    assert "grant_type=refresh_token" not in b"".join(r.content for r in world.of("/token")).decode()
    assert "offline_access" not in world.of("/device")[0].content.decode()
    saved = deps.secrets().get(GATEWAY)
    assert saved is not None and "idp_refresh_token" not in saved
    err = stderr_of(deps)
    assert "enter the code ABCD-EFGH" in err and "Not opening a browser: there is no display" in err


@pytest.mark.parametrize(
    ("env", "inp", "reason"),
    [({"CI": "true"}, BASE, "CI is set"), ({}, _inp(no_browser=True), "no terminal and no browser (--no-browser)")],
)
def test_a_refused_refresh_token_without_a_way_to_log_in_again_is_auth_required(
    tmp_path: Path, env: dict[str, str], inp: LoginInput, reason: str
) -> None:
    world = FakeWorld()
    world.token_errors = ["invalid_grant"]
    deps = make_deps(tmp_path, world, env=env)
    deps.secrets().put(GATEWAY, SAVED)
    with pytest.raises(AuthRequired) as info:
        login(inp, deps)
    assert f"cannot log in again here: {reason}" in info.value.message
    assert deps.secrets().get(GATEWAY) == SAVED


class _AnotherRunSaves(MemorySecretStore):
    """The first read sees the old entry; by the second (under the lock) another run has saved."""

    def __init__(self, later: dict[str, str]) -> None:
        super().__init__()
        self.later, self.reads = later, 0

    def get(self, gateway: str) -> dict[str, str] | None:
        self.reads += 1
        if self.reads == 2:
            self.put(gateway, self.later)
        return super().get(gateway)


def test_tokens_another_run_saved_while_waiting_are_reused(tmp_path: Path) -> None:
    world = FakeWorld()
    deps = make_deps(tmp_path, world)
    fresh = world.gateway_token()
    store = _AnotherRunSaves({**SAVED, "openfaas_token": fresh, "idp_refresh_token": "rt-other"})
    store.put(GATEWAY, SAVED)
    deps._secrets = store
    out = login(BASE, deps)
    assert out.how == "reused" and out.token == fresh and out.policies == ["deploy", "read"]
    assert world.requests == []  # no refresh token spent, nothing fetched


def test_a_failed_exchange_saves_nothing(tmp_path: Path) -> None:
    world = FakeWorld()
    handler = world.handler

    def refusing(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            return httpx.Response(400, json={"error": "invalid_target", "error_description": "no Role matches"})
        return handler(request)

    deps = make_deps(tmp_path, world)
    deps.transport = httpx.MockTransport(refusing)
    deps.secrets().put(GATEWAY, SAVED)
    with pytest.raises(FaasProError, match=r"refused the token exchange \(HTTP 400\): no Role matches"):
        login(BASE, deps)
    assert deps.secrets().get(GATEWAY) == SAVED and deps.settings().get(GATEWAY) is None


def test_a_gateway_without_token_exchange_keeps_the_idp_token(tmp_path: Path) -> None:
    world = FakeWorld()
    handler = world.handler
    deps = make_deps(tmp_path, world)
    deps.transport = httpx.MockTransport(lambda r: httpx.Response(404) if r.url.path == "/oauth/token" else handler(r))
    deps.secrets().put(GATEWAY, SAVED)
    out = login(BASE, deps)
    assert not out.exchanged and out.no_exchange_reason is not None and "HTTP 404" in out.no_exchange_reason
    saved = deps.secrets().get(GATEWAY)
    assert saved is not None and "openfaas_token" not in saved and saved["idp_access_token"] == out.token


def test_ctrl_c_is_interrupted_and_nothing_changes(tmp_path: Path) -> None:
    world = FakeWorld()

    def interrupted(request: httpx.Request) -> httpx.Response:
        raise KeyboardInterrupt

    deps = make_deps(tmp_path, world)
    deps.transport = httpx.MockTransport(interrupted)
    deps.secrets().put(GATEWAY, SAVED)
    with pytest.raises(Interrupted) as info:
        login(BASE, deps)
    assert info.value.exit_code == 130 and deps.secrets().get(GATEWAY) == SAVED


def test_federated_exchanges_the_given_token_and_saves_only_the_gateways(tmp_path: Path) -> None:
    world = FakeWorld()
    deps = make_deps(tmp_path, world, env={"JOB_TOKEN": world.id_token(aud=GATEWAY)})
    out = login(LoginInput(gateway=GATEWAY, token_env="JOB_TOKEN"), deps)
    assert (out.grant, out.issuer, out.subject, out.exchanged) == ("token", ISSUER, "alice-sub", True)
    assert deps.secrets().get(GATEWAY) == {"openfaas_token": out.token}
    assert [r.url.host for r in world.requests] == ["gw.test"] * 3  # exchange, discovery, keys: never the IdP
    with pytest.raises(UsageError, match="--authority cannot be combined"):
        login(LoginInput(gateway=GATEWAY, authority=ISSUER, token_env="JOB_TOKEN"), deps)


def _browser_that_approves(world: FakeWorld, seen: list[str]) -> Callable[[str], bool]:
    """An injected browser: reads the authorize URL, then comes back to the loopback like the IdP would."""
    import threading
    from urllib.parse import parse_qs, urlsplit

    def opener(url: str) -> bool:
        seen.append(url)
        q = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        world.nonce = q["nonce"]
        back = f"{q['redirect_uri']}?code=code-1&state={q['state']}&iss={ISSUER}"
        threading.Thread(target=lambda: httpx.get(back, timeout=5, trust_env=False), daemon=True).start()
        return True

    return opener


def test_the_code_grant_through_the_loopback(tmp_path: Path) -> None:
    world = FakeWorld()
    deps = make_deps(tmp_path, world)
    seen: list[str] = []
    deps.open_url = _browser_that_approves(world, seen)
    out = login(_inp(port=0, timeout="10s"), deps)
    assert (out.how, out.display_name, out.exchanged) == ("login", "alice", True)
    assert "code_challenge_method=S256" in seen[0] and "offline_access" in seen[0]
    assert "code=code-1" in world.of("/token")[0].content.decode()
    assert "Opened a browser to log in." in stderr_of(deps)
    saved = deps.secrets().get(GATEWAY)
    assert saved is not None and saved["openfaas_token"] == out.token and saved["idp_id_token"]
