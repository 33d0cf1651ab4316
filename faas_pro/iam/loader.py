"""YAML files -> a validated :class:`IamSet`, or the complete list of problems.

Files are Kubernetes-style documents (``apiVersion: iam.openfaas.com/v1``, ``kind``,
``metadata.name``, ``spec``), many per file; a directory stands for every ``*.yaml``/``*.yml``
below it (names starting with ``.`` are skipped, so a Kubernetes ConfigMap mount is read once).

The work is done in passes, one module each, so that a change to one concern touches one module:

1. :mod:`faas_pro.iam.yamltree`: YAML with line numbers (safe tags, no duplicate keys, bounds);
2. :mod:`faas_pro.iam.schema`: the shape of each document, and how its problems name it;
3. :mod:`faas_pro.iam.build`: typed builders, one per kind;
4. :mod:`faas_pro.iam.crosscheck`: duplicate names and issuers, Roles naming missing Policies;
5. :mod:`faas_pro.iam.lint`: warnings about objects broader than they look.

Every problem is collected, not only the first; when any error is found no IamSet is produced at
all: nothing half-loaded is ever used. Every problem reads ``file:line: kind/name: field: message``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from faas_pro.errors import FaasProError
from faas_pro.iam.build import Built, BuiltIssuer, BuiltPolicy, BuiltRole, build
from faas_pro.iam.crosscheck import cross_check
from faas_pro.iam.engine import IamSet
from faas_pro.iam.lint import lint
from faas_pro.iam.model import Problem
from faas_pro.iam.schema import API_VERSION, KINDS, Source
from faas_pro.iam.yamltree import MAX_DEPTH, MAX_NODES, YamlError, documents

__all__ = [
    "API_VERSION",
    "KINDS",
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "MAX_NODES",
    "IamLoadError",
    "check_paths",
    "load_iam",
]

MAX_FILE_BYTES = 4 * 1024 * 1024


class IamLoadError(FaasProError):
    """The IAM files have errors; ``problems`` lists every one (``warnings`` the lint warnings)."""

    def __init__(self, problems: Sequence[Problem], warnings: Sequence[Problem] = ()) -> None:
        self.problems = list(problems)
        self.warnings = list(warnings)
        n = len(self.problems)
        first = str(self.problems[0]) if self.problems else "no details"
        more = f" (and {n - 1} more)" if n > 1 else ""
        super().__init__(f"invalid IAM objects: {first}{more}", "run faas-pro iam validate for the full list")


# -- files ----------------------------------------------------------------------------------


def _files(paths: Sequence[str | Path], problems: list[Problem]) -> list[Path]:
    out: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            found = sorted(
                f
                for f in p.rglob("*")
                if f.suffix in (".yaml", ".yml")
                and f.is_file()
                and not any(part.startswith(".") for part in f.relative_to(p).parts)
            )
            if not found:
                problems.append(
                    Problem(str(p), None, None, None, None, "no *.yaml or *.yml files in this directory", "warning")
                )
            out.extend(found)
        elif p.is_file():
            out.append(p)
        else:
            problems.append(Problem(str(p), None, None, None, None, "no such file or directory"))
    return list(dict.fromkeys(out))


def _read(path: Path, problems: list[Problem]) -> str | None:
    try:
        with path.open("rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as e:
        problems.append(Problem(str(path), None, None, None, None, f"cannot read: {e.strerror or e}"))
        return None
    if len(data) > MAX_FILE_BYTES:
        problems.append(Problem(str(path), None, None, None, None, f"larger than {MAX_FILE_BYTES} bytes"))
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        problems.append(Problem(str(path), line, None, None, None, "not valid UTF-8"))
        return None


def _read_file(path: Path, problems: list[Problem], built: list[Built]) -> None:
    text = _read(path, problems)
    if text is None:
        return
    try:
        for doc in documents(text):
            src = Source(str(path), doc.line, doc.kind, doc.name)
            if doc.error is not None:
                src.error(doc.error.line, doc.error.field, doc.error.message)
            else:
                b = build(src, doc.value)
                if b is not None:
                    built.append(b)
            problems.extend(src.problems)
    except YamlError as e:
        problems.append(Problem(str(path), e.line, None, None, e.field, e.message))


def check_paths(paths: Sequence[str | Path]) -> tuple[IamSet | None, list[Problem]]:
    """Load and check every object under ``paths``; never raises for bad input.

    Returns the IamSet (None when there is any error) and every problem, errors and warnings,
    in file and line order.
    """
    problems: list[Problem] = []
    built: list[Built] = []
    files = _files(paths, problems)
    for path in files:
        _read_file(path, problems, built)
    problems.extend(cross_check(built))
    problems.extend(lint(built))
    order = {str(f): i for i, f in enumerate(files)}
    problems.sort(key=lambda p: (order.get(p.file, -1), p.line or 0))
    if any(p.severity == "error" for p in problems):
        return None, problems
    issuers = [b.issuer for b in built if isinstance(b, BuiltIssuer) and b.issuer is not None]
    policies = [b.policy for b in built if isinstance(b, BuiltPolicy) and b.policy is not None]
    roles = [b.role for b in built if isinstance(b, BuiltRole) and b.role is not None]
    return IamSet(issuers, policies, roles, [p for p in problems if p.severity == "warning"]), problems


def load_iam(paths: Sequence[str | Path]) -> IamSet:
    """Load every object under ``paths``; raise :class:`IamLoadError` listing every error."""
    iamset, problems = check_paths(paths)
    if iamset is None:
        raise IamLoadError(
            [p for p in problems if p.severity == "error"], [p for p in problems if p.severity == "warning"]
        )
    return iamset
