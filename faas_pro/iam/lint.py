"""Lint rules: patterns that are broader than they look (SECURITY.md rule 4 and appendix B).

Warnings never stop a load; ``faas-pro iam validate`` prints them with ``warning:``.
"""

from __future__ import annotations

from faas_pro.iam.conditions import Condition
from faas_pro.iam.model import Role

__all__ = ["NON_BINDING_CLAIMS", "binds_subject", "broad_pattern", "long_expiry", "role_issuer"]

#: Claims that say nothing about *who* the token is for: a Role that tests only these, and has no
#: principal, would match every user of the issuer (Vault's bound-claims rule). Load error.
NON_BINDING_CLAIMS = frozenset(
    ("iss", "aud", "exp", "iat", "nbf", "jti", "typ", "auth_time", "amr", "acr", "scope", "scp")
)
_MAX_EXPIRY = 24 * 3600
# GitHub (repo:OWNER/REPO:...) and GitLab (project_path:GROUP/PROJECT:...) subject formats
_CI_SUBJECT_PREFIXES = ("repo:", "project_path:")


def binds_subject(condition: Condition) -> bool:
    """Whether the condition tests at least one identity claim."""
    return any(t.claim not in NON_BINDING_CLAIMS for t in condition.tests)


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
            f"spec.condition: does not test jwt:iss, so it matches tokens from any of the {issuer_count} "
            "JwtIssuers (add StringEqual jwt:iss)"
        ]
    return []
