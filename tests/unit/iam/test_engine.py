"""Policy evaluation and Role matching over tests/data/iam/set/, from decisions.yaml and roles.yaml."""

from __future__ import annotations

from typing import Any

import pytest

from faas_pro.iam import ACTIONS, Decision, IamSet, load_iam

from ._data import SET, case_id, table

DECISIONS = table("decisions.yaml")
ROLES = table("roles.yaml")


@pytest.fixture(scope="module")
def iam() -> IamSet:
    return load_iam([SET])


def _split(resource: str) -> tuple[str, str | None]:
    ns, sep, fn = resource.partition(":")
    return ns, (fn if sep else None)


@pytest.mark.parametrize("row", DECISIONS, ids=case_id)
def test_decision(iam: IamSet, row: dict[str, Any]) -> None:
    ns, fn = _split(row["resource"])
    d = iam.authorize(row["policies"], row["action"], ns, fn, row.get("claims"))
    assert isinstance(d, Decision)
    assert d.allowed is row["allowed"], d
    if "determining" in row:
        assert [f"{p}/{s}" for p, s in d.determining] == row["determining"]
    elif not d.allowed:
        assert all(p in ("deny-prod-delete", "deny-secret-fn", "conditional") for p, _ in d.determining)
    for expected in row.get("errors", ()):
        assert any(expected in e for e in d.errors), d.errors
    if "errors" not in row:
        assert d.errors == ()
    if "reason" in row:
        assert row["reason"] in d.reason
    if d.allowed:
        assert d.reason.startswith("allowed by ")


def test_every_action_family_and_wildcard_is_exercised() -> None:
    actions = {r["action"] for r in DECISIONS}
    for family in ("Function:", "Secret:", "Namespace:", "System:"):
        assert any(a.startswith(family) for a in actions)
    policies = load_iam([SET]).policies
    written = {a for p in policies.values() for s in p.statements for a in s.actions}
    assert {"*", "Function:*", "Secret:*", "Namespace:*"} <= written


def test_deny_wins_in_every_order(iam: IamSet) -> None:
    import itertools

    names = ["admin", "staging-rw", "deny-secret-fn", "prod-read"]
    for order in itertools.permutations(names):
        d = iam.authorize(list(order), "Function:Invoke", "staging", "secret-fn")
        assert not d.allowed and d.determining == (("deny-secret-fn", "not-this-one"),)
        d = iam.authorize(list(order), "Function:Invoke", "staging", "fn1")
        assert d.allowed and d.determining == (("admin", "all"), ("staging-rw", "rw"))


def test_a_string_is_one_policy_name(iam: IamSet) -> None:
    assert iam.authorize("admin", "Function:Get", "a", "b").allowed


@pytest.mark.parametrize("row", ROLES, ids=case_id)
def test_role_matching(iam: IamSet, row: dict[str, Any]) -> None:
    m = iam.match_roles(row["claims"])
    assert [r.role for r in m.matched] == row["matched"]
    assert list(m.policies) == row["policies"]
    assert all(r.reason.startswith("matched ") for r in m.matched)
    unmatched = {r.role: r.reason for r in m.unmatched}
    assert set(unmatched) | {r.role for r in m.matched} == {r.name for r in iam.roles}
    for role, reason in row.get("unmatched", {}).items():
        assert reason in unmatched[role], unmatched[role]


def test_issuer_for_is_byte_exact(iam: IamSet) -> None:
    gh = iam.issuer_for("https://token.actions.githubusercontent.com")
    assert gh is not None and gh.name == "github-actions"
    assert gh.aud == ("https://gateway.example.com",) and gh.token_expiry == 1800
    assert gh.iss_internal == "http://10.0.0.5:8080"
    idp = iam.issuer_for("https://idp.example.com")
    assert idp is not None and idp.token_expiry == 12 * 3600 and idp.iss_internal is None
    for near in ("https://idp.example.com/", "HTTPS://idp.example.com", "https://idp.example.com ", "idp.example.com"):
        assert iam.issuer_for(near) is None
    assert iam.issuer_for(None) is None  # type: ignore[arg-type]


def test_role_index_agrees_with_evaluating_every_role(iam: IamSet) -> None:
    """The Role index only pre-selects: its answer equals checking every Role."""
    import itertools

    values: dict[str, list[Any]] = {
        "iss": ["https://idp.example.com", "https://token.actions.githubusercontent.com", None, 1],
        "sub": ["alice", "bob", "repo:acme/app:ref:refs/heads/main", "repo:acme/app:environment:x", ["alice"]],
        "groups": [None, ["dev"], "dev", ["admin-x", "dev"], []],
        "repository_owner": [None, "acme"],
    }
    for combo in itertools.product(*values.values()):
        claims = {k: v for k, v in zip(values, combo, strict=True) if v is not None}
        expected = [r.name for r in iam.roles if r.failure(claims) is None]
        assert [r.role for r in iam.match_roles(claims).matched] == expected


def test_bad_claims_never_raise(iam: IamSet) -> None:
    claims: Any
    for claims in ({"sub": {"$ne": 1}}, {"groups": [[["dev"]]]}, {"iss": float("nan")}, [], None, "x"):
        assert iam.match_roles(claims).policies == ()
        for a in ACTIONS:
            assert isinstance(iam.authorize(["conditional"], a, "cond", "f", claims), Decision)
