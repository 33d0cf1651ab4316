"""`faas-pro serve` — the IAM gateway (needs the 'server' extra); `faas-pro serve keygen FILE`."""

from __future__ import annotations

from pathlib import Path

import typer

from faas_pro.cli._common import deps_of

app = typer.Typer(
    help="Run the IAM gateway (needs the 'server' extra: pip install 'faas-pro[server]').",
    invoke_without_command=True,
)

_BENCH_ENV = "FAAS_PRO_BENCH_NO_AUTHZ"


@app.callback()
def serve(
    ctx: typer.Context,
    iam: list[Path] = typer.Option(
        None, "--iam", help="Directory or file with the IAM objects (JwtIssuer, Policy, Role); repeatable."
    ),
    issuer_url: str = typer.Option(None, "--issuer-url", help="The gateway's public URL: iss and aud of its tokens."),
    issuer_key: Path = typer.Option(None, "--issuer-key", help="P-256 private key (PEM) that signs the tokens."),
    previous_key: list[Path] = typer.Option(
        None, "--previous-issuer-key", help="Older key still published and accepted (rotation); repeatable."
    ),
    listen: str = typer.Option("127.0.0.1:8080", "--listen", help="HOST:PORT to listen on (port 0: any free port)."),
    state: Path = typer.Option(None, "--state", help="Directory for the registry and audit outbox (SQLite)."),
    namespace: list[str] = typer.Option(None, "--namespace", help="Namespace to create at start; repeatable."),
    upstream: str = typer.Option(None, "--upstream", help="Forward authorised calls to this OpenFaaS gateway."),
    upstream_auth_file: Path = typer.Option(
        None, "--upstream-auth-file", help="user:password (or a faas-cli config.yml) for --upstream."
    ),
    audit_webhook: str = typer.Option(None, "--audit-webhook", help="URL that receives audit events."),
    audit_secret_file: Path = typer.Option(None, "--audit-secret-file", help="HMAC-SHA256 secret for the webhook."),
    audit_verbs: str = typer.Option("PUT,POST,DELETE", "--audit-verbs", help="Methods that are audited."),
    audit_max_events: int = typer.Option(100_000, "--audit-max-events", help="Most events the audit outbox holds."),
    audit_max_bytes: int = typer.Option(
        64 * 1024 * 1024, "--audit-max-bytes", help="Most bytes of events the audit outbox holds."
    ),
    audit_strict: bool = typer.Option(
        False, "--audit-strict", help="Answer 503 when an audited request cannot be recorded."
    ),
    issuer_leeway: int = typer.Option(
        60, "--issuer-leeway", help="Seconds of clock skew allowed for identity providers' tokens (0-300)."
    ),
    fetch_timeout: float = typer.Option(
        5.0, "--issuer-fetch-timeout", help="Seconds allowed to fetch an issuer's discovery document and keys."
    ),
    invoke_auth: str = typer.Option(
        "protected",
        "--invoke-auth",
        help="Which invocations need a function token: 'protected' (envVars jwt_auth=true) or 'all'.",
    ),
    invoke_max_body: int = typer.Option(
        32 * 1024 * 1024, "--invoke-max-body", help="Largest invocation request body in bytes (413 above)."
    ),
    invoke_timeout: float = typer.Option(
        300.0, "--invoke-timeout", help="Seconds an invocation may take upstream before a 504."
    ),
    bench_no_authz: bool = typer.Option(False, "--bench-insecure-no-authz", hidden=True),
    dashboard_client_id: str = typer.Option(
        None, "--dashboard-client-id", help="Serve the web dashboard at /ui/, logging in as this OIDC client."
    ),
    dashboard_issuer: str = typer.Option(
        None, "--dashboard-issuer", help="iss of the JwtIssuer people log in at (default: the only one)."
    ),
    dashboard_client_secret_file: Path = typer.Option(
        None, "--dashboard-client-secret-file", help="Secret of the dashboard client (omit for a public client)."
    ),
    dashboard_session_key_file: Path = typer.Option(
        None, "--dashboard-session-key-file", help="Key of the session cookies (created when missing)."
    ),
    max_connections: int = typer.Option(
        1024, "--max-connections", help="Open client connections at most (idle ones are closed first to make room)."
    ),
    max_in_flight: int = typer.Option(
        256, "--max-requests-in-flight", help="Requests handled at once at most; more are answered 503 at once."
    ),
    header_timeout: float = typer.Option(
        10.0, "--header-timeout", help="Seconds a client has to send request headers."
    ),
    body_timeout: float = typer.Option(30.0, "--body-timeout", help="Seconds a client has to send a request body."),
    keep_alive_timeout: float = typer.Option(
        5.0, "--keep-alive-timeout", help="Seconds an idle keep-alive connection stays open."
    ),
    workers: int = typer.Option(1, "--workers", help="Worker processes sharing the listening socket."),
) -> None:
    """Run the IAM gateway: token exchange, policy enforcement, function registry, audit webhook."""
    if ctx.invoked_subcommand is not None:
        return
    from faas_pro.errors import UsageError

    deps = deps_of(ctx)
    missing = [f for f, v in (("--iam", iam), ("--issuer-url", issuer_url), ("--issuer-key", issuer_key)) if not v]
    if missing:
        raise UsageError(f"missing {', '.join(missing)}", "see faas-pro serve --help")
    no_authz = bench_no_authz and deps.env.get(_BENCH_ENV) == "1"
    if bench_no_authz and not no_authz:
        raise UsageError(f"--bench-insecure-no-authz also needs {_BENCH_ENV}=1 (benchmarks only)")
    from faas_pro.server.listener import Limits
    from faas_pro.server.run import ServeConfig, parse_verbs, serve

    cfg = ServeConfig(
        iam_paths=tuple(iam),
        issuer_url=issuer_url,
        issuer_key=issuer_key,
        listen=listen,
        state_dir=state,
        namespaces=tuple(namespace or ()),
        previous_keys=tuple(previous_key or ()),
        upstream=upstream,
        upstream_auth_file=upstream_auth_file,
        audit_webhook=audit_webhook,
        audit_secret_file=audit_secret_file,
        audit_verbs=parse_verbs(audit_verbs),
        audit_max_events=audit_max_events,
        audit_max_bytes=audit_max_bytes,
        audit_strict=audit_strict,
        fetch_timeout=fetch_timeout,
        issuer_leeway=issuer_leeway,
        no_authz=no_authz,
        dashboard_client_id=dashboard_client_id,
        dashboard_issuer=dashboard_issuer,
        dashboard_client_secret_file=dashboard_client_secret_file,
        dashboard_session_key_file=dashboard_session_key_file,
        limits=Limits(max_connections, max_in_flight, header_timeout, body_timeout, keep_alive_timeout),
        workers=workers,
        invoke_auth=invoke_auth,
        invoke_max_body=invoke_max_body,
        invoke_timeout=invoke_timeout,
    )
    raise typer.Exit(serve(cfg, deps))


@app.command("keygen")
def keygen(ctx: typer.Context, file: Path = typer.Argument(..., help="Where to write the new key (0600).")) -> None:
    """Write a new P-256 signing key for --issuer-key (never overwrites a file)."""
    from faas_pro.server.signing import generate_key_file

    kid = generate_key_file(file)
    print(f"wrote {file} (kid {kid})", file=deps_of(ctx).stderr)
