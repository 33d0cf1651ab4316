"""Strict globs: SECURITY.md appendix B, every row, plus a reference-model property test."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from faas_pro.iam.conditions import ClaimTest
from faas_pro.iam.glob import Glob

from ._data import case_id, table

VECTORS = table("glob_vectors.yaml")


def _value(raw: Any) -> Any:
    if isinstance(raw, dict) and set(raw) == {"repeat", "times"}:
        return raw["repeat"] * raw["times"]
    return raw


@pytest.mark.parametrize("row", VECTORS, ids=case_id)
def test_appendix_b_vector(row: dict[str, Any]) -> None:
    value = _value(row["value"])
    operator = row.get("operator", "StringLike")
    test = ClaimTest(operator, "v", (row["pattern"],))
    assert test.holds({"v": value}) is row["match"]
    if operator == "StringLike":
        assert Glob(row["pattern"]).match(value) is row["match"]


def test_vectors_cover_appendix_b() -> None:
    patterns = {r["pattern"] for r in VECTORS}
    for p in (
        "staging:*",
        "repo:acme/*",
        "repo:acme*",
        "s[x]",
        "a?c",
        "a.c",
        "*",
        "*a*a*a*a*a*a*b",
        "x",
        "123",
        "true",
    ):
        assert p in patterns


def _reference(pattern: str, value: str) -> bool:
    """Textbook dynamic programming: obviously right, quadratic, never used in the product."""
    row = [True] + [False] * len(value)
    for c in pattern:
        nxt = [False] * (len(value) + 1)
        if c == "*":
            nxt[0] = row[0]
            for j in range(1, len(value) + 1):
                nxt[j] = row[j] or nxt[j - 1]
        else:
            for j in range(1, len(value) + 1):
                nxt[j] = row[j - 1] and (c == "?" or c == value[j - 1])
        row = nxt
    return row[-1]


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet="ab*?:[", max_size=9), st.text(alphabet="ab:[*?", max_size=12))
def test_glob_agrees_with_reference(pattern: str, value: str) -> None:
    assert Glob(pattern).match(value) is _reference(pattern, value)


def test_pathological_patterns_give_the_answer() -> None:
    long = "a" * 10000
    assert Glob("*a*a*a*a*a*a*b").match(long) is False
    assert Glob("*a*a*a*a*a*a*a").match(long) is True
    assert Glob("*?a?*a?*?a*" + "?" * 20 + "b").match(long) is False
    assert Glob("*" + "a?" * 50 + "*").match(long) is True
