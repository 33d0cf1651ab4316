"""Entry point: build Deps, run the command, turn errors into one line and an exit code.

The daily commands (``list``/``ls``, ``namespaces``, ``token``, ``status``) in their plain spellings
run on the fast path (faas_pro/fastpath.py) without importing Typer; everything else runs the Typer
app. Both share the error handling below. This is the only place that calls ``sys.exit``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from faas_pro.errors import EXIT_ERROR, EXIT_INTERRUPTED, FaasProError

if TYPE_CHECKING:  # pragma: no cover
    from faas_pro.deps import Deps

# Commands that never wait for anything but one HTTP answer: the garbage collector stays off while
# they run (docs/architecture.md, "Start-up"). Never `serve` (long-running) nor `auth` (waits for a browser).
SHORT_COMMANDS = frozenset({"list", "ls", "namespaces", "token", "status", "--help", "-h", "--version"})


def run(argv: Sequence[str] | None = None, deps: object | None = None) -> int:
    """Run the CLI and return its exit code (tests call this with their own Deps)."""
    import os

    from faas_pro import compat
    from faas_pro.deps import PLUGIN_ENV, Deps
    from faas_pro.fastpath import FastDeps, plan

    compat.skip_httpx_cli()  # this process never uses httpx's command-line tool
    args = list(sys.argv[1:] if argv is None else argv)
    given = deps if isinstance(deps, Deps) else None
    fast = plan(args, given.env if given is not None else os.environ)
    if fast is not None:
        fast_deps = given if given is not None else FastDeps.default()
        return _guarded(fast_deps, lambda: fast.run(fast_deps))

    from faas_pro.cli import app

    the_deps = given if given is not None else Deps.default()
    if "_FAAS_PRO_COMPLETE" in the_deps.env:  # shell completion request (completions/ scripts)
        compat.enable_shell_completion()
    prog_name = "faas-pro"
    if PLUGIN_ENV in the_deps.env:  # run as `faas-cli pro …`: usage lines and help say so
        from faas_pro.usecases.plugin import command_name

        prog_name = command_name(the_deps.env)
    # the root callback sets deps.verbose from `faas-pro -V/--verbose …` (a subcommand's own flags don't)
    return _guarded(
        the_deps, lambda: compat.invoke(app, args, prog_name=prog_name, obj=the_deps, stderr=the_deps.stderr)
    )


def _guarded(the_deps: Deps, body: Callable[[], int]) -> int:
    """Run ``body``: a FaasProError becomes its one line on stderr and its exit code."""
    try:
        return body()
    except FaasProError as e:
        if the_deps.verbose:
            import traceback

            traceback.print_exc(file=the_deps.stderr)
        print(the_deps.as_typed(e.line()), file=the_deps.stderr, flush=True)  # `faas-cli pro auth` as a plugin
        return e.exit_code
    except KeyboardInterrupt:
        print("Interrupted.", file=the_deps.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_ERROR
    finally:
        the_deps.close()


def main() -> None:
    import gc

    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command in SHORT_COMMANDS:
        gc.disable()
    code = run()
    if command != "serve":
        gc.freeze()  # nothing is left to collect: skip the interpreter's last collection at exit
    sys.exit(code)


if __name__ == "__main__":
    main()
