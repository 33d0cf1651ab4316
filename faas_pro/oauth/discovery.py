"""OpenID Connect discovery (OIDC Discovery §4) with the issuer compared byte-for-byte, and JWKS."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from faas_pro.errors import FaasProError, UsageError
from faas_pro.oauth.fetch import one_line, request_json

if TYPE_CHECKING:  # pragma: no cover
    import httpx

WELL_KNOWN = "/.well-known/openid-configuration"


@dataclass(frozen=True)
class Discovery:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str | None
    jwks_uri: str
    response_modes_supported: tuple[str, ...]
    id_token_algs: tuple[str, ...]
    token_auth_methods: tuple[str, ...]
    raw: dict[str, Any]

    def supports_form_post(self) -> bool:
        return "form_post" in self.response_modes_supported


def discovery_url(authority: str) -> str:
    return authority.rstrip("/") + WELL_KNOWN


def check_authority(authority: str) -> None:
    """The authority must be an absolute http(s) URL without query or fragment (OIDC issuer rules)."""
    p = urlsplit(authority)
    if p.scheme not in ("http", "https") or not p.hostname:
        raise UsageError(f"--authority must be an http(s) URL: {authority!r}")
    if p.query or p.fragment or p.username or p.password:
        raise UsageError(f"--authority must not have credentials, a query or a fragment: {authority!r}")


def is_loopback_host(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_endpoint(url: object, name: str, issuer: str, where: str) -> str:
    """An endpoint from the discovery document: a string, http(s), and https when the issuer is https."""
    if not isinstance(url, str) or not url:
        raise FaasProError(f"the discovery document at {where} has no {name}")
    p = urlsplit(url)
    if p.scheme not in ("http", "https") or not p.hostname:
        raise FaasProError(f"the discovery document at {where} has a {name} that is not an http(s) URL")
    if urlsplit(issuer).scheme == "https" and p.scheme != "https":
        raise FaasProError(f"the discovery document at {where} downgrades {name} to http; refusing it")
    return url


def _strings(value: object) -> tuple[str, ...]:
    if isinstance(value, list):
        return tuple(v for v in value if isinstance(v, str))
    return ()


def fetch_discovery(client: httpx.Client, authority: str) -> Discovery:
    """Fetch and check the discovery document of ``authority`` (which must equal its ``issuer``)."""
    check_authority(authority)
    url = discovery_url(authority)
    r = request_json(client, "GET", url, what="the identity provider's discovery document")
    if r.status != 200:
        raise FaasProError(
            f"the identity provider's discovery document at {url} answered HTTP {r.status}",
            "check --authority",
        )
    if not isinstance(r.body, dict):
        raise FaasProError(f"the discovery document at {url} is not a JSON object", "check --authority")
    doc: dict[str, Any] = r.body
    issuer = doc.get("issuer")
    if issuer != authority:  # byte-for-byte (OIDC Discovery §4.3)
        shown = one_line(issuer) if isinstance(issuer, str) else repr(type(issuer).__name__)
        raise FaasProError(
            f"the discovery document at {url} names issuer {shown!r}, not {authority!r}",
            "the issuer must match --authority exactly (scheme, host, path, trailing slash)",
        )
    auth_ep = check_endpoint(doc.get("authorization_endpoint"), "authorization_endpoint", authority, url)
    jwks_uri = check_endpoint(doc.get("jwks_uri"), "jwks_uri", authority, url)
    token_ep = doc.get("token_endpoint")
    token_ep = check_endpoint(token_ep, "token_endpoint", authority, url) if token_ep is not None else None
    return Discovery(
        issuer=authority,
        authorization_endpoint=auth_ep,
        token_endpoint=token_ep,
        jwks_uri=jwks_uri,
        response_modes_supported=_strings(doc.get("response_modes_supported")),
        id_token_algs=_strings(doc.get("id_token_signing_alg_values_supported")),
        token_auth_methods=_strings(doc.get("token_endpoint_auth_methods_supported")),
        raw=doc,
    )


def fetch_jwks(client: httpx.Client, disc: Discovery) -> dict[str, Any]:
    """The issuer's key set from its discovery ``jwks_uri`` (the only place keys come from)."""
    r = request_json(client, "GET", disc.jwks_uri, what="the identity provider's key set")
    if r.status != 200 or not isinstance(r.body, dict) or not isinstance(r.body.get("keys"), list):
        raise FaasProError(f"the identity provider's key set at {disc.jwks_uri} is not a JWKS (HTTP {r.status})")
    return r.body
