"""`faas-pro serve` — the IAM gateway (placeholder)."""

from __future__ import annotations

import typer

app = typer.Typer(help="Run the IAM gateway (needs the 'server' extra).", invoke_without_command=True)


@app.callback()
def serve(ctx: typer.Context) -> None:
    """Run the IAM gateway."""
    if ctx.invoked_subcommand is None:
        from faas_pro.errors import FaasProError

        raise FaasProError("faas-pro serve is not implemented yet")
