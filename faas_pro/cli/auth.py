"""`faas-pro auth`: flags -> LoginInput -> usecases.login -> render (token on stdout, the rest on stderr).

faas-cli's own spellings are accepted too (its `pro auth` plugin): ``--print`` is ``--print-token``,
and ``--launch-browser=false`` is ``--no-browser`` (``--launch-browser`` alone, or ``=true``, is the
default). ``--launch-browser`` is hidden from the help; ``--no-browser`` names it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from typer.core import TyperGroup

from faas_pro.cli._common import GATEWAY_HELP, deps_of

if TYPE_CHECKING:  # pragma: no cover
    from faas_pro.deps import Deps
    from faas_pro.usecases.login import LoginOutput

_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")


def auth(
    ctx: typer.Context,
    gateway: str | None = typer.Option(None, "--gateway", "-g", help=GATEWAY_HELP),
    authority: str | None = typer.Option(None, "--authority", help="Identity provider issuer URL (exact)."),
    client_id: str | None = typer.Option(None, "--client-id", help="OAuth client id."),
    client_secret: str | None = typer.Option(
        None, "--client-secret", help="Client secret (visible in argv: prefer --client-secret-file)."
    ),
    client_secret_file: Path | None = typer.Option(
        None, "--client-secret-file", help="File holding the client secret (or env FAAS_PRO_CLIENT_SECRET)."
    ),
    grant: str | None = typer.Option(
        None, "--grant", help="code (default, PKCE), implicit, implicit-id, device_code, client_credentials."
    ),
    audience: str | None = typer.Option(None, "--audience", help="Sent as `audience` and `resource`."),
    scope: list[str] | None = typer.Option(
        None, "--scope", help="Scope to ask for; repeatable (default: openid profile email)."
    ),
    redirect_host: str | None = typer.Option(
        None, "--redirect-host", help="Loopback redirect host (default http://127.0.0.1)."
    ),
    port: int | None = typer.Option(None, "--port", help="Callback port (default 31111; 0 = a free port)."),
    no_exchange: bool = typer.Option(False, "--no-exchange", help="Stop after the identity provider step."),
    print_token: bool = typer.Option(
        False, "--print-token", "--print", help="Print the resulting token on stdout (--print: faas-cli's name)."
    ),
    pretty: bool = typer.Option(False, "--pretty", help="Print the decoded token as JSON (unverified)."),
    no_browser: bool = typer.Option(
        False, "--no-browser", help="Print the URL, open no browser (or --launch-browser=false)."
    ),
    launch_browser: bool | None = typer.Option(
        None,
        "--launch-browser/--no-launch-browser",
        hidden=True,
        help="faas-cli's spelling: --launch-browser=false is --no-browser.",
        show_default=False,
    ),
    browser_command: str | None = typer.Option(
        None, "--browser-command", help="Run this command with the URL (or in place of %s); env BROWSER too."
    ),
    timeout: str | None = typer.Option(None, "--timeout", help="How long to wait for the login (default 5m)."),
    ca_file: Path | None = typer.Option(None, "--ca-file", help="CA bundle for TLS to the IdP and gateway."),
    tls_no_verify: bool = typer.Option(False, "--tls-no-verify", help="Do not verify TLS (dangerous)."),
    token: str | None = typer.Option(
        None, "--token", help="Exchange this JWT (visible in argv: prefer --token-file or --token-env)."
    ),
    token_file: Path | None = typer.Option(None, "--token-file", help="Exchange the JWT in this file."),
    token_env: str | None = typer.Option(
        None, "--token-env", help="Exchange the JWT in this variable (--ci gitlab: default FAAS_PRO_ID_TOKEN)."
    ),
    ci: str | None = typer.Option(None, "--ci", help="github, gitlab or auto: exchange the CI job's OIDC token."),
    refresh: bool | None = typer.Option(
        None,
        "--refresh/--no-refresh",
        help="Ask for offline_access and renew with the refresh token (default: when the IdP offers it).",
        show_default=False,
    ),
    faas_cli_config: bool | None = typer.Option(
        None,
        "--faas-cli-config/--no-faas-cli-config",
        help="Also write the OpenFaaS token into faas-cli's config.yml (OPENFAAS_CONFIG, ~/.openfaas).",
        show_default=False,
    ),
    par: str | None = typer.Option(
        None,
        "--par",
        help="Pushed authorization requests (RFC 9126): never, auto (when the IdP offers them) or always.",
        show_default=False,
    ),
    insecure_http: bool = typer.Option(
        False,
        "--insecure-http",
        help="Allow tokens over plain http to a non-loopback IdP or gateway (env FAAS_PRO_INSECURE_HTTP=1).",
    ),
) -> None:
    """Log in with your identity provider, exchange the token, save it.

    A browser (code, implicit), another device (device_code), a client secret (client_credentials),
    a saved refresh token (no browser), or a token you already have (--token-file, --ci).
    """
    from faas_pro.usecases.login import LoginInput, login

    deps = deps_of(ctx)
    no_browser = _no_browser(no_browser, launch_browser)
    out = login(
        LoginInput(
            gateway=gateway,
            authority=authority,
            client_id=client_id,
            client_secret=client_secret,
            client_secret_file=client_secret_file,
            grant=grant,
            audience=audience,
            scopes=tuple(scope) if scope else None,
            redirect_host=redirect_host,
            port=port,
            no_exchange=no_exchange,
            print_token=print_token,
            pretty=pretty,
            no_browser=no_browser,
            browser_command=browser_command,
            timeout=timeout,
            ca_file=ca_file,
            tls_no_verify=tls_no_verify,
            token=token,
            token_file=token_file,
            token_env=token_env,
            ci=ci,
            refresh=refresh,
            faas_cli_config=faas_cli_config,
            par=par,
            insecure_http=insecure_http,
        ),
        deps,
    )
    render_login(out, deps, print_token=print_token, pretty=pretty)


class AuthGroup(TyperGroup):
    """``auth`` (a group: on its own it logs in, ``auth doctor`` checks the set-up) with faas-cli's
    boolean syntax: ``--launch-browser=VALUE`` (Go's flag package takes a bool's value only after
    ``=``) becomes ``--launch-browser`` or ``--no-launch-browser``."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:  # click.Context (typer vendors click)
        return super().parse_args(ctx, _launch_browser_args(args))


def _launch_browser_args(args: list[str]) -> list[str]:
    from faas_pro.errors import UsageError

    out: list[str] = []
    for i, arg in enumerate(args):
        if arg == "--":
            return out + args[i:]
        if arg.startswith("--launch-browser="):
            value = arg.partition("=")[2].strip().lower()
            if value not in _TRUE + _FALSE:
                raise UsageError(f"--launch-browser must be true or false: {arg.partition('=')[2]!r}")
            arg = "--launch-browser" if value in _TRUE else "--no-launch-browser"
        out.append(arg)
    return out


def _no_browser(no_browser: bool, launch_browser: bool | None) -> bool:
    """``--no-browser`` combined with faas-cli's ``--launch-browser[=true|false]``."""
    from faas_pro.errors import UsageError

    if launch_browser is False:
        return True
    if launch_browser and no_browser:
        raise UsageError("--launch-browser contradicts --no-browser: give one of them")
    return no_browser


def render_login(out: LoginOutput, deps: Deps, *, print_token: bool, pretty: bool) -> None:
    """The login report: notes and the summary on stderr; on stdout only what was asked for (the
    token with --print-token, the decoded token with --pretty)."""
    if out.opaque_access_token:
        deps.warn(f"note: {out.opaque_access_token}; it is kept as an opaque token and the ID token is used instead")
    if out.no_exchange_reason:
        deps.warn(
            f"{out.no_exchange_reason}: no token exchange was done; the identity provider's token is saved instead"
        )
    if out.faas_cli_unchanged:
        deps.warn("note: no OpenFaaS token, so faas-cli's config was not changed")
    if out.how == "refreshed":
        deps.warn("Renewed the login with the saved refresh token (no browser needed).")
    elif out.how == "reused":
        deps.warn("Another faas-pro run renewed this login while this one waited; using its tokens.")
    who = out.display_name or out.subject
    what = "exchanged for an OpenFaaS token" if out.exchanged else "identity provider token saved"
    deps.warn(f"Logged in as {who} ({out.issuer}); {what} for {out.gateway} [{out.saved_backend}].")
    if out.exchanged:
        deps.warn(_granted(out, deps.clock()))
    if out.faas_cli_config:
        deps.warn(f"Wrote the token for {out.gateway} into faas-cli's config {out.faas_cli_config}.")
    if print_token:
        print(out.token, file=deps.stdout, flush=True)
    if pretty:
        from faas_pro import tokens

        deps.warn("The decoded token below is UNVERIFIED (printed as it is, not checked).")
        print(tokens.pretty(out.token), file=deps.stdout, flush=True)  # the use case checked it decodes


def _granted(out: LoginOutput, now: float) -> str:
    """``OpenFaaS token for fed:…: policies a, b; expires 2025-01-01T10:00:00Z (in 29m59s).``"""
    from faas_pro.usecases.gateway_cmds import expiry_text  # one wording with `faas-pro status`

    policies = ", ".join(out.policies) or "(none)"
    expires = "no expiry" if out.expires_at is None else f"expires {expiry_text(out.expires_at, now)}"
    return f"OpenFaaS token for {out.openfaas_subject or '(no subject)'}: policies {policies}; {expires}."
