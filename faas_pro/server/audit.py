"""Audit events: a bounded, durable SQLite outbox, then background delivery to the webhook.

Recording (docs/security.md rules 10 and 12; docs/webhooks.md):

- ``make_event`` copies only bounded values (claims cut to ``MAX_CLAIM`` characters, the path to
  ``MAX_PATH``), so an event is at most a few kilobytes whatever the token carried.
- The outbox is bounded in events (``max_events``) and in bytes (``max_bytes``). When it is full a
  new event is dropped (never an older one): the drop is counted (``dropped``,
  ``dropped_authenticated``, ``dropped_anonymous``) and logged at most once per ``LOG_EVERY``
  seconds. Events of unauthenticated requests have their own small quota (``anonymous_share`` of
  both bounds); past it they are only counted, so a client without credentials can never push an
  authenticated event out, nor keep one from being stored.
- ``put``/``record`` never touch SQLite on the caller's thread: the event joins an in-memory
  buffer (bounded by ``buffer_events``/``buffer_bytes``) and one dedicated thread, which owns the
  only connection, writes it. The connection has a short busy timeout; a failed write (a locked
  or unavailable file) stays in the buffer and is retried with back-off, so a lock on ``audit.db``
  slows the audit trail only.
- Strict mode (``strict=True``): ``await record(...)`` is False when the event could not be made
  durable within ``strict_timeout`` (or was dropped because the outbox is full); the route then
  answers 503. Without strict mode ``record`` is always True: the audit trail never fails a call.

Delivery: a POST of a JSON array of events with ``X-Openfaas-Event: api_access``,
``X-Openfaas-Signature-256: sha256=<hex HMAC-SHA256(body, secret)>``, and the Standard Webhooks
headers ``webhook-id``, ``webhook-timestamp`` and ``webhook-signature: v1,<base64 HMAC-SHA256 of
"id.timestamp.body">`` (the key is the secret's bytes). ``X-Openfaas-Delivery`` equals
``webhook-id``. A batch gets its id once, stored with its events, so every attempt of that batch
(also after a restart) carries the same id and the same body; a receiver deduplicates on it.
Events are removed only after a 2xx. Database and network errors are logged and retried with a
back-off of 0.5 s, 1 s, 2 s … capped at 10 s; the delivery loop never ends on its own.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import contextlib
import hashlib
import hmac
import json
import queue
import sqlite3
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from faas_pro.errors import FaasProError

if TYPE_CHECKING:  # pragma: no cover
    import httpx

BATCH = 100
MAX_BACKOFF = 10.0
MAX_CLAIM = 256
MAX_PATH = 1024
MAX_ACTIONS = 16
LOG_EVERY = 10.0
DEFAULT_MAX_EVENTS = 100_000
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
BUSY_TIMEOUT = 0.2
MAX_WRITE_BACKOFF = 2.0


def _bounded(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def make_event(
    claims: dict[str, Any] | None, path: str, method: str, actions: list[str], response_code: int, now: float
) -> dict[str, Any]:
    c = claims or {}

    def s(key: str) -> str:
        v = c.get(key)
        return _bounded(v, MAX_CLAIM) if isinstance(v, str) else ""

    name = s("name") or s("preferred_username") or s("email")
    return {
        "id": str(uuid.uuid4()),
        "actor": {"sub": s("sub"), "name": name, "issuer": s("iss"), "fed_issuer": s("fed:iss")},
        "path": _bounded(path, MAX_PATH),
        "method": _bounded(method, 16),
        "actions": [_bounded(a, 64) for a in actions[:MAX_ACTIONS]],
        "response_code": response_code,
        "time": datetime.fromtimestamp(now, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    }


def signature(body: bytes, secret: bytes) -> str:
    """``X-Openfaas-Signature-256``: hex HMAC-SHA256 of the body."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def webhook_signature(msg_id: str, timestamp: int, body: bytes, secret: bytes) -> str:
    """``webhook-signature`` (Standard Webhooks): ``v1,`` + base64 HMAC-SHA256 of ``id.timestamp.body``."""
    mac = hmac.new(secret, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def delivery_headers(msg_id: str, timestamp: int, body: bytes, secret: bytes) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-Openfaas-Event": "api_access",
        "X-Openfaas-Signature-256": signature(body, secret),
        "X-Openfaas-Delivery": msg_id,
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": webhook_signature(msg_id, timestamp, body, secret),
    }


def _is_authenticated(event: dict[str, Any]) -> bool:
    actor = event.get("actor")
    return isinstance(actor, dict) and bool(actor.get("sub"))


class _RateLog:
    """At most one line per ``every`` seconds per key; what was held back is summed into the next."""

    def __init__(self, log: Callable[[str], None] | None, every: float = LOG_EVERY) -> None:
        self._log = log
        self._every = every
        self._last: dict[str, float] = {}
        self._held: dict[str, int] = {}
        self._mu = threading.Lock()

    def __call__(self, key: str, message: str) -> None:
        if self._log is None:
            return
        now = time.monotonic()
        with self._mu:
            if now - self._last.get(key, float("-inf")) < self._every:
                self._held[key] = self._held.get(key, 0) + 1
                return
            self._last[key] = now
            held = self._held.pop(key, 0)
        self._log(message + (f" ({held} similar line(s) held back)" if held else ""))


@dataclass
class _Item:
    text: str
    size: int
    anonymous: bool
    waiter: tuple[asyncio.AbstractEventLoop, asyncio.Future[bool]] | None = None


_STOP = object()
_KICK = object()


class Outbox:
    """The durable queue (``--state``/audit.db); see the module docstring for its rules."""

    def __init__(
        self,
        path: Path,
        max_events: int = DEFAULT_MAX_EVENTS,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        anonymous_share: float = 0.01,
        buffer_events: int = 10_000,
        buffer_bytes: int = 8 * 1024 * 1024,
        busy_timeout: float = BUSY_TIMEOUT,
        strict: bool = False,
        strict_timeout: float = 2.0,
        log: Callable[[str], None] | None = None,
    ) -> None:
        if max_events < 1 or max_bytes < 1:
            raise FaasProError("the audit outbox bounds must be positive")
        self.path = path
        self.max_events = max_events
        self.max_bytes = max_bytes
        self.anonymous_max_events = max(1, int(max_events * anonymous_share))
        self.anonymous_max_bytes = max(1, int(max_bytes * anonymous_share))
        self.buffer_events = buffer_events
        self.buffer_bytes = buffer_bytes
        self.strict = strict
        self.strict_timeout = strict_timeout
        self._busy_timeout = busy_timeout
        self._ratelog = _RateLog(log)
        self._mu = threading.Lock()
        self._pending: deque[_Item] = deque()
        self._pending_bytes = 0
        self._kicked = False
        # events and bytes held (on disk + in the buffer), all and unauthenticated only
        self._count = self._bytes = self._anon_count = self._anon_bytes = 0
        self.dropped = 0
        self.dropped_authenticated = 0
        self.dropped_anonymous = 0
        self.write_errors = 0
        self._failing = False  # the last write to the database failed (strict mode refuses new calls)
        self.closed = False
        self._waker: tuple[asyncio.AbstractEventLoop, Callable[[], None]] | None = None
        self._jobs: queue.Queue[Any] = queue.Queue()
        ready: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._thread = threading.Thread(target=self._worker, args=(ready,), name="faas-pro-audit", daemon=True)
        self._thread.start()
        try:
            ready.result()
        except sqlite3.Error as e:
            self._thread.join()
            raise FaasProError(f"cannot open the audit outbox {path}: {e}") from None

    # ---- the caller's side (the event loop): memory only, O(1) ----

    def put(self, event: dict[str, Any], authenticated: bool | None = None) -> int:
        """Queue ``event``; returns 1 when it was dropped because the outbox is full, else 0.

        ``authenticated`` defaults to whether the event names an actor (``actor.sub``)."""
        return 0 if self._enqueue(event, authenticated, None) else 1

    async def record(self, event: dict[str, Any], authenticated: bool | None = None) -> bool:
        """Queue ``event``; False only in strict mode, when it could not be recorded (answer 503).

        An unauthenticated event past its quota counts as recorded: it is counted, not stored."""
        anonymous = not (_is_authenticated(event) if authenticated is None else authenticated)
        if not self.strict:
            self._enqueue(event, not anonymous, None)
            return True
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[bool] = loop.create_future()
        if not self._enqueue(event, not anonymous, (loop, fut)):
            return anonymous
        try:
            return await asyncio.wait_for(asyncio.shield(fut), self.strict_timeout)
        except TimeoutError:
            return False

    def _enqueue(
        self,
        event: dict[str, Any],
        authenticated: bool | None,
        waiter: tuple[asyncio.AbstractEventLoop, asyncio.Future[bool]] | None,
    ) -> bool:
        anonymous = not (_is_authenticated(event) if authenticated is None else authenticated)
        text = json.dumps(event, sort_keys=True)
        size = len(text.encode())
        with self._mu:
            fits = (
                not self.closed
                and self._count < self.max_events
                and self._bytes + size <= self.max_bytes
                and len(self._pending) < self.buffer_events
                and self._pending_bytes + size <= self.buffer_bytes
                and (
                    not anonymous
                    or (
                        self._anon_count < self.anonymous_max_events
                        and self._anon_bytes + size <= self.anonymous_max_bytes
                    )
                )
            )
            if fits:
                self._pending.append(_Item(text, size, anonymous, waiter))
                self._pending_bytes += size
                self._count += 1
                self._bytes += size
                if anonymous:
                    self._anon_count += 1
                    self._anon_bytes += size
                kick = not self._kicked
                self._kicked = True
            else:
                self.dropped += 1
                if anonymous:
                    self.dropped_anonymous += 1
                else:
                    self.dropped_authenticated += 1
                dropped = (self.dropped_authenticated, self.dropped_anonymous)
        if not fits:
            self._ratelog(
                "full",
                f"audit outbox full: dropped new events ({dropped[0]} authenticated, "
                f"{dropped[1]} unauthenticated so far)",
            )
            return False
        if kick:
            self._jobs.put(_KICK)
        return True

    def accepting(self) -> bool:
        """Whether an authenticated event would be recorded now: open, below every bound, and the
        database writable (strict mode asks this before it runs an audited call, so that a call it
        cannot record is refused with 503 instead of executed unrecorded)."""
        with self._mu:
            return not (
                self.closed
                or self._failing
                or self._count >= self.max_events
                or self._bytes >= self.max_bytes
                or len(self._pending) >= self.buffer_events
                or self._pending_bytes >= self.buffer_bytes
            )

    def pending(self) -> int:
        """Events waiting for delivery (on disk and in the memory buffer)."""
        with self._mu:
            return self._count

    def buffered(self) -> int:
        """Events in the memory buffer, not yet written to the database."""
        with self._mu:
            return len(self._pending)

    def stats(self) -> dict[str, int]:
        with self._mu:
            return {
                "pending": self._count,
                "pending_bytes": self._bytes,
                "buffered": len(self._pending),
                "dropped": self.dropped,
                "dropped_authenticated": self.dropped_authenticated,
                "dropped_anonymous": self.dropped_anonymous,
                "write_errors": self.write_errors,
            }

    def set_waker(self, loop: asyncio.AbstractEventLoop, wake: Callable[[], None]) -> None:
        """``wake`` is called on ``loop`` whenever buffered events reach the database."""
        self._waker = (loop, wake)

    # ---- jobs run on the outbox thread ----

    def _submit(self, fn: Callable[[sqlite3.Connection], Any]) -> concurrent.futures.Future[Any]:
        fut: concurrent.futures.Future[Any] = concurrent.futures.Future()
        if self.closed:
            fut.set_exception(sqlite3.ProgrammingError("the audit outbox is closed"))
        else:
            self._jobs.put((fn, fut))
        return fut

    async def next_batch(self) -> tuple[str, list[str]] | None:
        """The oldest batch as (delivery id, event texts); the id is stored, so it never changes."""
        result: tuple[str, list[str]] | None = await asyncio.wrap_future(self._submit(self._next_batch))
        return result

    async def remove_batch(self, delivery_id: str) -> None:
        await asyncio.wrap_future(self._submit(lambda db: self._remove_batch(db, delivery_id)))

    def peek(self, limit: int = BATCH) -> list[tuple[int, str]]:
        """The oldest stored events (blocking; for tools and tests)."""
        rows: list[tuple[int, str]] = self._submit(
            lambda db: list(db.execute("SELECT id, event FROM outbox ORDER BY id LIMIT ?", (limit,)))
        ).result()
        return rows

    def _next_batch(self, db: sqlite3.Connection) -> tuple[str, list[str]] | None:
        row = db.execute("SELECT delivery FROM outbox ORDER BY id LIMIT 1").fetchone()
        if row is None:
            return None
        delivery: str | None = row[0]
        if delivery is None:
            delivery = str(uuid.uuid4())
            with _transaction(db):
                db.execute(
                    "UPDATE outbox SET delivery = ? WHERE id IN "
                    "(SELECT id FROM outbox WHERE delivery IS NULL ORDER BY id LIMIT ?)",
                    (delivery, BATCH),
                )
        texts = [e for (e,) in db.execute("SELECT event FROM outbox WHERE delivery = ? ORDER BY id", (delivery,))]
        return delivery, texts

    def _remove_batch(self, db: sqlite3.Connection, delivery_id: str) -> None:
        with _transaction(db):
            n, size, anon_n, anon_size = db.execute(
                "SELECT COUNT(*), COALESCE(SUM(size), 0), COALESCE(SUM(anon), 0), "
                "COALESCE(SUM(CASE WHEN anon THEN size ELSE 0 END), 0) FROM outbox WHERE delivery = ?",
                (delivery_id,),
            ).fetchone()
            db.execute("DELETE FROM outbox WHERE delivery = ?", (delivery_id,))
        with self._mu:
            self._count -= n
            self._bytes -= size
            self._anon_count -= anon_n
            self._anon_bytes -= anon_size

    def _open(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        db = sqlite3.connect(str(self.path), timeout=5.0, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(
                "CREATE TABLE IF NOT EXISTS outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, event TEXT, "
                "delivery TEXT, size INTEGER, anon INTEGER NOT NULL DEFAULT 0)"
            )
            columns = {r[1] for r in db.execute("PRAGMA table_info(outbox)")}
            for name, decl in (("delivery", "TEXT"), ("size", "INTEGER"), ("anon", "INTEGER NOT NULL DEFAULT 0")):
                if name not in columns:  # an outbox written by an older version
                    db.execute(f"ALTER TABLE outbox ADD COLUMN {name} {decl}")
            db.execute("UPDATE outbox SET size = length(CAST(event AS BLOB)) WHERE size IS NULL")
            db.execute("CREATE INDEX IF NOT EXISTS outbox_delivery ON outbox (delivery)")
            n, size, anon_n, anon_size = db.execute(
                "SELECT COUNT(*), COALESCE(SUM(size), 0), COALESCE(SUM(anon), 0), "
                "COALESCE(SUM(CASE WHEN anon THEN size ELSE 0 END), 0) FROM outbox"
            ).fetchone()
            db.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout * 1000)}")
        except BaseException:
            db.close()
            raise
        self._count, self._bytes, self._anon_count, self._anon_bytes = n, size, anon_n, anon_size
        return db

    def _worker(self, ready: concurrent.futures.Future[None]) -> None:
        try:
            db = self._open()
        except sqlite3.Error as e:
            ready.set_exception(e)
            return
        ready.set_result(None)
        backoff = 0.0
        retry_at = 0.0
        try:
            while True:
                timeout = None
                if self.buffered():
                    timeout = max(0.0, retry_at - time.monotonic())
                try:
                    job = self._jobs.get(timeout=timeout)
                except queue.Empty:
                    job = None
                if job is _STOP:
                    break
                if self.buffered() and time.monotonic() >= retry_at:
                    if self._flush(db):
                        backoff = 0.0
                    else:
                        backoff = min(max(0.05, backoff * 2), MAX_WRITE_BACKOFF)
                        retry_at = time.monotonic() + backoff
                if isinstance(job, tuple):
                    fn, fut = job
                    if fut.set_running_or_notify_cancel():
                        try:
                            fut.set_result(fn(db))
                        except Exception as e:  # reported to the awaiting caller
                            fut.set_exception(e)
            if self.buffered():
                self._flush(db)  # a last attempt; what cannot be written is reported below
            lost = self.buffered()
            if lost:
                self._ratelog("lost", f"audit outbox: {lost} event(s) could not be written before shutdown")
        finally:
            db.close()
            while True:  # jobs that arrived after the stop fail instead of hanging
                try:
                    job = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if isinstance(job, tuple) and job[1].set_running_or_notify_cancel():
                    job[1].set_exception(sqlite3.ProgrammingError("the audit outbox is closed"))

    def _flush(self, db: sqlite3.Connection) -> bool:
        with self._mu:
            items = list(self._pending)
            self._kicked = False
        try:
            with _transaction(db):
                db.executemany(
                    "INSERT INTO outbox (event, size, anon) VALUES (?, ?, ?)",
                    [(i.text, i.size, int(i.anonymous)) for i in items],
                )
        except sqlite3.Error as e:
            with self._mu:
                self.write_errors += 1
                self._failing = True
            self._ratelog(
                "write",
                f"audit outbox: cannot write to the database ({e}); {len(items)} event(s) wait in memory, retrying",
            )
            return False
        with self._mu:
            for _ in items:
                self._pending.popleft()
            self._pending_bytes -= sum(i.size for i in items)
            self._failing = False
        for i in items:
            if i.waiter is not None:
                loop, fut = i.waiter
                with contextlib.suppress(RuntimeError):  # that loop is gone: nobody waits any more
                    loop.call_soon_threadsafe(_resolve, fut)
        waker = self._waker
        if waker is not None:
            with contextlib.suppress(RuntimeError):
                waker[0].call_soon_threadsafe(waker[1])
        return True

    def close(self) -> None:
        """Write what the buffer holds (one attempt), close the connection and end the thread."""
        with self._mu:
            if self.closed:
                return
            self.closed = True
        self._jobs.put(_STOP)
        self._thread.join()


def _resolve(fut: asyncio.Future[bool]) -> None:
    if not fut.done():
        fut.set_result(True)


@contextlib.contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[None]:
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        with contextlib.suppress(sqlite3.Error):
            db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


class Deliverer:
    """Background task: drain the outbox to the webhook; errors are logged and retried, never fatal."""

    def __init__(
        self,
        outbox: Outbox,
        client: httpx.AsyncClient,
        url: str,
        secret: bytes,
        log: Callable[[str], None],
        *,
        clock: Callable[[], float] = time.time,
        max_backoff: float = MAX_BACKOFF,
    ) -> None:
        self.outbox = outbox
        self._client = client
        self._url = url
        self._secret = secret
        self._log = log
        self._ratelog = _RateLog(log)
        self._clock = clock
        self._max_backoff = max_backoff
        self._wake = asyncio.Event()
        self.delivered = 0
        self.errors = 0

    def notify(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        self.outbox.set_waker(asyncio.get_running_loop(), self.notify)
        backoff = 0.5
        failing = db_failing = False
        acked: str | None = None  # delivered, not yet removed: removed before anything is sent again
        while True:
            try:
                if acked is not None:
                    await self.outbox.remove_batch(acked)
                    acked = None
                batch = await self.outbox.next_batch()
            except Exception as e:  # a locked or broken database: log, wait, try again
                self.errors += 1
                self._ratelog("db", f"audit outbox: database error ({type(e).__name__}: {e}); retrying")
                db_failing = True
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self._max_backoff)
                continue
            if db_failing:
                self._log("audit outbox: database usable again")
                db_failing, backoff = False, 0.5
            if batch is None:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), 5.0)
                continue
            delivery_id, events = batch
            ok, why = await self._send(delivery_id, events)
            if ok:
                acked = delivery_id
                self.delivered += len(events)
                if failing:
                    self._log(f"audit webhook: delivered again ({len(events)} event(s) after an outage)")
                failing, backoff = False, 0.5
                continue
            self.errors += 1
            if not failing:
                self._log(f"audit webhook: delivery failed ({why}); {self.outbox.pending()} event(s) kept, retrying")
            failing = True
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, self._max_backoff)

    async def _send(self, delivery_id: str, events: list[str]) -> tuple[bool, str]:
        body = ("[" + ",".join(events) + "]").encode()
        headers = delivery_headers(delivery_id, int(self._clock()), body, self._secret)
        try:
            r = await self._client.post(self._url, content=body, headers=headers)
        except Exception as e:  # network errors and anything else the client raises: retried
            return False, type(e).__name__
        if 200 <= r.status_code < 300:
            return True, ""
        return False, f"HTTP {r.status_code}"
