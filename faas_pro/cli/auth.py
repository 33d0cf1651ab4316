"""`faas-pro auth` (placeholder until the auth issue lands)."""

from __future__ import annotations

import typer


def auth(ctx: typer.Context) -> None:
    """Log in with your identity provider, exchange the token, save it."""
    from faas_pro.errors import FaasProError

    raise FaasProError("faas-pro auth is not implemented yet")
