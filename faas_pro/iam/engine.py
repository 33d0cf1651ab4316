"""The loaded, precompiled object set: issuer lookup, Role matching and policy evaluation.

Evaluation (docs/iam.md; docs/security.md rule 4): default deny; an applicable ``Deny`` statement
wins over any ``Allow``, whatever the order of policies or statements; statements are OR-ed.
A statement applies when it covers the action, its resources match and its condition holds.

Decisions are values (:class:`~faas_pro.iam.model.Decision`) and evaluation never raises for bad
input: an unknown action, an invalid namespace or an unknown policy name is a denial with an error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cached_property
from types import MappingProxyType
from typing import Any

from faas_pro.iam.model import ACTIONS, Decision, JwtIssuer, Policy, Problem, Role, RoleResult

__all__ = ["IamSet", "RoleMatch"]

_ACTION_SET = frozenset(ACTIONS)
_EMPTY: Mapping[str, Any] = MappingProxyType({})


def _valid_name(value: object) -> bool:
    return isinstance(value, str) and value != "" and ":" not in value


class RoleMatch:
    """Which Roles matched a claims set. ``unmatched`` (with reasons) is computed on first use."""

    def __init__(self, iamset: IamSet, claims: Mapping[str, Any], matched: tuple[RoleResult, ...]) -> None:
        self._iamset = iamset
        self._claims = claims
        self.matched = matched
        self.policies: tuple[str, ...] = tuple(sorted({p for r in matched for p in r.policies}))

    @cached_property
    def unmatched(self) -> tuple[RoleResult, ...]:
        done = {r.role for r in self.matched}
        out = []
        for role in self._iamset.roles:
            if role.name not in done:
                reason = role.failure(self._claims) or "not matched"
                out.append(RoleResult(role.name, reason, False, role.policies))
        return tuple(out)

    def __repr__(self) -> str:
        return f"RoleMatch(matched={[r.role for r in self.matched]}, policies={list(self.policies)})"


class IamSet:
    """A consistent set of JwtIssuers, Policies and Roles (built by the loader; immutable)."""

    def __init__(
        self,
        issuers: Sequence[JwtIssuer],
        policies: Sequence[Policy],
        roles: Sequence[Role],
        warnings: Sequence[Problem] = (),
    ) -> None:
        self.issuers: Mapping[str, JwtIssuer] = MappingProxyType({i.iss: i for i in issuers})
        self.policies: Mapping[str, Policy] = MappingProxyType({p.name: p for p in policies})
        self.roles: Sequence[Role] = tuple(roles)
        self.warnings: tuple[Problem, ...] = tuple(warnings)
        self._index: dict[tuple[str, str], list[int]] = {}
        self._unindexed: list[int] = []
        self._build_index()

    # -- issuers ---------------------------------------------------------------------------------

    def issuer_for(self, iss: str) -> JwtIssuer | None:
        """The JwtIssuer whose ``iss`` is exactly ``iss`` (byte-exact, no normalisation)."""
        return self.issuers.get(iss) if isinstance(iss, str) else None

    # -- roles -----------------------------------------------------------------------------------

    def _build_index(self) -> None:
        """Index each Role by one exact-equality requirement, so a token only checks its candidates.

        The index only pre-selects; every candidate is then fully evaluated, so it can never make
        a Role match that would not.
        """
        for i, role in enumerate(self.roles):
            keys: list[tuple[str, str]] = []
            if role.principal is not None:
                keys = [("sub", v) for v in role.principal]
            elif role.condition is not None:
                for t in role.condition.tests:
                    if t.operator in ("StringEqual", "ForAnyValue:StringEqual"):
                        keys = [(t.claim, v) for v in t.values]
                        break
            if keys:
                for k in keys:
                    self._index.setdefault(k, []).append(i)
            else:
                self._unindexed.append(i)
        self._index_claims = tuple(sorted({c for c, _ in self._index}))

    def _candidates(self, claims: Mapping[str, Any]) -> list[int]:
        found: set[int] = set(self._unindexed)
        index = self._index
        for claim in self._index_claims:
            value = claims.get(claim)
            if isinstance(value, str):
                found.update(index.get((claim, value), ()))
            elif isinstance(value, list | tuple):
                for e in value:
                    if isinstance(e, str):
                        found.update(index.get((claim, e), ()))
        return sorted(found)

    def match_roles(self, claims: Mapping[str, Any]) -> RoleMatch:
        """Every Role that matches ``claims`` contributes its policies (union, sorted)."""
        if not isinstance(claims, Mapping):
            claims = _EMPTY
        matched = []
        for i in self._candidates(claims):
            role = self.roles[i]
            if role.failure(claims) is None:
                matched.append(RoleResult(role.name, role.why(), True, role.policies))
        return RoleMatch(self, claims, tuple(matched))

    # -- policies --------------------------------------------------------------------------------

    def authorize(
        self,
        policies: Sequence[str],
        action: str,
        namespace: str,
        function: str | None = None,
        claims: Mapping[str, Any] | None = None,
    ) -> Decision:
        """Decide ``action`` on ``namespace`` (``function=None``: the whole namespace) or on
        ``namespace:function`` for a token carrying ``policies``.

        A namespace-level decision needs a resource that covers every function of the namespace
        (``*``, ``<ns>:*``, ``<n*>``); System actions need a resource that covers everything (``*``).
        Statement conditions are evaluated on ``claims`` (the OpenFaaS token's claims); with no
        claims a conditional statement never applies.
        """
        target = namespace if function is None else f"{namespace}:{function}"
        if action not in _ACTION_SET:
            return _deny_error(f"unknown action {action!r}")
        if not _valid_name(namespace) or (function is not None and not _valid_name(function)):
            return _deny_error(f"invalid resource {target!r}")
        if isinstance(policies, str):
            policies = (policies,)
        if not isinstance(claims, Mapping):
            claims = _EMPTY
        allows: list[tuple[str, str]] = []
        denies: list[tuple[str, str]] = []
        errors: list[str] = []
        table = self.policies
        for name in policies:
            policy = table.get(name) if isinstance(name, str) else None
            if policy is None:
                errors.append(f"unknown policy {name!r} grants nothing")
                continue
            for st in policy.by_action.get(action, ()):
                if st.applies(action, namespace, function, claims):
                    (denies if st.effect == "Deny" else allows).append((name, st.sid))
        if denies:
            det = tuple(sorted(set(denies)))
            return Decision(False, det, tuple(errors), "denied by " + _names(det) + " (explicit Deny)")
        if allows:
            det = tuple(sorted(set(allows)))
            return Decision(True, det, tuple(errors), "allowed by " + _names(det))
        reason = f"denied by default: no statement allows {action} on {target}"
        return Decision(False, (), tuple(errors), reason)


def _names(det: tuple[tuple[str, str], ...]) -> str:
    return ", ".join(f"{p}/{s}" for p, s in det)


def _deny_error(message: str) -> Decision:
    return Decision(False, (), (message,), f"denied: {message}")
