"""IAM engine benchmark (not a test): faas_pro.iam against pycasbin, ES256 verification and Role matching.

Generates 1,000 Roles and 1,000 Policies of 10 statements each (a mix of literal and wildcard
resources, about 1 statement in 10 a Deny), writes them as YAML, loads them with
``faas_pro.iam.load_iam`` and then, in one run:

1. decisions per second of ``IamSet.authorize`` for a fixed list of realistic questions (the
   policies a matched user's token carries, an action, a namespace and usually a function);
2. the same questions through pycasbin with an equivalent RBAC-with-domains model (``keyMatch``
   for the trailing-``*`` wildcards, explicit deny wins); every answer is checked to agree;
3. one ES256 signature verification by PyJWT, and a typical decision's cost against half of it;
4. Role matching for one token (``IamSet.match_roles``) at this size.

Every figure is the median of ``--reps`` repetitions. Run: ``python bench/iam_bench.py``.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from faas_pro.iam import ACTIONS, IamSet, load_iam  # noqa: E402

ISS = "https://idp.example.com"
N_NS = 50
WILDCARDS = ["Function:*", "Secret:*", "Namespace:*"]
QUESTION_ACTIONS = [a for a in ACTIONS if not a.startswith("System:")]  # System:Info needs `*`: no casbin twin


def generate(n_roles: int, n_policies: int, seed: int) -> tuple[str, list[dict[str, Any]]]:
    """YAML for the object set, and the claims of one user per Role."""
    rng = random.Random(seed)
    docs = [
        f"apiVersion: iam.openfaas.com/v1\nkind: JwtIssuer\nmetadata: {{name: idp}}\n"
        f"spec: {{iss: '{ISS}', aud: [openfaas], tokenExpiry: 1h}}\n"
    ]
    for p in range(n_policies):
        lines = [f"apiVersion: iam.openfaas.com/v1\nkind: Policy\nmetadata: {{name: policy-{p}}}\nspec:\n  statement:"]
        for s in range(10):
            ns = f"ns{rng.randrange(N_NS)}"
            kind = rng.random()
            if kind < 0.45:
                res = [f"{ns}:fn{rng.randrange(40)}", f"{ns}:fn{rng.randrange(40)}"]
            elif kind < 0.75:
                res = [f"{ns}:*"]
            elif kind < 0.95:
                res = [f"{ns}:api-*", f"{ns}:fn{rng.randrange(40)}"]
            else:
                res = ["*"]
            actions = rng.sample(ACTIONS, rng.randint(1, 3))
            if rng.random() < 0.2:
                actions = [rng.choice(WILDCARDS)]
            effect = "Deny" if rng.random() < 0.1 else "Allow"
            lines.append(f"  - {{sid: s{s}, effect: {effect}, action: {actions}, resource: {res}}}")
        docs.append("\n".join(lines) + "\n")
    users = []
    for r in range(n_roles):
        policies = [f"policy-{rng.randrange(n_policies)}" for _ in range(rng.randint(1, 3))]
        if r % 2 == 0:
            who = f"principal: {{jwt:sub: [user-{r}]}}"
            claims = {"iss": ISS, "sub": f"user-{r}", "groups": [f"group-{rng.randrange(n_roles)}"]}
        else:
            who = f"condition: {{ForAnyValue:StringEqual: {{jwt:groups: [group-{r}]}}}}"
            claims = {"iss": ISS, "sub": f"someone-{r}", "groups": ["everyone", f"group-{r}"]}
        docs.append(
            f"apiVersion: iam.openfaas.com/v1\nkind: Role\nmetadata: {{name: role-{r}}}\n"
            f"spec: {{policy: {policies}, {who}}}\n"
        )
        users.append(claims)
    return "---\n".join(docs), users


def questions(iam: IamSet, users: list[dict[str, Any]], n: int, seed: int) -> list[tuple[Any, ...]]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        claims = rng.choice(users)
        policies = iam.match_roles(claims).policies
        action = rng.choice(QUESTION_ACTIONS)
        ns = f"ns{rng.randrange(N_NS)}"
        fn = (
            None
            if action.endswith(":List") or action.startswith("Namespace:")
            else rng.choice([f"fn{rng.randrange(40)}", f"api-{rng.randrange(9)}"])
        )
        out.append((claims["sub"], policies, action, ns, fn))
    return out


CASBIN_MODEL = """
[request_definition]
r = sub, dom, obj, act

[policy_definition]
p = sub, dom, obj, act, eft

[role_definition]
g = _, _, _

[policy_effect]
e = some(where (p.eft == allow)) && !some(where (p.eft == deny))

[matchers]
m = g(r.sub, p.sub, r.dom) && keyMatch(r.dom, p.dom) && keyMatch(r.obj, p.obj) && keyMatch(r.act, p.act)
"""


def casbin_enforcer(iam: IamSet, users: list[dict[str, Any]]) -> Any:
    """The same objects for pycasbin: one p row per (statement, resource, action), g rows user -> policy.

    A namespace-level question (function None) is asked with obj ``*``: only a ``*`` function
    pattern matches it, as only a namespace-covering resource grants it in faas_pro.iam.
    System actions do not occur in the questions.
    """
    import casbin
    from casbin import util

    with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False) as f:
        f.write(CASBIN_MODEL)
    e = casbin.Enforcer(f.name)
    e.add_named_domain_matching_func("g", util.key_match)
    rows = []
    for policy in iam.policies.values():
        for st in policy.statements:
            for res in st.resources:
                dom, _, obj = res.pattern.partition(":")
                for act in st.actions:
                    rows.append([policy.name, dom, obj or "*", act, st.effect.lower()])
    e.add_policies(rows)
    grouping = []
    for claims in users:
        for p in iam.match_roles(claims).policies:
            grouping.append([claims["sub"], p, "*"])
    e.add_grouping_policies(grouping)
    return e, len(rows)


def median_rate(fn: Callable[[], int], reps: int) -> tuple[float, float]:
    """(median ops per second, median seconds per op)."""
    per_op = []
    for _ in range(reps):
        t0 = time.perf_counter()
        n = fn()
        per_op.append((time.perf_counter() - t0) / n)
    m = statistics.median(per_op)
    return 1 / m, m


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--roles", type=int, default=1000)
    ap.add_argument("--policies", type=int, default=1000)
    ap.add_argument("--questions", type=int, default=20000)
    ap.add_argument("--casbin-questions", type=int, default=300)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()

    text, users = generate(args.roles, args.policies, args.seed)
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "objects.yaml"
        path.write_text(text)
        t0 = time.perf_counter()
        iam = load_iam([path])
        load_s = time.perf_counter() - t0
    n_st = sum(len(p.statements) for p in iam.policies.values())
    print(f"objects: {len(iam.roles)} Roles, {len(iam.policies)} Policies, {n_st} statements; load {load_s:.2f} s")

    qs = questions(iam, users, args.questions, args.seed)
    allowed = sum(iam.authorize(p, a, ns, fn).allowed for _, p, a, ns, fn in qs)
    print(f"questions: {len(qs)} ({allowed} allowed), policies per token: {statistics.mean(len(q[1]) for q in qs):.1f}")

    def ours() -> int:
        authorize = iam.authorize
        for _, p, a, ns, fn in qs:
            authorize(p, a, ns, fn)
        return len(qs)

    ours_rate, ours_cost = median_rate(ours, args.reps)

    enforcer, n_rows = casbin_enforcer(iam, users)
    cq = qs[: args.casbin_questions]
    mismatches = sum(
        enforcer.enforce(sub, ns, fn or "*", a) != iam.authorize(p, a, ns, fn).allowed for sub, p, a, ns, fn in cq
    )

    def theirs() -> int:
        enforce = enforcer.enforce
        for sub, _, a, ns, fn in cq:
            enforce(sub, ns, fn or "*", a)
        return len(cq)

    casbin_rate, _ = median_rate(theirs, args.reps)

    import jwt
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    token = jwt.encode({"iss": ISS, "aud": "openfaas", "sub": "u", "exp": 2**31}, key, algorithm="ES256")
    public = key.public_key()

    def verify() -> int:
        for _ in range(300):
            jwt.decode(token, public, algorithms=["ES256"], audience="openfaas")
        return 300

    _, verify_cost = median_rate(verify, args.reps)

    rng = random.Random(args.seed + 1)
    tokens = [rng.choice(users) for _ in range(2000)]

    def match() -> int:
        for c in tokens:
            iam.match_roles(c)
        return len(tokens)

    _, match_cost = median_rate(match, args.reps)

    print(f"casbin: {n_rows} policy rows; answers checked on {len(cq)} questions: {mismatches} disagreements")
    print(f"faas_pro.iam   {ours_rate:12,.0f} decisions/s  ({ours_cost * 1e6:.2f} µs each)")
    print(f"pycasbin       {casbin_rate:12,.0f} decisions/s")
    print(f"ratio          {ours_rate / casbin_rate:12,.0f} x   (goal >= 50x)")
    print(
        f"ES256 verify   {verify_cost * 1e6:12.1f} µs (PyJWT); half = {verify_cost * 5e5:.1f} µs; "
        f"decision/half-verify = {ours_cost / (verify_cost / 2):.3f} (goal < 1)"
    )
    print(f"match_roles    {match_cost * 1e6:12.1f} µs per token at {len(iam.roles)} Roles (goal < 1000 µs)")
    if mismatches:
        sys.exit("the engines disagree: the comparison is not valid")


if __name__ == "__main__":
    main()
