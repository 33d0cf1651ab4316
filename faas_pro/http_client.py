"""The one function that builds the CLI's HTTP clients (``Deps.http()`` calls it; nothing else does).

Every request of the CLI goes through a client made here: the identity provider's discovery, JWKS,
token, device and refresh endpoints, the GitHub Actions token service, the gateway's exchange and
keys, and the gateway API. What it decides, in one place:

- **TLS**: verified unless ``verify`` is False (``--tls-no-verify``). ``ca_file`` (``--ca-file``)
  replaces the trust store; without it httpx's default applies, which honours ``SSL_CERT_FILE`` /
  ``SSL_CERT_DIR`` from the process environment and otherwise uses certifi's bundle.
- **plain**: the caller talks to one plain ``http://`` origin only: no CA bundle is loaded (20-30 ms
  of start-up) and the TLS context trusts nothing, so any https connection through it fails closed.
- **Proxies**: from the environment (``HTTPS_PROXY``/``HTTP_PROXY``/``ALL_PROXY``/``NO_PROXY``), by
  httpx's ``trust_env``; a test ``transport`` bypasses them (httpx applies env proxies only to its
  own transport).
- **Redirects**: never followed by default (token calls must not be redirected; other callers opt in
  per request). **Timeouts**: ``timeout`` seconds, connect at most 10 s. **User-Agent**:
  ``faas-pro/<version>``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import httpx

CONNECT_TIMEOUT_CAP = 10.0


def build_http_client(
    *,
    ca_file: str | None = None,
    verify: bool = True,
    timeout: float = 15.0,
    plain: bool = False,
    transport: httpx.BaseTransport | None = None,
) -> httpx.Client:
    """A new httpx client configured as the module docstring says."""
    import httpx

    from faas_pro import __version__

    tls: Any
    if plain:
        import ssl

        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies, but trusts nothing
    elif not verify:
        tls = False
    elif ca_file:
        import ssl

        tls = ssl.create_default_context(cafile=ca_file)
    else:
        tls = True
    return httpx.Client(
        verify=tls,
        timeout=httpx.Timeout(timeout, connect=min(timeout, CONNECT_TIMEOUT_CAP)),
        follow_redirects=False,
        headers={"User-Agent": f"faas-pro/{__version__}"},
        transport=transport,
    )
