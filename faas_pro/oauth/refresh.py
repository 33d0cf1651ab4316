"""The refresh token grant (RFC 6749 §6): renew the IdP tokens without a browser.

Many IdPs rotate refresh tokens and treat a second use of an old one as theft (RFC 9700 §4.14):
the caller must hold the per-gateway lock around refresh and save, so one refresh token is never
spent twice, and must save the refresh token this returns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from faas_pro.errors import AuthRequired
from faas_pro.oauth.token_endpoint import TokenEndpointError, client_auth, endpoint, post_token

if TYPE_CHECKING:  # pragma: no cover
    import httpx


class RefreshRejected(AuthRequired):
    """The IdP no longer accepts the refresh token (``invalid_grant``): fall back to an interactive
    login. Left uncaught it exits 3 ("run faas-pro auth")."""


def refresh_tokens(
    http: httpx.Client,
    meta: Mapping[str, Any],
    client_id: str,
    refresh_token: str,
    *,
    client_secret: str | None = None,
    scopes: Sequence[str] | None = None,
) -> dict[str, Any]:
    """The token response for ``refresh_token``.

    When the IdP does not rotate (no ``refresh_token`` in its answer), the one sent is still
    valid and is put into the result, so the caller can always save ``result["refresh_token"]``.
    """
    if not refresh_token:
        raise RefreshRejected("no refresh token is saved", "run faas-pro auth to log in again")
    url = endpoint(meta, "token_endpoint")
    fields, auth = client_auth(meta, client_id, client_secret)
    data = {**fields, "grant_type": "refresh_token", "refresh_token": refresh_token}
    if scopes:
        data["scope"] = " ".join(scopes)
    try:
        body = post_token(
            http,
            url,
            data,
            auth,
            what="the identity provider's token endpoint",
            secrets=[refresh_token, client_secret],
        )
    except TokenEndpointError as e:
        if e.error == "invalid_grant":
            raise RefreshRejected(
                "the identity provider no longer accepts the saved refresh token"
                + (f" (invalid_grant: {e.description})" if e.description else " (invalid_grant)"),
                "log in again",
            ) from None
        raise
    if not isinstance(body.get("refresh_token"), str) or not body["refresh_token"]:
        body = {**body, "refresh_token": refresh_token}
    return body
