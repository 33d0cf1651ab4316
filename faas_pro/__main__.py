"""Entry point: build Deps, run the Typer app, turn errors into one line and an exit code.

This is the only place that calls ``sys.exit``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from faas_pro.errors import EXIT_ERROR, EXIT_INTERRUPTED, FaasProError


def run(argv: Sequence[str] | None = None, deps: object | None = None) -> int:
    """Run the CLI and return its exit code (tests call this with their own Deps)."""
    from faas_pro import compat
    from faas_pro.cli import app
    from faas_pro.deps import Deps

    compat.skip_httpx_cli()  # this process never uses httpx's command-line tool
    the_deps = deps if isinstance(deps, Deps) else Deps.default()
    if "_FAAS_PRO_COMPLETE" in the_deps.env:  # shell completion request (completions/ scripts)
        compat.enable_shell_completion()
    args = list(sys.argv[1:] if argv is None else argv)
    # the root callback sets deps.verbose from `faas-pro -V/--verbose …` (a subcommand's own flags don't)
    try:
        return compat.invoke(app, args, prog_name="faas-pro", obj=the_deps, stderr=the_deps.stderr)
    except FaasProError as e:
        if the_deps.verbose:
            import traceback

            traceback.print_exc(file=the_deps.stderr)
        print(e.line(), file=the_deps.stderr, flush=True)
        return e.exit_code
    except KeyboardInterrupt:
        print("Interrupted.", file=the_deps.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_ERROR
    finally:
        the_deps.close()


def main() -> None:
    sys.exit(run())


if __name__ == "__main__":
    main()
