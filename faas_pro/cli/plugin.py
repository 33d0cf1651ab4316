"""`faas-pro plugin install | uninstall | status`, and the hidden `enable` (for `faas-cli pro enable`).

The work is in ``faas_pro.usecases.plugin``; docs/plugin.md describes the plugin.
"""

from __future__ import annotations

import typer

from faas_pro.cli._common import deps_of

app = typer.Typer(
    help="Install faas-pro as faas-cli's plugin: `faas-cli pro auth …` (docs/plugin.md).",
    no_args_is_help=True,
)

_NAME = typer.Option("pro", "--name", metavar="NAME", help="Plugin name: faas-cli runs it for `faas-cli NAME …`.")
_DIR = typer.Option(None, "--dir", metavar="DIR", help="Plugin directory (default: faas-cli's, ~/.openfaas/plugins).")


@app.command("install")
def install(
    ctx: typer.Context,
    name: str = _NAME,
    directory: str | None = _DIR,
    force: bool = typer.Option(False, "--force", help="Replace a plugin of that name that is not faas-pro's."),
) -> None:
    """Install this faas-pro as faas-cli's plugin NAME.

    A small script that runs this installation, written atomically; a plugin that is not
    faas-pro's is replaced only with --force.
    """
    from faas_pro.usecases import plugin as uc

    deps = deps_of(ctx)
    out = uc.install(name, directory, force, deps.env)
    before = out.replaced
    if before.kind == "foreign":
        deps.warn(f"Replaced {out.path}, which was not faas-pro's (--force).")
    elif before.shim is not None and (before.shim.python, before.shim.package) != (out.shim.python, out.shim.package):
        deps.warn(f"Replaced faas-pro's plugin that ran {before.shim.python} ({before.shim.package}).")
    deps.warn(f"Installed the faas-cli plugin {name!r} at {out.path}; it runs {out.shim.python} -m faas_pro.")
    deps.warn(f"Try: faas-cli {name} auth --authority URL --client-id ID   (then faas-cli namespaces, faas-cli list …)")


@app.command("uninstall")
def uninstall(ctx: typer.Context, name: str = _NAME, directory: str | None = _DIR) -> None:
    """Remove faas-pro's plugin NAME (never a plugin faas-pro did not install)."""
    from faas_pro.usecases import plugin as uc

    deps = deps_of(ctx)
    found = uc.uninstall(name, directory, deps.env)
    if found.kind == "absent":
        deps.warn(f"No plugin at {found.path}: nothing to remove.")
    else:
        deps.warn(f"Removed faas-pro's plugin {found.path}.")


@app.command("status")
def status(ctx: typer.Context, name: str = _NAME, directory: str | None = _DIR) -> None:
    """Say what is installed as plugin NAME and what it runs.

    Exit 0 only when faas-pro's plugin is installed and what it runs exists.
    """
    from faas_pro.usecases import plugin as uc

    deps = deps_of(ctx)
    st = uc.status(name, directory, deps.env)
    found, out = st.found, deps.stdout
    if found.kind == "absent":
        print(f"plugin {name}: not installed ({found.path})", file=out)
        deps.warn("Run `faas-pro plugin install` to install it.")
    elif found.shim is None:
        print(f"plugin {name}: {found.path} is not faas-pro's", file=out)
    else:
        print(f"plugin {name}: {found.path} (faas-pro's)", file=out)
        state = "this installation" if st.this_installation else "another faas-pro installation"
        if st.missing:
            state = f"broken: {st.missing}"
        print(f"runs:    {found.shim.python} -m faas_pro ({state})", file=out)
        print(f"package: {found.shim.package}", file=out)
        if st.missing:
            deps.warn(f"Run `{uc.REINSTALL}` with the faas-pro you use now.")
    if not st.working:
        raise typer.Exit(1)


_ENABLE_CONTEXT = {"allow_extra_args": True, "ignore_unknown_options": True}


def enable(ctx: typer.Context) -> None:
    """Nothing to enable: faas-pro works as it is (for `faas-cli pro enable`)."""
    from faas_pro.usecases.plugin import command_name

    deps = deps_of(ctx)
    me = command_name(deps.env)
    deps.warn(
        f"{me} enable: nothing needs enabling, every {me} command works as it is;"
        f" log in with `{me} auth --authority URL --client-id ID`."
    )


def register(root: typer.Typer) -> None:
    """Add `plugin` and the hidden `enable` to the root app."""
    root.add_typer(app, name="plugin")
    root.command("enable", hidden=True, context_settings=_ENABLE_CONTEXT)(enable)
