"""Pass 5, lint on its own: warnings for objects that loaded, each at the line of what it is about."""

from __future__ import annotations

from faas_pro.iam.lint import broad_pattern, lint, long_expiry

from ._parts import built, issuer, policy, role


def _warnings(*docs: str) -> list[str]:
    records, problems = built("---\n".join(docs))
    assert problems == []
    out = lint(records)
    assert all(p.severity == "warning" for p in out)
    return [str(p) for p in out]


def test_a_tidy_set_has_no_warnings() -> None:
    assert _warnings(issuer("i", "https://i"), policy("p"), role("r", "p")) == []


def test_each_rule_at_its_line() -> None:
    assert _warnings(issuer("i", "https://i", "48h")) == [
        "f.yaml:4: JwtIssuer/i: warning: spec.tokenExpiry: "
        "is 48h; gateway tokens cannot be revoked, keep it at 24h or less"
    ]
    assert _warnings(policy("p"), policy("q"), role("r", "p")) == [
        "f.yaml:6: Policy/q: warning: no Role uses this Policy"
    ]
    assert _warnings(policy("p")) == []  # without Roles nothing can be unused
    got = _warnings(policy("p"), role("r", "p", condition="{ForAnyValue:StringLike: {jwt:groups: ['*']}}"))
    assert got == [
        "f.yaml:12: Role/r: warning: spec.condition.ForAnyValue:StringLike.jwt:groups: "
        "'*' matches every value: any token with jwt:groups satisfies this test"
    ]
    got = _warnings(issuer("a", "https://a"), issuer("b", "https://b"), policy("p"), role("r", "p"))
    assert len(got) == 1 and got[0].startswith("f.yaml:16: Role/r: warning: spec.condition: does not test jwt:iss")
    ns = policy("p").replace("{name: p}", "{name: p, namespace: default}")
    assert _warnings(ns) == [
        "f.yaml:3: Policy/p: warning: metadata.namespace: is 'default'; OpenFaaS reads IAM objects from 'openfaas'"
    ]


def test_objects_with_errors_are_not_linted() -> None:
    records, problems = built(issuer("i", "https://i", "48h").replace("aud: [a]", "aud: []"))
    assert problems and lint(records) == []


def test_rules_as_functions() -> None:
    assert long_expiry(24 * 3600) == []
    assert broad_pattern("sub", "repo:acme/app:ref:refs/heads/main") == []
    assert len(broad_pattern("sub", "repo:acme*")) == 2
