"""Property tests: evaluation never raises, adding an Allow never removes a permission, adding a
Deny never adds one, and the order of policies does not matter."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from faas_pro.iam import ACTION_WILDCARDS, ACTIONS, Decision, IamSet, Policy, Resource, Statement, load_iam
from faas_pro.iam.conditions import ClaimTest, Condition

from ._data import SET

RESOURCES = ["*", "staging:*", "staging:fn1", "st*:*", "prod:api-*", "dev-?:*", "*:fn?", "prod:*", "*:*", "p*"]
NAMESPACES = ["staging", "prod", "dev-a", "dev-ab", "st", "x", "", "a:b", "*"]
FUNCTIONS = [None, "fn1", "fn2", "api-x", "", "a:b", "*"]
CONDITIONS = [
    None,
    Condition((ClaimTest("StringEqual", "email", ("a@x",)),)),
    Condition((ClaimTest("ForAnyValue:StringLike", "groups", ("d*",)),)),
]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=6,
)
claims_st = st.one_of(
    st.none(),
    st.dictionaries(st.sampled_from(["email", "groups", "sub", "iss"]), json_values | st.just("a@x"), max_size=4),
)
statement_st = st.builds(
    lambda sid, effect, actions, resources, cond: Statement(
        sid, effect, tuple(actions), tuple(map(Resource, resources)), cond
    ),
    st.text(alphabet="abc", min_size=1, max_size=3),
    st.sampled_from(["Allow", "Deny"]),
    st.lists(st.sampled_from(list(ACTIONS) + list(ACTION_WILDCARDS)), min_size=1, max_size=3),
    st.lists(st.sampled_from(RESOURCES), min_size=1, max_size=3),
    st.sampled_from(CONDITIONS),
)
policies_st = st.lists(st.lists(statement_st, min_size=1, max_size=4), min_size=0, max_size=4)
query_st = st.tuples(
    st.sampled_from([*ACTIONS, "Function:*", "bogus", ""]),
    st.sampled_from(NAMESPACES),
    st.sampled_from(FUNCTIONS),
    claims_st,
)


def _set(policies: list[list[Statement]]) -> tuple[IamSet, list[str]]:
    objs = [Policy(f"p{i}", tuple(sts)) for i, sts in enumerate(policies)]
    return IamSet([], objs, []), [p.name for p in objs]


def _ask(iam: IamSet, names: list[str], q: tuple[str, str, str | None, Any]) -> Decision:
    action, ns, fn, claims = q
    return iam.authorize([*names, "missing-policy"], action, ns, fn, claims)


@settings(max_examples=200, deadline=None)
@given(policies_st, st.lists(query_st, min_size=1, max_size=8))
def test_evaluation_never_raises_and_is_consistent(policies: list[list[Statement]], queries: list[Any]) -> None:
    iam, names = _set(policies)
    for q in queries:
        d = _ask(iam, names, q)
        assert isinstance(d, Decision)
        assert d.allowed == (bool(d.determining) and d.reason.startswith("allowed"))
        assert d.errors  # the unknown policy, or the bad action or resource
        assert _ask(iam, list(reversed(names)), q) == d  # order-independent


@settings(max_examples=200, deadline=None)
@given(policies_st, statement_st, st.lists(query_st, min_size=1, max_size=8), st.booleans())
def test_adding_allow_never_removes_and_adding_deny_never_adds(
    policies: list[list[Statement]], extra: Statement, queries: list[Any], as_new_policy: bool
) -> None:
    before, names = _set(policies)
    if as_new_policy or not policies:
        after, after_names = _set([*policies, [extra]])
    else:
        after, after_names = _set([[*policies[0], extra], *policies[1:]])
    for q in queries:
        was, now = _ask(before, names, q).allowed, _ask(after, after_names, q).allowed
        if extra.effect == "Allow":
            assert not was or now
        else:
            assert not now or was


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=8), json_values, max_size=6) | claims_st)
def test_role_matching_never_raises(claims: Any) -> None:
    iam = _SET
    m = iam.match_roles(claims)
    assert set(m.policies) <= set(iam.policies)
    assert len(m.matched) + len(m.unmatched) == len(iam.roles)


_SET = load_iam([SET])
