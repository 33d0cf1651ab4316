"""`faas-pro auth doctor`: flags -> DoctorInput -> usecases.doctor -> a table, plain lines or JSON.

On a terminal a rich table; otherwise one line a check (``✓ name: detail``, ``✗ name: detail — fix``);
``--json`` prints ``{"version": 1, "ok": …, "checks": […]}``. Exit 0 only when no check failed.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from faas_pro.cli._common import GATEWAY_HELP, deps_of

if TYPE_CHECKING:  # pragma: no cover
    from faas_pro.usecases.doctor import CheckResult, DoctorReport

SYMBOLS = {"ok": "✓", "fail": "✗", "warn": "!", "info": "·", "skip": "-"}


def line(c: CheckResult) -> str:
    """The plain form of one check: ``✓ name: detail`` (and `` — fix`` when there is one to give)."""
    text = f"{SYMBOLS[c.status]} {c.name}: {c.detail}"
    return f"{text} — {c.fix}" if c.fix and c.status != "ok" else text


def render_plain(report: DoctorReport) -> str:
    summary = "all checks passed" if report.ok else f"{sum(not c.ok for c in report.checks)} check(s) failed"
    return "\n".join([*(line(c) for c in report.checks), f"{report.gateway}: {summary}"]) + "\n"


def render_table(report: DoctorReport, file: object) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    styles = {"ok": "green", "fail": "bold red", "warn": "yellow", "info": "cyan", "skip": "dim"}
    table = Table(title=f"faas-pro auth doctor — {report.gateway}", show_lines=False)
    for col in ("", "check", "detail", "fix"):
        table.add_column(col, overflow="fold")
    for c in report.checks:
        fix = c.fix if c.status != "ok" else ""
        table.add_row(f"[{styles[c.status]}]{SYMBOLS[c.status]}[/]", escape(c.name), escape(c.detail), escape(fix))
    console = Console(file=file, highlight=False)  # type: ignore[arg-type]
    console.print(table)
    console.print("all checks passed" if report.ok else "[bold red]some checks failed[/]")


def doctor(
    ctx: typer.Context,
    gateway: str | None = typer.Option(None, "--gateway", "-g", help=GATEWAY_HELP),
    authority: str | None = typer.Option(None, "--authority", help="Identity provider issuer URL (default: saved)."),
    client_id: str | None = typer.Option(None, "--client-id", help="OAuth client id (default: saved)."),
    port: int | None = typer.Option(None, "--port", help="Callback port to check (default: saved, else 31111)."),
    redirect_host: str | None = typer.Option(
        None, "--redirect-host", help="Loopback redirect host (default: saved, else http://127.0.0.1)."
    ),
    ca_file: Path | None = typer.Option(None, "--ca-file", help="CA bundle for TLS to the IdP and gateway."),
    as_json: bool = typer.Option(False, "--json", help="Print the results as JSON (version 1)."),
) -> None:
    """Check a login set-up: IdP discovery, client, callback port, clocks, gateway trust, tokens, proxy, CA.

    Nothing is saved or changed. Exit 0 only when no check fails.
    """
    import json

    from faas_pro.usecases.doctor import DoctorInput
    from faas_pro.usecases.doctor import doctor as run

    deps = deps_of(ctx)
    report = run(
        DoctorInput(
            gateway=gateway,
            authority=authority,
            client_id=client_id,
            port=port,
            redirect_host=redirect_host,
            ca_file=ca_file,
        ),
        deps,
    )
    if as_json:
        print(json.dumps(report.to_json(), indent=2), file=deps.stdout, flush=True)
    elif _isatty(deps.stdout):
        render_table(report, deps.stdout)
    else:
        deps.stdout.write(render_plain(report))
        deps.stdout.flush()
    raise typer.Exit(report.exit_code)


def _isatty(stream: object) -> bool:
    try:
        return bool(stream.isatty())  # type: ignore[attr-defined]
    except (AttributeError, ValueError):
        return False
