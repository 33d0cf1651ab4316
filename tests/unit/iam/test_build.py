"""Pass 3, typed builders: each kind's object, and the typed references the later passes read."""

from __future__ import annotations

import pytest

from faas_pro.iam.build import BuiltIssuer, BuiltPolicy, BuiltRole, ConditionValue, binds_subject, parse_resource
from faas_pro.iam.conditions import ClaimTest, Condition
from faas_pro.iam.schema import At

from ._parts import HEAD, built, issuer, policy, role


def test_issuer_record_keeps_where_iss_and_expiry_were_written() -> None:
    [b], problems = built(issuer("i", "https://idp", "12h"))
    assert problems == [] and isinstance(b, BuiltIssuer) and b.issuer is not None
    assert (b.issuer.name, b.issuer.iss, b.issuer.aud, b.issuer.token_expiry) == ("i", "https://idp", ("a",), 43200)
    assert b.iss == At("https://idp", 4, "spec.iss") and b.expiry == At(43200, 4, "spec.tokenExpiry")
    [b], _ = built(issuer("i", "https://idp").replace(", tokenExpiry: 1h", ""))
    assert isinstance(b, BuiltIssuer) and b.expiry is not None and b.expiry.value == 3600  # the default


def test_policy_record() -> None:
    [b], problems = built(policy("p"))
    assert problems == [] and isinstance(b, BuiltPolicy) and b.policy is not None
    [st] = b.policy.statements
    assert (st.sid, st.effect, st.actions, st.line) == ("a", "Allow", ("Function:List",), 4)


def test_role_record_keeps_policy_references_and_condition_values() -> None:
    text = role("r", "p", "q", "p", condition="{StringLike: {jwt:email: ['*@x.com', a]}}")
    [b], problems = built(text)
    assert problems == [] and isinstance(b, BuiltRole) and b.role is not None
    assert b.role.policies == ("p", "q")  # de-duplicated in the object, every reference kept in the record
    assert b.policies == (At("p", 5, "spec.policy[0]"), At("q", 5, "spec.policy[1]"), At("p", 5, "spec.policy[2]"))
    field = "spec.condition.StringLike.jwt:email"
    assert b.values == (
        ConditionValue("StringLike", "email", At("*@x.com", 7, field)),
        ConditionValue("StringLike", "email", At("a", 7, field)),
    )
    assert b.condition_line == 7


def test_a_document_with_an_error_keeps_its_record_without_an_object() -> None:
    [b], problems = built(role("r", "p").replace("  principal: {jwt:sub: [alice]}\n", ""))
    assert isinstance(b, BuiltRole) and b.role is None
    assert b.policies == (At("p", 5, "spec.policy[0]"),)  # still checked across the set
    assert [p.field for p in problems] == ["spec"]


def test_an_invalid_name_still_gets_every_spec_problem() -> None:
    text = f"{HEAD}kind: Policy\nmetadata: {{name: P}}\nspec: {{statement: [{{sid: a, effect: allow}}]}}\n"
    [b], problems = built(text)
    assert isinstance(b, BuiltPolicy) and b.policy is None and b.name is None
    fields = [p.field for p in problems]
    assert (
        fields[0] == "metadata.name" and "spec.statement[0].effect" in fields and "spec.statement[0].action" in fields
    )


def test_a_role_without_a_principal_must_bind_the_subject() -> None:
    assert binds_subject(Condition((ClaimTest("StringEqual", "email", ("a",)),)))
    assert not binds_subject(
        Condition((ClaimTest("StringEqual", "iss", ("a",)), ClaimTest("StringEqual", "aud", ("b",))))
    )
    text = role("r", "p", condition="{StringEqual: {jwt:iss: [x]}}").replace("  principal: {jwt:sub: [alice]}\n", "")
    [b], problems = built(text)
    assert isinstance(b, BuiltRole) and b.role is None
    assert [p.field for p in problems] == ["spec.condition"] and "must bind the subject" in problems[0].message


@pytest.mark.parametrize(
    ("pattern", "wrong"),
    [
        ("*", None),
        ("staging:*", None),
        ("staging:fn-*", None),
        ("staging", "expected *, <namespace>:* or <namespace>:<function>"),
        ("a:b:c", "has more than one ':'"),
        (":fn", "has an empty namespace"),
        ("ns:", "has an empty function name"),
        ("ns: fn", "must not contain spaces"),
    ],
)
def test_parse_resource(pattern: str, wrong: str | None) -> None:
    got = parse_resource(pattern)
    assert (got is None) if wrong is None else (got is not None and got.startswith(wrong))
