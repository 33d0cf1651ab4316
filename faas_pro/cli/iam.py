"""`faas-pro iam validate | explain | can-i` (placeholders)."""

from __future__ import annotations

import typer

app = typer.Typer(help="Check IAM objects (JwtIssuer, Policy, Role) before you apply them.", no_args_is_help=True)


@app.command("validate")
def validate(ctx: typer.Context) -> None:
    """Check IAM object files."""
    from faas_pro.errors import FaasProError

    raise FaasProError("faas-pro iam validate is not implemented yet")
