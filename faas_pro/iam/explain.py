"""What a claims set would get: issuer, Roles (and why), policies, and access per namespace.

For ``faas-pro iam explain``. The claims are not verified here (the CLI says so); this decides
as the exchange would on the policy side: the token's ``iss`` must be a configured JwtIssuer and
its ``aud`` accepted by it, and at least one Role must match, or no OpenFaaS token is issued.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from faas_pro.iam.engine import IamSet
from faas_pro.iam.model import (
    ACTION_WILDCARDS,
    ACTIONS,
    NAMESPACE_LEVEL_ACTIONS,
    SYSTEM_ACTIONS,
    JwtIssuer,
    RoleResult,
)

__all__ = ["Explanation", "NamespaceAccess", "audience_accepted", "explain", "gateway_claims"]

_JSON_VERSION = 1


def audience_accepted(issuer: JwtIssuer, claims: Mapping[str, Any]) -> bool:
    """As the verifier decides: ``aud`` a string or non-empty list of strings, every entry accepted."""
    aud = claims.get("aud")
    auds = [aud] if isinstance(aud, str) else aud
    if not isinstance(auds, list) or not auds or not all(isinstance(a, str) for a in auds):
        return False
    return all(a in issuer.aud for a in auds)


def gateway_claims(
    upstream: Mapping[str, Any], policies: tuple[str, ...], gateway: str | None = None
) -> dict[str, Any]:
    """The claims the OpenFaaS token would carry (docs/server.md), for statement conditions."""
    out = dict(upstream)
    out["sub"] = f"fed:{upstream.get('sub')}"
    out["fed:iss"] = upstream.get("iss")
    out["policy"] = list(policies)
    if gateway is not None:
        out["iss"] = out["aud"] = gateway
    return out


def _short(actions: list[str]) -> tuple[str, ...]:
    """Collapse complete families into their wildcard (``Function:*``), ``*`` for everything."""
    have = set(actions)
    if have >= ACTION_WILDCARDS["*"]:
        return ("*",)
    out: list[str] = []
    for wildcard, members in ACTION_WILDCARDS.items():
        if wildcard != "*" and members <= have:
            out.append(wildcard)
            have -= members
    out.extend(a for a in ACTIONS if a in have)
    return tuple(out)


@dataclass(frozen=True)
class NamespaceAccess:
    """Access in one namespace (as the policies name it; ``*`` stands for any other namespace)."""

    namespace: str
    whole_namespace: tuple[str, ...]  # actions allowed on the namespace and every function in it
    functions: tuple[tuple[str, str], ...]  # (action, function pattern) allowed for some functions only
    denied: tuple[tuple[str, str], ...] = ()  # (action, function pattern) carved out by an explicit Deny

    def to_json(self) -> dict[str, Any]:
        return {
            "namespace": self.namespace,
            "whole_namespace": list(self.whole_namespace),
            "functions": [{"action": a, "function": f} for a, f in self.functions],
            "denied": [{"action": a, "function": f} for a, f in self.denied],
        }


@dataclass(frozen=True)
class Explanation:
    iss: str | None
    issuer: JwtIssuer | None
    audience_ok: bool
    sub: str | None
    matched: tuple[RoleResult, ...]
    unmatched: tuple[RoleResult, ...]
    policies: tuple[str, ...]  # what the OpenFaaS token would carry (empty when refused)
    refused: str | None  # why the exchange would refuse the token, or None
    access: tuple[NamespaceAccess, ...]

    def to_json(self) -> dict[str, Any]:
        """A stable, versioned document for ``--json``."""
        issuer = None
        if self.issuer is not None:
            i = self.issuer
            issuer = {"name": i.name, "iss": i.iss, "aud": list(i.aud), "token_expiry": i.token_expiry}
        return {
            "version": _JSON_VERSION,
            "verified": False,
            "iss": self.iss,
            "sub": self.sub,
            "issuer": issuer,
            "audience_ok": self.audience_ok,
            "roles": {
                "matched": [{"role": r.role, "reason": r.reason, "policies": list(r.policies)} for r in self.matched],
                "unmatched": [{"role": r.role, "reason": r.reason} for r in self.unmatched],
            },
            "policies": list(self.policies),
            "refused": self.refused,
            "access": [a.to_json() for a in self.access],
        }


def _access(iamset: IamSet, policies: tuple[str, ...], claims: Mapping[str, Any]) -> tuple[NamespaceAccess, ...]:
    """Per namespace named in the policies' resources: what is allowed on all of it (a
    namespace-level decision), on some functions only, and what an explicit Deny carves out."""
    namespaces: set[str] = set()
    fn_patterns: dict[str, set[str]] = {}
    for name in policies:
        policy = iamset.policies.get(name)
        for st in policy.statements if policy else ():
            for r in st.resources:
                ns, _, fn = r.pattern.partition(":")
                namespaces.add(ns)
                if fn and fn != "*":
                    fn_patterns.setdefault(ns, set()).add(fn)
    rows = []
    for ns in sorted(namespaces):
        whole = [a for a in ACTIONS if iamset.authorize(policies, a, ns, None, claims).allowed]
        some: list[tuple[str, str]] = []
        denied: list[tuple[str, str]] = []
        for fn in sorted(fn_patterns.get(ns, ())):
            for a in ACTIONS:
                if a in NAMESPACE_LEVEL_ACTIONS or a in SYSTEM_ACTIONS:
                    continue
                allowed = iamset.authorize(policies, a, ns, fn, claims).allowed
                if a in whole and not allowed:
                    denied.append((a, fn))
                elif a not in whole and allowed:
                    some.append((a, fn))
        if whole or some:
            rows.append(NamespaceAccess(ns, _short(whole), tuple(some), tuple(denied)))
    return tuple(rows)


def explain(iamset: IamSet, claims: Mapping[str, Any], gateway: str | None = None) -> Explanation:
    """Explain what an IdP token with ``claims`` would get through the exchange and the gateway."""
    iss = claims.get("iss")
    iss_text = iss if isinstance(iss, str) else None
    sub = claims.get("sub")
    issuer = iamset.issuer_for(iss_text) if iss_text is not None else None
    audience_ok = issuer is not None and audience_accepted(issuer, claims)
    match = iamset.match_roles(claims)
    refused: str | None = None
    if issuer is None:
        refused = f"no JwtIssuer is configured for iss {iss!r}" if iss is not None else "the token has no iss claim"
    elif not audience_ok:
        refused = f"aud {claims.get('aud')!r} is not accepted by JwtIssuer/{issuer.name} (accepts {list(issuer.aud)})"
    elif not match.policies:
        refused = f"no Role matches (the exchange answers: No policies found for subject: {sub})"
    policies = () if refused else match.policies
    access = _access(iamset, policies, gateway_claims(claims, policies, gateway)) if policies else ()
    return Explanation(
        iss_text,
        issuer,
        audience_ok,
        sub if isinstance(sub, str) else None,
        match.matched,
        match.unmatched,
        policies,
        refused,
        access,
    )
