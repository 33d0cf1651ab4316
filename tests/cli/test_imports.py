"""`faas-pro --help` must stay fast: guard the modules it imports (not its time; bench/ measures that)."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("rich", "pydantic", "jwt", "cryptography", "keyring", "authlib", "httpx", "starlette", "uvicorn", "yaml")


def _modules_after(args: list[str]) -> set[str]:
    code = (
        "import sys, json\n"
        "from faas_pro.__main__ import run\n"
        f"rc = run({args!r})\n"
        "sys.stdout.flush()\n"
        "print('\\nMODULES=' + json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
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
    for cmd in (["auth", "--help"], ["iam", "--help"], ["serve", "--help"]):
        mods = _modules_after(cmd)
        assert not mods.intersection(HEAVY), (cmd, sorted(mods.intersection(HEAVY)))
