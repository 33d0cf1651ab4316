"""faas-pro in this process, streams captured: the one place tests build ``Deps`` for a CLI run.

It reads the (suite-isolated) environment, so the config and data directories are the test's own.
"""

from __future__ import annotations

import io
import os
import time
from collections.abc import Callable
from pathlib import Path


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
