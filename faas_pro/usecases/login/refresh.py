"""Refresh policy: when a saved refresh token may be spent, when another run's fresh tokens are used
instead, and when the login that follows a refused refresh token cannot happen here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from faas_pro.usecases.login.finish import check_printable
from faas_pro.usecases.login.output import LoginOutput, claim_str, describe_gateway_token, display_name

if TYPE_CHECKING:  # pragma: no cover
    from faas_pro.storage.entry import TokenEntry
    from faas_pro.usecases.login.context import Run
    from faas_pro.usecases.login.plan import Plan


def can_refresh(plan: Plan, entry: TokenEntry | None) -> bool:
    """A refresh token is saved for this issuer and client, and the plan lets it be spent."""
    return bool(entry and entry.refreshable_by(plan.authority, plan.client_id) and plan.may_refresh())


def reuse(run: Run, entry: TokenEntry) -> LoginOutput | None:
    """The tokens another run saved while this one waited for the lock, when they are still good."""
    from faas_pro import tokens

    plan, inp, deps = run.plan, run.inp, run.deps
    value = (entry.idp_access_token or entry.idp_id_token) if inp.no_exchange else entry.openfaas_token
    if not value:
        return None
    try:
        _, claims = tokens.decode_unverified(value)  # verified by the run that saved it
    except tokens.TokenError:
        return None
    if tokens.is_expired(claims, deps.clock()):
        return None
    check_printable(inp, value)
    out = LoginOutput(
        gateway=plan.gateway,
        issuer=plan.authority,
        subject=claim_str(claims, "sub"),
        display_name=display_name(claims),
        grant=plan.grant,
        exchanged=not inp.no_exchange,
        saved_backend=deps.secrets().backend_of(plan.gateway),
        how="reused",
        token=value,
    )
    if not inp.no_exchange:
        describe_gateway_token(out, claims)
    return out


def cannot_log_in_again(run: Run) -> tuple[str, str] | None:
    """Why the login that follows a refused refresh token cannot happen here (reason, hint), or None.

    Without a terminal a browser may still be opened and its callback waited for (and a device code
    shown on stderr); what never happens without one is prompting (the paste-back). With ``CI`` set
    nothing interactive happens at all.
    """
    from faas_pro.oauth.flows import BROWSER_GRANTS

    plan, deps = run.plan, run.deps
    if deps.env.get("CI"):
        return "CI is set", f"run faas-pro auth -g {plan.gateway} outside CI (in CI, use --ci or --token-file)"
    if deps.stdin_is_tty() or plan.grant not in BROWSER_GRANTS:
        return None  # a terminal: a browser, or the pasted URL; device code: the code is shown on stderr
    browser = run.browser()
    if browser.available:
        return None
    return (
        f"no terminal and no browser ({browser.reason})",
        f"run faas-pro auth -g {plan.gateway} in a terminal, or give --browser-command",
    )
