"""RFC 8693 token exchange against the gateway's ``/oauth/token`` (docs/server.md).

The IdP token goes only to ``{gateway}/oauth/token`` (no redirects are followed: a 3xx is an error,
so the subject token never travels to another origin).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from faas_pro.errors import FaasProError
from faas_pro.oauth.fetch import one_line, request_json
from faas_pro.oauth.token_endpoint import redact

if TYPE_CHECKING:  # pragma: no cover
    import httpx

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:token-exchange"
ID_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id_token"


class NoTokenEndpoint(FaasProError):
    """The gateway answered 404 at /oauth/token: it does not do token exchange."""


@dataclass(frozen=True)
class Exchanged:
    access_token: str
    expires_in: int | None


def token_url(gateway: str) -> str:
    return gateway.rstrip("/") + "/oauth/token"


def exchange(client: httpx.Client, gateway: str, subject_token: str) -> Exchanged:
    """Exchange ``subject_token`` (an IdP JWT) for an OpenFaaS token."""
    from faas_pro import tokens

    url = token_url(gateway)
    data = {"grant_type": GRANT_TYPE, "subject_token": subject_token, "subject_token_type": ID_TOKEN_TYPE}
    r = request_json(client, "POST", url, what="the gateway", data=data)
    if r.status == 404:
        raise NoTokenEndpoint(f"the gateway {gateway} has no token endpoint (HTTP 404 at /oauth/token)")
    if r.status != 200:
        body = r.body if isinstance(r.body, dict) else {}
        desc, err = body.get("error_description"), body.get("error")
        text = desc if isinstance(desc, str) and desc else err if isinstance(err, str) else ""
        # a gateway may echo what it was sent: redact before one_line() shortens it past recognition
        detail = one_line(redact(text, [subject_token])) if text else ""
        if 300 <= r.status < 400:
            detail = "a redirect, which is never followed for token requests"
        msg = f"the gateway {gateway} refused the token exchange (HTTP {r.status})"
        raise FaasProError(f"{msg}: {detail}" if detail else msg)
    token = r.body.get("access_token") if isinstance(r.body, dict) else None
    if not isinstance(token, str) or not token:
        raise FaasProError(f"the gateway {gateway} answered the token exchange without an access_token")
    try:
        tokens.decode_unverified(token)
    except tokens.TokenError as e:
        raise FaasProError(f"the gateway {gateway} returned a token that is not a JWT: {e.reason}") from e
    expires = r.body.get("expires_in") if isinstance(r.body, dict) else None
    return Exchanged(token, expires if isinstance(expires, int) and not isinstance(expires, bool) else None)


def verify_gateway_token(client: httpx.Client, gateway: str, token: str, now: float) -> dict[str, Any]:
    """The verified claims of an OpenFaaS token, checked against the gateway's own published keys.

    Both documents come from the gateway's own origin (``{gateway}/.well-known/…``): the discovery
    document only names the ``issuer`` (the gateway's public URL, which may differ from the URL it is
    reached at); its ``jwks_uri`` is not followed, so no key ever comes from elsewhere. The token must
    be ``typ: at+jwt``, ES256, with ``iss`` = ``aud`` = that issuer (docs/server.md).
    """
    from faas_pro import tokens

    base = gateway.rstrip("/")
    hint = "nothing was saved; is this a faas-pro gateway?"
    url = base + "/.well-known/openid-configuration"
    r = request_json(client, "GET", url, what="the gateway's discovery document")
    issuer = r.body.get("issuer") if r.status == 200 and isinstance(r.body, dict) else None
    if not isinstance(issuer, str) or not issuer:
        raise FaasProError(f"cannot verify the OpenFaaS token: no issuer in {url} (HTTP {r.status})", hint)
    jwks_url = base + "/.well-known/jwks.json"
    r = request_json(client, "GET", jwks_url, what="the gateway's key set")
    if r.status != 200 or not isinstance(r.body, dict) or not isinstance(r.body.get("keys"), list):
        raise FaasProError(f"cannot verify the OpenFaaS token: {jwks_url} is not a JWKS (HTTP {r.status})", hint)
    opts = tokens.VerifyOptions(issuer=issuer, audiences=(issuer,), algorithms=("ES256",), typ=("at+jwt",))
    try:
        return tokens.verify(token, tokens.jwks_lookup(r.body), opts, now)
    except tokens.TokenError as e:
        raise FaasProError(
            f"the OpenFaaS token from {gateway} does not verify against its keys: {e.reason}", "nothing was saved"
        ) from None
