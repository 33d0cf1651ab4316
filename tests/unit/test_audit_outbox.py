"""The audit outbox on its own (SECURITY rule 12): bounded in events and bytes, an anonymous quota
that never displaces authenticated events, SQLite off the caller's thread (a locked file costs the
caller nothing), a bounded memory buffer written when the database is back, strict mode, batch ids
that never change, and an outbox written by an older version read as it is."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from faas_pro.server.audit import MAX_CLAIM, Outbox, make_event
from tests.support.wait import wait_until


def _event(sub: str = "fed:robot", **extra: Any) -> dict[str, Any]:
    return make_event({"sub": sub, **extra}, "/system/functions", "POST", ["Function:Create"], 202, time.time())


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Another connection holds the write lock on ``path`` (as another process could)."""
    other = sqlite3.connect(str(path), isolation_level=None)
    try:
        other.execute("BEGIN EXCLUSIVE")
        yield
        other.execute("COMMIT")
    finally:
        other.close()


@pytest.fixture
def box_factory(tmp_path: Path) -> Iterator[Any]:
    made: list[Outbox] = []

    def make(**kw: Any) -> Outbox:
        box = Outbox(tmp_path / "audit.db", **kw)
        made.append(box)
        return box

    yield make
    for b in made:
        b.close()


def test_make_event_bounds_every_claim() -> None:
    e = make_event(
        {"sub": "s" * 5000, "name": "n" * 12_000, "iss": "i" * 900, "fed:iss": 7},
        "/p" * 3000, "POST", ["A:B"] * 100, 202, 0.0,
    )  # fmt: skip
    assert len(e["actor"]["sub"]) == len(e["actor"]["name"]) == len(e["actor"]["issuer"]) == MAX_CLAIM
    assert e["actor"]["fed_issuer"] == "" and e["actor"]["name"].endswith("…")
    assert len(json.dumps(e)) < 4096


def test_anonymous_events_never_displace_authenticated_ones(box_factory: Any) -> None:
    box = box_factory(max_events=100)
    assert box.anonymous_max_events == 1
    anonymous = [box.put(make_event(None, "/system/functions", "POST", [], 401, 0.0)) for _ in range(1000)]
    assert anonymous == [0] + [1] * 999 and box.dropped_anonymous == 999
    kept = [box.put(_event()) for _ in range(99)]  # the rest of the outbox is still theirs
    assert kept == [0] * 99 and box.dropped_authenticated == 0 and box.pending() == 100
    assert box.put(_event()) == 1 and box.dropped_authenticated == 1  # full: the NEW event is dropped
    wait_until(lambda: box.buffered() == 0, interval=0.01)
    rows = [json.loads(e) for _, e in box.peek(limit=200)]
    assert sum(1 for r in rows if r["actor"]["sub"] == "") == 1 and len(rows) == 100


def test_the_outbox_is_bounded_in_bytes(box_factory: Any) -> None:
    one = len(json.dumps(_event(name="x" * 200), sort_keys=True))
    box = box_factory(max_events=1000, max_bytes=10 * one)
    results = [box.put(_event(name="x" * 200)) for _ in range(15)]
    assert results.count(0) == 10 and box.dropped == 5
    assert box.stats()["pending_bytes"] <= 10 * one


def test_drops_are_logged_at_a_bounded_rate(tmp_path: Path) -> None:
    lines: list[str] = []
    box = Outbox(tmp_path / "audit.db", max_events=1, log=lines.append)
    try:
        for _ in range(500):
            box.put(_event())
    finally:
        box.close()
    assert box.dropped == 499
    assert len([ln for ln in lines if "audit outbox full" in ln]) == 1, lines


def test_a_locked_database_costs_the_caller_nothing_and_the_buffer_is_written_later(
    box_factory: Any, tmp_path: Path
) -> None:
    box = box_factory(buffer_events=300)
    with _locked(tmp_path / "audit.db"):
        start = time.monotonic()
        results = [box.put(_event()) for _ in range(400)]
        spent = time.monotonic() - start
        # one SQLite write attempt waits its busy timeout (0.2 s); 400 calls that touched it would take minutes
        assert spent < 2.0, spent
        assert results == [0] * 300 + [1] * 100  # the memory buffer is bounded too
        time.sleep(0.5)
        assert box.buffered() == 300 and box.write_errors >= 1
    wait_until(lambda: box.buffered() == 0, interval=0.01)  # the database is back: everything buffered is written
    assert len(box.peek(limit=1000)) == 300 and box.pending() == 300


def test_strict_mode_reports_what_could_not_be_recorded(box_factory: Any, tmp_path: Path) -> None:
    strict = box_factory(strict=True, strict_timeout=0.5, max_events=3)

    async def run() -> list[bool]:
        out = [await strict.record(_event())]  # written: True
        with _locked(tmp_path / "audit.db"):
            out.append(await strict.record(_event()))  # not durable within the timeout: False (answer 503)
            out.append(await strict.record(make_event(None, "/x", "POST", [], 401, 0.0)))  # anonymous: stored later
        out.append(await strict.record(_event()))  # the outbox is now full (3): False
        out.append(await strict.record(make_event(None, "/x", "POST", [], 401, 0.0)))  # anonymous: counted only
        return out

    assert asyncio.run(run()) == [True, False, False, False, True]
    wait_until(lambda: strict.buffered() == 0, interval=0.01)
    assert strict.pending() == 3  # the event that timed out was still written once the lock went away


def test_lenient_record_is_always_true(box_factory: Any) -> None:
    box = box_factory(max_events=1)

    async def run() -> list[bool]:
        return [await box.record(_event()) for _ in range(3)]

    assert asyncio.run(run()) == [True, True, True] and box.dropped == 2


def test_a_batch_keeps_its_delivery_id_until_it_is_removed(box_factory: Any, tmp_path: Path) -> None:
    box = box_factory()
    for _ in range(150):
        box.put(_event())

    async def run() -> None:
        first = await box.next_batch()
        again = await box.next_batch()
        assert first is not None and first == again and len(first[1]) == 100
        with _locked(tmp_path / "audit.db"), pytest.raises(sqlite3.OperationalError):
            await box.remove_batch(first[0])  # reported to the caller, who retries
        await box.remove_batch(first[0])
        second = await box.next_batch()
        assert second is not None and second[0] != first[0] and len(second[1]) == 50
        assert not set(second[1]) & set(first[1])
        await box.remove_batch(second[0])
        assert await box.next_batch() is None

    asyncio.run(run())
    assert box.pending() == 0


def test_an_outbox_written_by_the_previous_version_is_read(tmp_path: Path) -> None:
    old = sqlite3.connect(str(tmp_path / "audit.db"), isolation_level=None)
    old.execute("CREATE TABLE outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, event TEXT)")
    old.executemany("INSERT INTO outbox (event) VALUES (?)", [(json.dumps(_event()),) for _ in range(3)])
    old.close()
    box = Outbox(tmp_path / "audit.db", max_events=3)
    try:
        assert box.pending() == 3 and box.put(_event()) == 1  # counted at start: already full

        async def run() -> tuple[str, list[str]] | None:
            return await box.next_batch()

        batch = asyncio.run(run())
        assert batch is not None and len(batch[1]) == 3
    finally:
        box.close()


def test_close_writes_the_buffer_and_closes_the_connection(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "audit.db")
    for _ in range(5):
        box.put(_event())
    box.close()
    box.close()  # twice is fine
    assert not box._thread.is_alive()
    with pytest.raises(sqlite3.ProgrammingError):
        box.peek()
    reopened = Outbox(tmp_path / "audit.db")
    try:
        assert reopened.pending() == 5
    finally:
        reopened.close()


def test_an_unusable_path_is_one_clear_error(tmp_path: Path) -> None:
    from faas_pro.errors import FaasProError

    (tmp_path / "audit.db").mkdir()
    with pytest.raises(FaasProError, match="cannot open the audit outbox"):
        Outbox(tmp_path / "audit.db")
