"""Run the loader's passes by hand on a YAML text (for the per-pass unit tests)."""

from __future__ import annotations

from faas_pro.iam.build import Built, build
from faas_pro.iam.model import Problem
from faas_pro.iam.schema import Source
from faas_pro.iam.yamltree import documents

HEAD = "apiVersion: iam.openfaas.com/v1\n"


def built(text: str, file: str = "f.yaml") -> tuple[list[Built], list[Problem]]:
    """The typed records of every document of ``text``, and the per-document problems."""
    out: list[Built] = []
    problems: list[Problem] = []
    for doc in documents(text):
        src = Source(file, doc.line, doc.kind, doc.name)
        assert doc.error is None, doc.error.message
        b = build(src, doc.value)
        if b is not None:
            out.append(b)
        problems.extend(src.problems)
    return out, problems


def issuer(name: str, iss: str, expiry: str = "1h") -> str:
    return (
        f"{HEAD}kind: JwtIssuer\nmetadata: {{name: {name}}}\nspec: {{iss: '{iss}', aud: [a], tokenExpiry: {expiry}}}\n"
    )


def policy(name: str) -> str:
    return (
        f"{HEAD}kind: Policy\nmetadata: {{name: {name}}}\n"
        "spec: {statement: [{sid: a, effect: Allow, action: ['Function:List'], resource: ['*']}]}\n"
    )


def role(name: str, *policies: str, condition: str = "") -> str:
    cond = f"\n  condition: {condition}" if condition else ""
    return (
        f"{HEAD}kind: Role\nmetadata: {{name: {name}}}\nspec:\n  policy: [{', '.join(policies)}]\n"
        f"  principal: {{jwt:sub: [alice]}}{cond}\n"
    )
