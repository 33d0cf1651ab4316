"""Lint: objects that are valid but broader than they look (the loader's last pass).

Warnings never stop a load; ``faas-pro iam validate`` prints them with ``warning:``. Lint looks
only at objects that loaded (an object with an error is reported for the error), through the
typed records of :mod:`faas_pro.iam.build`. The rules are listed in docs/iam.md ("Lint warnings").
"""

from __future__ import annotations

from collections.abc import Sequence

from faas_pro.iam.build import Built, BuiltIssuer, BuiltPolicy, BuiltRole
from faas_pro.iam.model import Problem, Role

__all__ = ["broad_pattern", "lint", "long_expiry", "role_issuer"]

OPENFAAS_NAMESPACE = "openfaas"
_MAX_EXPIRY = 24 * 3600
# GitHub (repo:OWNER/REPO:...) and GitLab (project_path:GROUP/PROJECT:...) subject formats
_CI_SUBJECT_PREFIXES = ("repo:", "project_path:")


def broad_pattern(claim: str, pattern: str) -> list[str]:
    """Warnings for a ``StringLike`` value in a Role."""
    out: list[str] = []
    if pattern and set(pattern) == {"*"}:
        out.append(f"{pattern!r} matches every value: any token with jwt:{claim} satisfies this test")
        return out
    for i, ch in enumerate(pattern):
        if ch == "*" and i > 0 and pattern[i - 1].isalnum():
            start = max(pattern.rfind(sep, 0, i) for sep in "/:@") + 1
            fixed = pattern[start:i]
            out.append(
                f"{pattern!r}: {fixed + '*'!r} also matches {fixed + '-evil'!r}; "
                "end the fixed part with a separator such as '/'"
            )
            break
    if claim == "sub" and pattern.startswith(_CI_SUBJECT_PREFIXES):
        second = pattern.find(":", pattern.index(":") + 1)
        star = pattern.find("*")
        if star >= 0 and (second < 0 or star < second):
            out.append(
                f"{pattern!r}: '*' crosses ':' (as in AWS IAM), so this matches every repository under the "
                "prefix and every ref, environment and pull_request of each; spell out the repository"
            )
    return out


def long_expiry(seconds: int) -> list[str]:
    if seconds > _MAX_EXPIRY:
        return [f"is {seconds / 3600:g}h; gateway tokens cannot be revoked, keep it at 24h or less"]
    return []


def role_issuer(role: Role, issuer_count: int) -> list[str]:
    """A Role that does not pin ``jwt:iss`` matches tokens of every trusted issuer."""
    if issuer_count > 1 and (role.condition is None or "iss" not in role.condition.claims()):
        return [
            f"does not test jwt:iss, so it matches tokens from any of the {issuer_count} "
            "JwtIssuers (add StringEqual jwt:iss)"
        ]
    return []


def lint(built: Sequence[Built]) -> list[Problem]:
    """Every warning for the objects of one set, in the order of ``built``."""
    loaded = [b for b in built if _loaded(b)]
    issuers = sum(isinstance(b, BuiltIssuer) for b in built)
    used = {ref.value for b in built if isinstance(b, BuiltRole) for ref in b.policies}
    any_role = any(isinstance(b, BuiltRole) for b in built)
    out: list[Problem] = []
    for b in loaded:
        src = b.source
        if b.namespace is not None and b.namespace.value != OPENFAAS_NAMESPACE:
            out.append(
                src.problem(
                    b.namespace.line,
                    b.namespace.field,
                    f"is {b.namespace.value!r}; OpenFaaS reads IAM objects from {OPENFAAS_NAMESPACE!r}",
                    "warning",
                )
            )
        if isinstance(b, BuiltIssuer) and b.expiry is not None:
            out.extend(src.problem(b.expiry.line, b.expiry.field, m, "warning") for m in long_expiry(b.expiry.value))
        elif isinstance(b, BuiltPolicy) and b.policy is not None:
            if any_role and b.policy.name not in used:
                out.append(src.problem(src.line, None, "no Role uses this Policy", "warning"))
        elif isinstance(b, BuiltRole) and b.role is not None:
            for v in b.values:
                if v.operator.endswith("StringLike"):
                    out.extend(
                        src.problem(v.value.line, v.value.field, m, "warning")
                        for m in broad_pattern(v.claim, v.value.value)
                    )
            line = b.condition_line if b.role.condition is not None else src.line
            out.extend(src.problem(line, "spec.condition", m, "warning") for m in role_issuer(b.role, issuers))
    return out


def _loaded(b: Built) -> bool:
    if isinstance(b, BuiltIssuer):
        return b.issuer is not None
    if isinstance(b, BuiltPolicy):
        return b.policy is not None
    return b.role is not None
