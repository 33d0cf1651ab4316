"""What faas-pro relies on from Typer's private parts (faas_pro/compat.py), pinned.

These tests are the ones to read after a Typer or httpx upgrade: exit codes, which stream each
message goes to, the program name in usage lines, help, shell completion and the httpx import trick.
They run under whatever Typer the environment has; `scripts/test --fast` gets the newest version that
pyproject.toml allows and `scripts/test --lowest` the lowest, and the first test checks that the
version in use is one of those.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

import pytest
import typer
from packaging.requirements import Requirement

from faas_pro import compat
from faas_pro.errors import EXIT_DENIED, EXIT_INTERRUPTED, EXIT_USAGE, UsageError
from tests.support.inproc import Captured, run_cli

ROOT = Path(__file__).resolve().parents[2]
Cli = Callable[..., Captured]


def _allowed(package: str) -> Requirement:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    return next(r for r in map(Requirement, deps) if r.name == package)


@pytest.mark.parametrize("package", ["typer", "httpx"])
def test_the_installed_version_is_one_pyproject_allows(package: str) -> None:
    req = _allowed(package)
    assert req.specifier.contains(version(package)), f"{package} {version(package)} is outside {req}"


# --- faas-pro's own command line -----------------------------------------------------------------


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_goes_to_stdout_with_exit_0(flag: str) -> None:
    # a real process: click writes help to the process's stdout, not to Deps.stdout
    r = run_cli(flag, timeout=60)
    assert r.returncode == 0 and r.stderr == ""
    assert r.stdout.startswith("Usage: faas-pro ")
    for name in ("auth", "list", "iam", "serve", "completion"):
        assert re.search(rf"^  {name} ", r.stdout, re.M), name


def test_no_arguments_shows_help_on_stderr_with_exit_2(cli: Cli) -> None:
    r = cli()
    assert r.code == EXIT_USAGE and r.stdout == ""
    assert r.stderr.startswith("Usage: faas-pro ") and re.search(r"^  auth ", r.stderr, re.M)


def _usage_error(r: Captured, command: str) -> str:
    """The shape every usage error has: nothing on stdout; on stderr the usage line of the command
    that failed, a pointer to its help, then the error. Returns the error."""
    assert r.code == EXIT_USAGE and r.stdout == "", r
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert lines[0].startswith(f"Usage: {command} "), lines
    assert f"'{command} -h'" in lines[1], lines
    assert "Traceback" not in r.stderr
    return "\n".join(lines[2:])


def test_unknown_command_names_it(cli: Cli) -> None:
    assert "'frobnicate'" in _usage_error(cli("frobnicate"), "faas-pro")


def test_unknown_option_names_it_under_its_subcommand(cli: Cli) -> None:
    assert "--bogus" in _usage_error(cli("list", "--bogus"), "faas-pro list")


def test_missing_argument_names_it(cli: Cli) -> None:
    assert "'shell'" in _usage_error(cli("completion"), "faas-pro completion")


def test_bad_choice_names_the_value(cli: Cli) -> None:
    assert "'tcsh'" in _usage_error(cli("completion", "tcsh"), "faas-pro completion")


def test_a_nested_group_names_the_whole_path(cli: Cli) -> None:
    assert "'frobnicate'" in _usage_error(cli("iam", "frobnicate"), "faas-pro iam")


# --- compat.invoke on its own app: every way a command can end ----------------------------------


def _app() -> typer.Typer:
    app = typer.Typer(add_completion=False)

    @app.command()
    def exits(code: int) -> None:
        raise typer.Exit(code)

    @app.command()
    def aborts() -> None:
        raise typer.Abort()

    @app.command()
    def returns(code: int) -> int:
        return code

    @app.command()
    def bad(value: str) -> None:
        raise typer.BadParameter(f"{value} is not right")

    @app.command()
    def fails() -> None:
        raise UsageError("one line from faas-pro")

    @app.command()
    def prints(ctx: typer.Context) -> None:
        print(f"obj={ctx.obj}")

    return app


def _invoke(*args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    import io

    err = io.StringIO()
    code = compat.invoke(_app(), args, prog_name="prog", obj="the-obj", stderr=err)
    return code, capsys.readouterr().out, err.getvalue()


def test_invoke_passes_typer_exit_codes_through(capsys: pytest.CaptureFixture[str]) -> None:
    assert _invoke("exits", str(EXIT_DENIED), capsys=capsys)[0] == EXIT_DENIED
    assert _invoke("exits", "0", capsys=capsys)[0] == 0


def test_invoke_takes_an_int_return_value_as_the_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    assert _invoke("returns", "7", capsys=capsys)[0] == 7


def test_invoke_turns_abort_into_exit_130(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _invoke("aborts", capsys=capsys)
    assert (code, out, err) == (EXIT_INTERRUPTED, "", "Aborted.\n")


def test_invoke_shows_bad_parameters_as_usage_errors_on_the_given_stream(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _invoke("bad", "xyz", capsys=capsys)
    assert code == EXIT_USAGE and out == ""
    assert err.startswith("Usage: prog bad ") and "xyz is not right" in err


def test_invoke_hands_the_obj_to_the_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert _invoke("prints", capsys=capsys)[:2] == (0, "obj=the-obj\n")


def test_invoke_lets_faas_pro_errors_through_to_the_caller(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(UsageError, match="one line from faas-pro"):
        _invoke("fails", capsys=capsys)


# --- help rendering, completion, httpx -------------------------------------------------------------


def test_help_context_wraps_at_the_given_width() -> None:
    from faas_pro.cli import app

    root = compat.click_command(app)
    for width in (60, 100):
        text = root.get_help(compat.help_context(root, "faas-pro", None, width))
        assert text.startswith("Usage: faas-pro ")
        assert max(map(len, text.splitlines())) <= width


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_script_calls_the_program_back_with_the_variable(shell: str) -> None:
    script = compat.completion_script(shell, prog_name="faas-pro", complete_var="_FAAS_PRO_COMPLETE")
    assert "_FAAS_PRO_COMPLETE=" in script and "faas-pro" in script
    assert not script.endswith("\n")


@pytest.mark.parametrize(
    ("shell", "env", "serve"),
    [
        # what completions/faas-pro.zsh and .fish put in the environment (checked below)
        ("zsh", {"_TYPER_COMPLETE_ARGS": "faas-pro se"}, '"serve":'),
        ("fish", {"_TYPER_COMPLETE_ARGS": "faas-pro se", "_TYPER_COMPLETE_FISH_ACTION": "get-args"}, "serve\t"),
    ],
)
def test_completion_requests_are_answered_for_zsh_and_fish(shell: str, env: dict[str, str], serve: str) -> None:
    script = (ROOT / "completions" / f"faas-pro.{shell}").read_text()
    assert all(f"{name}=" in script for name in env), "the scripts' protocol changed: update this test"
    r = run_cli(env={**env, "_FAAS_PRO_COMPLETE": f"complete_{shell}"}, timeout=60)
    assert r.returncode == 0, r.stderr
    assert serve in r.stdout and "auth" not in r.stdout, r.stdout


def _modules_after(code: str) -> set[str]:
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return set(json.loads(r.stdout.splitlines()[-1]))


def test_skip_httpx_cli_keeps_click_out_and_httpx_working() -> None:
    probe = (
        "import httpx, json, sys\n"
        "r = httpx.Client(transport=httpx.MockTransport(lambda q: httpx.Response(204))).get('http://x/')\n"
        "assert r.status_code == 204\n"
        "print(json.dumps(sorted({m.split('.')[0] for m, v in sys.modules.items() if v is not None})))\n"
    )
    skipped = _modules_after("from faas_pro.compat import skip_httpx_cli; skip_httpx_cli()\n" + probe)
    assert "httpx" in skipped and "click" not in skipped and "pygments" not in skipped
    plain = _modules_after(probe)
    # without the trick httpx pulls click in (it is installed, as uvicorn needs it): the trick is what helps
    assert "click" in plain
