"""The IAM set in force, reloaded when the files in ``--iam`` change.

On a request, at most once per ``interval`` seconds, the holder stats the configured paths
(names, sizes, mtimes of the YAML files). When that fingerprint changed it loads them again; a
set with errors is logged (every problem) and the last good set stays in force.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from faas_pro.iam import IamSet

Fingerprint = tuple[tuple[str, int, int], ...]


def fingerprint(paths: Sequence[Path]) -> Fingerprint:
    out: list[tuple[str, int, int]] = []
    for p in paths:
        candidates = [p]
        if p.is_dir():
            candidates = [c for c in p.rglob("*") if c.suffix in (".yaml", ".yml")]
            out.append((str(p), 0, _mtime(p)))
        for c in candidates:
            try:
                st = os.stat(c)
            except OSError:
                out.append((str(c), -1, -1))
                continue
            out.append((str(c), st.st_size, st.st_mtime_ns))
    return tuple(sorted(out))


def _mtime(p: Path) -> int:
    try:
        return os.stat(p).st_mtime_ns
    except OSError:
        return -1


class IamHolder:
    def __init__(
        self,
        paths: Sequence[Path],
        initial: IamSet,
        clock: Callable[[], float],
        log: Callable[[str], None],
        interval: float = 1.0,
    ) -> None:
        self._paths = tuple(paths)
        self._current = initial
        self._clock = clock
        self._log = log
        self._interval = interval
        self._checked = clock()
        self._fp = fingerprint(self._paths)

    def get(self) -> IamSet:
        now = self._clock()
        if now - self._checked >= self._interval:
            self._checked = now
            fp = fingerprint(self._paths)
            if fp != self._fp:
                self._fp = fp
                self._reload()
        return self._current

    def _reload(self) -> None:
        from faas_pro.iam import check_paths

        iam, problems = check_paths(self._paths)
        errors = [p for p in problems if getattr(p, "severity", "error") == "error"]
        if iam is None or errors:
            for p in errors:
                self._log(f"iam reload: {p}")
            self._log("iam reload: rejected; the last good IAM set stays in force")
            return
        self._current = iam
        counts = f"{len(iam.issuers)} issuer(s), {len(iam.policies)} policy(ies), {len(iam.roles)} role(s)"
        self._log(f"iam reload: loaded {counts}")
