"""The keyring token store against a REAL Secret Service: Debian's gnome-keyring daemon on a private
D-Bus session bus, started here (``dbus-daemon --session``, then ``gnome-keyring-daemon --unlock
--components=secrets`` with its password on stdin).

A real login (test IdP, real `faas-pro serve`) saves through it, a silent refresh replaces the
tokens in it, `token`/`status`/`namespaces` read from it, `logout` removes the entry. The keyring
backend that worked at login is remembered in the data directory and loaded directly afterwards:
a later run does not probe keyring's other backends (storage/secrets.py).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from faas_pro.errors import EXIT_AUTH, EXIT_OK
from faas_pro.storage.secrets import KEYRING_MEMO, SERVICE
from tests.support.authcli import auth_argv, data_dir
from tests.support.gateway import Server, issuer_yaml, policy_yaml, role_yaml, start_gateway
from tests.support.idp import IdP
from tests.support.inproc import run_cli
from tests.support.secret_service import secret_service as start_secret_service


@pytest.fixture(autouse=True)
def _secret_service_installed() -> None:
    """A missing daemon is a broken install, not a reason to skip: scripts/test installs both."""
    missing = [cmd for cmd in ("dbus-daemon", "gnome-keyring-daemon") if not shutil.which(cmd)]
    assert not missing, f"{missing} not on PATH: run scripts/test (it installs dbus-daemon and gnome-keyring)"


SECRET_SERVICE = "keyring.backends.SecretService:Keyring"
REPO = Path(__file__).resolve().parents[2]
# what loading the remembered backend imports (keyring.core always imports its "fail" backend)
NOT_PROBED = {"keyring.backends.SecretService", "keyring.backends.fail"}


@pytest.fixture(scope="module")
def secret_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A private session bus with an unlocked gnome-keyring on it; yields the bus address."""
    with start_secret_service(tmp_path_factory.mktemp("secret-service")) as address:
        yield address


def keyring_entry(address: str, gateway: str) -> dict[str, str] | None:
    """The gateway's entry as keyring's own Secret Service backend reads it (in this process)."""
    code = (
        "import json, sys\n"
        "from keyring.backends.SecretService import Keyring\n"
        f"raw = Keyring().get_password({SERVICE!r}, sys.argv[1])\n"
        "print(json.dumps(None if raw is None else json.loads(raw)))\n"
    )
    env = {**os.environ, "DBUS_SESSION_BUS_ADDRESS": address}
    r = subprocess.run([sys.executable, "-c", code, gateway], env=env, capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def gw(idp_skip_consent: IdP, gateway_key: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    objects = (
        issuer_yaml("idp", idp_skip_consent.issuer, ["faas-gateway"], "30m")
        + policy_yaml("staging-rw", ["Function:*", "Namespace:List"], ["staging:*"])
        + role_yaml("people", ["staging-rw"], principal=["user-alice"])
    )
    root = tmp_path_factory.mktemp("gw")
    with start_gateway(root, objects, "--namespace", "staging", issuer_url="http://gateway.test", key=gateway_key) as s:
        yield s


@pytest.fixture
def keyring_env(secret_service: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """No FAAS_PRO_TOKEN_STORE (the default: the keyring when usable) and the private bus."""
    monkeypatch.delenv("FAAS_PRO_TOKEN_STORE", raising=False)
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", secret_service)
    return {}


def keyring_modules_after(*args: str) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """``faas-pro ARGS`` in a fresh interpreter, and the keyring backend modules it imported."""
    code = (
        "import sys\n"
        "from faas_pro.__main__ import run\n"
        f"rc = run({list(args)!r})\n"
        "sys.stdout.flush()\n"
        "mods = sorted(m for m, v in sys.modules.items() if v is not None and m.startswith('keyring.backends.'))\n"
        "print('\\nKEYRING=' + ','.join(mods))\n"
        "sys.exit(rc)\n"
    )
    r = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    out, _, mods = r.stdout.rpartition("\nKEYRING=")
    return subprocess.CompletedProcess(r.args, r.returncode, out, r.stderr), [m for m in mods.strip().split(",") if m]


def test_login_refresh_read_and_logout_through_the_secret_service(
    idp_skip_consent: IdP, gw: Server, keyring_env: dict[str, str], secret_service: str
) -> None:
    first = run_cli(*auth_argv(idp_skip_consent.issuer, "-g", gw.url, "--print-token"))
    assert first.returncode == EXIT_OK, first.stderr
    token1 = first.stdout.strip()
    entry = keyring_entry(secret_service, gw.url)
    assert entry is not None and entry["openfaas_token"] == token1 and entry["idp_refresh_token"]
    tokens_file = data_dir() / "tokens.json"
    assert not tokens_file.exists() or gw.url not in json.loads(tokens_file.read_text())  # nothing in a file
    memo = json.loads((data_dir() / KEYRING_MEMO).read_text())
    assert memo == {"version": 1, "backend": SECRET_SERVICE}
    assert "refresh" not in json.dumps(memo) and token1 not in (data_dir() / KEYRING_MEMO).read_text()

    status = run_cli("status", "-g", gw.url)
    assert status.returncode == EXIT_OK, status.stderr
    assert "Store:    keyring (SecretService Keyring)" in status.stdout and "Subject:  fed:user-alice" in status.stdout

    refreshed = run_cli("auth", "-g", gw.url, "--print-token", "--timeout", "5s")
    assert refreshed.returncode == EXIT_OK, refreshed.stderr
    assert "Renewed the login with the saved refresh token (no browser needed)." in refreshed.stderr
    token2 = refreshed.stdout.strip()
    entry2 = keyring_entry(secret_service, gw.url)
    assert token2 != token1 and entry2 is not None and entry2["openfaas_token"] == token2
    assert entry2["idp_refresh_token"] != entry["idp_refresh_token"]  # rotated, and kept in the keyring

    read, backends = keyring_modules_after("token", "-g", gw.url)
    assert (read.returncode, read.stdout) == (EXIT_OK, token2 + "\n"), read.stderr
    assert set(backends) - NOT_PROBED == set(), backends  # the remembered backend only: no probe
    listed = run_cli("namespaces", "-g", gw.url)
    assert (listed.returncode, listed.stdout) == (EXIT_OK, "Namespaces:\n - staging\n"), listed.stderr

    out = run_cli("logout", "-g", gw.url)
    assert out.returncode == EXIT_OK and f"Logged out of {gw.url}" in out.stderr, out.stderr
    assert keyring_entry(secret_service, gw.url) is None
    after = run_cli("token", "-g", gw.url)
    assert after.returncode == EXIT_AUTH and after.stderr.startswith(f"not logged in to {gw.url}"), after.stderr


def _save_through_the_store(gateway: str, value: str) -> None:
    code = (
        "import os, sys\nfrom pathlib import Path\nfrom faas_pro.storage.secrets import open_secret_store\n"
        "s = open_secret_store(os.environ, Path(os.environ['FAAS_PRO_DATA_DIR']))\n"
        "s.put(sys.argv[1], {'openfaas_token': sys.stdin.read()})\n"
    )
    r = subprocess.run([sys.executable, "-c", code, gateway], input=value, capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize(
    "memo",
    [
        {"version": 1, "backend": "keyring.backends.kwallet:DBusKeyring"},  # not usable here: probe
        {"version": 1, "backend": "os:system"},  # not a keyring backend: never imported
        {"version": 1, "backend": "keyring.backends.SecretService:NoSuchClass"},
        {"version": 99, "backend": SECRET_SERVICE},
        ["not", "an", "object"],
    ],
)
def test_a_memo_that_does_not_fit_means_a_probe(keyring_env: dict[str, str], secret_service: str, memo: object) -> None:
    gateway = "http://gw-memo.test:8080"
    token = "e30.eyJzdWIiOiJtZW1vIiwiZXhwIjo0MTAyNDQ0ODAwfQ.c2ln"  # {"sub":"memo","exp":4102444800}
    _save_through_the_store(gateway, token)
    (data_dir() / KEYRING_MEMO).write_text(json.dumps(memo))
    read, backends = keyring_modules_after("token", "-g", gateway)
    assert (read.returncode, read.stdout) == (EXIT_OK, token + "\n"), read.stderr
    assert set(backends) - NOT_PROBED, backends  # keyring probed its backends, and still found the Secret Service
    assert (keyring_entry(secret_service, gateway) or {}).get("openfaas_token") == token
