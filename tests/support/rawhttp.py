"""A loopback HTTP/1.1 server for what ``FakeHTTP`` cannot do: answers written as raw bytes (any
framing, or not HTTP at all), chosen by the request's path (``answers[b"/path"]``)."""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Mapping


async def serve_raw(
    answers: Mapping[bytes, bytes], seen: list[bytes], close_after: Collection[bytes] = (b"/eof", b"/garbage")
) -> tuple[asyncio.Server, int]:
    """Start the server; returns it and its port. ``seen`` gets each request head (and each chunked
    body, decoded); a connection stays open for more requests until a path in ``close_after``."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError:
                break
            seen.append(head)
            if b"Transfer-Encoding: chunked" in head:
                body = b""
                while (size := int((await reader.readuntil(b"\r\n")).strip(), 16)) != 0:
                    body += (await reader.readexactly(size + 2))[:-2]
                await reader.readuntil(b"\r\n")
                seen.append(body)
            target = head.split(b" ")[1].split(b"?")[0]
            writer.write(answers[target])
            await writer.drain()
            if target in close_after:
                break
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]
