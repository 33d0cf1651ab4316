"""Pass 4, checks across objects: duplicate names and issuers, Roles naming missing Policies."""

from __future__ import annotations

from faas_pro.iam.crosscheck import cross_check

from ._parts import built, issuer, policy, role


def test_a_clean_set_has_no_problems() -> None:
    records, _ = built("---\n".join([issuer("a", "https://a"), issuer("b", "https://b"), policy("p"), role("r", "p")]))
    assert cross_check(records) == []


def test_duplicate_names_per_kind_point_at_the_first() -> None:
    records, _ = built("---\n".join([policy("p"), policy("p"), role("p", "p")]), file="x.yaml")
    [problem] = cross_check(records)
    assert str(problem) == "x.yaml:8: Policy/p: metadata.name: duplicate Policy name (first at x.yaml:3)"


def test_two_issuers_with_one_iss() -> None:
    records, _ = built("---\n".join([issuer("a", "https://idp"), issuer("b", "https://idp")]))
    [problem] = cross_check(records)
    assert (problem.line, problem.kind, problem.name, problem.field) == (9, "JwtIssuer", "b", "spec.iss")
    assert problem.message == "spec.iss: 'https://idp' is already used by JwtIssuer/a (f.yaml:4)"


def test_every_missing_policy_reference_is_reported_at_its_item() -> None:
    records, _ = built("---\n".join([policy("p"), role("r", "p", "gone", "also-gone")]))
    problems = cross_check(records)
    assert [(p.field, p.message) for p in problems] == [
        ("spec.policy[1]", "spec.policy[1]: no Policy named 'gone'"),
        ("spec.policy[2]", "spec.policy[2]: no Policy named 'also-gone'"),
    ]
