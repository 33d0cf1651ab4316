"""Logout's local parts: faas-cli's config.yml entry removal (only faas-pro's ``auth: oauth2`` entry
of the gateway), the keyring store listing what it holds, and ``logout --all`` across stores."""

from __future__ import annotations

import io
import stat
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
import yaml

from faas_pro.deps import Deps
from faas_pro.errors import FaasProError
from faas_pro.oauth.faas_cli_config import remove_token, write_token
from faas_pro.storage.secrets import AutoSecretStore, FileSecretStore, KeyringSecretStore
from faas_pro.storage.settings import GatewaySettings, SettingsStore
from faas_pro.usecases.logout import LogoutInput, logout
from tests.support.keyrings import DictKeyring

GW = "https://gw.example.com"
BASIC = {"gateway": "http://basic.example:8080", "auth": "basic", "token": "dXNlcjpwYXNz"}
OTHER = {"gateway": "https://other.example", "auth": "oauth2", "token": "o.t.k", "options": [{"name": "x"}]}


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "of").mkdir(mode=0o700)
    return {"OPENFAAS_CONFIG": str(tmp_path / "of")}


def cfg(env: dict[str, str]) -> Path:
    return Path(env["OPENFAAS_CONFIG"]) / "config.yml"


def test_removes_only_the_oauth2_entry_of_the_gateway(env: dict[str, str]) -> None:
    cfg(env).write_text(yaml.safe_dump({"auths": [BASIC, OTHER], "top": "kept"}, sort_keys=False))
    write_token(env, GW, "a.b.c")
    assert remove_token(env, GW + "/") == cfg(env)  # faas-cli's normalisation: trailing / dropped
    assert yaml.safe_load(cfg(env).read_text()) == {"auths": [BASIC, OTHER], "top": "kept"}
    assert stat.S_IMODE(cfg(env).stat().st_mode) == 0o600
    assert remove_token(env, GW) is None  # nothing left to remove: the file is not rewritten


def test_faas_clis_own_basic_entry_for_the_gateway_is_kept(env: dict[str, str]) -> None:
    mine = {"gateway": GW, "auth": "basic", "token": "dXNlcjpwYXNz"}
    cfg(env).write_text(yaml.safe_dump({"auths": [mine]}))
    assert remove_token(env, GW) is None
    assert yaml.safe_load(cfg(env).read_text()) == {"auths": [mine]}


def test_case_of_scheme_and_host_does_not_matter(env: dict[str, str]) -> None:
    cfg(env).write_text(yaml.safe_dump({"auths": [{"gateway": "HTTPS://GW.example.com/", "auth": "oauth2"}]}))
    assert remove_token(env, GW) == cfg(env)
    assert yaml.safe_load(cfg(env).read_text()) == {"auths": []}


def test_no_file_is_nothing_to_do(env: dict[str, str]) -> None:
    assert remove_token(env, GW) is None
    assert not cfg(env).exists()


@pytest.mark.parametrize("text", ["auths: {a: 1}\n", "- just\n- a list\n", "auths: [unclosed\n", "auths: [1, 2]\n"])
def test_foreign_or_corrupt_config_is_named_and_untouched(env: dict[str, str], text: str) -> None:
    cfg(env).write_text(text)
    with pytest.raises(FaasProError) as e:
        remove_token(env, GW)
    assert e.value.line() == f"{cfg(env)} is not a faas-cli config file (left untouched); fix it or move it away"
    assert cfg(env).read_text() == text


@pytest.fixture
def restore_keyring() -> Iterator[None]:
    before = keyring.get_keyring()
    yield
    keyring.set_keyring(before)


def test_keyring_store_lists_the_gateways_it_holds(tmp_path: Path, restore_keyring: None) -> None:
    kr = DictKeyring()
    store = KeyringSecretStore(kr, tmp_path)
    store.put(GW + "/", {"openfaas_token": "t"})
    store.put("http://b.example", {"openfaas_token": "t"})
    assert store.gateways() == ["http://b.example", GW]
    index = (tmp_path / "keyring-gateways.json").read_text()
    assert "openfaas_token" not in index and '"t"' not in index  # names only
    assert stat.S_IMODE((tmp_path / "keyring-gateways.json").stat().st_mode) == 0o600
    assert store.delete(GW)
    assert store.gateways() == ["http://b.example"]
    # the default store lists the file's and the keyring's gateways without probing the keyring
    FileSecretStore(tmp_path).put("http://c.example", {"openfaas_token": "t"})
    assert AutoSecretStore(tmp_path).gateways() == ["http://b.example", "http://c.example"]


def test_logout_all_with_the_keyring_store_finds_gateways_without_settings(
    tmp_path: Path, restore_keyring: None
) -> None:
    kr = DictKeyring()
    keyring.set_keyring(kr)
    env = {"FAAS_PRO_TOKEN_STORE": "keyring", "OPENFAAS_CONFIG": str(tmp_path / "of")}
    deps = Deps(
        env=env, stdin=io.StringIO(), stdout=io.StringIO(), stderr=io.StringIO(),
        config_dir=tmp_path / "config", data_dir=tmp_path / "data",
    )  # fmt: skip
    deps.secrets().put("http://a.example", {"openfaas_token": "t"})
    deps.secrets().put("http://b.example", {"openfaas_token": "t"})
    SettingsStore(tmp_path / "config").put("http://c.example", GatewaySettings(client_id="x"))
    done = logout(deps, LogoutInput("http://127.0.0.1:8080", all=True))
    assert [(r.gateway, r.had_token) for r in done] == [
        ("http://127.0.0.1:8080", False),
        ("http://a.example", True),
        ("http://b.example", True),
        ("http://c.example", False),
    ]
    assert kr.data == {} and deps.secrets().gateways() == []
    assert SettingsStore(tmp_path / "config").gateways() == ["http://c.example"]  # kept without --forget
