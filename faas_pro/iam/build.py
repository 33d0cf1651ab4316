"""Typed builders: one checked document -> a JwtIssuer, Policy or Role (the loader's third pass).

Each builder returns a record that keeps, besides the object (None when the document has an
error), the typed references the later passes need: where the name and ``iss`` were written, the
Policies a Role names, the values of its conditions. The cross-object checks
(:mod:`faas_pro.iam.crosscheck`) and lint (:mod:`faas_pro.iam.lint`) read those records, never
field paths as strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from faas_pro.iam.conditions import ALIASES, OPERATORS, ClaimTest, Condition
from faas_pro.iam.duration import DurationError, parse_duration
from faas_pro.iam.model import ACTION_WILDCARDS, ACTIONS, JwtIssuer, Policy, Resource, Role, Statement
from faas_pro.iam.schema import (
    At,
    Header,
    Source,
    expect_mapping,
    expect_string,
    expect_strings,
    read_header,
    type_name,
    unknown_keys,
)
from faas_pro.iam.yamltree import YMap, YSeq

__all__ = [
    "NON_BINDING_CLAIMS",
    "Built",
    "BuiltIssuer",
    "BuiltPolicy",
    "BuiltRole",
    "ConditionValue",
    "binds_subject",
    "build",
    "parse_resource",
]

_SPEC_KEYS = {
    "JwtIssuer": ("iss", "aud", "tokenExpiry", "issInternal"),
    "Policy": ("statement",),
    "Role": ("policy", "principal", "condition"),
}
_STATEMENT_KEYS = ("sid", "effect", "action", "resource", "condition")
_DEFAULT_EXPIRY = "1h"

#: Claims that say nothing about *who* the token is for: a Role that tests only these, and has no
#: principal, would match every user of the issuer (Vault's bound-claims rule). Load error.
NON_BINDING_CLAIMS = frozenset(
    ("iss", "aud", "exp", "iat", "nbf", "jti", "typ", "auth_time", "amr", "acr", "scope", "scp")
)


def binds_subject(condition: Condition) -> bool:
    """Whether the condition tests at least one identity claim."""
    return any(t.claim not in NON_BINDING_CLAIMS for t in condition.tests)


@dataclass(frozen=True)
class ConditionValue:
    """One value of a condition test, where it was written."""

    operator: str  # canonical (aliases resolved)
    claim: str  # without the jwt: prefix
    value: At[str]


@dataclass(frozen=True)
class _Built:
    source: Source
    name: At[str] | None
    namespace: At[Any] | None


@dataclass(frozen=True)
class BuiltIssuer(_Built):
    issuer: JwtIssuer | None
    iss: At[str] | None
    expiry: At[int] | None  # tokenExpiry in seconds, where written (the default: the spec's line)


@dataclass(frozen=True)
class BuiltPolicy(_Built):
    policy: Policy | None


@dataclass(frozen=True)
class BuiltRole(_Built):
    role: Role | None
    policies: tuple[At[str], ...]  # the Policy names, as written (checked across the set)
    values: tuple[ConditionValue, ...]  # every value of spec.condition
    condition_line: int  # where spec.condition is (the spec's line when there is none)


Built = BuiltIssuer | BuiltPolicy | BuiltRole


def build(src: Source, value: Any) -> Built | None:
    """Check and build one document; its problems are added to ``src``."""
    header = read_header(src, value)
    if header is None:
        return None
    unknown_keys(src, header.spec, _SPEC_KEYS[header.kind], "spec")
    if header.kind == "JwtIssuer":
        return _jwt_issuer(src, header)
    if header.kind == "Policy":
        return _policy(src, header)
    return _role(src, header)


def _conditions(src: Source, parent: YMap, key: str, path: str) -> tuple[Condition | None, list[ConditionValue]]:
    cond = expect_mapping(src, parent, key, path, required=False)
    values: list[ConditionValue] = []
    if cond is None:
        return None, values
    if not cond:
        src.error(cond.line, path, "must not be empty (leave it out instead)")
        return None, values
    tests: list[ClaimTest] = []
    for op_name, body in cond.items():
        op_path = f"{path}.{op_name}"
        operator = ALIASES.get(op_name, op_name)
        if operator not in OPERATORS:
            src.error(cond.line_of(op_name), op_path, f"unknown operator (expected one of {', '.join(OPERATORS)})")
            continue
        if not isinstance(body, YMap) or not body:
            src.error(
                cond.line_of(op_name),
                op_path,
                f"expected a non-empty mapping of jwt:<claim>: [values], got {type_name(body)}",
            )
            continue
        for claim_key in body:
            claim_path = f"{op_path}.{claim_key}"
            if not claim_key.startswith("jwt:") or len(claim_key) == 4:
                src.error(body.line_of(claim_key), claim_path, "claim keys are written jwt:<claim>, e.g. jwt:sub")
                continue
            found = expect_strings(src, body, claim_key, claim_path)
            if found is None:
                continue
            claim = claim_key[4:]
            # each value is reported at its own line, under its claim's path
            values.extend(ConditionValue(operator, claim, At(v.value, v.line, claim_path)) for v in found)
            tests.append(ClaimTest(operator, claim, tuple(v.value for v in found)))
    return (Condition(tuple(tests)) if tests else None), values


def parse_resource(pattern: str) -> str | None:
    """None when ``pattern`` is a valid resource, else what is wrong with it."""
    if any(c.isspace() for c in pattern):
        return "must not contain spaces"
    if pattern == "*":
        return None
    parts = pattern.split(":")
    if len(parts) == 1:
        return "expected *, <namespace>:* or <namespace>:<function>"
    if len(parts) > 2:
        return "has more than one ':' (expected <namespace>:<function>)"
    if not parts[0]:
        return "has an empty namespace"
    if not parts[1]:
        return "has an empty function name (use <namespace>:* for the whole namespace)"
    return None


def _expiry(src: Source, spec: YMap) -> At[int] | None:
    text = spec.get("tokenExpiry", _DEFAULT_EXPIRY)
    line, path = spec.line_of("tokenExpiry"), "spec.tokenExpiry"
    if not isinstance(text, str):
        src.error(line, path, f"expected a Go duration string such as 12h, got {type_name(text)}")
        return None
    try:
        ns = parse_duration(text)
    except DurationError as e:
        src.error(line, path, str(e))
        return None
    if ns < 1_000_000_000 or ns % 1_000_000_000:
        src.error(line, path, f"{text!r} must be a whole number of seconds, at least 1s")
        return None
    return At(ns // 1_000_000_000, line, path)


def _jwt_issuer(src: Source, h: Header) -> BuiltIssuer:
    spec = h.spec
    iss = expect_string(src, spec, "iss", "spec.iss")
    aud = expect_strings(src, spec, "aud", "spec.aud")
    expiry = _expiry(src, spec)
    internal = expect_string(src, spec, "issInternal", "spec.issInternal", required=False)
    if internal is not None and not internal.value.startswith(("http://", "https://")):
        src.error(internal.line, internal.field, f"expected an http(s) URL, got {internal.value!r}")
        internal = None
    issuer = None
    if h.name is not None and iss is not None and aud is not None and expiry is not None and not src.failed:
        issuer = JwtIssuer(
            h.name.value,
            iss.value,
            tuple(a.value for a in aud),
            expiry.value,
            internal.value if internal is not None else None,
            src.file,
            src.line,
        )
    return BuiltIssuer(src, h.name, h.namespace, issuer, iss, expiry)


def _statement(src: Source, st: YMap, path: str, line: int, sids: dict[str, int]) -> Statement | None:
    unknown_keys(src, st, _STATEMENT_KEYS, path)
    sid = expect_string(src, st, "sid", f"{path}.sid")
    if sid is not None:
        if sid.value in sids:
            src.error(sid.line, sid.field, f"duplicate sid {sid.value!r} (first at line {sids[sid.value]})")
        sids.setdefault(sid.value, sid.line)
    effect = expect_string(src, st, "effect", f"{path}.effect")
    if effect is not None and effect.value not in ("Allow", "Deny"):
        src.error(effect.line, effect.field, f"{effect.value!r} is not Allow or Deny (case matters)")
    actions = expect_strings(src, st, "action", f"{path}.action")
    for a in actions or ():
        if a.value not in ACTIONS and a.value not in ACTION_WILDCARDS:
            known = ", ".join((*ACTIONS, *ACTION_WILDCARDS))
            src.error(a.line, a.field, f"unknown action {a.value!r} (expected one of {known})")
    resources = expect_strings(src, st, "resource", f"{path}.resource")
    for r in resources or ():
        wrong = parse_resource(r.value)
        if wrong:
            src.error(r.line, r.field, f"resource {r.value!r} {wrong}")
    condition, _ = _conditions(src, st, "condition", f"{path}.condition")
    if src.failed or sid is None or effect is None or actions is None or resources is None:
        return None
    return Statement(
        sid.value,
        "Deny" if effect.value == "Deny" else "Allow",
        tuple(a.value for a in actions),
        tuple(Resource(r.value) for r in resources),
        condition,
        line,
    )


def _policy(src: Source, h: Header) -> BuiltPolicy:
    spec = h.spec
    raw = spec.get("statement")
    if raw is None:
        src.error(spec.line, "spec.statement", "is required (a list of statements)")
        return BuiltPolicy(src, h.name, h.namespace, None)
    if not isinstance(raw, YSeq) or not raw:
        src.error(
            spec.line_of("statement"),
            "spec.statement",
            f"expected a non-empty list of statements, got {type_name(raw)}",
        )
        return BuiltPolicy(src, h.name, h.namespace, None)
    statements: list[Statement] = []
    sids: dict[str, int] = {}
    for i, st in enumerate(raw):
        path = f"spec.statement[{i}]"
        if not isinstance(st, YMap):
            src.error(raw.lines[i], path, f"expected a mapping, got {type_name(st)}")
            continue
        statement = _statement(src, st, path, raw.lines[i], sids)
        if statement is not None:
            statements.append(statement)
    policy = None
    if h.name is not None and not src.failed:
        policy = Policy(h.name.value, tuple(statements), src.file, src.line)
    return BuiltPolicy(src, h.name, h.namespace, policy)


def _role(src: Source, h: Header) -> BuiltRole:
    spec = h.spec
    policies = expect_strings(src, spec, "policy", "spec.policy")
    principal: tuple[str, ...] | None = None
    pmap = expect_mapping(src, spec, "principal", "spec.principal", required=False)
    if pmap is not None:
        unknown_keys(src, pmap, ("jwt:sub",), "spec.principal")
        subs = expect_strings(src, pmap, "jwt:sub", "spec.principal.jwt:sub")
        if subs is not None:
            principal = tuple(s.value for s in subs)
    condition, values = _conditions(src, spec, "condition", "spec.condition")
    condition_line = spec.line_of("condition")
    if principal is None and condition is None and not src.failed:
        # judged on what was built, not on which keys are present: nothing must ever match every token
        src.error(spec.line, "spec", "a Role needs a principal, a condition or both (it would match every token)")
    elif principal is None and condition is not None and not binds_subject(condition):
        claims = ", ".join(sorted(f"jwt:{c}" for c in condition.claims()))
        src.error(
            condition_line,
            "spec.condition",
            f"without a principal the condition must bind the subject, but it only tests {claims}; "
            "add a principal or a condition on jwt:sub, jwt:email, jwt:groups or another identity claim",
        )
    role = None
    if h.name is not None and policies is not None and not src.failed:
        names = tuple(dict.fromkeys(p.value for p in policies))
        role = Role(h.name.value, names, principal, condition, src.file, src.line)
    return BuiltRole(src, h.name, h.namespace, role, tuple(policies or ()), tuple(values), condition_line)
