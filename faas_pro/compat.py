"""Every private detail of Typer, of the click it vendors, and of httpx that faas-pro relies on.

faas-pro drives Typer a little below its public surface, for two reasons: a fast start (`faas-pro
--help` imports only what it needs; tests/cli/test_imports.py guards that) and its own error path
(one line on stderr and a named exit code, see faas_pro/errors.py; ``sys.exit`` only in
faas_pro/__main__.py). Each such detail lives here and nowhere else, so that a Typer or httpx upgrade
touches this module and tests/cli/test_compat.py, which pins what the rest of faas-pro relies on:
exit codes, which stream a message goes to, help, shell completion.

The details, and why each is used:

- ``typer._click``: Typer (0.28) vendors click under this private name. Its exceptions come back to
  us because the command runs with ``standalone_mode=False``; its ``Context`` renders help for
  docs/cli.md.
- ``typer.main.get_command``: the click command behind the Typer app, run with
  ``standalone_mode=False`` so that errors are returned to :func:`invoke` instead of exiting.
- ``typer.completion.completion_init``: registers Typer's shell classes with click's completion;
  Typer does it on its own only with ``add_completion=True``, which would add two options to every
  run's parsing. faas-pro calls it only when a shell asks for completions.
- ``typer._completion_shared.get_completion_script``: the shell script for ``faas-pro completion``.
- ``sys.modules["httpx._main"]``: httpx's ``__init__`` imports its own command-line tool (click,
  rich, pygments: ~30 ms) whenever click is installed, as it is with the server extra (uvicorn needs
  it); a ``None`` entry makes that import fail fast, and httpx then goes without it.

Keep this module cheap to import: Typer and click are imported inside the functions.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, TextIO

from faas_pro.errors import EXIT_INTERRUPTED, EXIT_USAGE

if TYPE_CHECKING:
    import typer
    from typer._click import Command, Context

__all__ = ["click_command", "completion_script", "enable_shell_completion", "help_context", "invoke", "skip_httpx_cli"]


def skip_httpx_cli() -> None:
    """Keep httpx from importing its command-line tool (and click, rich, pygments with it)."""
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]


def enable_shell_completion() -> None:
    """Make click's completion know Typer's shells (bash, zsh, fish): before a completion request."""
    from typer.completion import completion_init  # type: ignore[attr-defined]

    completion_init()


def completion_script(shell: str, *, prog_name: str, complete_var: str) -> str:
    """The completion script for ``shell`` (bash, zsh or fish), without a trailing newline."""
    from typer._completion_shared import get_completion_script

    return get_completion_script(prog_name=prog_name, complete_var=complete_var, shell=shell)


def click_command(app: typer.Typer) -> Command:
    """The click command (a group, for faas-pro) that ``app`` builds."""
    from typer.main import get_command

    return get_command(app)


def help_context(command: Command, name: str, parent: Context | None, width: int) -> Context:
    """A context for ``command.get_help(ctx)`` that wraps at ``width`` whatever the terminal is."""
    from typer._click import Context

    settings = {**(command.context_settings or {}), "terminal_width": width, "max_content_width": width}
    return Context(command, info_name=name, parent=parent, **settings)


def invoke(app: typer.Typer, args: Sequence[str], *, prog_name: str, obj: object, stderr: TextIO) -> int:
    """Run ``app`` with ``args`` and return its exit code, with click's own errors handled.

    A usage error prints click's "Usage: …" and "Error: …" lines on ``stderr`` and gives
    ``EXIT_USAGE`` (2); ``typer.Abort`` prints "Aborted." and gives ``EXIT_INTERRUPTED``;
    ``typer.Exit(n)`` gives ``n``; a command's ``int`` return value is the exit code. Everything else,
    ``FaasProError`` included, propagates to the caller.
    """
    from typer import exceptions as typer_exc
    from typer._click import exceptions as click_exc

    command = click_command(app)
    try:
        rv = command.main(args=list(args), prog_name=prog_name, standalone_mode=False, obj=obj)
    except click_exc.UsageError as e:
        e.show(file=stderr)
        return EXIT_USAGE
    except typer_exc.Abort:
        print("Aborted.", file=stderr)
        return EXIT_INTERRUPTED
    except typer_exc.Exit as e:
        return int(e.exit_code or 0)
    except click_exc.ClickException as e:
        e.show(file=stderr)
        return int(e.exit_code)
    return int(rv) if isinstance(rv, int) else 0
