"""Every operator, missing claims and type confusion, from tests/data/iam/conditions.yaml."""

from __future__ import annotations

from typing import Any

import pytest

from faas_pro.iam.conditions import ALIASES, OPERATORS, ClaimTest, Condition, fold_case

from ._data import case_id, table

CASES = table("conditions.yaml")


@pytest.mark.parametrize("row", CASES, ids=case_id)
def test_condition_case(row: dict[str, Any]) -> None:
    operator = ALIASES.get(row["operator"], row["operator"])
    test = ClaimTest(operator, row["claim"], tuple(row["values"]))
    assert test.holds(row["claims"]) is row["match"]
    if not row["match"]:
        reason = test.failure(row["claims"])
        assert reason.startswith(f"{operator} jwt:{row['claim']}: ")
        if "reason" in row:
            assert row["reason"] in reason


def test_every_operator_is_covered() -> None:
    used = {ALIASES.get(r["operator"], r["operator"]) for r in CASES}
    assert used == set(OPERATORS)
    assert {r["operator"] for r in CASES} >= set(ALIASES)


def test_operators_and_keys_and_values_or() -> None:
    cond = Condition(
        (
            ClaimTest("StringEqual", "iss", ("https://a", "https://b")),
            ClaimTest("StringEqual", "email", ("x@example.com",)),
            ClaimTest("ForAnyValue:StringLike", "groups", ("dev-*",)),
        )
    )
    good = {"iss": "https://b", "email": "x@example.com", "groups": ["qa", "dev-1"]}
    assert cond.holds(good)
    assert cond.first_failure(good) is None
    for key, bad in (("iss", "https://c"), ("email", "y@example.com"), ("groups", ["qa"])):
        claims = {**good, key: bad}
        assert not cond.holds(claims)
        assert f"jwt:{key}" in (cond.first_failure(claims) or "")


def test_first_failure_is_the_first_in_order() -> None:
    cond = Condition((ClaimTest("StringEqual", "a", ("1",)), ClaimTest("StringEqual", "b", ("2",))))
    assert (cond.first_failure({}) or "").startswith("StringEqual jwt:a: claim is missing")
    assert (cond.first_failure({"a": "1"}) or "").startswith("StringEqual jwt:b: claim is missing")


def test_fold_case_is_one_to_one() -> None:
    assert fold_case("ÀB") == fold_case("àb")
    assert fold_case("ß") != fold_case("SS")
    assert fold_case("İ") != fold_case("i")


def test_reason_truncates_long_values() -> None:
    test = ClaimTest("StringEqual", "sub", ("alice",))
    reason = test.failure({"sub": "x" * 5000})
    assert len(reason) < 200
