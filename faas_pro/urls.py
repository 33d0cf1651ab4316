"""Gateway URL resolution and normalisation (docs/auth.md): the normalised string keys everything
saved per gateway (settings, tokens, locks)."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from faas_pro.errors import UsageError

DEFAULT_GATEWAY = "http://127.0.0.1:8080"


def normalise_gateway(url: str) -> str:
    """Lower-case scheme and host, drop a trailing ``/``, add ``http://`` when no scheme is given."""
    raw = url.strip()
    if not raw:
        raise UsageError("the gateway URL is empty", "pass --gateway URL or set OPENFAAS_URL")
    if "://" not in raw:
        raw = "http://" + raw
    parts = urlsplit(raw)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UsageError(f"the gateway URL must use http or https: {url}")
    if not parts.hostname:
        raise UsageError(f"the gateway URL has no host: {url}")
    if parts.username or parts.password:
        raise UsageError("the gateway URL must not contain credentials")
    if parts.query or parts.fragment:
        raise UsageError(f"the gateway URL must not have a query or fragment: {url}")
    host = parts.hostname.lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError as e:
        raise UsageError(f"the gateway URL has an invalid port: {url}") from e
    netloc = f"{host}:{port}" if port is not None else host
    path = parts.path.rstrip("/")
    return urlunsplit((scheme, netloc, path, "", ""))


def _origin(url: str) -> tuple[str, str, int | None]:
    p = urlsplit(url)
    scheme = p.scheme.lower()
    try:
        port = p.port or {"http": 80, "https": 443}.get(scheme)
    except ValueError:
        port = None
    return scheme, (p.hostname or "").lower(), port


def same_origin(a: str, b: str) -> bool:
    """True when both URLs have the same scheme, host and port (credentials never cross origins)."""
    return _origin(a) == _origin(b)
