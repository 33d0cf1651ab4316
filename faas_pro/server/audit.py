"""Audit events: durable SQLite outbox first, then background delivery to the webhook.

Delivery (DESIGN §3, §6): a POST of a JSON array of events, headers ``X-Openfaas-Event: api_access``,
``X-Openfaas-Signature-256: sha256=<hex HMAC-SHA256(body, secret)>`` and a fresh
``X-Openfaas-Delivery: <uuid>`` per attempt. Events are deleted from the outbox only after a 2xx,
so delivery is at-least-once: a crash between the webhook's 2xx and the delete sends that batch
again (receivers deduplicate on the event ``id``). Retries back off 0.5 s, 1 s, 2 s … capped at
10 s. The outbox is bounded (``max_events``); when full the oldest events are dropped and the drop
is counted and logged. Events never contain tokens: only the fields built in ``make_event``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import sqlite3
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from faas_pro.errors import FaasProError

if TYPE_CHECKING:  # pragma: no cover
    import httpx

BATCH = 100
MAX_BACKOFF = 10.0


def make_event(
    claims: dict[str, Any] | None, path: str, method: str, actions: list[str], response_code: int, now: float
) -> dict[str, Any]:
    c = claims or {}

    def s(key: str) -> str:
        v = c.get(key)
        return v if isinstance(v, str) else ""

    name = s("name") or s("preferred_username") or s("email")
    return {
        "id": str(uuid.uuid4()),
        "actor": {"sub": s("sub"), "name": name, "issuer": s("iss"), "fed_issuer": s("fed:iss")},
        "path": path,
        "method": method,
        "actions": actions,
        "response_code": response_code,
        "time": datetime.fromtimestamp(now, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    }


def signature(body: bytes, secret: bytes) -> str:
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


class Outbox:
    """The durable queue (``--state``/audit.db)."""

    def __init__(self, path: Path, max_events: int = 100_000) -> None:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("CREATE TABLE IF NOT EXISTS outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, event TEXT)")
        except sqlite3.Error as e:
            raise FaasProError(f"cannot open the audit outbox {path}: {e}") from None
        self._lock = threading.Lock()
        self._max = max_events
        self.dropped = 0

    def put(self, event: dict[str, Any]) -> int:
        """Queue ``event``; returns how many of the oldest events were dropped to stay bounded."""
        over = 0
        with self._lock:
            self._db.execute("INSERT INTO outbox (event) VALUES (?)", (json.dumps(event, sort_keys=True),))
            (count,) = self._db.execute("SELECT COUNT(*) FROM outbox").fetchone()
            if count > self._max:
                over = count - self._max
                self._db.execute("DELETE FROM outbox WHERE id IN (SELECT id FROM outbox ORDER BY id LIMIT ?)", (over,))
                self.dropped += over
        return over

    def peek(self, limit: int = BATCH) -> list[tuple[int, str]]:
        with self._lock:
            return list(self._db.execute("SELECT id, event FROM outbox ORDER BY id LIMIT ?", (limit,)))

    def remove(self, ids: list[int]) -> None:
        with self._lock:
            self._db.executemany("DELETE FROM outbox WHERE id = ?", [(i,) for i in ids])

    def pending(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()


class Deliverer:
    """Background task: drain the outbox to the webhook, retrying with capped back-off."""

    def __init__(
        self,
        outbox: Outbox,
        client: httpx.AsyncClient,
        url: str,
        secret: bytes,
        log: Callable[[str], None],
    ) -> None:
        self.outbox = outbox
        self._client = client
        self._url = url
        self._secret = secret
        self._log = log
        self._wake = asyncio.Event()
        self.delivered = 0

    def notify(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        backoff = 0.5
        failing = False
        while True:
            batch = self.outbox.peek()
            if not batch:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), 5.0)
                continue
            ok, why = await self._send(batch)
            if ok:
                self.outbox.remove([i for i, _ in batch])
                self.delivered += len(batch)
                if failing:
                    self._log(f"audit webhook: delivered again ({len(batch)} event(s) after an outage)")
                failing, backoff = False, 0.5
                continue
            if not failing:
                self._log(f"audit webhook: delivery failed ({why}); {self.outbox.pending()} event(s) kept, retrying")
            failing = True
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF)

    async def _send(self, batch: list[tuple[int, str]]) -> tuple[bool, str]:
        import httpx

        body = ("[" + ",".join(e for _, e in batch) + "]").encode()
        headers = {
            "Content-Type": "application/json",
            "X-Openfaas-Event": "api_access",
            "X-Openfaas-Signature-256": signature(body, self._secret),
            "X-Openfaas-Delivery": str(uuid.uuid4()),
        }
        try:
            r = await self._client.post(self._url, content=body, headers=headers)
        except httpx.HTTPError as e:
            return False, type(e).__name__
        if 200 <= r.status_code < 300:
            return True, ""
        return False, f"HTTP {r.status_code}"
