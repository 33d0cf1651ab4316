"""Daily gateway commands: namespaces, list (ls), token, status, logout, use.

Flags become an Input for a use case in ``faas_pro.usecases.gateway_cmds``; rendering follows
faas-cli (``faas_pro.formats``). Data goes to stdout, everything else to stderr.
"""

from __future__ import annotations

from typing import Any

import typer

from faas_pro.cli._common import GATEWAY_HELP, deps_of

_GW = typer.Option(None, "--gateway", "-g", help=GATEWAY_HELP)
_TOKEN = typer.Option(
    None, "--token", "-k", help="Use this OpenFaaS token instead of the saved one (env FAAS_PRO_TOKEN)."
)
_CA = typer.Option(None, "--ca-file", help="CA bundle to verify the gateway's TLS certificate.")
_NOVERIFY = typer.Option(False, "--tls-no-verify", help="Do not verify TLS (dangerous; prints a warning).")
_INSECURE = typer.Option(
    False,
    "--insecure-http",
    help="Allow sending the token over plain http to a non-loopback gateway (env FAAS_PRO_INSECURE_HTTP=1).",
)


def _gateway(ctx: typer.Context, flag: str | None) -> str:
    return deps_of(ctx).gateway(flag)


def namespaces(
    ctx: typer.Context,
    gateway: str | None = _GW,
    token: str | None = _TOKEN,
    ca_file: str | None = _CA,
    tls_no_verify: bool = _NOVERIFY,
    insecure_http: bool = _INSECURE,
) -> None:
    """List the namespaces you may see."""
    from faas_pro import formats
    from faas_pro.usecases import gateway_cmds as uc

    deps = deps_of(ctx)
    inp = uc.ClientInput(_gateway(ctx, gateway), token, ca_file, tls_no_verify, insecure_http)
    deps.stdout.write(formats.namespaces(uc.namespaces(deps, inp)))


def list_(
    ctx: typer.Context,
    gateway: str | None = _GW,
    namespace: str | None = typer.Option(None, "--namespace", "-n", help="Namespace of the functions."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Also show image and creation time."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print function names only."),
    sort: str = typer.Option("name", "--sort", help="Sort by name, invocations or creation."),
    as_json: bool = typer.Option(False, "--json", "-j", help="Print the gateway's JSON array."),
    token: str | None = _TOKEN,
    ca_file: str | None = _CA,
    tls_no_verify: bool = _NOVERIFY,
    insecure_http: bool = _INSECURE,
) -> None:
    """List functions, as faas-cli does."""
    from faas_pro import formats
    from faas_pro.errors import UsageError
    from faas_pro.usecases import gateway_cmds as uc

    if sort not in formats.SORTS:
        raise UsageError(f"--sort must be one of {', '.join(formats.SORTS)}, not {sort!r}")
    deps = deps_of(ctx)
    inp = uc.ListInput(
        _gateway(ctx, gateway), token, ca_file, tls_no_verify, insecure_http, namespace=namespace, sort=sort
    )
    functions: list[Any] = uc.list_functions(deps, inp)
    if as_json:
        deps.stdout.write(formats.functions_json(functions))
    else:
        deps.stdout.write(formats.functions_table(functions, verbose=verbose, quiet=quiet))


def token(
    ctx: typer.Context,
    gateway: str | None = _GW,
    pretty: bool = typer.Option(False, "--pretty", help="Print the decoded token (header and payload)."),
    function: str | None = typer.Option(
        None, "--function", help="Print a function token for NAMESPACE:NAME instead (for curl and scripts)."
    ),
    api_token: str | None = _TOKEN,
) -> None:
    """Print the saved OpenFaaS token (for faas-cli -k or curl), or a function token (--function)."""
    from faas_pro import tokens
    from faas_pro.errors import UsageError
    from faas_pro.usecases import gateway_cmds as uc

    deps = deps_of(ctx)
    gw = _gateway(ctx, gateway)
    if function is not None:
        from faas_pro.usecases.function_token import function_token, parse_target

        parse_target(function)  # a bad target is a usage error before anything is read or sent
        saved = function_token(deps, gw, function, uc.choose_token(deps, gw, api_token))
    elif api_token:
        raise UsageError("--token is only used with --function")
    else:
        saved = uc.saved_token(deps, gw)
    if pretty:
        deps.warn("UNVERIFIED: decoded without checking the signature")
        deps.stdout.write(tokens.pretty(saved) + "\n")
    else:
        deps.stdout.write(saved + "\n")


def status(
    ctx: typer.Context,
    gateway: str | None = _GW,
    as_json: bool = typer.Option(False, "--json", help="Print a versioned JSON object."),
    all_: bool = typer.Option(False, "--all", help="One line for every saved gateway (* marks the default)."),
) -> None:
    """Show who you are logged in as, with which policies, until when, and where the token is kept."""
    import json

    from faas_pro.errors import AuthRequired
    from faas_pro.usecases import gateway_cmds as uc

    deps = deps_of(ctx)
    if all_:
        everything = uc.status_all(deps)
        for line in everything.problems:
            deps.warn(f"WARNING: {line}")
        if as_json:
            deps.stdout.write(json.dumps(everything.to_json(), indent=2, sort_keys=True) + "\n")
        elif everything.gateways:
            deps.stdout.write(uc.render_status_all(everything))
        else:
            deps.warn("No gateway saved yet; run faas-pro auth -g URL")
        return
    gw = _gateway(ctx, gateway)
    st = uc.status(deps, gw)
    if as_json:
        deps.stdout.write(json.dumps(st.to_json(), indent=2, sort_keys=True) + "\n")
    else:
        deps.stdout.write(uc.render_status(st))
    if not st.logged_in:
        raise AuthRequired(f"not logged in to {gw}", f"run faas-pro auth -g {gw}")
    if st.expired:
        raise AuthRequired(f"the token for {gw} has expired", f"run faas-pro auth -g {gw}")


def use(
    ctx: typer.Context,
    url: str | None = typer.Argument(None, help="The gateway to use by default; omit it to print the current one."),
    clear: bool = typer.Option(False, "--clear", help="Forget the default (back to http://127.0.0.1:8080)."),
) -> None:
    """Set the default gateway (-g and OPENFAAS_URL still win), or print the one in use."""
    from faas_pro.errors import UsageError
    from faas_pro.urls import DEFAULT_GATEWAY, normalise_gateway

    deps = deps_of(ctx)
    settings = deps.settings()
    env_url = deps.env.get("OPENFAAS_URL")
    if url is not None and clear:
        raise UsageError("give either a URL or --clear, not both")
    if clear:
        settings.set_default_gateway(None)
        deps.warn(f"No default gateway: commands without -g or OPENFAAS_URL use {DEFAULT_GATEWAY}")
        return
    if url is None:
        saved = settings.default_gateway()
        if env_url:
            deps.stdout.write(normalise_gateway(env_url) + "\n")
            deps.warn("(from OPENFAAS_URL, which wins over the default set by faas-pro use)")
        elif saved:
            deps.stdout.write(saved + "\n")
        else:
            deps.stdout.write(DEFAULT_GATEWAY + "\n")
            deps.warn("(the built-in default: no gateway set with faas-pro use)")
        return
    gw = normalise_gateway(url)
    settings.set_default_gateway(gw)
    deps.warn(f"Default gateway: {gw}")
    if env_url and normalise_gateway(env_url) != gw:
        deps.warn(f"WARNING: OPENFAAS_URL={normalise_gateway(env_url)} is set and wins over it")
    if settings.get(gw) is None and deps.secrets().get(gw) is None:
        deps.warn(f"No login is saved for it yet: run faas-pro auth -g {gw}")


def logout(
    ctx: typer.Context,
    gateway: str | None = _GW,
    all_: bool = typer.Option(False, "--all", help="Log out of every gateway faas-pro knows."),
    forget: bool = typer.Option(False, "--forget", help="Also forget the saved login settings."),
    no_revoke: bool = typer.Option(
        False, "--no-revoke", help="Do not revoke the identity provider's refresh token (RFC 7009)."
    ),
    ca_file: str | None = typer.Option(None, "--ca-file", help="CA bundle to verify the identity provider's TLS."),
    insecure_http: bool = typer.Option(
        False,
        "--insecure-http",
        help="Allow revoking over plain http at a non-loopback IdP (env FAAS_PRO_INSECURE_HTTP=1).",
    ),
) -> None:
    """Remove the saved tokens, revoke the IdP refresh token and remove faas-pro's entry from
    faas-cli's config.yml (settings are kept unless --forget)."""
    from faas_pro.usecases import logout as uc

    deps = deps_of(ctx)
    inp = uc.LogoutInput(
        _gateway(ctx, gateway),
        all=all_,
        forget=forget,
        revoke=not no_revoke,
        ca_file=ca_file,
        insecure_http=insecure_http,
    )
    for res in uc.logout(deps, inp):
        for w in res.warnings:
            deps.warn(w)
        if res.revoked:
            deps.warn(f"Revoked the identity provider's refresh token for {res.gateway}")
        if res.faas_cli_config:
            deps.warn(f"Removed the token for {res.gateway} from faas-cli's config {res.faas_cli_config}")
        deps.warn(f"Logged out of {res.gateway}" if res.had_token else f"No token saved for {res.gateway}")


def register(app: typer.Typer) -> None:
    """Add the gateway commands to the root app."""
    app.command("namespaces")(namespaces)
    app.command("list")(list_)
    app.command("ls", hidden=True)(list_)
    app.command("token")(token)
    app.command("status")(status)
    app.command("logout")(logout)
    app.command("use")(use)
