"""The dashboard's in-process stream of the gateway's app (a followed log stream never ends, so it
cannot go through httpx's ASGI transport, which reads whole answers) and the follow stream sent
to the browser: a small real Starlette app that streams lines until its client goes away."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from faas_pro.server.dashboard.stream import ApiStream, LogFollow, log_line


def _app(seen: dict[str, Any]) -> Starlette:
    async def logs(request: Request) -> Response:
        seen["query"] = request.url.query
        seen["auth"] = request.headers.get("authorization")

        async def lines() -> AsyncIterator[bytes]:
            n = 0
            try:
                while True:
                    yield json.dumps({"timestamp": "t", "instance": "i", "text": f"<b>line {n}</b>"}).encode() + b"\n"
                    if n == 1:
                        yield b"not json\n"
                    n += 1
                    await asyncio.sleep(0.01)
            finally:
                seen["closed"] = True

        return StreamingResponse(lines(), media_type="application/x-ndjson")

    async def refused(request: Request) -> Response:
        return PlainTextResponse("Unauthorized\n", 403)

    return Starlette(routes=[Route("/system/logs", logs), Route("/refused", refused)])


def test_a_stream_hands_over_chunks_and_closing_ends_the_app_request() -> None:
    async def main() -> None:
        seen: dict[str, Any] = {}
        s = ApiStream(_app(seen), "http://gw.test", "/system/logs", b"name=a&follow=true", [(b"authorization", b"B x")])
        assert await s.open() == 200
        got = b""
        while got.count(b"\n") < 3:
            got += await s.next()
        assert json.loads(got.split(b"\n")[0])["text"] == "<b>line 0</b>"
        assert seen["query"] == "name=a&follow=true" and seen["auth"] == "B x"
        await s.close()
        await asyncio.sleep(0.05)
        assert seen.get("closed") is True  # the app saw the client go away and stopped

    asyncio.run(main())


def test_a_refusal_is_its_status_and_body() -> None:
    async def main() -> None:
        s = ApiStream(_app({}), "http://gw.test", "/refused", b"", [])
        assert await s.open() == 403
        assert await s.read_all(100) == b"Unauthorized\n"
        assert await s.next() == b""
        await s.close()

    asyncio.run(main())


def test_the_follow_stream_re_encodes_lines_and_ends_after_its_time() -> None:
    async def main() -> list[dict[str, Any]]:
        seen: dict[str, Any] = {}
        s = ApiStream(_app(seen), "http://gw.test", "/system/logs", b"", [])
        assert await s.open() == 200
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            await asyncio.sleep(3600)
            return {"type": "http.disconnect"}

        async def send(msg: dict[str, Any]) -> None:
            sent.append(msg)

        await asyncio.wait_for(LogFollow(s, 0.3, {"X-Test": "1"})({"type": "http"}, receive, send), 5)
        await asyncio.sleep(0.05)
        assert seen.get("closed") is True
        return sent

    sent = asyncio.run(main())
    start, *bodies = sent
    headers = dict(start["headers"])
    assert start["status"] == 200 and b"content-length" not in headers and headers[b"x-test"] == b"1"
    assert bodies[-1] == {"type": "http.response.body", "body": b"", "more_body": False}
    lines = [json.loads(x) for m in bodies for x in m["body"].splitlines()]
    assert len(lines) >= 3 and lines[0] == {"timestamp": "t", "instance": "i", "text": "<b>line 0</b>"}
    assert all(set(x) == {"timestamp", "instance", "text"} for x in lines)  # "not json" was dropped


def test_the_follow_stream_stops_when_the_browser_leaves() -> None:
    async def main() -> bool:
        seen: dict[str, Any] = {}
        s = ApiStream(_app(seen), "http://gw.test", "/system/logs", b"", [])
        assert await s.open() == 200
        left = asyncio.Event()

        async def receive() -> dict[str, Any]:
            await left.wait()
            return {"type": "http.disconnect"}

        async def send(msg: dict[str, Any]) -> None:
            if msg.get("more_body"):
                left.set()  # the browser goes away after the first lines

        await asyncio.wait_for(LogFollow(s, 60, {})({"type": "http"}, receive, send), 5)
        await asyncio.sleep(0.05)
        return bool(seen.get("closed"))

    assert asyncio.run(main()) is True


def test_log_line_takes_objects_only() -> None:
    assert log_line(b'{"timestamp": 1, "text": "x"}') == ("1", "", "x")
    assert log_line(b"[1]") is None and log_line(b"{") is None


def test_a_post_carries_its_body_and_only_what_is_shown_is_read() -> None:
    seen: dict[str, Any] = {}

    async def echo(request: Request) -> Response:
        seen["body"] = await request.body()
        seen["length"] = request.headers.get("content-length")
        seen["client"] = request.client.host if request.client else None

        async def big() -> AsyncIterator[bytes]:
            try:
                for _ in range(1000):  # 1 MB, far more than is shown
                    yield b"x" * 1024
                    await asyncio.sleep(0)
            finally:
                seen["closed"] = True

        return StreamingResponse(big(), headers={"X-Echo": "yes"})

    app = Starlette(routes=[Route("/function/f.ns", echo, methods=["POST"])])

    async def main() -> tuple[int, bytes, bool, list[tuple[str, str]]]:
        s = ApiStream(
            app,
            "http://gw.test",
            "/function/f.ns",
            b"",
            [(b"content-type", b"text/plain")],
            "POST",
            b"hi",
            ("192.0.2.7", 5),
        )
        try:
            status = await s.open(timeout=None)
            raw, more = await s.read_upto(64 * 1024)
        finally:
            await s.close()
        return status, raw, more, s.headers

    status, raw, more, headers = asyncio.run(main())
    assert status == 200 and len(raw) == 64 * 1024 and more is True
    assert ("x-echo", "yes") in headers
    assert seen["body"] == b"hi" and seen["length"] == "2" and seen["closed"] is True
    assert seen["client"] == "192.0.2.7"  # the browser's address, for the gateway's X-Forwarded-For
