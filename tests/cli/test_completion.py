"""Shell completion: the scripts in completions/ are generated from the app and must be current."""

from __future__ import annotations

from pathlib import Path

import pytest

from faas_pro.cli.completion import script_for
from tests.support.inproc import run_cli

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_checked_in_script_is_current(shell: str) -> None:
    path = ROOT / "completions" / f"faas-pro.{shell}"
    assert path.read_text() == script_for(shell), f"regenerate: faas-pro completion {shell} > {path}"


def test_completion_command_prints_script(cli) -> None:
    r = cli("completion", "bash")
    assert r.code == 0
    assert "_FAAS_PRO_COMPLETE=complete_bash" in r.stdout


def test_bash_completion_protocol_completes_commands() -> None:
    env = {"COMP_WORDS": "faas-pro se", "COMP_CWORD": "1", "_FAAS_PRO_COMPLETE": "complete_bash"}
    r = run_cli(env=env, timeout=60)
    assert r.stdout.split() == ["serve"]
