"""`faas-pro logout` end to end (SECURITY: logged out means logged out): a real login at the test
IdP and a real gateway, then logout revokes the refresh token (RFC 7009; the confidential client
faas-svc's introspection then says inactive), removes faas-pro's entry from faas-cli's config.yml
and nothing else; a revocation endpoint that is down, --no-revoke and a corrupt config.yml."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from faas_pro.errors import EXIT_OK
from tests.support.authcli import auth_argv, data_dir, saved_settings, saved_tokens
from tests.support.chromium import free_port
from tests.support.gateway import Server, issuer_yaml, policy_yaml, role_yaml, start_gateway
from tests.support.idp import IdP
from tests.support.inproc import run_cli

BASIC = {"gateway": "http://other.example:8080", "auth": "basic", "token": "b3RoZXI6cGFzcw=="}


@pytest.fixture(scope="module")
def gw(idp_skip_consent: IdP, gateway_key: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    objects = (
        issuer_yaml("idp", idp_skip_consent.issuer, ["faas-gateway"], "30m")
        + policy_yaml("staging-rw", ["Function:*", "Namespace:List"], ["staging:*"])
        + role_yaml("people", ["staging-rw"], principal=["user-alice"])
    )
    with start_gateway(tmp_path_factory.mktemp("gw"), objects, issuer_url="http://gateway.test", key=gateway_key) as s:
        yield s


def introspect(idp: IdP, token: str) -> dict[str, object]:
    r = httpx.post(
        idp.discovery["introspection_endpoint"],
        auth=("faas-svc", "faas-svc-secret"),
        data={"token": token, "token_type_hint": "refresh_token"},
        timeout=10,
    )
    r.raise_for_status()
    return r.json()  # type: ignore[no-any-return]


def login(idp: IdP, gateway: str, env: dict[str, str]) -> str:
    r = run_cli(*auth_argv(idp.issuer, "-g", gateway, "--faas-cli-config"), env=env)
    assert r.returncode == EXIT_OK, r.stderr
    rt: str = saved_tokens()[gateway]["idp_refresh_token"]
    assert introspect(idp, rt)["active"] is True
    return rt


def cfg_env(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    d = tmp_path / "openfaas"
    d.mkdir(exist_ok=True)
    return d / "config.yml", {"OPENFAAS_CONFIG": str(d)}


def test_logout_revokes_and_removes_only_its_faas_cli_entry(idp_skip_consent: IdP, gw: Server, tmp_path: Path) -> None:
    idp = idp_skip_consent
    path, env = cfg_env(tmp_path)
    basic_same_gw = {"gateway": gw.url + "/", "auth": "basic", "token": "c2FtZTpndw=="}
    path.write_text(yaml.safe_dump({"auths": [BASIC, basic_same_gw], "extra": {"k": 1}}))
    rt = login(idp, gw.url, env)
    other_gw = "http://127.0.0.1:1"  # another gateway's tokens and settings must survive
    # a second, unrelated saved gateway (a plain entry in the token file)
    tokens_file = data_dir() / "tokens.json"
    data = json.loads(tokens_file.read_text())
    data[other_gw] = {"openfaas_token": "a.b.c"}
    tokens_file.write_text(json.dumps(data))

    r = run_cli("logout", "-g", gw.url, env=env)
    assert r.returncode == EXIT_OK, r.stderr
    assert f"Revoked the identity provider's refresh token for {gw.url}" in r.stderr
    assert f"Removed the token for {gw.url} from faas-cli's config {path}" in r.stderr
    assert r.stderr.rstrip().endswith(f"Logged out of {gw.url}")
    assert introspect(idp, rt)["active"] is False
    doc = yaml.safe_load(path.read_text())
    assert doc == {"auths": [BASIC, basic_same_gw], "extra": {"k": 1}}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(saved_tokens()) == [other_gw]  # the other gateway's data is untouched
    assert gw.url in saved_settings()["gateways"]  # settings kept without --forget


def test_no_revoke_keeps_the_refresh_token_active(idp_skip_consent: IdP, gw: Server, tmp_path: Path) -> None:
    _, env = cfg_env(tmp_path)
    rt = login(idp_skip_consent, gw.url, env)
    r = run_cli("logout", "-g", gw.url, "--no-revoke", env=env)
    assert r.returncode == EXIT_OK, r.stderr
    assert "Revoked" not in r.stderr and gw.url not in saved_tokens()
    assert introspect(idp_skip_consent, rt)["active"] is True


def test_an_idp_that_is_down_is_a_warning_and_the_local_logout_happens(
    idp_skip_consent: IdP, gw: Server, tmp_path: Path
) -> None:
    path, env = cfg_env(tmp_path)
    login(idp_skip_consent, gw.url, env)
    # the saved issuer now points at a port nobody listens on: discovery (and so revocation) fails
    dead = f"http://127.0.0.1:{free_port()}"
    tokens_file = data_dir() / "tokens.json"
    data = json.loads(tokens_file.read_text())
    data[gw.url]["idp_issuer"] = dead
    tokens_file.write_text(json.dumps(data))
    r = run_cli("logout", "-g", gw.url, env=env)
    assert r.returncode == EXIT_OK, r.stderr
    warning = next(ln for ln in r.stderr.splitlines() if ln.startswith("WARNING"))
    assert warning.startswith(f"WARNING: the refresh token for {gw.url} was not revoked (cannot reach")
    assert dead in warning and warning.endswith("; logging out locally")
    assert data[gw.url]["idp_refresh_token"] not in r.stderr
    assert gw.url not in saved_tokens()
    assert yaml.safe_load(path.read_text()) == {"auths": []}


def test_a_corrupt_faas_cli_config_is_named_and_left_untouched(
    idp_skip_consent: IdP, gw: Server, tmp_path: Path
) -> None:
    path, env = cfg_env(tmp_path)
    login(idp_skip_consent, gw.url, env)
    path.write_text("auths: {not: [a, list\n")
    before = path.read_bytes()
    r = run_cli("logout", "-g", gw.url, env=env)
    assert r.returncode == EXIT_OK, r.stderr
    (warning,) = [ln for ln in r.stderr.splitlines() if ln.startswith("WARNING")]
    assert warning == f"WARNING: {path} is not a faas-cli config file (left untouched); fix it or move it away"
    assert path.read_bytes() == before and gw.url not in saved_tokens()
    assert "Revoked the identity provider's refresh token" in r.stderr
