"""`faas-pro completion bash|zsh|fish` — print the shell completion script.

The scripts are thin wrappers that call faas-pro back with ``_FAAS_PRO_COMPLETE`` set, so they
never go stale; the copies in ``completions/`` are generated from this command (and a test checks
they are current).
"""

from __future__ import annotations

from enum import StrEnum

import typer

from faas_pro.cli._common import deps_of


class Shell(StrEnum):
    bash = "bash"
    zsh = "zsh"
    fish = "fish"


def script_for(shell: str) -> str:
    from faas_pro.compat import completion_script

    return completion_script(shell, prog_name="faas-pro", complete_var="_FAAS_PRO_COMPLETE") + "\n"


def completion(ctx: typer.Context, shell: Shell = typer.Argument(..., help="bash, zsh or fish.")) -> None:
    """Print the completion script for SHELL.

    Example: faas-pro completion bash > ~/.local/share/bash-completion/completions/faas-pro
    """
    deps_of(ctx).stdout.write(script_for(shell.value))
