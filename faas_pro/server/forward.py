"""A small HTTP/1.1 forwarder for function invocations: keep-alive connections to one upstream,
request and response bodies streamed, nothing buffered whole.

Why not httpx here: its connection pool scans every connection for every request, and under 32
concurrent invocations the gateway spent most of its time there (bench/README.md, "Gateway").
This client does only what a reverse proxy needs: one request per connection at a time, bodies
framed by Content-Length or chunked encoding (or, for answers, by the connection's end).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable
from urllib.parse import urlsplit

from faas_pro.server.backends import BackendError, Streamed

MAX_HEAD = 64 * 1024
MAX_IDLE = 256
_NO_BODY_STATUS = frozenset({204, 304})


class _Conn:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.close()


class Forwarder:
    def __init__(self, base_url: str, *, timeout: float, connect_timeout: float = 10.0) -> None:
        u = urlsplit(base_url)
        self._tls = ssl.create_default_context() if u.scheme == "https" else None
        self._host = u.hostname or "localhost"
        self._port = u.port or (443 if self._tls else 80)
        self._host_header = u.netloc.rpartition("@")[2]
        self._prefix = u.path.rstrip("/")
        self._timeout = timeout
        self._connect_timeout = connect_timeout
        self._idle: list[_Conn] = []
        self._closed = False

    async def _connect(self) -> _Conn:
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(
                    self._host, self._port, ssl=self._tls, server_hostname=self._host if self._tls else None
                ),
                self._connect_timeout,
            )
        except TimeoutError:
            raise BackendError("the upstream gateway did not accept a connection in time", 504) from None
        except (OSError, ssl.SSLError) as e:
            raise BackendError(f"cannot reach the upstream gateway: {type(e).__name__}") from None
        sock = writer.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return _Conn(reader, writer)

    async def _read(self, awaitable: Awaitable[bytes]) -> bytes:
        # asyncio.timeout, not wait_for: wait_for wraps each read in a task of its own (bench/README.md)
        try:
            async with asyncio.timeout(self._timeout):
                return await awaitable
        except TimeoutError:
            raise BackendError("the upstream gateway did not answer in time", 504) from None
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            raise BackendError("the upstream gateway closed the connection") from None

    async def request(
        self,
        method: str,
        target: str,
        query: bytes,
        headers: list[tuple[str, str]],
        body: AsyncIterator[bytes] | None,
        content_length: int | None,
    ) -> Streamed:
        """Send one request; the answer's body is streamed by the returned ``Streamed``."""
        path = self._prefix + target + ("?" + query.decode("latin-1") if query else "")
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self._host_header}"]
        lines += [f"{k}: {v}" for k, v in headers if "\r" not in v and "\n" not in v]
        chunked = body is not None and content_length is None
        if content_length is not None:
            lines.append(f"Content-Length: {content_length}")
        elif chunked:
            lines.append("Transfer-Encoding: chunked")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        while self._idle and self._idle[-1].reader.at_eof():  # the upstream closed it while idle
            self._idle.pop().close()
        reused = bool(self._idle)
        conn = self._idle.pop() if self._idle else await self._connect()
        try:
            try:
                pending = head  # the head goes out with the first piece of the body: one send, not two
                if body is not None:
                    async for chunk in body:
                        conn.writer.write(pending + (b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk))
                        pending = b""
                        await conn.writer.drain()
                    if chunked:
                        pending += b"0\r\n\r\n"
                if pending:
                    conn.writer.write(pending)
                await conn.writer.drain()
                async with asyncio.timeout(self._timeout):
                    raw_head = await conn.reader.readuntil(b"\r\n\r\n")
            except TimeoutError:  # before OSError, of which it is a subclass
                raise BackendError("the upstream gateway did not answer in time", 504) from None
            except (OSError, asyncio.IncompleteReadError) as e:
                conn.close()
                if reused and body is None:  # a keep-alive connection the upstream had closed: once more
                    return await self.request(method, target, query, headers, None, content_length)
                raise BackendError(f"cannot reach the upstream gateway: {type(e).__name__}") from None
            except asyncio.LimitOverrunError:
                raise BackendError("the upstream gateway's answer has an oversized head") from None
            status, out_headers, length, is_chunked, keep = _parse_head(raw_head)
        except BaseException:
            conn.close()
            raise
        if method == "HEAD" or status in _NO_BODY_STATUS or 100 <= status < 200:
            length, is_chunked = 0, False
        state = {"done": False}

        async def chunks() -> AsyncIterator[bytes]:
            r = conn.reader
            if is_chunked:
                while True:
                    size_line = await self._read(r.readuntil(b"\r\n"))
                    size = int(size_line.split(b";", 1)[0].strip(), 16)
                    if size == 0:
                        while (await self._read(r.readuntil(b"\r\n"))) != b"\r\n":
                            pass  # trailers are dropped
                        break
                    data = await self._read(r.readexactly(size + 2))
                    yield data[:-2]
            elif length is not None:
                left = length
                while left > 0:
                    data = await self._read(r.read(min(left, 65536)))
                    if not data:
                        raise BackendError("the upstream gateway closed the connection")
                    left -= len(data)
                    yield data
            else:
                while data := await self._read(r.read(65536)):
                    yield data
            state["done"] = True

        async def close() -> None:
            reusable = state["done"] and keep and (length is not None or is_chunked)
            if reusable and not self._closed and len(self._idle) < MAX_IDLE:
                self._idle.append(conn)
            else:
                conn.close()

        return Streamed(status, out_headers, chunks(), close)

    async def aclose(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        for c in idle:
            c.close()
            with contextlib.suppress(Exception):
                await c.writer.wait_closed()


def _parse_head(raw: bytes) -> tuple[int, list[tuple[str, str]], int | None, bool, bool]:
    """Status, headers, Content-Length, chunked?, keep-alive? of a response head."""
    try:
        text = raw.decode("latin-1")
        status_line, *header_lines = text[:-4].split("\r\n")
        version, code, *_ = status_line.split(" ", 2)
        status = int(code)
        if not version.startswith("HTTP/1.") or not 100 <= status <= 599:
            raise ValueError
    except ValueError:
        raise BackendError("the upstream gateway's answer is not HTTP") from None
    headers: list[tuple[str, str]] = []
    length: int | None = None
    chunked = False
    keep = version == "HTTP/1.1"
    for line in header_lines:
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            raise BackendError("the upstream gateway's answer has a malformed header")
        value = value.strip()
        low = name.lower()
        if low == "content-length":
            if not value.isdigit() or (length is not None and length != int(value)):
                raise BackendError("the upstream gateway's answer has a bad Content-Length")
            length = int(value)
        elif low == "transfer-encoding":
            chunked = value.lower().endswith("chunked")
        elif low == "connection":
            tokens = {t.strip().lower() for t in value.split(",")}
            keep = "close" not in tokens and (keep or "keep-alive" in tokens)
        headers.append((name, value))
    if chunked:
        length = None  # RFC 9112 6.3: chunked wins
    return status, headers, length, chunked, keep
