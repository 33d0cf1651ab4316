"""The Typer application. Command modules only translate flags into a use-case call.

Module-level imports here and in every ``faas_pro.cli.*`` module are limited to typer and the
standard library, so that ``faas-pro --help`` stays fast (tests/cli/test_imports.py guards it).
"""

from __future__ import annotations

import functools
from typing import Any

import typer

from faas_pro import __version__
from faas_pro.cli import auth as _auth
from faas_pro.cli import completion as _completion
from faas_pro.cli import doctor as _doctor
from faas_pro.cli import gateway as _gateway
from faas_pro.cli import iam as _iam
from faas_pro.cli import plugin as _plugin
from faas_pro.cli import serve as _serve
from faas_pro.cli._common import deps_of

app = typer.Typer(
    name="faas-pro",
    help="IAM for OpenFaaS: single sign-on with any OpenID Connect provider, policy-based access.",
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    add_completion=False,
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(ctx: typer.Context, value: bool) -> None:
    if value:
        print(f"faas-pro {__version__}", file=deps_of(ctx).stdout)
        raise typer.Exit(0)


@app.callback()
def root(
    ctx: typer.Context,
    verbose: bool = typer.Option(False, "--verbose", "-V", help="Show tracebacks and debug detail on errors."),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """IAM for OpenFaaS."""
    deps_of(ctx).verbose = verbose


# `auth` is a group: run on its own it logs in (today's `auth`), and `auth doctor` checks the set-up.
auth_app = typer.Typer(invoke_without_command=True, cls=_auth.AuthGroup)


@auth_app.callback()
@functools.wraps(_auth.auth)  # typer reads the options from auth's own signature (__wrapped__)
def _auth_group(ctx: typer.Context, **kwargs: Any) -> None:
    if ctx.invoked_subcommand is None:
        _auth.auth(ctx, **kwargs)


auth_app.command("doctor")(_doctor.doctor)
app.add_typer(auth_app, name="auth")
_gateway.register(app)
app.add_typer(_iam.app, name="iam")
app.add_typer(_serve.app, name="serve")
app.command("completion")(_completion.completion)
_plugin.register(app)
