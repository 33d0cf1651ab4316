"""The token endpoint plumbing every grant shares (RFC 6749 §2.3.1, §3.2, §5.2): client
authentication, the POST itself (no redirects, size-capped) and the error answers.

Client authentication is ``client_secret_basic`` (id and secret form-encoded, then Basic) unless the
discovery document lists ``client_secret_post`` and not basic; a public client sends ``client_id`` in
the body. A secret is never put into a message: IdP text is redacted before it is shown.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from faas_pro.errors import FaasProError
from faas_pro.oauth.discovery import check_endpoint, discovery_url
from faas_pro.oauth.fetch import one_line, request_json

if TYPE_CHECKING:  # pragma: no cover
    import httpx


class TokenEndpointError(FaasProError):
    """The IdP answered an OAuth error (RFC 6749 §5.2). ``error`` is its code, e.g. ``invalid_grant``."""

    def __init__(self, message: str, hint: str | None = None, *, error: str, description: str | None) -> None:
        super().__init__(message, hint)
        self.error = error
        self.description = description


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """``text`` with every (non-trivial) secret replaced by ``***``."""
    for s in secrets:
        if s and len(s) >= 4:
            text = text.replace(s, "***")
    return text


def endpoint(meta: Mapping[str, Any], name: str) -> str:
    """A checked endpoint URL of the discovery document ``meta`` (http(s), no downgrade from https)."""
    issuer = meta.get("issuer")
    issuer = issuer if isinstance(issuer, str) else ""
    return check_endpoint(meta.get(name), name, issuer, discovery_url(issuer) if issuer else "the IdP")


def client_auth(
    meta: Mapping[str, Any], client_id: str, client_secret: str | None
) -> tuple[dict[str, str], tuple[str, str] | None]:
    """Form fields and Basic credentials that authenticate ``client_id`` at the token endpoint.

    A public client (no secret) sends ``client_id`` in the body. A confidential client uses
    ``client_secret_basic`` unless the IdP lists ``client_secret_post`` without basic.
    """
    if client_secret is None:
        return {"client_id": client_id}, None
    methods = meta.get("token_endpoint_auth_methods_supported")
    listed = [m for m in methods if isinstance(m, str)] if isinstance(methods, list) else []
    if listed and "client_secret_basic" not in listed and "client_secret_post" in listed:
        return {"client_id": client_id, "client_secret": client_secret}, None
    return {}, (quote(client_id, safe=""), quote(client_secret, safe=""))


def audience_fields(audience: str | None) -> dict[str, str]:
    """``audience`` (Auth0) and ``resource`` (RFC 8707) when an audience is wanted (docs/auth.md)."""
    return {"audience": audience, "resource": audience} if audience else {}


def oauth_error(status: int, body: Any, *, what: str, url: str, secrets: Iterable[str | None] = ()) -> FaasProError:
    """The error to raise for a non-200 answer of an OAuth endpoint, IdP text redacted and one-lined."""
    hidden = list(secrets)
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        code = one_line(redact(body["error"], hidden), 80)
        desc = body.get("error_description")
        shown = one_line(redact(desc, hidden)) if isinstance(desc, str) and desc else None
        msg = f"{what} refused the request: {code}" + (f": {shown}" if shown else "")
        return TokenEndpointError(msg, error=body["error"], description=shown)
    return FaasProError(f"{what} at {url} answered HTTP {status}")


def post_token(
    http: httpx.Client,
    url: str,
    data: dict[str, str],
    auth: tuple[str, str] | None,
    *,
    what: str,
    secrets: Iterable[str | None] = (),
) -> dict[str, Any]:
    """POST a token request (no redirects, size-capped) and return a successful token response.

    Raises :class:`TokenEndpointError` for an OAuth error answer, ``FaasProError`` otherwise.
    """
    r = request_json(http, "POST", url, what=what, data=data, auth=auth)
    if r.status != 200:
        raise oauth_error(r.status, r.body, what=what, url=url, secrets=secrets)
    body = r.body
    if not isinstance(body, dict) or not isinstance(body.get("access_token"), str) or not body["access_token"]:
        raise FaasProError(f"{what} at {url} answered 200 without an access_token")
    return body
