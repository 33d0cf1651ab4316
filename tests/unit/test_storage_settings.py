"""SettingsStore and the private-file rules: atomic, 0600/0700, corrupt files kept, symlinks refused,
concurrent writers from real processes."""

from __future__ import annotations

import json
import multiprocessing
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from faas_pro.errors import FaasProError
from faas_pro.storage.settings import GatewaySettings, SettingsStore

GW = "http://gw.example.com:8080"


def _mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def test_round_trip_and_normalised_keys(tmp_path: Path) -> None:
    store = SettingsStore(tmp_path / "cfg")
    assert store.path == tmp_path / "cfg" / "settings.json"
    assert store.get(GW) is None
    s = GatewaySettings(authority="https://idp", client_id="faas-cli", scopes=["openid", "email"], port=0)
    store.put("HTTP://GW.example.com:8080/", s)
    assert store.get(GW) == s
    assert store.gateways() == [GW]
    data = json.loads(store.path.read_text())
    assert data == {
        "version": 1,
        "gateways": {
            GW: {
                "authority": "https://idp",
                "client_id": "faas-cli",
                "grant": "code",
                "scopes": ["openid", "email"],
                "port": 0,
            }
        },
    }
    assert store.remove(GW) is True
    assert store.remove(GW) is False
    assert store.gateways() == []


def test_permissions_file_0600_dir_0700_and_tightened(tmp_path: Path) -> None:
    cfg = tmp_path / "cfg"
    cfg.mkdir(mode=0o755)
    os.chmod(cfg, 0o755)
    store = SettingsStore(cfg)
    store.put(GW, GatewaySettings())
    assert _mode(store.path) == 0o600
    assert _mode(cfg) == 0o700
    fresh = SettingsStore(tmp_path / "a" / "b")
    fresh.put(GW, GatewaySettings())
    assert _mode(tmp_path / "a" / "b") == 0o700
    assert _mode(fresh.path) == 0o600
    assert [p.name for p in cfg.iterdir() if p.name.endswith(".tmp")] == []


def test_unknown_keys_survive_a_rewrite(tmp_path: Path) -> None:
    store = SettingsStore(tmp_path)
    store.path.write_text(json.dumps({"version": 1, "gateways": {GW: {"client_id": "x", "future_flag": {"a": 1}}}}))
    got = store.get(GW)
    assert got is not None and got.extra == {"future_flag": {"a": 1}}
    got.audience = "aud"
    store.put(GW, got)
    store.put("http://other", GatewaySettings(grant="device_code"))
    saved = json.loads(store.path.read_text())["gateways"]
    assert saved[GW] == {"client_id": "x", "grant": "code", "audience": "aud", "future_flag": {"a": 1}}
    assert saved["http://other"] == {"grant": "device_code"}


def test_secrets_are_refused_in_settings(tmp_path: Path) -> None:
    store = SettingsStore(tmp_path)
    for key in ("client_secret", "refresh_token", "Password", "private_key"):
        with pytest.raises(FaasProError, match="secret store"):
            store.put(GW, GatewaySettings(extra={key: "s3cr3t"}))
    assert not store.path.exists()


@pytest.mark.parametrize(
    "content",
    [
        b"{not json",
        b"",
        b"[]",
        b'{"version": 1, "gateways": []}',
        b'{"version": 1, "gateways": {"x": 1}}',
        b'{"version": 2, "gateways": {}}',
        b"\xff\xfe",
    ],
)
def test_corrupt_file_is_reported_with_its_path_and_left_byte_identical(tmp_path: Path, content: bytes) -> None:
    store = SettingsStore(tmp_path / "cfg")
    store.path.parent.mkdir()
    store.path.write_bytes(content)
    for action in (
        lambda: store.get(GW),
        lambda: store.put(GW, GatewaySettings()),
        lambda: store.remove(GW),
        store.gateways,
    ):
        with pytest.raises(FaasProError) as info:
            action()
        assert str(store.path) in info.value.line()
    assert store.path.read_bytes() == content
    assert sorted(p.name for p in store.path.parent.iterdir()) == ["settings.json", "settings.json.lock"]


def test_wrongly_typed_field_names_the_field(tmp_path: Path) -> None:
    store = SettingsStore(tmp_path)
    store.path.write_text(json.dumps({"version": 1, "gateways": {GW: {"port": "31111"}}}))
    with pytest.raises(FaasProError, match="port must be an integer") as info:
        store.get(GW)
    assert str(store.path) in info.value.line()


def test_symlinks_are_refused(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.json"
    target.write_text("precious")
    cfg = tmp_path / "cfg"
    cfg.mkdir()
    (cfg / "settings.json").symlink_to(target)
    store = SettingsStore(cfg)
    with pytest.raises(FaasProError, match="symbolic link"):
        store.put(GW, GatewaySettings())
    with pytest.raises(FaasProError, match="symbolic link"):
        store.get(GW)
    assert target.read_text() == "precious"
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "linkdir").symlink_to(real)
    with pytest.raises(FaasProError, match="symbolic link"):
        SettingsStore(tmp_path / "linkdir").put(GW, GatewaySettings())
    assert list(real.iterdir()) == []


def test_failed_serialisation_leaves_the_old_file_intact(tmp_path: Path) -> None:
    store = SettingsStore(tmp_path)
    store.put(GW, GatewaySettings(client_id="old"))
    before = store.path.read_bytes()
    with pytest.raises(TypeError):
        store.put(GW, GatewaySettings(extra={"x": {1, 2}}))  # a set is not JSON
    assert store.path.read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_a_write_that_fails_half_way_leaves_the_old_file_intact(tmp_path: Path) -> None:
    """A real short write: the child's file-size limit (RLIMIT_FSIZE) stops it mid-file."""
    store = SettingsStore(tmp_path)
    store.put(GW, GatewaySettings(client_id="old"))
    before = store.path.read_bytes()
    script = textwrap.dedent(
        f"""
        import resource, signal, sys
        from pathlib import Path
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
        from faas_pro.errors import FaasProError
        from faas_pro.storage.settings import GatewaySettings, SettingsStore
        try:
            SettingsStore(Path({str(tmp_path)!r})).put({GW!r}, GatewaySettings(extra={{"big": "x" * 100000}}))
        except FaasProError as e:
            print(e.line())
            sys.exit(7)
        """
    )
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert r.returncode == 7, r.stderr
    assert "cannot write" in r.stdout and "unchanged" in r.stdout
    assert store.path.read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def _writer(config_dir: str, prefix: str, n: int) -> None:
    store = SettingsStore(Path(config_dir))
    for i in range(n):
        store.put(f"http://{prefix}{i}.example.com", GatewaySettings(client_id=prefix * 200, extra={"i": i}))


def test_two_processes_writing_never_interleave_or_lose_updates(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    n = 25
    procs = [ctx.Process(target=_writer, args=(str(tmp_path), p, n)) for p in ("a", "b")]
    for p in procs:
        p.start()
    reads = 0
    while any(p.is_alive() for p in procs) or reads == 0:
        path = tmp_path / "settings.json"
        if path.exists():
            data = json.loads(path.read_bytes())  # every read is complete, valid JSON
            assert data["version"] == 1
            reads += 1
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    final = SettingsStore(tmp_path).gateways()
    assert len(final) == 2 * n  # no lost update: read-modify-write runs under the file's lock
    assert reads > 0
