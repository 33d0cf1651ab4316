"""Bounded JSON over the process's one httpx client: size caps, timeouts, no redirects."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from faas_pro.errors import FaasProError, Unreachable

if TYPE_CHECKING:  # pragma: no cover
    import httpx

MAX_JSON_BYTES = 256 * 1024
_UNSAFE = re.compile(r"[\x00-\x1f\x7f]+")


def one_line(text: object, limit: int = 300) -> str:
    """Remote text made safe for a one-line message: control characters collapsed, length capped."""
    s = _UNSAFE.sub(" ", str(text)).strip()
    return s if len(s) <= limit else s[: limit - 1] + "…"


@dataclass
class JsonResponse:
    status: int
    body: Any  # parsed JSON, or None when the body was not JSON
    content_type: str


def request_json(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    what: str,
    data: dict[str, str] | None = None,
    auth: tuple[str, str] | None = None,
    headers: dict[str, str] | None = None,
    cap: int = MAX_JSON_BYTES,
) -> JsonResponse:
    """Send one request (never following redirects) and parse a JSON body of at most ``cap`` bytes.

    Connection failures raise ``Unreachable`` naming ``what`` and the URL; an oversized body raises
    ``FaasProError``. A body that is not JSON gives ``body=None`` so callers can word the error.
    ``headers`` (e.g. a bearer token) go to ``url`` only: no redirect is ever followed.
    """
    import httpx

    try:
        with client.stream(
            method,
            url,
            data=data,
            auth=auth if auth is not None else httpx.USE_CLIENT_DEFAULT,
            headers={"Accept": "application/json", **(headers or {})},
            follow_redirects=False,
        ) as r:
            chunks: list[bytes] = []
            size = 0
            for chunk in r.iter_bytes():  # decoded bytes: the cap also stops decompression bombs
                size += len(chunk)
                if size > cap:
                    raise FaasProError(f"{what} at {url} is larger than {cap // 1024} KiB; refusing to read it")
                chunks.append(chunk)
            raw = b"".join(chunks)
            status, ctype = r.status_code, r.headers.get("content-type", "")
    except httpx.TimeoutException as e:
        raise Unreachable(f"timed out talking to {what} at {url}") from e
    except httpx.TransportError as e:
        raise Unreachable(f"cannot reach {what} at {url}: {one_line(e) or type(e).__name__}") from e
    except httpx.DecodingError:  # e.g. Content-Encoding: gzip over a body that is not gzip
        raise FaasProError(f"{what} at {url} sent a body that cannot be decoded") from None
    body: Any
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        body = None
    return JsonResponse(status, body, ctype)
