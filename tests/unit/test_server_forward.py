"""The invocation forwarder against a real loopback server that answers in each HTTP/1.1 framing:
chunked, Content-Length (kept alive and reused), until the connection closes, and garbage
(``serve_raw`` of tests/support/rawhttp.py: raw bytes, which ``FakeHTTP`` cannot send)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from faas_pro.server.backends import BackendError
from faas_pro.server.forward import Forwarder
from tests.support.rawhttp import serve_raw

ANSWERS = {
    b"/chunked": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\n\r\n"
    + b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
    b"/length": b"HTTP/1.1 201 Created\r\nContent-Length: 3\r\n\r\nabc",
    b"/eof": b"HTTP/1.0 200 OK\r\n\r\nuntil the end",
    b"/garbage": b"SSH-2.0-OpenSSH\r\n\r\n",
}


async def _read(s: object) -> bytes:
    out = b""
    async for c in s.chunks:  # type: ignore[attr-defined]
        out += c
    await s.close()  # type: ignore[attr-defined]
    return out


def test_each_framing_is_read_and_keep_alive_connections_are_reused() -> None:
    async def run() -> None:
        seen: list[bytes] = []
        server, port = await serve_raw(ANSWERS, seen)
        f = Forwarder(f"http://127.0.0.1:{port}", timeout=5)
        try:
            s = await f.request("GET", "/chunked", b"q=1", [("X-B", "2")], None, None)
            assert s.status == 200 and ("X-A", "1") in s.headers and await _read(s) == b"hello world"
            assert seen[0].startswith(b"GET /chunked?q=1 HTTP/1.1\r\n") and b"X-B: 2" in seen[0]

            async def body() -> AsyncIterator[bytes]:
                yield b"part1-"
                yield b"part2"

            s = await f.request("POST", "/length", b"", [], body(), None)  # no length: sent chunked
            assert s.status == 201 and await _read(s) == b"abc" and seen[-1] == b"part1-part2"
            assert len(f._idle) == 1  # the same connection twice, back in the pool
            s = await f.request("GET", "/eof", b"", [], None, None)
            assert await _read(s) == b"until the end" and len(f._idle) == 0  # not reusable
            with pytest.raises(BackendError, match="not HTTP"):
                await f.request("GET", "/garbage", b"", [], None, None)
        finally:
            await f.aclose()
            server.close()
            await server.wait_closed()

    asyncio.run(run())


def test_nothing_listening_is_a_clear_backend_error() -> None:
    async def run() -> None:
        server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        server.close()
        await server.wait_closed()
        f = Forwarder(f"http://127.0.0.1:{port}", timeout=5)
        with pytest.raises(BackendError, match="cannot reach the upstream gateway"):
            await f.request("GET", "/x", b"", [], None, None)
        await f.aclose()

    asyncio.run(run())
