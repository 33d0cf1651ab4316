"""The one CLI runner of the suite, in two forms.

- ``run_inproc(*args)``: faas-pro in this process, streams captured (the one place tests build
  ``Deps`` for a CLI run); fast, and what most tests want. Returns ``Captured``.
- ``run_cli(*args)`` / ``start_cli(*args)``: ``python -m faas_pro`` as a real subprocess, for what
  only a process shows (start-up, signals, a terminal, the exit status of the interpreter).
  Returns ``subprocess.CompletedProcess`` / ``Popen``.

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
from typing import Any, Protocol

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


class Captured:
    """Result of a CLI run."""

    def __init__(self, code: int, stdout: str, stderr: str) -> None:
        self.code, self.stdout, self.stderr = code, stdout, stderr

    def __repr__(self) -> str:
        return f"Captured(code={self.code}, stdout={self.stdout!r}, stderr={self.stderr!r})"


def run_inproc(
    *args: str,
    stdin: str = "",
    env: dict[str, str] | None = None,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> Captured:
    """``faas-pro ARGS`` with ``env`` over ``os.environ``, ``stdin`` as input, and the given clock/sleep."""
    from faas_pro.__main__ import run
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
    code = run(list(args), deps)
    return Captured(code, out.getvalue(), err.getvalue())


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


def start_cli(*args: str, env: dict[str, str] | None = None, **popen: Any) -> subprocess.Popen[str]:
    """``python -m faas_pro ARGS`` started (stdout and stderr piped unless ``popen`` says otherwise)."""
    kw: dict[str, Any] = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, **popen}
    return subprocess.Popen([*CLI, *args], cwd=ROOT, env={**os.environ, **(env or {})}, text=True, **kw)
