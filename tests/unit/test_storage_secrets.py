"""Secret stores and their selection, with keyring's own backends (fail, null) and two small real
KeyringBackend subclasses (one in-memory, one whose writes fail) installed via keyring.set_keyring."""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail, null
from keyring.errors import KeyringLocked

from faas_pro.deps import Deps
from faas_pro.errors import FaasProError, UsageError
from faas_pro.storage.secrets import (
    FileSecretStore,
    KeyringSecretStore,
    MemorySecretStore,
    open_secret_store,
)
from tests.support.keyrings import DictKeyring

GW = "https://gw.example.com"
SENTINEL = "SENTINEL-TOKEN-b7c1e0"


class LockedKeyring(DictKeyring):
    def set_password(self, service: str, username: str, password: str) -> None:
        raise KeyringLocked(f"locked while storing {password}")  # a backend that echoes the value


@pytest.fixture
def restore_keyring() -> Iterator[None]:
    before = keyring.get_keyring()
    yield
    keyring.set_keyring(before)


def _mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def test_memory_store() -> None:
    s = MemorySecretStore()
    assert s.get(GW) is None
    s.put(GW + "/", {"openfaas_token": SENTINEL})
    assert s.get(GW) == {"openfaas_token": SENTINEL}
    s.put(GW, {"idp_refresh_token": "r"})  # replaces the whole entry
    assert s.get(GW) == {"idp_refresh_token": "r"}
    assert s.delete(GW) is True and s.delete(GW) is False
    assert "memory" in s.backend


def test_file_store_round_trip_permissions_and_isolation(tmp_path: Path) -> None:
    data = tmp_path / "data"
    s = FileSecretStore(data)
    assert s.backend == f"file ({data / 'tokens.json'})"
    s.put(GW, {"openfaas_token": SENTINEL, "idp_issuer": "https://idp"})
    s.put("http://other:8080", {"openfaas_token": "other"})
    assert s.get("HTTPS://GW.EXAMPLE.COM/") == {"openfaas_token": SENTINEL, "idp_issuer": "https://idp"}
    assert _mode(data / "tokens.json") == 0o600
    assert _mode(data) == 0o700
    assert json.loads((data / "tokens.json").read_text())["http://other:8080"] == {"openfaas_token": "other"}
    assert s.delete(GW) is True
    assert s.get(GW) is None
    assert s.get("http://other:8080") == {"openfaas_token": "other"}
    assert s.delete(GW) is False


def test_file_store_refuses_symlinks_and_keeps_corrupt_files(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    victim = tmp_path / "victim"
    victim.write_text("keep")
    (data / "tokens.json").symlink_to(victim)
    s = FileSecretStore(data)
    with pytest.raises(FaasProError, match="symbolic link"):
        s.put(GW, {"openfaas_token": SENTINEL})
    assert victim.read_text() == "keep"
    (data / "tokens.json").unlink()
    (data / "tokens.json").write_text('{"https://gw.example.com": {"openfaas_token": 5}}')
    with pytest.raises(FaasProError) as info:
        s.put(GW, {"openfaas_token": SENTINEL})
    assert str(data / "tokens.json") in info.value.line()
    assert (data / "tokens.json").read_text() == '{"https://gw.example.com": {"openfaas_token": 5}}'


def test_values_must_be_strings(tmp_path: Path) -> None:
    for s in (MemorySecretStore(), FileSecretStore(tmp_path / "d")):
        with pytest.raises(FaasProError, match="strings"):
            s.put(GW, {"openfaas_token": 1})  # type: ignore[dict-item]


def test_selection_by_env(tmp_path: Path, restore_keyring: None) -> None:
    keyring.set_keyring(DictKeyring())
    assert isinstance(open_secret_store({"FAAS_PRO_TOKEN_STORE": "file"}, tmp_path), FileSecretStore)
    assert isinstance(open_secret_store({"FAAS_PRO_TOKEN_STORE": "MEMORY"}, tmp_path), MemorySecretStore)
    assert isinstance(open_secret_store({"FAAS_PRO_TOKEN_STORE": "keyring"}, tmp_path), KeyringSecretStore)
    default = open_secret_store({}, tmp_path)
    assert default.backend.startswith("keyring (")  # a usable keyring is the default
    with pytest.raises(UsageError, match="keyring, file, memory"):
        open_secret_store({"FAAS_PRO_TOKEN_STORE": "plaintext"}, tmp_path)


@pytest.mark.parametrize("backend", [fail.Keyring, null.Keyring], ids=["fail", "null"])
def test_default_falls_back_to_the_file_when_keyring_is_unusable(
    tmp_path: Path, restore_keyring: None, backend: type
) -> None:
    keyring.set_keyring(backend())
    s = open_secret_store({}, tmp_path)
    assert s.backend.startswith("file (")
    s.put(GW, {"openfaas_token": SENTINEL})
    assert FileSecretStore(tmp_path).get(GW) == {"openfaas_token": SENTINEL}
    assert s.get(GW) == {"openfaas_token": SENTINEL}


class _UntouchableKeyring(DictKeyring):
    """A keyring backend that fails the test if it is consulted at all."""

    def get_password(self, service: str, username: str) -> str | None:
        raise AssertionError("the keyring was consulted")


def test_default_reads_an_existing_file_entry_without_probing_the_keyring(
    tmp_path: Path, restore_keyring: None
) -> None:
    FileSecretStore(tmp_path).put(GW, {"openfaas_token": SENTINEL})
    keyring.set_keyring(_UntouchableKeyring())
    s = open_secret_store({}, tmp_path)
    assert s.get(GW) == {"openfaas_token": SENTINEL}
    assert s.backend_of(GW).startswith("file (")  # status names the store that holds this gateway's tokens


def test_default_read_does_not_change_where_the_next_write_goes(tmp_path: Path, restore_keyring: None) -> None:
    """A read is a read: an entry found in the file does not pin later writes to the file."""
    FileSecretStore(tmp_path).put(GW, {"openfaas_token": "old"})
    kr = DictKeyring()
    keyring.set_keyring(kr)
    s = open_secret_store({}, tmp_path)
    assert s.get(GW) == {"openfaas_token": "old"}
    s.put(GW, {"openfaas_token": SENTINEL})
    assert kr.data == {("faas-pro", GW): json.dumps({"openfaas_token": SENTINEL})}
    assert FileSecretStore(tmp_path).get(GW) is None  # the stale file entry is gone
    assert s.backend_of(GW).startswith("keyring (") and s.backend.startswith("keyring (")


def test_default_write_to_the_keyring_removes_a_stale_file_entry(tmp_path: Path, restore_keyring: None) -> None:
    FileSecretStore(tmp_path).put(GW, {"openfaas_token": "stale"})
    FileSecretStore(tmp_path).put("http://other.test", {"openfaas_token": "kept"})
    kr = DictKeyring()
    keyring.set_keyring(kr)
    s = open_secret_store({}, tmp_path)
    s.put(GW, {"openfaas_token": SENTINEL})
    assert FileSecretStore(tmp_path).get(GW) is None
    assert FileSecretStore(tmp_path).get("http://other.test") == {"openfaas_token": "kept"}
    assert open_secret_store({}, tmp_path).get(GW) == {"openfaas_token": SENTINEL}


def test_keyring_store_round_trip(tmp_path: Path, restore_keyring: None) -> None:
    kr = DictKeyring()
    keyring.set_keyring(kr)
    s = open_secret_store({}, tmp_path)
    assert s.backend.startswith("keyring (")
    s.put(GW + "/", {"openfaas_token": SENTINEL})
    assert kr.data == {("faas-pro", GW): json.dumps({"openfaas_token": SENTINEL})}
    assert s.get(GW) == {"openfaas_token": SENTINEL}
    assert s.delete(GW) is True and s.delete(GW) is False
    assert s.get(GW) is None
    assert not (tmp_path / "tokens.json").exists()


def test_corrupt_keyring_entry_names_the_entry(tmp_path: Path, restore_keyring: None) -> None:
    kr = DictKeyring()
    kr.data[("faas-pro", GW)] = "not json"
    keyring.set_keyring(kr)
    with pytest.raises(FaasProError, match=f"faas-pro/{GW}"):
        open_secret_store({}, tmp_path).get(GW)


@pytest.mark.parametrize("env", [{"FAAS_PRO_TOKEN_STORE": "keyring"}, {}], ids=["explicit", "default"])
def test_failing_keyring_write_is_an_error_never_a_plaintext_fallback(
    tmp_path: Path, restore_keyring: None, env: dict[str, str]
) -> None:
    keyring.set_keyring(LockedKeyring())
    s = open_secret_store(env, tmp_path)
    with pytest.raises(FaasProError) as info:
        s.put(GW, {"openfaas_token": SENTINEL})
    assert "KeyringLocked" in info.value.line()
    assert "FAAS_PRO_TOKEN_STORE=file" in info.value.line()
    assert SENTINEL not in info.value.line()
    assert info.value.__cause__ is None and info.value.__suppress_context__
    assert not (tmp_path / "tokens.json").exists()


def test_explicit_keyring_without_a_backend_is_an_error(tmp_path: Path, restore_keyring: None) -> None:
    keyring.set_keyring(fail.Keyring())
    s = open_secret_store({"FAAS_PRO_TOKEN_STORE": "keyring"}, tmp_path)
    for action in (lambda: s.get(GW), lambda: s.put(GW, {"openfaas_token": SENTINEL}), lambda: s.delete(GW)):
        with pytest.raises(FaasProError, match="no usable keyring backend"):
            action()
    assert not (tmp_path / "tokens.json").exists()


def test_keyring_env_var_chooses_keyrings_backend_in_a_fresh_process(tmp_path: Path) -> None:
    """PYTHON_KEYRING_BACKEND is honoured by keyring itself: null → the file store."""
    code = (
        "from pathlib import Path; from faas_pro.storage.secrets import open_secret_store;"
        f"print(open_secret_store({{}}, Path({str(tmp_path)!r})).backend)"
    )
    env = {**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"file ({tmp_path / 'tokens.json'})"


def test_deps_creates_each_store_once(tmp_path: Path) -> None:
    deps = Deps(
        env={"FAAS_PRO_TOKEN_STORE": "memory"},
        stdin=io.StringIO(),
        stdout=io.StringIO(),
        stderr=io.StringIO(),
        config_dir=tmp_path / "c",
        data_dir=tmp_path / "d",
    )
    assert deps.settings() is deps.settings()
    assert deps.settings().path == tmp_path / "c" / "settings.json"
    deps.secrets().put(GW, {"openfaas_token": "t"})
    assert deps.secrets().get(GW) == {"openfaas_token": "t"}  # the same memory store
    assert isinstance(deps.secrets(), MemorySecretStore)
