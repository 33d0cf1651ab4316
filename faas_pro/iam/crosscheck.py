"""Checks across objects (the loader's fourth pass): what no single document can know.

Two objects of one kind with one name, two JwtIssuers with one ``iss``, a Role naming a Policy
that is not in the set. Reads the typed records of :mod:`faas_pro.iam.build`.
"""

from __future__ import annotations

from collections.abc import Sequence

from faas_pro.iam.build import Built, BuiltIssuer, BuiltPolicy, BuiltRole
from faas_pro.iam.model import Problem

__all__ = ["cross_check"]


def cross_check(built: Sequence[Built]) -> list[Problem]:
    problems: list[Problem] = []
    first_name: dict[tuple[str, str], Built] = {}
    first_iss: dict[str, BuiltIssuer] = {}
    for b in built:
        if b.name is not None and b.source.kind is not None:
            first = first_name.setdefault((b.source.kind, b.name.value), b)
            if first is not b and first.name is not None:
                problems.append(
                    b.source.problem(
                        b.name.line,
                        b.name.field,
                        f"duplicate {b.source.kind} name (first at {first.source.file}:{first.name.line})",
                    )
                )
        if isinstance(b, BuiltIssuer) and b.issuer is not None and b.iss is not None:
            seen = first_iss.setdefault(b.issuer.iss, b)
            if seen is not b and seen.iss is not None:
                problems.append(
                    b.source.problem(
                        b.iss.line,
                        b.iss.field,
                        f"{b.issuer.iss!r} is already used by {seen.source.kind}/{seen.source.name} "
                        f"({seen.source.file}:{seen.iss.line})",
                    )
                )
    policy_names = {b.name.value for b in built if isinstance(b, BuiltPolicy) and b.name is not None}
    for b in built:
        if isinstance(b, BuiltRole):
            for ref in b.policies:
                if ref.value not in policy_names:
                    problems.append(b.source.problem(ref.line, ref.field, f"no Policy named {ref.value!r}"))
    return problems
