"""faas-pro as a faas-cli plugin: `faas-pro plugin install | uninstall | status`, and plugin mode.

faas-cli runs ``faas-cli NAME ARGS…`` by replacing itself with the executable file
``$HOME/.openfaas/plugins/NAME`` (Windows: ``%HOMEPATH%\\.openfaas\\plugins\\NAME.exe``), passing
ARGS and its environment unchanged. On POSIX, ``install`` writes a small shell script there (the
*shim*) that runs this faas-pro installation (``<python> -P -m faas_pro``, absolute paths) with
``FAAS_PRO_PLUGIN=NAME`` set: that variable is what *plugin mode* means (``plugin_mode``).

A shim is recognised as faas-pro's by its second line (``SHIM_MARKER``); nothing else in the
directory is ever replaced (unless ``--force``) or removed. See docs/plugin.md.

Standard library only: `faas-pro plugin …` must stay as fast as `--help`.
"""

from __future__ import annotations

import os
import re
import shlex
import stat
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePath, PurePosixPath, PureWindowsPath

from faas_pro.deps import PLUGIN_ENV  # set by the shim to the plugin's name: "run as a faas-cli plugin"
from faas_pro.errors import FaasProError, UsageError

DEFAULT_NAME = "pro"
SHIM_MARKER = "# faas-pro plugin shim"
MAX_READ = 64 * 1024  # a shim is well under 1 KiB; other plugins are binaries: read only the start
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
REINSTALL = "faas-pro plugin install --force"


def plugin_mode(env: Mapping[str, str]) -> bool:
    """True when this process was started by faas-pro's faas-cli plugin shim."""
    return bool(env.get(PLUGIN_ENV))


def faas_cli_config_default(chosen: object, env: Mapping[str, str]) -> bool:
    """Whether `auth` writes faas-cli's config.yml: the flag or the saved choice (``chosen``) when
    there is one, else yes in plugin mode (faas-cli then uses the token), no otherwise."""
    return chosen is True or (chosen is None and plugin_mode(env))


def command_name(env: Mapping[str, str]) -> str:
    """How the user typed this program: ``faas-cli pro`` in plugin mode, else ``faas-pro``."""
    name = env.get(PLUGIN_ENV)
    return f"faas-cli {name}" if name and _NAME.fullmatch(name) else "faas-pro"


# the commands a message may tell the user to run (tests/cli/test_plugin.py keeps it equal to the app's)
COMMANDS = (
    "auth",
    "completion",
    "iam",
    "list",
    "logout",
    "ls",
    "namespaces",
    "plugin",
    "serve",
    "status",
    "token",
    "use",
)
_COMMAND_REF = re.compile(r"(?<![\w./-])faas-pro (?=(?:" + "|".join(COMMANDS) + r")\b|-)")


def as_typed(text: str, env: Mapping[str, str]) -> str:
    """``text`` with every suggested ``faas-pro COMMAND`` spelled as the user runs this program:
    ``faas-cli pro COMMAND`` in plugin mode; unchanged otherwise (paths, file names, "faas-pro:" too)."""
    me = command_name(env)
    return text if me == "faas-pro" else _COMMAND_REF.sub(me + " ", text)


# --------------------------------------------------------------------------- where


def default_dir(env: Mapping[str, str], os_name: str = os.name) -> PurePath:
    """faas-cli's plugin directory: ``$HOME/.openfaas/plugins``, on Windows ``%HOMEPATH%\\.openfaas\\plugins``."""
    if os_name == "nt":
        return PureWindowsPath(env.get("HOMEPATH") or "\\", ".openfaas", "plugins")
    return PurePosixPath(env.get("HOME") or str(Path.home()), ".openfaas", "plugins")


def plugin_path(
    name: str, directory: PurePath | str | None, env: Mapping[str, str], os_name: str = os.name
) -> PurePath:
    """The file faas-cli runs for ``faas-cli NAME``: ``DIR/NAME``, on Windows ``DIR\\NAME.exe``."""
    if not _NAME.fullmatch(name):
        raise UsageError(
            f"--name {name!r} is not a plugin name", "use letters, digits, '.', '_' or '-' (e.g. --name pro)"
        )
    if os_name == "nt":
        base: PurePath = PureWindowsPath(directory) if directory is not None else default_dir(env, os_name)
        return base / f"{name}.exe"
    base = PurePosixPath(directory) if directory is not None else default_dir(env, os_name)
    return base / name


# --------------------------------------------------------------------------- the shim


@dataclass(frozen=True)
class Shim:
    """What a faas-pro shim runs."""

    name: str
    python: str
    package: str

    def target_missing(self) -> str | None:
        """None when the interpreter and the package are still there, else what is gone."""
        if not os.access(self.python, os.X_OK):
            return f"{self.python} is gone"
        if not os.path.isfile(os.path.join(self.package, "__main__.py")):
            return f"{self.package} is gone"
        return None


def this_installation() -> tuple[str, str]:
    """(interpreter, package directory) of the running faas-pro, absolute, symlinks kept (a
    virtualenv's python is a symlink whose location selects the environment)."""
    import faas_pro

    python = os.path.abspath(sys.executable) if sys.executable else ""
    if not python:
        raise FaasProError("cannot tell which Python runs faas-pro (sys.executable is empty)")
    return python, os.path.abspath(os.path.dirname(faas_pro.__file__))


def shim_text(shim: Shim) -> str:
    """The POSIX shell script faas-cli runs; ``SHIM_MARKER`` on its second line marks it as faas-pro's."""
    python, package, name = shlex.quote(shim.python), shlex.quote(shim.package), shim.name
    return (
        "#!/bin/sh\n"
        f"{SHIM_MARKER} (faas-cli plugin {name!r}): written by `faas-pro plugin install`,"
        f" removed by `faas-pro plugin uninstall --name {name}`\n"
        f"python={python}\n"
        f"package={package}\n"
        'if [ ! -x "$python" ] || [ ! -f "$package/__main__.py" ]; then\n'
        f'  echo "faas-cli {name}: the faas-pro this plugin runs is gone ($python, $package);'
        f" run '{REINSTALL}' with the faas-pro you use now\" >&2\n"
        "  exit 1\n"
        "fi\n"
        f"{PLUGIN_ENV}={name}\n"
        f"export {PLUGIN_ENV}\n"
        'exec "$python" -P -m faas_pro "$@"\n'
    )


def _read_head(path: Path) -> bytes | None:
    """The file's first bytes, without following a symlink; None when there is no file."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        return None
    except OSError as e:
        raise FaasProError(f"cannot read {path}: {e.strerror}", "check its permissions") from None
    with os.fdopen(fd, "rb") as f:
        return f.read(MAX_READ)


def parse_shim(raw: bytes) -> Shim | None:
    """The shim's name and target when ``raw`` is a faas-pro shim, else None."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    lines = text.split("\n")
    if len(lines) < 4 or lines[0] != "#!/bin/sh" or not lines[1].startswith(SHIM_MARKER):
        return None
    values: dict[str, str] = {}
    for line in lines[2:]:
        key, sep, value = line.partition("=")
        if sep and key in ("python", "package", PLUGIN_ENV) and key not in values:
            try:
                words = shlex.split(value)
            except ValueError:
                return None
            if len(words) != 1:
                return None
            values[key] = words[0]
    if set(values) != {"python", "package", PLUGIN_ENV}:
        return None
    return Shim(values[PLUGIN_ENV], values["python"], values["package"])


@dataclass(frozen=True)
class Found:
    """What is at a plugin path: nothing, faas-pro's shim, or something else."""

    path: Path
    kind: str  # absent | faas-pro | foreign | directory
    shim: Shim | None = None


def inspect(path: Path) -> Found:
    try:
        st = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):  # no such file (creating the directory will say why)
        return Found(path, "absent")
    except OSError as e:
        raise FaasProError(f"cannot read {path}: {e.strerror}", "check the directory's permissions") from None
    if stat.S_ISDIR(st.st_mode):
        return Found(path, "directory")
    if not stat.S_ISREG(st.st_mode):  # a symlink, a fifo…: never faas-pro's
        return Found(path, "foreign")
    raw = _read_head(path)
    shim = parse_shim(raw) if raw is not None else None
    return Found(path, "faas-pro" if shim else "foreign", shim)


# --------------------------------------------------------------------------- install / uninstall / status


@dataclass(frozen=True)
class InstallOutput:
    path: Path
    shim: Shim
    replaced: Found  # what was there before (kind "absent" when nothing)


def _windows_refusal(path: PurePath) -> FaasProError:
    return FaasProError(
        f"faas-cli on Windows runs plugins only as {path} (a .exe), which faas-pro cannot build",
        "run faas-pro directly: `faas-pro auth --faas-cli-config …` puts the token where faas-cli reads it",
    )


def _probe(python: str, cwd: Path, env: Mapping[str, str]) -> None:
    """The shim's command must work from any directory (a source checkout only works from its own)."""
    from faas_pro import __version__

    clean = {k: v for k, v in env.items() if k != PLUGIN_ENV}
    try:
        r = subprocess.run(
            [python, "-P", "-m", "faas_pro", "--version"],
            cwd=cwd,
            env=clean,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        ok = r.returncode == 0 and r.stdout.strip() == f"faas-pro {__version__}"
    except (OSError, subprocess.SubprocessError):
        ok = False
    if not ok:
        raise FaasProError(
            f"`{python} -m faas_pro` does not run this faas-pro from another directory, so a plugin could not either",
            "install faas-pro (pip install …) and run `faas-pro plugin install` from that installation",
        )


def install(
    name: str,
    directory: str | None,
    force: bool,
    env: Mapping[str, str],
    *,
    os_name: str = os.name,
    target: tuple[str, str] | None = None,
) -> InstallOutput:
    """Write the shim for ``name`` atomically (temp file + rename, mode 0755); see the module docstring."""
    where = plugin_path(name, directory, env, os_name)
    if os_name == "nt":
        raise _windows_refusal(where)
    path = Path(where)
    python, package = target or this_installation()
    if "\n" in python or "\n" in package:
        raise FaasProError(f"cannot write a plugin for a faas-pro whose path contains a newline: {python!r}")
    found = inspect(path)
    if found.kind == "directory":
        raise FaasProError(f"{path} is a directory, not a plugin (left untouched)", "move it away or use --name")
    if found.kind == "foreign" and not force:
        raise FaasProError(
            f"{path} is not faas-pro's plugin (left untouched; the OpenFaaS '{name}' plugin may be there)",
            "install under another name with --name, or replace it with --force",
        )
    shim = Shim(name, python, package)
    try:
        path.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
    except OSError as e:
        raise _unwritable(path.parent, e) from None
    _probe(python, path.parent, env)
    _write_atomic(path, shim_text(shim))
    return InstallOutput(path, shim, found)


def _unwritable(directory: Path, e: OSError) -> FaasProError:
    return FaasProError(
        f"cannot write to the plugin directory {directory}: {e.strerror}",
        "fix its permissions, or choose another with --dir (faas-cli looks only in ~/.openfaas/plugins)",
    )


def _write_atomic(path: Path, text: str) -> None:
    from faas_pro.storage._files import replace_atomic

    try:
        # an executable everyone may run (faas-cli's plugins are); --force may replace a foreign symlink
        replace_atomic(path, text, 0o755, over_symlink=True)
    except OSError as e:
        raise _unwritable(path.parent, e) from None


def uninstall(name: str, directory: str | None, env: Mapping[str, str], *, os_name: str = os.name) -> Found:
    """Remove ``name``'s plugin when it is faas-pro's; returns what was there (kind "absent": nothing)."""
    path = Path(plugin_path(name, directory, env, os_name))
    found = inspect(path)
    if found.kind in ("foreign", "directory"):
        raise FaasProError(
            f"{path} is not faas-pro's plugin (left untouched)", "remove it yourself if you no longer want it"
        )
    if found.kind == "faas-pro":
        try:
            path.unlink()
        except FileNotFoundError:
            pass
        except OSError as e:
            raise FaasProError(
                f"cannot remove {path}: {e.strerror}", "fix the plugin directory's permissions and run again"
            ) from None
    return found


@dataclass(frozen=True)
class Status:
    found: Found
    missing: str | None  # what of the shim's target is gone (None: it runs)
    this_installation: bool  # the shim runs the faas-pro asking

    @property
    def working(self) -> bool:
        return self.found.kind == "faas-pro" and self.missing is None


def status(
    name: str,
    directory: str | None,
    env: Mapping[str, str],
    *,
    os_name: str = os.name,
    target: tuple[str, str] | None = None,
) -> Status:
    found = inspect(Path(plugin_path(name, directory, env, os_name)))
    if found.shim is None:
        return Status(found, None, False)
    python, package = target or this_installation()
    same = (found.shim.python, found.shim.package) == (python, package)
    return Status(found, found.shim.target_missing(), same)
