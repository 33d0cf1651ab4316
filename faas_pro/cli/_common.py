"""Small helpers shared by the command modules (typer + stdlib only)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:  # pragma: no cover
    from faas_pro.deps import Deps


def deps_of(ctx: typer.Context) -> Deps:
    """The Deps that ``faas_pro.__main__.run`` put into the click context."""
    obj = ctx.find_root().obj
    if obj is None:  # called through typer's own runner (e.g. typer.testing): build the default
        from faas_pro.deps import Deps

        obj = Deps.default()
        ctx.find_root().obj = obj
    return obj  # type: ignore[no-any-return]


GATEWAY_HELP = "Gateway URL (env OPENFAAS_URL, else the one set by faas-pro use, else http://127.0.0.1:8080)."
