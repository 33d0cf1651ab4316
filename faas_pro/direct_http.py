"""One GET with the standard library's ``http.client``, for the fast path (docs/architecture.md, "Start-up").

httpx costs 50-70 ms of start-up (its import, httpcore, building a client); ``http.client`` a fraction
of it. It is used ONLY where it cannot behave differently from the client ``build_http_client`` makes
(faas_pro/http_client.py): see :func:`usable_for`, which asks that module's own proxy rules.
Everything else (https, a proxied host, custom CAs, ``--tls-no-verify``, a test transport) goes
through httpx as before. The answer is mapped to a result or an error by
``faas_pro.gateway.parse_answer``, the same function that maps httpx's answers.

What it keeps from the httpx client: the ``User-Agent``, the timeouts (connect at most 10 s, reads
``timeout``), no redirects (a 3xx is an answer, mapped to an error), bodies bounded while reading,
``gzip``/``deflate`` bodies decoded.
"""

from __future__ import annotations

from collections.abc import Mapping


def no_proxy_applies(url: str, env: Mapping[str, str]) -> bool:
    """True when the httpx client would connect to ``url`` directly: the same decision, by the same
    code (``faas_pro.http_client.ProxySettings``: loopback and ``NO_PROXY`` hosts are never proxied)."""
    from urllib.parse import urlsplit

    from faas_pro.http_client import ProxySettings

    parts = urlsplit(url)
    return ProxySettings.from_env(env).for_url(parts.scheme.lower(), parts.hostname or "") is None


def usable_for(url: str, *, env: Mapping[str, str], ca_file: str | None, verify: bool) -> bool:
    """The standard-library client may fetch ``url``: plain ``http://`` (no TLS, so no CA or
    verification to keep), verification not switched off, no CA file given, and no proxy for it."""
    return url.lower().startswith("http://") and verify and not ca_file and no_proxy_applies(url, env)


class DirectHTTP:
    """Duck-types the part of a client ``faas_pro.gateway.GatewayClient`` uses (``direct_get``)."""

    def __init__(self, timeout: float = 15.0, connect_timeout: float = 10.0) -> None:
        self.timeout = timeout
        self.connect_timeout = min(timeout, connect_timeout)

    def direct_get(
        self, url: str, params: dict[str, str] | None, headers: dict[str, str], max_bytes: int
    ) -> tuple[int, str, bytes]:
        import http.client
        from urllib.parse import urlencode, urlsplit

        from faas_pro import __version__

        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"not a plain http URL: {url}")  # usable_for() rules this out
        target = (parts.path or "/") + (f"?{urlencode(params)}" if params else "")
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=self.connect_timeout)
        try:
            try:
                conn.connect()
                if conn.sock is not None:
                    conn.sock.settimeout(self.timeout)
                conn.request(
                    "GET",
                    target,
                    headers={
                        "User-Agent": f"faas-pro/{__version__}",
                        "Accept-Encoding": "gzip, deflate",
                        **headers,
                    },
                )
                resp = conn.getresponse()
                raw = resp.read(max_bytes + 1)
            except http.client.HTTPException as e:  # a garbled answer: as httpx, "cannot connect"
                raise ConnectionError(str(e)) from e
            status, ctype = resp.status, resp.getheader("content-type") or ""
            encoding = (resp.getheader("content-encoding") or "").strip().lower()
        finally:
            conn.close()
        return status, ctype, _decode(raw, encoding, max_bytes)

    def close(self) -> None:
        pass


def _decode(raw: bytes, encoding: str, max_bytes: int) -> bytes:
    """``gzip``/``deflate`` bodies decoded (at most ``max_bytes + 1`` bytes out); ValueError when they
    do not decode. Other codings are left as they are."""
    if encoding not in ("gzip", "x-gzip", "deflate"):
        return raw
    import zlib

    wbits = 16 + zlib.MAX_WBITS if encoding != "deflate" else zlib.MAX_WBITS
    try:
        d = zlib.decompressobj(wbits)
        try:
            return d.decompress(raw, max_bytes + 1)
        except zlib.error:
            if encoding != "deflate":
                raise
            d = zlib.decompressobj(-zlib.MAX_WBITS)  # raw deflate, as httpx also accepts
            return d.decompress(raw, max_bytes + 1)
    except zlib.error as e:
        raise ValueError("undecodable body") from e
