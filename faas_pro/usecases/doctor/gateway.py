"""The gateway's checks: discovery and keys, trust in the IdP, and the saved tokens (an exchange dry
run, the OpenFaaS token on ``/system/namespaces``)."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from faas_pro.usecases.doctor.fetch import Fetched, NetError, bearer, fetch, one_line
from faas_pro.usecases.doctor.report import (
    PROBE_SUBJECT,
    CheckResult,
)

if TYPE_CHECKING:  # pragma: no cover
    import httpx


def check_gateway_discovery(client: httpx.Client, gateway: str) -> tuple[CheckResult, str | None, float | None]:
    name = "gateway discovery"
    url = gateway.rstrip("/") + "/.well-known/openid-configuration"
    try:
        r = fetch(client, "GET", url, "the gateway's discovery document")
    except NetError as e:
        return CheckResult(name, "fail", e.detail, e.fix), None, None
    issuer = r.body.get("issuer") if r.status == 200 and isinstance(r.body, dict) else None
    if not isinstance(issuer, str) or not issuer:
        return (
            CheckResult(
                name, "fail", f"{url} answered HTTP {r.status} without an issuer", "is -g a faas-pro gateway (serve)?"
            ),
            None,
            r.date,
        )
    return CheckResult(name, "ok", f"{url}: issuer {issuer}"), issuer, r.date


def check_gateway_keys(client: httpx.Client, gateway: str) -> CheckResult:
    name = "gateway keys"
    url = gateway.rstrip("/") + "/.well-known/jwks.json"
    try:
        r = fetch(client, "GET", url, "the gateway's key set")
    except NetError as e:
        return CheckResult(name, "fail", e.detail, e.fix)
    keys = r.body.get("keys") if isinstance(r.body, dict) else None
    if r.status != 200 or not isinstance(keys, list) or not keys:
        return CheckResult(name, "fail", f"{url} is not a JWKS with keys (HTTP {r.status})", "check --issuer-key")
    return CheckResult(name, "ok", f"{url}: {len(keys)} key(s)")


def _b64(obj: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj, separators=(",", ":")).encode()).rstrip(b"=").decode()


def probe_token(authority: str, client_id: str, now: float) -> str:
    """An unsigned stand-in for an IdP token (its signature is garbage): only its ``iss`` matters."""
    header = {"alg": "RS256", "typ": "JWT"}
    payload = {"iss": authority, "sub": PROBE_SUBJECT, "aud": client_id, "iat": int(now), "exp": int(now) + 60}
    return f"{_b64(header)}.{_b64(payload)}.AAAA"


def _exchange(client: httpx.Client, gateway: str, subject_token: str) -> Fetched:
    from faas_pro.oauth.exchange import GRANT_TYPE, ID_TOKEN_TYPE, token_url

    data = {"grant_type": GRANT_TYPE, "subject_token": subject_token, "subject_token_type": ID_TOKEN_TYPE}
    return fetch(client, "POST", token_url(gateway), "the gateway's token endpoint", data=data)


def _refusal(r: Fetched, sent: str = "") -> str:
    """The gateway's reason, with the token it was sent replaced by ``***`` (a gateway may echo it)."""
    from faas_pro.oauth.token_endpoint import redact

    body = r.body if isinstance(r.body, dict) else {}
    desc, err = body.get("error_description"), body.get("error")
    text = desc if isinstance(desc, str) and desc else err if isinstance(err, str) else ""
    return one_line(redact(text, [sent]))


def check_trust(client: httpx.Client, gateway: str, authority: str, client_id: str, now: float) -> CheckResult:
    name = "gateway trusts IdP"
    try:
        r = _exchange(client, gateway, probe_token(authority, client_id, now))
    except NetError as e:
        return CheckResult(name, "fail", e.detail, e.fix)
    if r.status == 404:
        return CheckResult(name, "fail", f"{gateway} has no token endpoint (HTTP 404)", "is -g a faas-pro gateway?")
    why = _refusal(r)
    if why.startswith("untrusted issuer"):
        return CheckResult(
            name,
            "fail",
            f"{gateway} has no JwtIssuer for {authority} ({why})",
            f"add a JwtIssuer with spec.iss: {authority} to the gateway's --iam (docs/iam.md)",
        )
    if why.startswith("cannot get the keys of issuer"):
        return CheckResult(name, "fail", f"{gateway} trusts {authority} but {why}", "let the gateway reach the IdP")
    if r.status == 400 and why:
        return CheckResult(name, "ok", f"{gateway} has a JwtIssuer for {authority}")
    return CheckResult(name, "skip", f"cannot tell from the token endpoint's reply to a probe: HTTP {r.status} {why}")


def _decode(token: str) -> dict[str, Any] | None:
    from faas_pro import tokens

    try:
        return tokens.decode_unverified(token)[1]
    except tokens.TokenError:
        return None


def _when(claims: Mapping[str, Any], now: float) -> tuple[str, bool]:
    from faas_pro.tokens import expiry
    from faas_pro.usecases.gateway_cmds import expiry_text

    exp = expiry(claims)
    if exp is None:
        return "no expiry", False
    return f"expires {expiry_text(exp, now)}", exp <= now


def _aud(claims: Mapping[str, Any]) -> str:
    aud = claims.get("aud")
    if isinstance(aud, list):
        return ", ".join(str(a) for a in aud)
    return str(aud) if aud is not None else "(none)"


def check_saved_idp_token(
    entry: Mapping[str, str] | None, authority: str, gateway: str, now: float
) -> tuple[CheckResult, str | None]:
    """The saved IdP token, decoded UNVERIFIED; returns the token to try the exchange with (or None)."""
    name = "saved IdP token"
    login = f"run faas-pro auth -g {gateway}"
    saved = [t for t in ((entry or {}).get("idp_access_token"), (entry or {}).get("idp_id_token")) if t]
    if not saved:
        why = f"no saved IdP token for {gateway}: the exchange dry run cannot run"
        return CheckResult(name, "skip", why, login), None
    candidates = [t for t in saved if _decode(t) is not None]  # an opaque access token is skipped
    if not candidates:
        return CheckResult(name, "fail", "the saved IdP tokens are not JWTs", login), None
    claims = _decode(candidates[0]) or {}
    who = next((str(claims[k]) for k in ("preferred_username", "email", "sub") if isinstance(claims.get(k), str)), "?")
    when, expired = _when(claims, now)
    iss = claims.get("iss")
    detail = f"{who}, iss {iss}, aud {_aud(claims)}, {when} (UNVERIFIED)"
    if iss != authority:
        return CheckResult(name, "fail", detail + f"; issuer is not {authority}", login), None
    if expired:
        usable = next((t for t in candidates[1:] if not _when(_decode(t) or {}, now)[1]), None)
        if usable is None:
            return CheckResult(name, "skip", detail + "; expired: the exchange dry run cannot run", login), None
        return CheckResult(name, "ok", detail), usable
    return CheckResult(name, "ok", detail), candidates[0]


def check_exchange(client: httpx.Client, gateway: str, subject_token: str) -> tuple[CheckResult, float | None]:
    """Exchange the saved IdP token for real and throw the result away: does a Role match?

    Also returns the new token's ``iat``: the gateway's clock when it signed it (a gateway may send
    no ``Date`` header; faas-pro serve does not).
    """
    name = "exchange dry run"
    try:
        r = _exchange(client, gateway, subject_token)
    except NetError as e:
        return CheckResult(name, "fail", e.detail, e.fix), None
    if r.status == 200 and isinstance(r.body, dict) and isinstance(r.body.get("access_token"), str):
        claims = _decode(r.body["access_token"]) or {}
        pol = claims.get("policy")
        policies = ", ".join(sorted(p for p in pol if isinstance(p, str))) if isinstance(pol, list) else ""
        iat = claims.get("iat")
        signed = float(iat) if isinstance(iat, int | float) and not isinstance(iat, bool) else None
        text = f"a Role matches {claims.get('sub')}: policies {policies or '(none)'} (token not kept)"
        return CheckResult(name, "ok", text), signed
    why = _refusal(r, subject_token)
    if why.startswith("No policies found"):
        fix = "add a Role whose principal (jwt:sub) or condition matches this subject to the gateway's --iam"
    elif why.startswith("untrusted issuer"):
        fix = "add a JwtIssuer for the IdP to the gateway's --iam"
    elif "audience" in why:
        fix = "add the token's aud to the JwtIssuer's spec.aud (or log in with --audience)"
    else:
        fix = f"see the gateway's log; run faas-pro auth -g {gateway}"
    return CheckResult(name, "fail", f"the gateway refused the saved token (HTTP {r.status}): {why}", fix), None


def check_openfaas_token(
    client: httpx.Client, entry: Mapping[str, str] | None, gateway: str, issuer: str | None, now: float
) -> CheckResult:
    name = "saved OpenFaaS token"
    login = f"run faas-pro auth -g {gateway}"
    token = (entry or {}).get("openfaas_token")
    if not token:
        return CheckResult(name, "skip", f"no saved OpenFaaS token for {gateway}", login)
    claims = _decode(token)
    if claims is None:
        return CheckResult(name, "fail", "the saved OpenFaaS token is not a JWT", login)
    when, expired = _when(claims, now)
    detail = f"{claims.get('sub')}, {when}"
    if issuer is not None and claims.get("iss") != issuer:
        return CheckResult(name, "fail", f"{detail}; issued by {claims.get('iss')}, not by {issuer}", login)
    if expired:
        return CheckResult(name, "skip", f"{detail}; expired: not tried", login)
    try:
        r = fetch(client, "GET", gateway.rstrip("/") + "/system/namespaces", "the gateway", headers=bearer(token))
    except NetError as e:
        return CheckResult(name, "fail", e.detail, e.fix)
    if r.status == 200:
        return CheckResult(name, "ok", f"{detail}; GET /system/namespaces accepts it")
    if r.status == 401:
        return CheckResult(name, "fail", f"{detail}; the gateway does not accept it (401)", login)
    if r.status == 403:
        return CheckResult(name, "info", f"{detail}; accepted, but no policy allows Namespace:List (403)")
    return CheckResult(name, "fail", f"{detail}; GET /system/namespaces answered HTTP {r.status}", login)
