"""Streamed answers of the gateway's own app, in-process, and the log stream sent to the browser.

httpx's ASGI transport reads an answer whole before returning it, so a followed log stream
(``GET /system/logs?follow=true``, which never ends) cannot go through it. ``ApiStream`` calls the
app directly and hands over the body chunk by chunk; closing it tells the app the client went away
(``http.disconnect``), which ends the upstream request too.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from contextlib import suppress
from typing import Any

from starlette.responses import Response

OPEN_TIMEOUT = 30.0
CLOSE_TIMEOUT = 2.0
MAX_LINE = 64 * 1024


class ApiStream:
    """One request to the gateway's app; ``open`` returns the status (``headers`` are then set),
    ``next`` the body's chunks (b"" at the end), ``close`` ends it early."""

    def __init__(
        self,
        app: Any,
        url: str,
        path: str,
        query: bytes,
        headers: list[tuple[bytes, bytes]],
        method: str = "GET",
        body: bytes = b"",
        client: tuple[str, int] | None = None,
    ) -> None:
        import urllib.parse as up

        u = up.urlsplit(url)
        port = u.port or (443 if u.scheme == "https" else 80)
        self._scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.0"},  # 2.0: the app listens for http.disconnect
            "http_version": "1.1",
            "method": method,
            "scheme": u.scheme,
            "path": path,
            "raw_path": path.encode(),
            "query_string": query,
            "root_path": "",
            "headers": [
                (b"host", (u.netloc or "localhost").encode()),
                *headers,
                *([(b"content-length", str(len(body)).encode())] if method not in ("GET", "HEAD") else []),
            ],
            "client": client or ("127.0.0.1", 0),  # the browser's address: the gateway forwards it (X-Forwarded-For)
            "server": (u.hostname or "localhost", port),
        }
        self._app = app
        self._body = body
        self.headers: list[tuple[str, str]] = []
        self._q: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(16)
        self._gone = asyncio.Event()
        self._asked = False
        self._ended = False
        self._task: asyncio.Task[None] | None = None

    async def _receive(self) -> dict[str, Any]:
        if not self._asked:
            self._asked = True
            return {"type": "http.request", "body": self._body, "more_body": False}
        await self._gone.wait()
        return {"type": "http.disconnect"}

    async def _run(self) -> None:
        try:
            await self._app(self._scope, self._receive, self._q.put)
        finally:
            if not self._gone.is_set():
                await self._q.put(None)

    async def open(self, timeout: float | None = OPEN_TIMEOUT) -> int:
        """The answer's status (502 when the app ended without one); TimeoutError after ``timeout``."""
        self._task = asyncio.create_task(self._run())
        msg = await asyncio.wait_for(self._q.get(), timeout)
        if msg is None or msg.get("type") != "http.response.start":
            self._ended = True
            return 502
        self.headers = [(bytes(k).decode("latin-1"), bytes(v).decode("latin-1")) for k, v in msg.get("headers", [])]
        return int(msg["status"])

    async def next(self) -> bytes:
        """The next non-empty chunk, or b"" when the answer has ended."""
        while not self._ended:
            msg = await self._q.get()
            if msg is None or msg.get("type") != "http.response.body":
                self._ended = True
                break
            if not msg.get("more_body", False):
                self._ended = True
            body = bytes(msg.get("body", b""))
            if body:
                return body
        return b""

    async def read_all(self, limit: int) -> bytes:
        return (await self.read_upto(limit))[0]

    async def read_upto(self, limit: int) -> tuple[bytes, bool]:
        """At most ``limit`` bytes of the body, and whether there was more (never read further)."""
        out = bytearray()
        while len(out) <= limit:
            chunk = await self.next()
            if not chunk:
                break
            out += chunk
        return bytes(out[:limit]), len(out) > limit

    async def close(self) -> None:
        self._gone.set()
        task = self._task
        if task is None:
            return
        end = time.monotonic() + CLOSE_TIMEOUT
        while not task.done() and time.monotonic() < end:
            while not self._q.empty():  # a send blocked on a full queue must not keep the app waiting
                self._q.get_nowait()
            await asyncio.wait({task}, timeout=0.05)
        if not task.done():
            task.cancel()
        with suppress(BaseException):
            await task


def log_line(raw: bytes) -> tuple[str, str, str] | None:
    """(timestamp, instance, text) of one NDJSON log line of the API, or None."""
    try:
        d = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(d, dict):
        return None
    return str(d.get("timestamp", "")), str(d.get("instance", "")), str(d.get("text", ""))


class LogFollow(Response):
    """The browser's follow stream: the API's log lines re-encoded as NDJSON objects of three strings
    (timestamp, instance, text), for at most ``seconds`` (the page's script then asks again)."""

    media_type = "application/x-ndjson"

    def __init__(self, stream: ApiStream, seconds: float, headers: dict[str, str]) -> None:
        super().__init__(None, 200, headers=headers)
        self.raw_headers = [(k, v) for k, v in self.raw_headers if k != b"content-length"]  # streamed
        self._stream = stream
        self._seconds = seconds

    async def __call__(self, scope: Any, receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        left = asyncio.Event()

        async def watch() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            left.set()

        watcher = asyncio.create_task(watch())
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            deadline = time.monotonic() + self._seconds
            buf = b""
            while not left.is_set():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                nxt = asyncio.ensure_future(self._stream.next())
                gone = asyncio.ensure_future(left.wait())
                done, _ = await asyncio.wait({nxt, gone}, timeout=remaining, return_when=asyncio.FIRST_COMPLETED)
                gone.cancel()
                if nxt not in done:
                    nxt.cancel()
                    with suppress(BaseException):
                        await nxt
                    break
                chunk = nxt.result()
                if not chunk:
                    break
                buf += chunk
                *lines, buf = buf.split(b"\n")
                if len(buf) > MAX_LINE:
                    buf = b""
                out = b""
                for ln in lines:
                    parsed = log_line(ln)
                    if parsed is not None:
                        ts, inst, text = parsed
                        out += json.dumps({"timestamp": ts, "instance": inst, "text": text}).encode() + b"\n"
                if out:
                    await send({"type": "http.response.body", "body": out, "more_body": True})
            with suppress(OSError):
                await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            watcher.cancel()
            with suppress(BaseException):
                await watcher
            await self._stream.close()
