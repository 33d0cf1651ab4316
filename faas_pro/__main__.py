"""Entry point: build Deps, run the Typer app, turn errors into one line and an exit code.

This is the only place that calls ``sys.exit``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from faas_pro.errors import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_USAGE, FaasProError


def run(argv: Sequence[str] | None = None, deps: object | None = None) -> int:
    """Run the CLI and return its exit code (tests call this with their own Deps)."""
    from typer.main import get_command

    from faas_pro.cli import app
    from faas_pro.deps import Deps

    # httpx's __init__ imports its own command-line tool (click, rich, pygments: ~30 ms) whenever click
    # is installed, as it is with the server extra (uvicorn needs it). This process never uses it.
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
    the_deps = deps if isinstance(deps, Deps) else Deps.default()
    if "_FAAS_PRO_COMPLETE" in the_deps.env:  # shell completion request (completions/ scripts)
        from typer.completion import completion_init  # type: ignore[attr-defined]

        completion_init()
    command = get_command(app)
    args = list(sys.argv[1:] if argv is None else argv)
    # the root callback sets deps.verbose from `faas-pro -V/--verbose …` (a subcommand's own flags don't)
    try:
        from typer import exceptions as typer_exc
        from typer._click import exceptions as click_exc

        try:
            rv = command.main(args=args, prog_name="faas-pro", standalone_mode=False, obj=the_deps)
        except click_exc.UsageError as e:
            # click's own formatting: "Usage: …" and "Error: …", on stderr, exit 2
            e.show(file=the_deps.stderr)
            return EXIT_USAGE
        except typer_exc.Abort:
            print("Aborted.", file=the_deps.stderr)
            return EXIT_INTERRUPTED
        except typer_exc.Exit as e:
            return int(e.exit_code or 0)
        except click_exc.ClickException as e:
            e.show(file=the_deps.stderr)
            return int(e.exit_code)
        return int(rv) if isinstance(rv, int) else 0
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
