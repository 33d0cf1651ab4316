"""Daily gateway commands: namespaces, list, token, status, logout (placeholders)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the gateway commands to the root app."""
