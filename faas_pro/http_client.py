"""The one function that builds the CLI's HTTP clients (``Deps.http()`` calls it; nothing else does).

Every request of the CLI goes through a client made here: the identity provider's discovery, JWKS,
token, device, refresh and revocation endpoints, the GitHub Actions token service, the gateway's
exchange and keys, and the gateway API. What it decides, in one place:

- **TLS**: verified unless ``verify`` is False (``--tls-no-verify``). The trust store is, in order:
  ``ca_file`` (``--ca-file``), else ``SSL_CERT_FILE``, else ``REQUESTS_CA_BUNDLE`` (else
  ``SSL_CERT_DIR``), else certifi's bundle. The variables are read from ``env`` (``Deps.env``), not
  from the process, and httpx's own environment handling is off (``trust_env=False``) so nothing is
  applied twice. A CA file that does not parse is one line naming it and the setting it came from.
- **plain**: the caller talks to one plain ``http://`` origin only: no CA bundle is loaded (20-30 ms
  of start-up) and the TLS context trusts nothing, so any https connection through it fails closed.
- **Proxies**: ``HTTPS_PROXY`` for https and ``HTTP_PROXY`` for http URLs (upper case first, then
  lower case; ``ALL_PROXY`` for both when those are unset), except for hosts ``NO_PROXY`` lists
  (``*``, a host, ``.domain`` or ``domain`` for it and its subdomains, an IP address or CIDR).
  Loopback (127.0.0.0/8, ::1, ``localhost``) never goes through a proxy: the login's callback
  and a gateway on this machine are always reached directly. A proxy that refuses is one line
  naming it (``ProxyError``). A test ``transport`` bypasses proxies.
- **Redirects**: never followed by default (token calls must not be redirected; other callers opt in
  per request). **Timeouts**: ``timeout`` seconds, connect at most 10 s. **User-Agent**:
  ``faas-pro/<version>``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from faas_pro.errors import FaasProError

if TYPE_CHECKING:  # pragma: no cover
    import httpx

CONNECT_TIMEOUT_CAP = 10.0
CA_VARS = ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE")


def _env(env: Mapping[str, str], name: str) -> str | None:
    return env.get(name) or env.get(name.lower()) or None


def ca_source(ca_file: str | None, env: Mapping[str, str]) -> tuple[str | None, str | None]:
    """(CA file, where that setting came from): ``--ca-file``, then SSL_CERT_FILE, REQUESTS_CA_BUNDLE."""
    if ca_file:
        return ca_file, "--ca-file"
    for name in CA_VARS:
        if env.get(name):
            return env[name], name
    return None, None


def _tls_context(path: str, origin: str) -> Any:
    import ssl

    try:
        return ssl.create_default_context(cafile=path)
    except (OSError, ssl.SSLError, ValueError):
        raise FaasProError(
            f"the CA file {path} (from {origin}) cannot be read as PEM certificates",
            f"point {origin} at a PEM bundle, or unset it",
        ) from None


def is_loopback(host: str) -> bool:
    h = host.strip("[]").lower()
    if h == "localhost" or h.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(h).is_loopback
    except ValueError:
        return False


def _no_proxy_match(host: str, rules: list[str]) -> bool:
    h = host.strip("[]").lower()
    for rule in rules:
        if rule == "*":
            return True
        r = rule.strip("[]").lower()
        if "/" in r:
            try:
                if ipaddress.ip_address(h) in ipaddress.ip_network(r, strict=False):
                    return True
            except ValueError:
                pass
            continue
        r = r.split(":")[0] if r.count(":") == 1 else r  # host:port → host
        bare = r.lstrip(".")
        if bare and (h == bare or h.endswith("." + bare)):
            return True
    return False


def shown_proxy(url: str) -> str:
    """The proxy URL without credentials (for messages)."""
    p = urlsplit(url)
    netloc = p.hostname or ""
    if ":" in netloc:
        netloc = f"[{netloc}]"
    if p.port:
        netloc += f":{p.port}"
    return urlunsplit((p.scheme, netloc, p.path, "", ""))


@dataclass(frozen=True)
class ProxySettings:
    http: tuple[str, str] | None  # (proxy URL, the variable it came from)
    https: tuple[str, str] | None
    no_proxy: tuple[str, ...]

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ProxySettings:
        def pick(*names: str) -> tuple[str, str] | None:
            for name in names:
                for var in (name, name.lower()):
                    if env.get(var):
                        return env[var], var
            return None

        no_proxy = _env(env, "NO_PROXY") or ""
        return cls(
            http=pick("HTTP_PROXY", "ALL_PROXY"),
            https=pick("HTTPS_PROXY", "ALL_PROXY"),
            no_proxy=tuple(r.strip() for r in no_proxy.split(",") if r.strip()),
        )

    def for_url(self, scheme: str, host: str) -> tuple[str, str] | None:
        """The (proxy, variable) for a request, or None for a direct connection."""
        if is_loopback(host) or _no_proxy_match(host, list(self.no_proxy)):
            return None
        return self.https if scheme == "https" else self.http if scheme == "http" else None


def _router(tls: Any, proxies: ProxySettings) -> httpx.BaseTransport:
    import httpx

    from faas_pro.oauth.fetch import one_line

    class Router(httpx.BaseTransport):
        """Direct for loopback and NO_PROXY hosts, else through the scheme's proxy."""

        def __init__(self) -> None:
            self.direct = httpx.HTTPTransport(verify=tls)
            self.via: dict[str, httpx.HTTPTransport] = {}

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            chosen = proxies.for_url(request.url.scheme, request.url.host)
            if chosen is None:
                return self.direct.handle_request(request)
            proxy, var = chosen
            transport = self.via.get(proxy)
            if transport is None:
                transport = self.via[proxy] = httpx.HTTPTransport(verify=tls, proxy=proxy)
            try:
                return transport.handle_request(request)
            except httpx.TransportError as e:
                if isinstance(e, httpx.TimeoutException):
                    raise
                raise httpx.ProxyError(
                    f"through the proxy {shown_proxy(proxy)} (from {var}): {one_line(e) or type(e).__name__}"
                ) from e

        def close(self) -> None:
            self.direct.close()
            for t in self.via.values():
                t.close()

    return Router()


def build_http_client(
    *,
    ca_file: str | None = None,
    verify: bool = True,
    timeout: float = 15.0,
    plain: bool = False,
    transport: httpx.BaseTransport | None = None,
    env: Mapping[str, str] | None = None,
) -> httpx.Client:
    """A new httpx client configured as the module docstring says."""
    import httpx

    from faas_pro import __version__

    env = env or {}
    tls: Any
    if plain:
        import ssl

        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies, but trusts nothing
    elif not verify:
        tls = False
    else:
        path, origin = ca_source(ca_file, env)
        if path and origin:
            tls = _tls_context(path, origin)
        elif env.get("SSL_CERT_DIR"):
            import ssl

            tls = ssl.create_default_context(capath=env["SSL_CERT_DIR"])
        else:
            tls = True
    if transport is None:
        proxies = ProxySettings.from_env(env)
        if proxies.http or proxies.https:
            transport = _router(tls, proxies)
    return httpx.Client(
        verify=tls,
        timeout=httpx.Timeout(timeout, connect=min(timeout, CONNECT_TIMEOUT_CAP)),
        follow_redirects=False,
        headers={"User-Agent": f"faas-pro/{__version__}"},
        transport=transport,
        trust_env=False,
    )
