"""`faas-pro auth`: flags -> LoginInput -> usecases.login -> render (token on stdout, the rest on stderr)."""

from __future__ import annotations

from pathlib import Path

import typer

from faas_pro.cli._common import GATEWAY_HELP, deps_of


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
    print_token: bool = typer.Option(False, "--print-token", help="Print the resulting token on stdout."),
    pretty: bool = typer.Option(False, "--pretty", help="Print the decoded token as JSON (unverified)."),
    no_browser: bool = typer.Option(False, "--no-browser", help="Do not open a browser; print the URL."),
    browser_command: str | None = typer.Option(
        None, "--browser-command", help="Run this command with the URL (or in place of %s); env BROWSER too."
    ),
    timeout: str | None = typer.Option(None, "--timeout", help="How long to wait for the login (default 5m)."),
    ca_file: Path | None = typer.Option(None, "--ca-file", help="CA bundle for TLS to the IdP and gateway."),
    tls_no_verify: bool = typer.Option(False, "--tls-no-verify", help="Do not verify TLS (dangerous)."),
) -> None:
    """Log in with your identity provider in a browser, exchange the token, save it."""
    from faas_pro.usecases.login import LoginInput, login

    deps = deps_of(ctx)
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
        ),
        deps,
    )
    for note in out.notes:
        deps.warn(note)
    who = out.display_name or out.subject
    what = "exchanged for an OpenFaaS token" if out.exchanged else "identity provider token saved"
    deps.warn(f"Logged in as {who} ({out.issuer}); {what} for {out.gateway} [{out.saved_backend}].")
    if out.token is not None:
        print(out.token, file=deps.stdout, flush=True)
    if out.pretty is not None:
        deps.warn("The decoded token below is UNVERIFIED (printed as it is, not checked).")
        print(out.pretty, file=deps.stdout, flush=True)
