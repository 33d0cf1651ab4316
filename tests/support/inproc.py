"""The one CLI runner of the suite, in two forms.

- ``run_inproc(*args)``: faas-pro in this process, streams captured (the one place tests build
  ``Deps`` for a CLI run); fast, and what most tests want. Returns ``Captured``.
  ``run_with_deps(deps, *args)``: the same with ``Deps`` a test built (e.g. tests/support/loginworld.py's,
  whose HTTP goes to an ``httpx.MockTransport``).
- ``run_cli(*args)`` / ``start_cli(*args)``: ``python -m faas_pro`` as a real subprocess, for what
  only a process shows (start-up, signals, a terminal, the exit status of the interpreter).
  Returns ``subprocess.CompletedProcess`` / ``Popen``; ``stop_cli(proc)`` in the test's ``finally``.

Both read the (suite-isolated) environment, so the config and data directories are the test's own.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

if TYPE_CHECKING:
    from faas_pro.deps import Deps

ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "faas_pro"]


class CliRunner(Protocol):
    """The ``cli`` fixture's type: ``run_inproc``."""

    def __call__(
        self,
        *args: str,
        stdin: str = ...,
        env: dict[str, str] | None = ...,
        clock: Callable[[], float] = ...,
        sleep: Callable[[float], None] = ...,
    ) -> Captured: ...


class Captured(NamedTuple):
    """Result of a CLI run (unpacks as ``code, stdout, stderr``)."""

    code: int
    stdout: str
    stderr: str


def run_inproc(
    *args: str,
    stdin: str = "",
    env: dict[str, str] | None = None,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> Captured:
    """``faas-pro ARGS`` with ``env`` over ``os.environ``, ``stdin`` as input, and the given clock/sleep."""
    from faas_pro.deps import Deps

    full_env = {**os.environ, **(env or {})}
    out, err = io.StringIO(), io.StringIO()
    deps = Deps(
        env=full_env,
        stdin=io.StringIO(stdin),
        stdout=out,
        stderr=err,
        config_dir=Path(full_env["FAAS_PRO_CONFIG_DIR"]),
        data_dir=Path(full_env["FAAS_PRO_DATA_DIR"]),
        clock=clock,
        sleep=sleep,
    )
    return run_with_deps(deps, *args)


def run_with_deps(deps: Deps, *args: str) -> Captured:
    """``faas-pro ARGS`` in this process with the given ``Deps`` (its stdout and stderr StringIO)."""
    from faas_pro.__main__ import run

    assert isinstance(deps.stdout, io.StringIO) and isinstance(deps.stderr, io.StringIO)
    code = run(list(args), deps)
    return Captured(code, deps.stdout.getvalue(), deps.stderr.getvalue())


def run_cli(
    *args: str, env: dict[str, str] | None = None, input: str | None = None, timeout: float = 90
) -> subprocess.CompletedProcess[str]:
    """``python -m faas_pro ARGS`` in the repository, ``env`` over ``os.environ``, output captured."""
    return subprocess.run(
        [*CLI, *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def stop_cli(proc: subprocess.Popen[str]) -> None:
    """End a ``start_cli`` process in a test's ``finally``: killed if it still runs, waited for, and
    its pipes closed — also when the test failed before reading them (an unclosed pipe is a
    ResourceWarning, i.e. an error, in whichever later test runs the garbage collector)."""
    if proc.poll() is None:
        proc.kill()
    proc.communicate()  # closes the pipes; safe after an earlier communicate()


def start_cli(*args: str, env: dict[str, str] | None = None, **popen: Any) -> subprocess.Popen[str]:
    """``python -m faas_pro ARGS`` started (stdout and stderr piped unless ``popen`` says otherwise)."""
    kw: dict[str, Any] = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, **popen}
    return subprocess.Popen([*CLI, *args], cwd=ROOT, env={**os.environ, **(env or {})}, text=True, **kw)
