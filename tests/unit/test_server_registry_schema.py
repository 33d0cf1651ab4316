"""The embedded registry's file (a real SQLite file): `--workers N` open it at the same moment — a
new file, and one written by an older faas-pro (no namespace labels/annotations), upgraded once."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

from faas_pro.server.backends import SqliteRegistry


def _old_registry(path: Path) -> None:
    db = sqlite3.connect(str(path))
    try:
        db.execute("CREATE TABLE namespaces (name TEXT PRIMARY KEY, created_at TEXT NOT NULL)")
        db.execute("INSERT INTO namespaces VALUES ('dev', '2026-01-01T00:00:00Z')")
        db.commit()
    finally:
        db.close()


def _start(path: Path, barrier: threading.Barrier, opened: list[SqliteRegistry], errors: list[str]) -> None:
    barrier.wait()
    try:
        opened.append(SqliteRegistry(path))
    except Exception as e:  # the test reports it
        errors.append(str(e))


def _open_together(path: Path, n: int) -> list[str]:
    """``n`` registries opened on ``path`` at the same moment (closed again); the errors."""
    errors: list[str] = []
    opened: list[SqliteRegistry] = []
    barrier = threading.Barrier(n)
    threads = [threading.Thread(target=_start, args=(path, barrier, opened, errors)) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    for registry in opened:
        asyncio.run(registry.close())
    return errors


def test_workers_opening_a_new_registry_together_all_start(tmp_path: Path) -> None:
    # switching a new file to WAL is refused at once ("database is locked") while another connection
    # holds a lock; without a retry, 14 of 1,800 starts (300 rounds of 6, new and older files) failed
    for attempt in range(20):
        assert _open_together(tmp_path / f"registry-{attempt}.db", 6) == [], f"attempt {attempt}"


def test_workers_opening_an_older_registry_together_all_start(tmp_path: Path) -> None:
    # before the schema set-up ran in one transaction, 47 of 60 rounds of 4 had a worker fail with
    # "duplicate column name": both saw the old columns, both added the new ones
    for attempt in range(20):
        path = tmp_path / f"registry-{attempt}.db"
        _old_registry(path)
        errors = _open_together(path, 4)
        assert errors == [], f"attempt {attempt}: {errors}"
        db = sqlite3.connect(str(path))
        try:
            columns = [r[1] for r in db.execute("PRAGMA table_info(namespaces)")]
            rows = db.execute("SELECT name, labels, annotations FROM namespaces ORDER BY name").fetchall()
        finally:
            db.close()
        assert columns == ["name", "created_at", "labels", "annotations"]
        assert rows == [("dev", "{}", "{}"), ("openfaas-fn", "{}", "{}")]  # the old row kept, the default added
