"""The identity provider's checks: discovery, keys, grants and endpoints, the client and redirect URI."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from faas_pro.errors import FaasProError
from faas_pro.usecases.doctor.fetch import NetError, fetch, one_line
from faas_pro.usecases.doctor.report import (
    CheckResult,
)

if TYPE_CHECKING:  # pragma: no cover
    import httpx


def check_discovery(client: httpx.Client, authority: str) -> tuple[CheckResult, dict[str, Any] | None, float | None]:
    from faas_pro.oauth.discovery import check_authority, discovery_url

    name = "IdP discovery"
    try:
        check_authority(authority)
    except FaasProError as e:
        return CheckResult(name, "fail", e.message, "pass --authority with the IdP's issuer URL"), None, None
    url = discovery_url(authority)
    try:
        r = fetch(client, "GET", url, "the identity provider's discovery document")
    except NetError as e:
        return CheckResult(name, "fail", e.detail, e.fix), None, None
    if r.status != 200 or not isinstance(r.body, dict):
        return (
            CheckResult(name, "fail", f"{url} answered HTTP {r.status} without a JSON object", "check --authority"),
            None,
            r.date,
        )
    issuer = r.body.get("issuer")
    if issuer != authority:
        shown = one_line(issuer) if isinstance(issuer, str) else "(none)"
        return (
            CheckResult(
                name,
                "fail",
                f"{url} names issuer {shown!r}, not {authority!r} (must match byte for byte)",
                f"use --authority {shown}" if isinstance(issuer, str) else "check --authority",
            ),
            None,
            r.date,
        )
    return CheckResult(name, "ok", f"{url}: issuer {authority!r} matches"), r.body, r.date


def check_idp_keys(client: httpx.Client, doc: dict[str, Any], authority: str) -> CheckResult:
    from faas_pro.oauth.discovery import check_endpoint

    name = "IdP keys"
    try:
        url = check_endpoint(doc.get("jwks_uri"), "jwks_uri", authority, "the discovery document")
        r = fetch(client, "GET", url, "the identity provider's key set")
    except FaasProError as e:
        return CheckResult(name, "fail", e.message, "fix the IdP's discovery document")
    except NetError as e:
        return CheckResult(name, "fail", e.detail, e.fix)
    keys = r.body.get("keys") if isinstance(r.body, dict) else None
    if r.status != 200 or not isinstance(keys, list) or not keys:
        return CheckResult(name, "fail", f"{url} is not a JWKS with keys (HTTP {r.status})", "check the IdP")
    return CheckResult(name, "ok", f"{url}: {len(keys)} key(s)")


def check_grants(doc: dict[str, Any], grant: str) -> list[CheckResult]:
    out: list[CheckResult] = []
    methods = doc.get("code_challenge_methods_supported")
    if isinstance(methods, list) and "S256" in methods:
        out.append(CheckResult("PKCE S256", "ok", "listed in code_challenge_methods_supported"))
    elif isinstance(methods, list):
        out.append(
            CheckResult(
                "PKCE S256",
                "fail" if grant == "code" else "info",
                f"code_challenge_methods_supported lists {', '.join(map(str, methods)) or 'nothing'}, not S256",
                "enable PKCE with S256 for this client at the IdP" if grant == "code" else "",
            )
        )
    else:
        out.append(
            CheckResult("PKCE S256", "info", "code_challenge_methods_supported is not listed; S256 is sent anyway")
        )
    for label, key, needed in (
        ("device endpoint", "device_authorization_endpoint", grant == "device_code"),
        ("PAR endpoint", "pushed_authorization_request_endpoint", False),
        ("revocation endpoint", "revocation_endpoint", False),
    ):
        url = doc.get(key)
        if isinstance(url, str) and url:
            out.append(CheckResult(label, "ok", url))
        elif needed:
            out.append(
                CheckResult(label, "fail", f"the IdP lists no {key}", "enable the device flow or use another --grant")
            )
        else:
            out.append(CheckResult(label, "info", f"not offered ({key} absent)"))
    return out


def check_client(
    client: httpx.Client, doc: dict[str, Any], client_id: str, grant: str, redirect_uri: str | None
) -> CheckResult:
    """A pushed authorization request (RFC 9126) with the client id and redirect URI: no login starts."""
    from faas_pro.oauth.pkce import AuthRequestSecrets

    name = "client id"
    par = doc.get("pushed_authorization_request_endpoint")
    if grant == "client_credentials":
        return CheckResult(name, "skip", f"{client_id!r} is a confidential client; cannot tell without its secret")
    if redirect_uri is None:
        return CheckResult(name, "skip", "no free callback port to build the redirect URI; cannot tell")
    if not isinstance(par, str) or not par:
        return CheckResult(
            name, "skip", f"cannot tell: the IdP offers no PAR endpoint to ask whether {client_id!r} is registered"
        )
    sec = AuthRequestSecrets()
    data = {
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "response_type": "code",
        "scope": "openid",
        "state": sec.state,
        "code_challenge": sec.code_challenge,
        "code_challenge_method": "S256",
    }
    try:
        r = fetch(client, "POST", par, "the identity provider's PAR endpoint", data=data)
    except NetError as e:
        return CheckResult(name, "fail", e.detail, e.fix)
    body = r.body if isinstance(r.body, dict) else {}
    error = body.get("error") if isinstance(body.get("error"), str) else ""
    desc = one_line(body.get("error_description") or "") if isinstance(body.get("error_description"), str) else ""
    if r.status in (200, 201) and isinstance(body.get("request_uri"), str):
        return CheckResult(name, "ok", f"{client_id!r} with redirect URI {redirect_uri} accepted (PAR)")
    if error == "invalid_client":
        return CheckResult(
            name,
            "fail",
            f"the IdP does not know client {client_id!r} (invalid_client{': ' + desc if desc else ''})",
            "pass the --client-id registered at the IdP (a public client, PKCE)",
        )
    if error == "invalid_redirect_uri" or "redirect_uri" in desc:
        return CheckResult(
            name,
            "fail",
            f"the IdP refuses redirect URI {redirect_uri} for {client_id!r} ({error}: {desc})",
            f"register {redirect_uri.rsplit(':', 1)[0]}:<port>/oauth/callback for the client, or change --port",
        )
    return CheckResult(
        name, "skip", f"cannot tell from the PAR endpoint's reply: HTTP {r.status} {error}{': ' + desc if desc else ''}"
    )
