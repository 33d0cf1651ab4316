"""One request for a check: no redirects, a size-capped JSON body and the ``Date`` header; a network
or TLS failure becomes ``NetError`` (the check's detail and fix)."""

from __future__ import annotations

import json
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import httpx

MAX_BODY = 256 * 1024


@dataclass
class Fetched:
    status: int
    body: Any
    date: float | None


class NetError(Exception):
    def __init__(self, detail: str, fix: str) -> None:
        super().__init__(detail)
        self.detail, self.fix = detail, fix


def one_line(text: object, limit: int = 200) -> str:
    from faas_pro.oauth.fetch import one_line

    return one_line(text, limit)


def tls_failure(e: BaseException) -> bool:
    seen: BaseException | None = e
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def fetch(
    client: httpx.Client,
    method: str,
    url: str,
    what: str,
    *,
    data: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Fetched:
    """One request, no redirects, a size-capped JSON body (None when not JSON) and the ``Date`` header."""
    import httpx

    try:
        with client.stream(
            method,
            url,
            data=dict(data) if data is not None else None,
            headers={"Accept": "application/json", **(headers or {})},
            follow_redirects=False,
        ) as r:
            raw = bytearray()
            for chunk in r.iter_bytes():
                raw += chunk
                if len(raw) > MAX_BODY:
                    raise NetError(f"{what} at {url} is larger than {MAX_BODY // 1024} KiB", "")
            status, date_header = r.status_code, r.headers.get("date")
    except httpx.TimeoutException:
        raise NetError(f"timed out talking to {what} at {url}", "check the URL, a firewall or the proxy") from None
    except httpx.TransportError as e:
        if tls_failure(e):
            raise NetError(
                f"the TLS certificate of {url} is not trusted",
                "pass --ca-file FILE with the CA that signed it (or set SSL_CERT_FILE)",
            ) from None
        raise NetError(
            f"cannot reach {what} at {url}: {one_line(e) or type(e).__name__}", "check the URL and that it is running"
        ) from None
    except httpx.DecodingError:
        raise NetError(f"{what} at {url} sent a body that cannot be decoded", "") from None
    try:
        body: Any = json.loads(bytes(raw).decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        body = None
    date: float | None = None
    if date_header:
        try:
            date = parsedate_to_datetime(date_header).timestamp()
        except (TypeError, ValueError):
            date = None
    return Fetched(status, body, date)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
