"""The browser grants: authorization URLs, the code-for-token request, and the token checks.

Nothing returned from here is trusted until ``check_tokens`` has verified the ID token against the
issuer's JWKS (signature, ``iss``, ``aud`` = client id, ``exp``, ``nonce``, and not ``typ: at+jwt``).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from faas_pro.errors import FaasProError
from faas_pro.oauth.discovery import Discovery
from faas_pro.oauth.pkce import AuthRequestSecrets
from faas_pro.oauth.token_endpoint import client_auth, post_token

if TYPE_CHECKING:  # pragma: no cover
    import httpx

BROWSER_GRANTS = ("code", "implicit", "implicit-id")
OTHER_GRANTS = ("device_code", "client_credentials")
GRANTS = BROWSER_GRANTS + OTHER_GRANTS
REFRESHABLE_GRANTS = (*BROWSER_GRANTS, "device_code")  # a person logged in: a refresh token is worth keeping
DEFAULT_SCOPES = ("openid", "profile", "email")
RESPONSE_TYPES = {"code": "code", "implicit": "id_token token", "implicit-id": "id_token"}
REQUIRED_PARAMS = {"code": ("code",), "implicit": ("id_token", "access_token"), "implicit-id": ("id_token",)}
ID_TOKEN_ALGS = ("ES256", "RS256", "PS256")  # what faas_pro.tokens.verify can check


def authorize_url(
    disc: Discovery,
    *,
    client_id: str,
    redirect_uri: str,
    grant: str,
    scopes: tuple[str, ...],
    audience: str | None,
    secrets: AuthRequestSecrets,
    response_mode: str | None = None,
) -> tuple[str, str | None]:
    """The URL to open and the response mode asked for (``form_post`` or None = the fragment).

    Implicit grants ask for ``form_post`` when discovery lists it, unless ``response_mode`` is
    ``"fragment"`` (then the loopback's relay page carries the fragment back).
    """
    from authlib.oauth2.rfc6749.parameters import prepare_grant_uri

    extra: dict[str, Any] = {"nonce": secrets.nonce}
    mode = None
    if grant == "code":
        extra["code_challenge"] = secrets.code_challenge
        extra["code_challenge_method"] = "S256"
    elif response_mode == "form_post" or (response_mode is None and disc.supports_form_post()):
        mode = "form_post"
        extra["response_mode"] = mode
    if audience:
        extra["audience"] = audience  # Auth0
        extra["resource"] = audience  # RFC 8707
    url = prepare_grant_uri(
        disc.authorization_endpoint,
        client_id,
        RESPONSE_TYPES[grant],
        redirect_uri=redirect_uri,
        scope=" ".join(scopes),
        state=secrets.state,
        **extra,
    )
    return str(url), mode


def push_authorization_request(
    client: httpx.Client, disc: Discovery, url: str, client_id: str, client_secret: str | None
) -> str:
    """RFC 9126: POST the parameters of the authorization ``url`` to the IdP's
    ``pushed_authorization_request_endpoint`` (the client authenticates as at the token endpoint)
    and return the URL to open: the authorization endpoint with only ``client_id`` and the
    ``request_uri`` the IdP answered (so PKCE's challenge, the nonce and the scopes stay off the
    browser's address bar and history)."""
    from urllib.parse import parse_qsl, urlencode, urlsplit

    from faas_pro.oauth.fetch import request_json
    from faas_pro.oauth.token_endpoint import endpoint, oauth_error

    par_ep = endpoint(disc.raw, "pushed_authorization_request_endpoint")
    params = dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))
    fields, auth = client_auth(disc.raw, client_id, client_secret)
    what = "the identity provider's pushed authorization request endpoint"
    r = request_json(client, "POST", par_ep, what=what, data={**params, **fields}, auth=auth)
    if r.status not in (200, 201):
        raise oauth_error(r.status, r.body, what=what, url=par_ep, secrets=[client_secret])
    request_uri = r.body.get("request_uri") if isinstance(r.body, dict) else None
    if not isinstance(request_uri, str) or not request_uri:
        raise FaasProError(f"{what} at {par_ep} answered without a request_uri")
    sep = "&" if urlsplit(disc.authorization_endpoint).query else "?"
    return disc.authorization_endpoint + sep + urlencode({"client_id": client_id, "request_uri": request_uri})


def redeem_code(
    client: httpx.Client,
    disc: Discovery,
    *,
    code: str,
    redirect_uri: str,
    client_id: str,
    client_secret: str | None,
    code_verifier: str,
) -> dict[str, Any]:
    """POST the code to the token endpoint (no redirects, capped); the raw token response."""
    if disc.token_endpoint is None:
        raise FaasProError(f"the identity provider {disc.issuer} has no token_endpoint for --grant code")
    fields, auth = client_auth(disc.raw, client_id, client_secret)
    data = {
        **fields,
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "code_verifier": code_verifier,
    }
    return post_token(
        client, disc.token_endpoint, data, auth, what="the identity provider's token endpoint", secrets=[client_secret]
    )


@dataclass(frozen=True)
class IdpTokens:
    """Tokens from the IdP after checking. ``access_verified``: a JWT that verified against the JWKS.

    ``claims`` are the verified ID token's claims, or those of the verified access token when the
    grant gives no ID token (client credentials; a refresh answer without one).
    """

    id_token: str | None
    claims: dict[str, Any]
    access_token: str | None = None
    access_verified: bool = False
    access_note: str = ""
    refresh_token: str | None = None

    def subject_token(self, grant: str) -> str:
        """What the exchange sends: the access token when it is a verified JWT, else the ID token."""
        if self.access_token and self.access_verified and (grant != "implicit-id" or not self.id_token):
            return self.access_token
        if self.id_token:
            return self.id_token
        raise FaasProError(
            f"the identity provider's access token cannot be exchanged: {self.access_note or 'it did not verify'}",
            "use --no-exchange, or ask the IdP for JWT access tokens (e.g. with --audience)",
        )

    def printed_token(self, grant: str) -> str:
        """``--no-exchange --print-token``: the access token (the ID token for implicit-id)."""
        if self.id_token and (grant == "implicit-id" or not self.access_token):
            return self.id_token
        return self.access_token or ""


def _str_field(raw: dict[str, Any], key: str) -> str | None:
    v = raw.get(key)
    if v is None:
        return None
    if not isinstance(v, str) or not v:
        raise FaasProError(f"the identity provider returned a {key} that is not a string")
    return v


def id_token_algorithms(disc: Discovery) -> tuple[str, ...]:
    if not disc.id_token_algs:
        return ID_TOKEN_ALGS
    return tuple(a for a in ID_TOKEN_ALGS if a in disc.id_token_algs) or ID_TOKEN_ALGS


def check_tokens(
    disc: Discovery,
    jwks: dict[str, Any],
    raw: dict[str, Any],
    *,
    client_id: str,
    nonce: str | None,
    now: float,
    id_token_required: bool = True,
) -> IdpTokens:
    """Verify the ID token (and, as far as possible, a JWT access token) before anything is used.

    ``nonce`` None: none was sent (device code, refresh). Without ``id_token_required`` a missing
    ID token is allowed (client credentials, refresh) and the verified access token's claims count.
    """
    from faas_pro import tokens

    id_token = _str_field(raw, "id_token")
    if id_token is None and id_token_required:
        raise FaasProError("the identity provider returned no id_token", "include the openid scope")
    access_token = _str_field(raw, "access_token")
    keys = tokens.jwks_lookup(jwks)
    claims: dict[str, Any] = {}
    if id_token is not None:
        opts = tokens.VerifyOptions(
            issuer=disc.issuer,
            audiences=(client_id,),
            algorithms=id_token_algorithms(disc),
            reject_typ=("at+jwt",),
            nonce=nonce,
        )
        try:
            claims = tokens.verify(id_token, keys, opts, now)
        except tokens.TokenError as e:
            raise FaasProError(f"the ID token from {disc.issuer} was refused: {e.reason}") from e
        at_hash = claims.get("at_hash")
        if access_token and at_hash is not None:  # OIDC Core §3.2.2.9 (required in the implicit flow)
            _check_at_hash(id_token, access_token, at_hash)
    verified, note, access_claims = False, "", dict[str, Any]()
    if access_token:
        verified, note, access_claims = _check_access_token(access_token, keys, disc, now)
    return IdpTokens(
        id_token=id_token,
        claims=claims if id_token is not None else access_claims,
        access_token=access_token,
        access_verified=verified,
        access_note=note,
        refresh_token=_str_field(raw, "refresh_token"),
    )


def require_at_hash(tok: IdpTokens) -> None:
    """The implicit ``id_token token`` response must bind the access token to the ID token."""
    if tok.access_token and "at_hash" not in tok.claims:
        raise FaasProError("the ID token has no at_hash for the access token (implicit flow); refusing both")


def _check_at_hash(id_token: str, access_token: str, at_hash: object) -> None:
    from authlib.oidc.core.util import create_half_hash

    from faas_pro import tokens

    header, _ = tokens.decode_unverified(id_token)
    expected = create_half_hash(access_token, str(header.get("alg")))
    if not isinstance(at_hash, str) or expected is None or not hmac.compare_digest(at_hash.encode(), expected):
        raise FaasProError("the ID token's at_hash does not match the access token; refusing both")


def _check_access_token(access_token: str, keys: Any, disc: Discovery, now: float) -> tuple[bool, str, dict[str, Any]]:
    """A JWT access token may be meant for another audience: check signature, issuer and expiry only.

    Returns (verified, note, claims). An opaque or unverifiable access token is kept as an opaque
    string and never trusted (the exchange then sends the verified ID token instead).
    """
    from faas_pro import tokens

    if access_token.count(".") != 2:
        return False, "the access token is opaque (not a JWT)", {}
    try:
        _, payload = tokens.decode_unverified(access_token)
        aud = payload.get("aud")
        audiences = tuple(aud) if isinstance(aud, list) else (aud,) if isinstance(aud, str) else ()
        opts = tokens.VerifyOptions(
            issuer=disc.issuer,
            audiences=tuple(a for a in audiences if isinstance(a, str)),
            required=("iss", "exp", "iat"),
        )
        claims = tokens.verify(access_token, keys, opts, now)
    except tokens.TokenError as e:
        return False, f"the access token is a JWT that does not verify against {disc.issuer}'s keys ({e.reason})", {}
    return True, "", claims
