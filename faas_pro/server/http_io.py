"""Reading the gateway's requests and writing its answers: bounded bodies, strict forms and queries,
plain-text and JSON replies, and upstream answers passed on without hop-by-hop headers.

Shared by the route handlers (``faas_pro.server.app``), the dispatcher (``dispatch.py``) and the
dashboard; nothing here decides anything.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from faas_pro.server.exchange import show
from faas_pro.server.schema import Invalid

if TYPE_CHECKING:  # pragma: no cover
    from starlette.requests import Request
    from starlette.responses import Response

    from faas_pro.server.backends import Reply, Streamed

MAX_FORM_FIELDS = 32
# RFC 9110 7.6.1 plus the proxy's own: never passed on in either direction
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
        "authorization",
        "x-forwarded-for",
        "x-forwarded-proto",
        "x-forwarded-host",
        "forwarded",
    }
)


class TooLarge(Exception):
    pass


class BadRequest(Exception):
    pass


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise TooLarge
    buf = bytearray()
    async for chunk in request.stream():
        buf += chunk
        if len(buf) > limit:
            raise TooLarge
    return bytes(buf)


def parse_form(raw: bytes, query: str, repeatable: frozenset[str] = frozenset()) -> dict[str, list[str]]:
    """Form parameters (the token endpoint passes its body only); a repeated name is an error
    unless it is ``repeatable``."""
    from urllib.parse import parse_qsl

    out: dict[str, list[str]] = {}
    for source in (raw.decode("utf-8", "strict"), query):
        if not source:
            continue
        pairs = parse_qsl(source, keep_blank_values=True, strict_parsing=True, max_num_fields=MAX_FORM_FIELDS)
        for k, v in pairs:
            if k in out and k not in repeatable:
                raise BadRequest(f"parameter {show(k, 40)} is given more than once")
            out.setdefault(k, []).append(v)
    return out


def single_query(request: Request) -> dict[str, str]:
    """The query string as single values: a repeated parameter is refused (two parsers could
    disagree about which one counts)."""
    out: dict[str, str] = {}
    if not request.scope.get("query_string"):  # most requests: no parsing, no QueryParams object
        return out
    for k, v in request.query_params.multi_items():
        if k in out:
            raise Invalid(f"query parameter {show(k, 40)} is given more than once")
        out[k] = v
    return out


def text(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    from starlette.responses import PlainTextResponse

    return PlainTextResponse(message if message.endswith("\n") else message + "\n", status, headers=headers)


def reply(r: Reply) -> Response:
    from starlette.responses import JSONResponse
    from starlette.responses import Response as StarletteResponse

    if isinstance(r.body, bytes):
        return StarletteResponse(r.body, r.status, media_type=r.content_type or "application/json")
    if isinstance(r.body, str):
        return text(r.status, r.body)
    if r.body is None:
        return StarletteResponse(b"", r.status)
    return JSONResponse(r.body, r.status)


SMALL_ANSWER = 64 * 1024


_ANSWER_DROP = (HOP_BY_HOP - {"content-length"}) | {"date", "server"}


def answer_headers(s: Streamed) -> list[tuple[bytes, bytes]]:
    """The upstream's answer headers, without hop-by-hop ones (Content-Length kept)."""
    out = []
    for k, v in s.headers:
        low = k.lower()
        if low not in _ANSWER_DROP:
            out.append((low.encode("latin-1"), v.encode("latin-1")))
    return out


async def answer(s: Streamed) -> Response:
    """A small answer of known length is passed on in one piece (no streaming machinery per
    request); anything else is streamed as it arrives."""
    from starlette.background import BackgroundTask
    from starlette.responses import Response as StarletteResponse
    from starlette.responses import StreamingResponse

    length = next((v for k, v in s.headers if k.lower() == "content-length"), None)
    if length is not None and length.isdigit() and int(length) <= SMALL_ANSWER:
        body = bytearray()
        try:
            async for chunk in s.chunks:
                body += chunk
        finally:
            await s.close()
        response: Response = StarletteResponse(bytes(body), s.status)
    else:
        response = StreamingResponse(s.chunks, s.status, background=BackgroundTask(s.close))
    response.raw_headers = answer_headers(s)
    return response


class BodyTooLarge(Exception):
    pass


async def limited(request: Request, limit: int) -> AsyncIterator[bytes]:
    seen = 0
    async for chunk in request.stream():
        seen += len(chunk)
        if seen > limit:
            raise BodyTooLarge
        if chunk:
            yield chunk
