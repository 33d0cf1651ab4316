"""Start-up guards: the modules each command imports (not its time; bench/startup.py measures that).

`faas-pro --help` must not import heavy libraries; the daily commands on the fast path
(faas_pro/fastpath.py) must not import Typer, click, httpx or keyring at all, so that a later change
cannot silently bring them back onto the path that scripts call in loops.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.tokens import compact

HEAVY = ("rich", "pydantic", "jwt", "cryptography", "keyring", "authlib", "httpx", "starlette", "uvicorn", "yaml")
# never on the fast path: Typer and the click it vendors, httpx and its transport, keyring and its deps
FAST_FORBIDDEN = {*HEAVY, "typer", "click", "httpcore", "h11", "anyio", "certifi", "filelock"}
GATEWAY = "http://127.0.0.1:9"  # nothing listens there: list/namespaces end with exit 5 after the request


def _run(args: list[str], env: dict[str, str] | None = None) -> tuple[int, str, str, set[str]]:
    """``faas-pro ARGS`` through the console entry point's ``run`` in a fresh interpreter."""
    code = (
        "import sys, json\n"
        "from faas_pro.__main__ import run\n"
        f"rc = run({args!r})\n"
        "sys.stdout.flush()\n"
        "loaded = {m.split('.')[0] for m, v in sys.modules.items() if v is not None}\n"
        "print('\\nRC=' + str(rc))\n"
        "print('MODULES=' + json.dumps(sorted(loaded)))\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env or dict(os.environ)
    )
    lines = r.stdout.splitlines()
    mods = next(ln for ln in lines if ln.startswith("MODULES="))
    rc = next(ln for ln in lines if ln.startswith("RC="))
    out = r.stdout[: r.stdout.rindex("\nRC=")]
    return int(rc.removeprefix("RC=")), out, r.stderr, set(json.loads(mods.removeprefix("MODULES=")))


def test_root_help_imports_nothing_heavy() -> None:
    rc, _, err, mods = _run(["--help"])
    assert rc == 0, err
    assert "faas_pro" in mods and "typer" in mods
    assert not mods.intersection(HEAVY), sorted(mods.intersection(HEAVY))


@pytest.mark.parametrize("cmd", [["auth", "--help"], ["iam", "--help"], ["serve", "--help"], ["list", "--help"]])
def test_subcommand_help_imports_nothing_heavy(cmd: list[str]) -> None:
    rc, _, err, mods = _run(cmd)
    assert rc == 0, err
    assert not mods.intersection(HEAVY), (cmd, sorted(mods.intersection(HEAVY)))


def _saved_token_env(tmp_path: Path, store: str | None) -> tuple[dict[str, str], str]:
    from faas_pro.storage.secrets import FileSecretStore

    token = compact({"alg": "ES256", "typ": "at+jwt"}, {"sub": "fed:x", "exp": int(time.time()) + 3600}, "c2ln")
    data = tmp_path / "data"
    FileSecretStore(data).put(GATEWAY, {"openfaas_token": token})
    env = {**os.environ, "FAAS_PRO_DATA_DIR": str(data), "FAAS_PRO_CONFIG_DIR": str(tmp_path / "config")}
    env["OPENFAAS_URL"] = GATEWAY
    env.pop("FAAS_PRO_TOKEN_STORE", None)
    if store is not None:
        env["FAAS_PRO_TOKEN_STORE"] = store
    return env, token


DAILY = [
    ["list"],
    ["ls", "-q"],
    ["list", "-v", "--sort", "creation", "-n", "staging"],
    ["list", "--json"],
    ["namespaces"],
    ["token"],
    ["token", "--pretty"],
    ["status"],
    ["status", "--json"],
]


@pytest.mark.parametrize("store", [None, "file"])  # None: the default store reads the file, no keyring probe
@pytest.mark.parametrize("cmd", DAILY, ids=" ".join)
def test_daily_commands_run_without_typer_httpx_or_keyring(tmp_path: Path, cmd: list[str], store: str | None) -> None:
    env, token = _saved_token_env(tmp_path, store)
    rc, out, err, mods = _run(cmd, env)
    if cmd[0] in ("list", "ls", "namespaces"):
        assert (rc, err.strip()) == (5, f"Cannot connect to OpenFaaS on URL: {GATEWAY}")
    elif cmd == ["token"]:
        assert (rc, out) == (0, token + "\n"), err
    else:
        assert rc == 0 and "fed:x" in out, (out, err)
    assert not mods & FAST_FORBIDDEN, sorted(mods & FAST_FORBIDDEN)


def test_the_guard_would_see_typer_and_httpx(tmp_path: Path) -> None:
    """The same `list` forced through Typer loads Typer and httpx: the guard above can fail."""
    env, _ = _saved_token_env(tmp_path, "file")
    rc, _, err, mods = _run(["list"], {**env, "FAAS_PRO_NO_FAST_PATH": "1"})
    assert rc == 5, err
    assert {"typer", "httpx"} <= mods


@pytest.mark.parametrize("cmd", [["list", "-vq"], ["list", "--sort", "size"], ["token", "--", "x"], ["-V", "token"]])
def test_unusual_command_lines_go_to_typer(tmp_path: Path, cmd: list[str]) -> None:
    env, _ = _saved_token_env(tmp_path, "file")
    _, _, _, mods = _run(cmd, env)
    assert "typer" in mods, cmd
