"""The end of every login: the RFC 8693 exchange at the gateway, the OpenFaaS token verified against
the gateway's own keys, then the writes (faas-cli's config, the token entry, the settings), in that
order and only once everything before has succeeded."""

from __future__ import annotations

from typing import TYPE_CHECKING

from faas_pro.errors import FaasProError
from faas_pro.usecases.login.output import LoginOutput, claim_str, describe_gateway_token, display_name

if TYPE_CHECKING:  # pragma: no cover
    import httpx

    from faas_pro.deps import Deps
    from faas_pro.oauth.flows import IdpTokens
    from faas_pro.oauth.progress import Progress
    from faas_pro.storage.entry import TokenEntry
    from faas_pro.storage.settings import GatewaySettings
    from faas_pro.usecases.login.context import Run
    from faas_pro.usecases.login.plan import LoginInput


def finish(run: Run, tok: IdpTokens, how: str = "login") -> LoginOutput:
    """Verified IdP tokens → (exchange) → saved; the report."""
    from faas_pro.oauth.exchange import NoTokenEndpoint
    from faas_pro.storage.entry import TokenEntry

    plan, inp, deps = run.plan, run.inp, run.deps
    issuer = run.idp.issuer
    out = LoginOutput(
        gateway=plan.gateway,
        issuer=issuer,
        subject=claim_str(tok.claims, "sub"),
        display_name=f"client {plan.client_id}" if plan.grant == "client_credentials" else display_name(tok.claims),
        grant=plan.grant,
        how=how,
    )
    if tok.access_token and not tok.access_verified and tok.access_note:
        out.opaque_access_token = tok.access_note
    entry = TokenEntry(
        idp_issuer=issuer,
        idp_client_id=plan.client_id,
        idp_id_token=tok.id_token,
        idp_access_token=tok.access_token,
        idp_refresh_token=tok.refresh_token if plan.refresh is not False else None,
    )
    printed = tok.printed_token(plan.grant)
    if not inp.no_exchange:
        try:
            printed = exchange(deps, run.http, run.progress, plan.gateway, tok.subject_token(plan.grant), out)
        except NoTokenEndpoint as e:
            out.no_exchange_reason = e.message
        else:
            entry = _with_openfaas_token(entry, printed)
    return save(deps, inp, out, entry, printed, plan.to_save, plan.faas_cli_config)


def _with_openfaas_token(entry: TokenEntry, token: str) -> TokenEntry:
    import dataclasses

    return dataclasses.replace(entry, openfaas_token=token)


def exchange(
    deps: Deps, http: httpx.Client, progress: Progress, gateway: str, subject_token: str, out: LoginOutput
) -> str:
    """Exchange, then verify the OpenFaaS token against the gateway's keys; fills ``out``."""
    from faas_pro.oauth.exchange import exchange as rfc8693_exchange
    from faas_pro.oauth.exchange import verify_gateway_token

    result = rfc8693_exchange(http, gateway, subject_token)
    with progress.slow(f"Fetching the keys of {gateway}…"):
        claims = verify_gateway_token(http, gateway, result.access_token, deps.clock())
    out.exchanged = True
    describe_gateway_token(out, claims)
    return result.access_token


def check_printable(inp: LoginInput, token: str) -> None:
    """``--pretty`` decodes the token: refuse one that is not a JWT before anything is saved."""
    if not inp.pretty:
        return
    from faas_pro import tokens

    try:
        tokens.decode_unverified(token)
    except tokens.TokenError as e:
        raise FaasProError(f"--pretty: the token is not a JWT ({e.reason}); nothing was saved") from e


def save(
    deps: Deps,
    inp: LoginInput,
    out: LoginOutput,
    entry: TokenEntry,
    printed: str,
    settings: GatewaySettings | None,
    faas_cli: bool,
) -> LoginOutput:
    """Everything has succeeded: write faas-cli's config (it may refuse a corrupt file), then ours."""
    check_printable(inp, printed)
    out.token = printed
    if faas_cli:
        if entry.openfaas_token:
            from faas_pro.oauth.faas_cli_config import write_token

            out.faas_cli_config = str(write_token(deps.env, out.gateway, entry.openfaas_token))
        else:
            out.faas_cli_unchanged = True
    store = deps.secrets()
    store.put(out.gateway, entry.to_dict())
    if settings is not None:
        deps.settings().put(out.gateway, settings)
    out.saved_backend = store.backend
    return out
