"""Daily gateway commands: namespaces, list (ls), token, status, logout.

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


def _gateway(ctx: typer.Context, flag: str | None) -> str:
    from faas_pro.urls import resolve_gateway

    return resolve_gateway(flag, deps_of(ctx).env)


def namespaces(
    ctx: typer.Context,
    gateway: str | None = _GW,
    token: str | None = _TOKEN,
    ca_file: str | None = _CA,
    tls_no_verify: bool = _NOVERIFY,
) -> None:
    """List the namespaces you may see."""
    from faas_pro import formats
    from faas_pro.usecases import gateway_cmds as uc

    deps = deps_of(ctx)
    inp = uc.ClientInput(_gateway(ctx, gateway), token, ca_file, tls_no_verify)
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
) -> None:
    """List functions, as faas-cli does."""
    from faas_pro import formats
    from faas_pro.errors import UsageError
    from faas_pro.usecases import gateway_cmds as uc

    if sort not in formats.SORTS:
        raise UsageError(f"--sort must be one of {', '.join(formats.SORTS)}, not {sort!r}")
    deps = deps_of(ctx)
    inp = uc.ListInput(_gateway(ctx, gateway), token, ca_file, tls_no_verify, namespace=namespace, sort=sort)
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
) -> None:
    """Show who you are logged in as, with which policies, until when, and where the token is kept."""
    import json

    from faas_pro.errors import AuthRequired
    from faas_pro.usecases import gateway_cmds as uc

    deps = deps_of(ctx)
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


def logout(
    ctx: typer.Context,
    gateway: str | None = _GW,
    all_: bool = typer.Option(False, "--all", help="Log out of every gateway faas-pro knows."),
    forget: bool = typer.Option(False, "--forget", help="Also forget the saved login settings."),
) -> None:
    """Remove the saved tokens (settings are kept unless --forget)."""
    from faas_pro.usecases import gateway_cmds as uc

    deps = deps_of(ctx)
    for gw, had in uc.logout(deps, uc.LogoutInput(_gateway(ctx, gateway), all=all_, forget=forget)):
        deps.warn(f"Logged out of {gw}" if had else f"No token saved for {gw}")


def register(app: typer.Typer) -> None:
    """Add the gateway commands to the root app."""
    app.command("namespaces")(namespaces)
    app.command("list")(list_)
    app.command("ls", hidden=True)(list_)
    app.command("token")(token)
    app.command("status")(status)
    app.command("logout")(logout)
