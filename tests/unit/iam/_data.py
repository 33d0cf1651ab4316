"""Helpers to read the table-driven cases under tests/data/iam/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

DATA = Path(__file__).resolve().parents[2] / "data" / "iam"
SET = DATA / "set"


def table(name: str) -> list[dict[str, Any]]:
    rows = yaml.safe_load((DATA / name).read_text(encoding="utf-8"))
    assert isinstance(rows, list) and rows
    return rows


def case_id(row: dict[str, Any]) -> str:
    return json.dumps({k: v for k, v in row.items() if k not in ("note", "reason")}, ensure_ascii=True)[:100]


def header(path: Path, tag: str) -> Any:
    """The JSON after ``# <tag>:`` on a data file's first line."""
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith(f"# {tag}:"), path
    return json.loads(first.split(":", 1)[1])
