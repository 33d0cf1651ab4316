"""Code comments point to documents in this repository (or to RFCs), never to files a clone lacks."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted((ROOT / "faas_pro").rglob("*.py"))
OUTSIDE = re.compile(r"\bDESIGN\b|\bSECURITY(?:\.md)?\s+(?:rule|§|\d)|\bSTYLE\.md\b|\bDESIGN\.md\b")
DOC = re.compile(r"\b((?:docs/[\w./-]+|CONTRIBUTING|README|CHANGELOG)\.md)\b")


def test_the_sources_were_found() -> None:
    assert len(SOURCES) > 50


def test_no_reference_to_documents_outside_the_repository() -> None:
    found = [
        f"{p.relative_to(ROOT)}:{n}: {line.strip()}"
        for p in SOURCES
        for n, line in enumerate(p.read_text().splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert found == []


def test_every_document_the_code_names_exists() -> None:
    named = {m for p in SOURCES for m in DOC.findall(p.read_text())}
    assert named, "no document is named: the pattern is broken"
    missing = sorted(n for n in named if not (ROOT / n).is_file())
    assert missing == []
