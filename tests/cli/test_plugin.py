"""`faas-pro plugin install | uninstall | status` and the installed shim (issue 15).

faas-cli is not on this machine; what it relies on is tested instead: for ``faas-cli NAME ARGS`` it
replaces itself with the executable ``$HOME/.openfaas/plugins/NAME`` and passes ARGS and its
environment on. The shim is run here as that file, from another directory, with a bare environment.
The suite's autouse fixture has pointed HOME at the test's own directory.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path, PurePosixPath, PureWindowsPath

import pytest

import faas_pro
from faas_pro.errors import EXIT_AUTH, EXIT_ERROR, EXIT_OK, EXIT_USAGE, FaasProError
from faas_pro.usecases import plugin as uc
from tests.support.inproc import run_cli

FOREIGN = b"\x7fELF\x02\x01\x01\x00 the official plugin, a Go binary"


def plugins_dir() -> Path:
    return Path(os.environ["HOME"]) / ".openfaas" / "plugins"


def shim_path(name: str = "pro") -> Path:
    return plugins_dir() / name


def bare_env(**extra: str) -> dict[str, str]:
    """What faas-cli would pass on from a plain login shell: no virtualenv, no PYTHONPATH."""
    keep = ("HOME", "FAAS_PRO_CONFIG_DIR", "FAAS_PRO_DATA_DIR", "FAAS_PRO_TOKEN_STORE", "NO_PROXY")
    return {"PATH": "/usr/bin:/bin", **{k: os.environ[k] for k in keep}, **extra}


def run_shim(path: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(path), *args], cwd=cwd, env=bare_env(), capture_output=True, text=True, timeout=60)


def write_foreign(path: Path, content: bytes = FOREIGN) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    path.chmod(0o755)


def one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


# --------------------------------------------------------------------------- pure parts


def test_plugin_mode_is_the_shims_environment_marker() -> None:
    assert uc.plugin_mode({"FAAS_PRO_PLUGIN": "pro"}) is True
    assert uc.plugin_mode({}) is False and uc.plugin_mode({"FAAS_PRO_PLUGIN": ""}) is False
    # auth writes faas-cli's config: the flag or saved choice first, else only in plugin mode
    plugin, plain = {"FAAS_PRO_PLUGIN": "pro"}, dict[str, str]()
    assert uc.faas_cli_config_default(None, plugin) is True
    assert uc.faas_cli_config_default(False, plugin) is False  # --no-faas-cli-config still opts out
    assert uc.faas_cli_config_default(None, plain) is False
    assert uc.faas_cli_config_default(True, plain) is True
    assert uc.command_name(plugin) == "faas-cli pro" and uc.command_name(plain) == "faas-pro"


def test_hints_name_the_commands_as_typed_in_plugin_mode() -> None:
    plugin, plain = {"FAAS_PRO_PLUGIN": "pro"}, dict[str, str]()
    hint = "not logged in to http://gw; run 'faas-pro auth -g http://gw' (see faas-pro --help)"
    assert (
        uc.as_typed(hint, plugin)
        == "not logged in to http://gw; run 'faas-cli pro auth -g http://gw' (see faas-cli pro --help)"
    )
    assert uc.as_typed(hint, plain) == hint
    assert (
        uc.as_typed("faas-pro plugin install --force", {"FAAS_PRO_PLUGIN": "sso"})
        == "faas-cli sso plugin install --force"
    )
    # a path, a file name, the program's own name and prose are not commands
    for text in ("/usr/bin/faas-pro auth", "~/.config/faas-pro/settings.json", "faas-pro: x", "another faas-pro run"):
        assert uc.as_typed(text, plugin) == text


def test_help_and_usage_errors_under_faas_cli_pro_name_it(cli) -> None:
    plugin = {"FAAS_PRO_PLUGIN": "pro"}
    # help: a real process (click writes it to the process's stdout, not to Deps.stdout)
    assert run_cli("list", "--help", env=plugin).stdout.startswith("Usage: faas-cli pro list [OPTIONS]")
    assert run_cli("list", "--help").stdout.startswith("Usage: faas-pro list [OPTIONS]")  # outside plugin mode
    bad = cli("auth", "--bogus", env=plugin)
    assert bad.code == EXIT_USAGE and "Try 'faas-cli pro auth -h' for help." in bad.stderr, bad.stderr


def test_the_hint_rewrite_knows_every_command() -> None:
    from faas_pro import compat
    from faas_pro.cli import app

    group = compat.click_command(app)
    # every command, `ls` included; not the hidden `enable`, which no message ever suggests
    assert set(uc.COMMANDS) == set(getattr(group, "commands", {})) - {"enable"}


def test_an_error_under_faas_cli_pro_tells_what_to_type_there(cli) -> None:
    for args in (("token", "-g", "http://127.0.0.1:9"), ("status", "-g", "http://127.0.0.1:9")):  # fast path
        r = cli(*args, env={"FAAS_PRO_PLUGIN": "pro"})
        assert r.code == EXIT_AUTH and "run faas-cli pro auth -g http://127.0.0.1:9" in r.stderr, r.stderr
        plain = cli(*args)
        assert plain.code == EXIT_AUTH and "run faas-pro auth -g http://127.0.0.1:9" in plain.stderr, plain.stderr
    status = cli("status", "--all", env={"FAAS_PRO_PLUGIN": "pro"})  # a warning, not an error
    assert "No gateway saved yet; run faas-cli pro auth -g URL" in status.stderr, status.stderr
    typer_path = cli("token", "-g", "http://127.0.0.1:9", "--function", "dev:fn", env={"FAAS_PRO_PLUGIN": "pro"})
    assert typer_path.code == EXIT_AUTH and "run faas-cli pro auth" in typer_path.stderr, typer_path.stderr


def test_plugin_path_is_faas_clis_on_posix_and_windows() -> None:
    posix = uc.plugin_path("pro", None, {"HOME": "/home/alice"}, "posix")
    assert posix == PurePosixPath("/home/alice/.openfaas/plugins/pro")
    win = uc.plugin_path("pro", None, {"HOMEPATH": "\\Users\\alice", "HOME": "/ignored"}, "nt")
    assert win == PureWindowsPath("\\Users\\alice\\.openfaas\\plugins\\pro.exe")
    assert uc.plugin_path("sso", "D:\\tools", {}, "nt") == PureWindowsPath("D:\\tools\\sso.exe")
    assert uc.plugin_path("sso", "/opt/p", {"HOME": "/h"}, "posix") == PurePosixPath("/opt/p/sso")


def test_install_on_windows_says_what_to_do_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(FaasProError) as e:
        uc.install("pro", str(tmp_path / "plugins"), False, {"HOMEPATH": "\\Users\\a"}, os_name="nt")
    line = e.value.line()
    assert "\n" not in line and "pro.exe" in line and "faas-pro auth --faas-cli-config" in line
    assert not (tmp_path / "plugins").exists()


@pytest.mark.parametrize("name", ["../pro", "a/b", "", "-pro", ".hidden"])
def test_a_name_that_is_not_a_plain_file_name_is_a_usage_error(cli, name: str) -> None:
    r = cli("plugin", "install", "--name", name)
    assert r.code == EXIT_USAGE and "--name" in one_line(r.stderr)
    assert not plugins_dir().exists()


# --------------------------------------------------------------------------- install


def test_install_writes_faas_pros_marked_executable_shim(cli) -> None:
    r = cli("plugin", "install")
    assert r.code == EXIT_OK, r.stderr
    path = shim_path()
    assert stat.S_IMODE(path.stat().st_mode) == 0o755 and path.is_file() and not path.is_symlink()
    text = path.read_text()
    assert text.startswith("#!/bin/sh\n" + uc.SHIM_MARKER)
    shim = uc.parse_shim(text.encode())
    assert shim == uc.Shim("pro", os.path.abspath(sys.executable), os.path.dirname(os.path.abspath(faas_pro.__file__)))
    assert f"Installed the faas-cli plugin 'pro' at {path}" in r.stderr
    assert sorted(p.name for p in plugins_dir().iterdir()) == ["pro"]  # no temp file left behind


def test_the_installed_shim_runs_this_faas_pro_in_plugin_mode(cli, tmp_path: Path) -> None:
    assert cli("plugin", "install").code == EXIT_OK
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    version = run_shim(shim_path(), "--version", cwd=elsewhere)
    assert version.returncode == 0 and version.stdout == f"faas-pro {faas_pro.__version__}\n", version.stderr
    enable = run_shim(shim_path(), "enable", "--anything", "they-type", cwd=elsewhere)  # `faas-cli pro enable`
    assert enable.returncode == EXIT_OK, enable.stderr
    assert one_line(enable.stderr).startswith("faas-cli pro enable: nothing needs enabling")  # plugin mode seen
    status = run_shim(shim_path(), "status", "-g", "http://127.0.0.1:9", cwd=elsewhere)
    assert status.returncode == EXIT_AUTH and "not logged in to http://127.0.0.1:9" in status.stderr
    iam = run_shim(shim_path(), "iam", "--help", cwd=elsewhere)
    assert iam.returncode == EXIT_OK and "validate" in iam.stdout


def test_enable_outside_plugin_mode_names_faas_pro_and_is_hidden(cli) -> None:
    r = cli("enable")
    assert r.code == EXIT_OK and one_line(r.stderr).startswith("faas-pro enable: nothing needs enabling")
    main_help = run_cli("--help")
    assert "\n  list " in main_help.stdout and "\n  enable " not in main_help.stdout


def test_reinstalling_over_faas_pros_own_shim_needs_no_force(cli) -> None:
    assert cli("plugin", "install").code == EXIT_OK
    again = cli("plugin", "install")
    assert again.code == EXIT_OK, again.stderr
    assert uc.parse_shim(shim_path().read_bytes()) is not None


def test_install_refuses_a_plugin_that_is_not_faas_pros_and_names_it(cli) -> None:
    write_foreign(shim_path())
    r = cli("plugin", "install")
    assert r.code == EXIT_ERROR
    line = one_line(r.stderr)
    assert str(shim_path()) in line and "--force" in line and "--name" in line
    assert shim_path().read_bytes() == FOREIGN


def test_install_force_replaces_a_foreign_plugin(cli) -> None:
    write_foreign(shim_path())
    r = cli("plugin", "install", "--force")
    assert r.code == EXIT_OK, r.stderr
    assert f"Replaced {shim_path()}, which was not faas-pro's" in r.stderr
    assert uc.parse_shim(shim_path().read_bytes()) is not None


def test_install_under_another_name_leaves_the_foreign_plugin_alone(cli) -> None:
    write_foreign(shim_path())
    r = cli("plugin", "install", "--name", "sso")
    assert r.code == EXIT_OK, r.stderr
    assert shim_path().read_bytes() == FOREIGN and uc.parse_shim(shim_path("sso").read_bytes()) is not None


def test_a_symlink_is_never_faas_pros(cli, tmp_path: Path) -> None:
    target = tmp_path / "someone-elses-tool"
    write_foreign(target)
    plugins_dir().mkdir(parents=True)
    shim_path().symlink_to(target)
    assert cli("plugin", "install").code == EXIT_ERROR
    assert cli("plugin", "uninstall").code == EXIT_ERROR
    assert shim_path().is_symlink() and target.read_bytes() == FOREIGN


def test_a_directory_in_the_way_is_refused_even_with_force(cli) -> None:
    (shim_path() / "keep").mkdir(parents=True)
    r = cli("plugin", "install", "--force")
    assert r.code == EXIT_ERROR and str(shim_path()) in one_line(r.stderr)
    assert (shim_path() / "keep").is_dir()


def test_a_plugin_directory_that_cannot_be_written_is_one_line_naming_it(cli, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    target = blocker / "plugins"
    r = cli("plugin", "install", "--dir", str(target))
    assert r.code == EXIT_ERROR
    line = one_line(r.stderr)
    assert line.startswith(f"cannot write to the plugin directory {target}") and "--dir" in line


def test_install_refuses_a_faas_pro_that_cannot_run_from_elsewhere(tmp_path: Path) -> None:
    """A shim must work from any directory: an interpreter that cannot run faas_pro is refused, nothing written."""
    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\nexit 1\n")
    fake.chmod(0o755)
    plugins = tmp_path / "plugins"
    with pytest.raises(FaasProError) as e:
        uc.install("pro", str(plugins), False, os.environ, target=(str(fake), str(tmp_path)))
    assert str(fake) in e.value.line() and "plugin install" in e.value.line()
    assert list(plugins.iterdir()) == []


# --------------------------------------------------------------------------- uninstall


def test_uninstall_removes_faas_pros_plugin_and_nothing_else(cli) -> None:
    assert cli("plugin", "install").code == EXIT_OK
    write_foreign(shim_path("other"))
    r = cli("plugin", "uninstall")
    assert r.code == EXIT_OK and f"Removed faas-pro's plugin {shim_path()}" in r.stderr
    assert not shim_path().exists() and shim_path("other").read_bytes() == FOREIGN


def test_uninstall_refuses_a_plugin_faas_pro_did_not_install(cli) -> None:
    write_foreign(shim_path())
    r = cli("plugin", "uninstall")
    assert r.code == EXIT_ERROR and str(shim_path()) in one_line(r.stderr)
    assert shim_path().read_bytes() == FOREIGN


def test_uninstall_with_nothing_installed_succeeds_and_says_so(cli) -> None:
    r = cli("plugin", "uninstall")
    assert r.code == EXIT_OK and f"No plugin at {shim_path()}: nothing to remove." in r.stderr


# --------------------------------------------------------------------------- status


def test_status_of_a_working_plugin(cli) -> None:
    assert cli("plugin", "install").code == EXIT_OK
    r = cli("plugin", "status")
    assert r.code == EXIT_OK, r.stderr
    assert r.stdout.splitlines() == [
        f"plugin pro: {shim_path()} (faas-pro's)",
        f"runs:    {os.path.abspath(sys.executable)} -m faas_pro (this installation)",
        f"package: {os.path.dirname(os.path.abspath(faas_pro.__file__))}",
    ]


def test_status_when_nothing_or_something_else_is_installed(cli) -> None:
    absent = cli("plugin", "status")
    assert absent.code == EXIT_ERROR and absent.stdout == f"plugin pro: not installed ({shim_path()})\n"
    write_foreign(shim_path())
    foreign = cli("plugin", "status")
    assert foreign.code == EXIT_ERROR and foreign.stdout == f"plugin pro: {shim_path()} is not faas-pro's\n"


# --------------------------------------------------------------------------- a faas-pro moved or upgraded away


def _old_shim(python: str, package: str) -> Path:
    path = shim_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(uc.shim_text(uc.Shim("pro", python, package)))  # as an earlier installation wrote it
    path.chmod(0o755)
    return path


@pytest.mark.parametrize("gone", ["interpreter", "package"])
def test_a_shim_whose_faas_pro_is_gone_says_how_to_reinstall(cli, tmp_path: Path, gone: str) -> None:
    here = os.path.dirname(os.path.abspath(faas_pro.__file__))
    old = tmp_path / "old-venv"
    python, package = (str(old / "bin/python"), here) if gone == "interpreter" else (sys.executable, str(old / "pkg"))
    path = _old_shim(python, package)
    r = run_shim(path, "auth", "--authority", "http://idp", "--client-id", "x", cwd=tmp_path)
    assert r.returncode == EXIT_ERROR and r.stdout == ""
    line = one_line(r.stderr)
    assert line.startswith("faas-cli pro: the faas-pro this plugin runs is gone") and str(old) in line
    assert "'faas-pro plugin install --force'" in line
    st = cli("plugin", "status")
    assert st.code == EXIT_ERROR and f"(broken: {old}" in st.stdout
    assert "faas-pro plugin install --force" in st.stderr
    # re-installing from this installation repairs it (faas-pro's own shim: no --force needed)
    fixed = cli("plugin", "install")
    assert fixed.code == EXIT_OK and f"Replaced faas-pro's plugin that ran {python} ({package})." in fixed.stderr
    assert run_shim(path, "--version", cwd=tmp_path).returncode == 0
