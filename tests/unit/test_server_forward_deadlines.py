"""The invocation forwarder's deadlines and request framing against a real loopback server: an
upstream that never answers, one that stalls in the middle of its body, and a request body of
known length sent in several pieces (the head goes out with the first piece)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from faas_pro.server.backends import BackendError
from faas_pro.server.forward import Forwarder


async def _server(
    answer: bytes | None, received: list[bytes], finished: list[asyncio.Event]
) -> tuple[asyncio.Server, int]:
    """Reads one request (head and Content-Length body), then sends ``answer`` and waits
    (``None``: answers nothing)."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        done = asyncio.Event()
        finished.append(done)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(
                (int(h.split(b":")[1]) for h in head.split(b"\r\n") if h.lower().startswith(b"content-length:")), 0
            )
            received.append(head + await reader.readexactly(length))
            if answer is not None:
                writer.write(answer)
                await writer.drain()
            await reader.read()  # hold the connection until the client goes
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()
        done.set()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


def _run(answer: bytes | None, timeout: float, body: list[bytes] | None = None) -> tuple[object, list[bytes]]:
    """The outcome (the body read, or the BackendError) and what the upstream received."""
    received: list[bytes] = []

    async def run() -> object:
        finished: list[asyncio.Event] = []
        server, port = await _server(answer, received, finished)
        f = Forwarder(f"http://127.0.0.1:{port}", timeout=timeout)

        async def pieces() -> AsyncIterator[bytes]:
            for p in body or []:
                await asyncio.sleep(0.01)
                yield p

        try:
            length = sum(len(p) for p in body) if body else None
            s = await f.request("POST", "/fn", b"", [], pieces() if body else None, length)
            out = b""
            try:
                async for c in s.chunks:
                    out += c
            finally:
                await s.close()
            return out
        except BackendError as e:
            return e
        finally:
            await f.aclose()  # every connection closed: each handler sees the end and finishes
            await asyncio.wait_for(asyncio.gather(*(e.wait() for e in finished)), 5)
            server.close()
            await server.wait_closed()

    return asyncio.run(run()), received


def test_an_upstream_that_never_answers_is_a_504_after_the_timeout() -> None:
    t0 = time.monotonic()
    outcome, _ = _run(None, timeout=0.3)
    assert isinstance(outcome, BackendError) and outcome.status == 504 and "in time" in outcome.reason
    assert 0.25 < time.monotonic() - t0 < 5


def test_an_upstream_that_stalls_in_its_body_is_a_504() -> None:
    outcome, _ = _run(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf", timeout=0.3)
    assert isinstance(outcome, BackendError) and outcome.status == 504


def test_a_body_of_known_length_arrives_whole_after_its_head() -> None:
    outcome, received = _run(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", timeout=5, body=[b"abc", b"def", b"g"])
    assert outcome == b"ok"
    head, _, body = received[0].partition(b"\r\n\r\n")
    assert head.startswith(b"POST /fn HTTP/1.1\r\n") and b"Content-Length: 7" in head
    assert body == b"abcdefg"


@pytest.mark.parametrize("answer", [b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"])
def test_a_request_without_body_is_sent_at_once(answer: bytes) -> None:
    outcome, received = _run(answer, timeout=5)
    assert outcome == b"" and received[0].endswith(b"\r\n\r\n") and received[0].startswith(b"POST /fn HTTP/1.1")
