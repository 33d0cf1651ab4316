"""Condition operators on JWT claims (Role ``principal``/``condition``, Statement ``condition``).

Semantics (docs/iam.md; docs/security.md rule 4):

- different operators AND, different claims under one operator AND, values of one claim OR;
- a missing claim, or a claim of the wrong type, never matches; there is no coercion
  (the number ``123`` is not the string ``"123"``, ``true`` is not ``"true"``);
- ``StringEqual`` (alias ``StringEquals``), ``StringEqualIgnoreCase`` and ``StringLike`` need a
  string claim; a list claim needs the ``ForAnyValue:`` operators, for which a string claim counts
  as a one-element list and non-string elements never match;
- ``StringEqualIgnoreCase`` folds case one character at a time (like Go's ``strings.EqualFold``:
  ``ß`` is not ``ss``); there is no Unicode normalisation anywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from faas_pro.iam.glob import Glob, is_literal

__all__ = ["ALIASES", "OPERATORS", "ClaimTest", "Condition", "describe_value", "fold_case"]

OPERATORS = (
    "StringEqual",
    "StringEqualIgnoreCase",
    "StringLike",
    "ForAnyValue:StringEqual",
    "ForAnyValue:StringLike",
)
ALIASES = {"StringEquals": "StringEqual"}


def fold_case(s: str) -> str:
    """Simple (one-to-one) case folding: each character's upper then lower case, when single."""
    if s.isascii():
        return s.lower()
    out = []
    for ch in s:
        up = ch.upper()
        if len(up) == 1:
            ch = up
        low = ch.lower()
        out.append(low if len(low) == 1 else ch)
    return "".join(out)


def describe_value(value: Any) -> str:
    """A short, type-revealing description of a claim value for reasons ("a number 123")."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"a boolean {'true' if value else 'false'}"
    if isinstance(value, int | float):
        return f"a number {value!r}"
    if isinstance(value, str):
        text = value if len(value) <= 60 else value[:57] + "..."
        return repr(text)
    if isinstance(value, list | tuple):
        return f"a list of {len(value)}"
    if isinstance(value, Mapping):
        return "an object"
    return f"a {type(value).__name__}"


def _values_text(values: Sequence[str]) -> str:
    shown = ", ".join(repr(v) for v in values[:5])
    return f"[{shown}, …]" if len(values) > 5 else f"[{shown}]"


@dataclass(frozen=True)
class ClaimTest:
    """One ``Operator: {jwt:<claim>: [values]}`` entry: the claim must match one of the values."""

    operator: str  # canonical name (aliases resolved)
    claim: str  # the claim name, without the ``jwt:`` prefix
    values: tuple[str, ...]
    _check: Callable[[Any], bool] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_check", _compile(self.operator, self.values))

    @property
    def key(self) -> str:
        return f"jwt:{self.claim}"

    def holds(self, claims: Mapping[str, Any]) -> bool:
        value = claims.get(self.claim)
        return value is not None and self._check(value)

    def failure(self, claims: Mapping[str, Any]) -> str:
        """Why this test does not hold for ``claims`` (call only when it does not)."""
        head = f"{self.operator} {self.key}"
        if self.claim not in claims:
            return f"{head}: claim is missing"
        value = claims[self.claim]
        is_list = isinstance(value, list | tuple)
        if self.operator.startswith("ForAnyValue:"):
            if not (isinstance(value, str) or is_list):
                return f"{head}: claim is {describe_value(value)}, expected a string or a list of strings"
            return f"{head}: no element of {describe_value(value)} matches {_values_text(self.values)}"
        if not isinstance(value, str):
            hint = f" (use ForAnyValue:{self.operator.removesuffix('IgnoreCase')})" if is_list else ""
            return f"{head}: claim is {describe_value(value)}, expected a string{hint}"
        return f"{head}: {describe_value(value)} matches none of {_values_text(self.values)}"


def _compile(operator: str, values: tuple[str, ...]) -> Callable[[Any], bool]:
    if operator == "StringEqual":
        exact = frozenset(values)
        return lambda v: isinstance(v, str) and v in exact
    if operator == "StringEqualIgnoreCase":
        folded = frozenset(fold_case(x) for x in values)
        return lambda v: isinstance(v, str) and fold_case(v) in folded
    if operator == "StringLike":
        like = _like(values)
        return lambda v: isinstance(v, str) and like(v)
    if operator == "ForAnyValue:StringEqual":
        exact = frozenset(values)

        def any_equal(v: Any) -> bool:
            if isinstance(v, str):
                return v in exact
            return isinstance(v, list | tuple) and any(isinstance(e, str) and e in exact for e in v)

        return any_equal
    if operator == "ForAnyValue:StringLike":
        like = _like(values)

        def any_like(v: Any) -> bool:
            if isinstance(v, str):
                return like(v)
            return isinstance(v, list | tuple) and any(isinstance(e, str) and like(e) for e in v)

        return any_like
    raise ValueError(f"unknown operator {operator!r}")  # the loader only builds known operators


def _like(values: tuple[str, ...]) -> Callable[[str], bool]:
    exact = frozenset(v for v in values if is_literal(v))
    globs = tuple(Glob(v) for v in values if not is_literal(v))
    if not globs:
        return exact.__contains__
    return lambda s: s in exact or any(g.match(s) for g in globs)


@dataclass(frozen=True)
class Condition:
    """All tests must hold (AND); each test is an OR over its values."""

    tests: tuple[ClaimTest, ...]

    def holds(self, claims: Mapping[str, Any]) -> bool:
        return all(t.holds(claims) for t in self.tests)

    def first_failure(self, claims: Mapping[str, Any]) -> str | None:
        for t in self.tests:
            if not t.holds(claims):
                return t.failure(claims)
        return None

    def claims(self) -> frozenset[str]:
        return frozenset(t.claim for t in self.tests)
