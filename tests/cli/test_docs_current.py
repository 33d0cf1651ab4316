"""docs/cli.md is generated from the app (scripts/gen-docs) and must be current."""

from __future__ import annotations

from pathlib import Path

from faas_pro.cli.reference import render

ROOT = Path(__file__).resolve().parents[2]


def test_cli_reference_is_current() -> None:
    assert (ROOT / "docs" / "cli.md").read_text() == render(), "run scripts/gen-docs and commit docs/cli.md"


def test_cli_reference_covers_every_command() -> None:
    text = render()
    for heading in ("## `faas-pro`", "## `faas-pro auth`", "## `faas-pro iam`", "## `faas-pro serve`"):
        assert heading in text
