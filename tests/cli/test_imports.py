"""`faas-pro --help` must stay fast: guard the modules it imports (not its time; bench/ measures that)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.support.tokens import compact

HEAVY = ("rich", "pydantic", "jwt", "cryptography", "keyring", "authlib", "httpx", "starlette", "uvicorn", "yaml")


def _modules_after(args: list[str]) -> set[str]:
    code = (
        "import sys, json\n"
        "from faas_pro.__main__ import run\n"
        f"rc = run({args!r})\n"
        "sys.stdout.flush()\n"
        "loaded = {m.split('.')[0] for m, v in sys.modules.items() if v is not None}\n"
        "print('\\nMODULES=' + json.dumps(sorted(loaded)))\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    line = next(ln for ln in r.stdout.splitlines() if ln.startswith("MODULES="))
    return set(json.loads(line.removeprefix("MODULES=")))


def test_root_help_imports_nothing_heavy() -> None:
    mods = _modules_after(["--help"])
    assert "faas_pro" in mods and "typer" in mods
    assert not mods.intersection(HEAVY), sorted(mods.intersection(HEAVY))


def test_subcommand_help_imports_nothing_heavy() -> None:
    for cmd in (["auth", "--help"], ["iam", "--help"], ["serve", "--help"], ["list", "--help"]):
        mods = _modules_after(cmd)
        assert not mods.intersection(HEAVY), (cmd, sorted(mods.intersection(HEAVY)))


@pytest.mark.parametrize("command", ["list", "status"])
def test_saved_token_commands_import_no_crypto_keyring_or_rich(tmp_path, command: str) -> None:
    """`faas-pro list` runs its whole path (saved token, expiry check, HTTP call) without jwt,
    cryptography, keyring, authlib, rich or pydantic; httpx is the one heavy import it needs.
    `faas-pro status` needs none of them (not even httpx)."""
    import os
    import time

    from faas_pro.storage.secrets import FileSecretStore

    gateway = "http://127.0.0.1:9"  # nothing listens there: the run ends with exit 5 after the request
    token = compact({"alg": "ES256", "typ": "at+jwt"}, {"sub": "fed:x", "exp": int(time.time()) + 3600}, "c2ln")
    data = tmp_path / "data"
    FileSecretStore(data).put(gateway, {"openfaas_token": token})
    code = (
        "import sys, json\n"
        "from faas_pro.__main__ import run\n"
        f"rc = run([{command!r}, '-g', {gateway!r}])\n"
        "print('\\nRC=' + str(rc))\n"
        "print('MODULES=' + json.dumps(sorted({m.split('.')[0] for m, v in sys.modules.items() if v is not None})))\n"
    )
    env = {**os.environ, "FAAS_PRO_DATA_DIR": str(data), "FAAS_PRO_CONFIG_DIR": str(tmp_path / "config")}
    env.pop("FAAS_PRO_TOKEN_STORE", None)  # the default store: reads the file without probing the keyring
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)
    if command == "list":
        assert "RC=5" in r.stdout, (r.stdout, r.stderr)
        assert r.stderr.strip() == f"Cannot connect to OpenFaaS on URL: {gateway}"
    else:
        assert "RC=0" in r.stdout and "fed:x" in r.stdout, (r.stdout, r.stderr)
    line = next(ln for ln in r.stdout.splitlines() if ln.startswith("MODULES="))
    mods = set(json.loads(line.removeprefix("MODULES=")))
    assert ("httpx" in mods) == (command == "list")
    forbidden = {"rich", "pydantic", "jwt", "cryptography", "keyring", "authlib", "starlette", "uvicorn", "yaml"}
    assert not mods & forbidden, sorted(mods & forbidden)
