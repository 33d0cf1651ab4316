"""`faas-pro iam validate | explain | can-i`: check IAM objects before you apply them."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import typer

from faas_pro.cli._common import deps_of

if TYPE_CHECKING:  # pragma: no cover
    from faas_pro.iam import Explanation

app = typer.Typer(help="Check IAM objects (JwtIssuer, Policy, Role) before you apply them.", no_args_is_help=True)

PATHS_HELP = "IAM object files, or directories of *.yaml/*.yml files."
UNVERIFIED = "UNVERIFIED: the token was decoded without checking its signature"
_TOKEN_FILE = typer.Option(None, "--token-file", help="A file holding an IdP token (JWT); decoded, not verified.")
_TOKEN_ENV = typer.Option(None, "--token-env", metavar="VAR", help="An environment variable holding an IdP token.")
_CLAIMS_FILE = typer.Option(None, "--claims-file", help="A JSON file with the token's claims.")
_GATEWAY = typer.Option(
    None, "--gateway", "-g", help="Gateway URL, the OpenFaaS token's iss/aud for statement conditions."
)


@app.command("validate")
def validate(ctx: typer.Context, paths: list[str] = typer.Argument(..., metavar="PATH...", help=PATHS_HELP)) -> None:
    """Check IAM object files: print every problem as file:line: kind/name: message; exit 0 only without errors."""
    from faas_pro.errors import FaasProError
    from faas_pro.usecases.iam_check import validate as check

    deps = deps_of(ctx)
    ok, problems = check(paths)
    for p in problems:
        print(p, file=deps.stdout)
    errors = sum(p.severity == "error" for p in problems)
    warnings = len(problems) - errors
    if not ok:
        raise FaasProError(f"{errors} error(s), {warnings} warning(s): the IAM objects are not valid")
    print(f"ok: no errors, {warnings} warning(s)", file=deps.stderr)


@app.command("explain")
def explain(
    ctx: typer.Context,
    paths: list[str] = typer.Argument(..., metavar="PATH...", help=PATHS_HELP),
    token_file: str | None = _TOKEN_FILE,
    token_env: str | None = _TOKEN_ENV,
    claims_file: str | None = _CLAIMS_FILE,
    as_json: bool = typer.Option(False, "--json", help="Print a JSON document (versioned) instead of text."),
    gateway: str | None = _GATEWAY,
) -> None:
    """Show which issuer, Roles and policies a token (or claims) would get, and what they allow per namespace."""
    from faas_pro.usecases.iam_check import ClaimsSource, explain_claims, read_claims

    deps = deps_of(ctx)
    claims, from_token = read_claims(ClaimsSource(token_file, token_env, claims_file), deps.env)
    if from_token:
        print(UNVERIFIED, file=deps.stderr)
    result = explain_claims(paths, claims, deps.gateway(gateway))
    if as_json:
        print(json.dumps(result.to_json(), indent=2, sort_keys=True), file=deps.stdout)
    else:
        print(render_explanation(result), file=deps.stdout)


@app.command("can-i")
def can_i(
    ctx: typer.Context,
    action: str = typer.Argument(..., help="One action, e.g. Function:Invoke or Namespace:List."),
    resource: str = typer.Argument(..., help="<namespace> or <namespace>:<function>."),
    paths: list[str] = typer.Argument(..., metavar="PATH...", help=PATHS_HELP),
    token_file: str | None = _TOKEN_FILE,
    token_env: str | None = _TOKEN_ENV,
    claims_file: str | None = _CLAIMS_FILE,
    policy: list[str] | None = typer.Option(
        None, "--policy", help="A policy name an OpenFaaS token carries (repeatable)."
    ),
    show_reason: bool = typer.Option(False, "-v", "--show-reason", help="Print the deciding statement on stderr."),
    gateway: str | None = _GATEWAY,
) -> None:
    """Answer yes (exit 0) or no (exit 4): may this token, claims set or list of policies do ACTION on RESOURCE?"""
    from faas_pro.errors import EXIT_DENIED, UsageError
    from faas_pro.usecases.iam_check import CanIInput, ClaimsSource, read_claims
    from faas_pro.usecases.iam_check import can_i as decide

    deps = deps_of(ctx)
    source = ClaimsSource(token_file, token_env, claims_file)
    if (source.given() > 0) == bool(policy) or source.given() > 1:
        raise UsageError("give exactly one of --token-file, --token-env, --claims-file or --policy NAME...")
    claims = None
    if source.given():
        claims, from_token = read_claims(source, deps.env)
        if from_token:
            print(UNVERIFIED, file=deps.stderr)
    gw = deps.gateway(gateway)
    out = decide(CanIInput(paths, action, resource, claims, tuple(policy or ()), gw))
    print("yes" if out.allowed else "no", file=deps.stdout)
    for error in out.errors:
        print(f"warning: {error}", file=deps.stderr)
    if show_reason:
        if claims is not None:
            print(
                f"roles: {', '.join(out.roles) or '(none)'}; policies: {', '.join(out.policies) or '(none)'}",
                file=deps.stderr,
            )
        print(out.reason, file=deps.stderr)
    if not out.allowed:
        raise typer.Exit(EXIT_DENIED)


def render_explanation(e: Explanation) -> str:
    """The text form of ``faas-pro iam explain``."""
    lines = []
    if e.issuer is not None:
        lines.append(f"Issuer:    JwtIssuer/{e.issuer.name} ({e.iss})")
        aud = "accepted" if e.audience_ok else f"NOT accepted (JwtIssuer accepts {', '.join(e.issuer.aud)})"
        lines.append(f"Audience:  {aud}")
    else:
        lines.append(f"Issuer:    none configured for iss {e.iss!r}")
    lines.append(f"Subject:   {e.sub if e.sub is not None else '(none)'}")
    lines.append("Roles matched:" if e.matched else "Roles matched: none")
    lines.extend(f"  + {r.role}: {r.reason} -> {', '.join(r.policies)}" for r in e.matched)
    if e.unmatched:
        lines.append("Roles not matched:")
        lines.extend(f"  - {r.role}: {r.reason}" for r in e.unmatched)
    if e.refused:
        lines.append(f"Exchange:  refused: {e.refused}")
        return "\n".join(lines)
    lines.append(f"Policies:  {', '.join(e.policies)}")
    lines.append("Access (namespace '*' means any namespace):")
    if not e.access:
        lines.append("  nothing is allowed")
    for row in e.access:
        lines.append(f"  {row.namespace}:")
        lines.append(f"    whole namespace: {', '.join(row.whole_namespace) or '-'}")
        for act, fn in row.functions:
            lines.append(f"    {act} on {row.namespace}:{fn}")
        for act, fn in row.denied:
            lines.append(f"    except {act} on {row.namespace}:{fn} (explicit Deny)")
    return "\n".join(lines)
