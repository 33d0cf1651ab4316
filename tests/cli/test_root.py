"""The root command: help, version, usage errors and the one error path."""

from __future__ import annotations

from faas_pro import __version__
from faas_pro.errors import EXIT_USAGE
from tests.support.inproc import run_cli


def test_version(cli):
    r = cli("--version")
    assert r.code == 0
    assert r.stdout.strip() == f"faas-pro {__version__}"


def test_unknown_command_is_usage_error(cli):
    r = cli("no-such-command")
    assert r.code == EXIT_USAGE
    assert "No such command" in r.stderr
    assert r.stdout == ""


def test_help_lists_commands_via_console_entry() -> None:
    r = run_cli("--help", timeout=60)
    assert r.returncode == 0
    for name in ("auth", "iam", "serve"):
        assert f"  {name} " in r.stdout
    assert r.stderr == ""


def test_expected_failure_is_one_line_and_verbose_adds_the_traceback(cli):
    plain = cli("status", "-g", "http://127.0.0.1:9")
    assert plain.code == 3
    assert len(plain.stderr.strip().splitlines()) == 1 and "Traceback" not in plain.stderr
    verbose = cli("-V", "status", "-g", "http://127.0.0.1:9")
    assert verbose.code == 3
    assert "Traceback" in verbose.stderr
    assert verbose.stderr.strip().splitlines()[-1] == plain.stderr.strip()
