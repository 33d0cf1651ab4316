"""Generate the CLI reference (docs/cli.md) from the app itself, so it cannot drift.

Run ``scripts/gen-docs`` after changing a command; tests/cli/test_docs_current.py fails when the
checked-in file differs from what this module produces.
"""

from __future__ import annotations

from typing import Any

WIDTH = 100


def _walk(cmd: Any, path: list[str], parent: Any) -> list[tuple[list[str], Any, Any]]:
    from faas_pro.compat import help_context

    ctx = help_context(cmd, path[-1], parent, WIDTH)
    out = [(path, cmd, ctx)]
    subs = getattr(cmd, "commands", None) or {}
    for name in sorted(subs):
        sub = subs[name]
        if getattr(sub, "hidden", False):
            continue
        out.extend(_walk(sub, [*path, name], ctx))
    return out


def render() -> str:
    """The whole reference as Markdown."""
    from faas_pro.cli import app
    from faas_pro.compat import click_command

    root = click_command(app)
    parts = [
        "# faas-pro command reference",
        "",
        "Generated from the app by `scripts/gen-docs`; do not edit by hand.",
        "",
    ]
    for path, cmd, ctx in _walk(root, ["faas-pro"], None):
        parts += [f"## `{' '.join(path)}`", "", "```text", cmd.get_help(ctx).rstrip(), "```", ""]
    return "\n".join(parts)


if __name__ == "__main__":
    print(render(), end="")
