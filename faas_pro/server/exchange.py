"""RFC 8693 token exchange: an IdP token in, an ES256 OpenFaaS token out (DESIGN §3).

Every refusal is an ``ExchangeError`` that becomes a 400 with a description meant for the
operator. Descriptions and logs carry claim values only truncated and ``repr``-quoted, never the
token itself.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from faas_pro.iam import IamSet
    from faas_pro.server.issuers import IssuerKeys
    from faas_pro.server.signing import Signer

GRANT_TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ID_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id_token"
SUBJECT_TOKEN_TYPES = frozenset(
    {ID_TOKEN_TYPE, "urn:ietf:params:oauth:token-type:access_token", "urn:ietf:params:oauth:token-type:jwt"}
)
# the descriptions the issue asks for, from faas_pro.tokens' reasons
_FRIENDLY = {"audience is not ours": "audience not accepted", "token has expired": "token expired"}


class ExchangeError(Exception):
    def __init__(self, description: str, error: str = "invalid_request") -> None:
        super().__init__(description)
        self.error = error
        self.description = description


def show(value: Any, limit: int = 120) -> str:
    """A claim value fit for a log line or an error description: quoted, printable, short."""
    text = value if isinstance(value, str) else repr(value)
    if len(text) > limit:
        text = text[:limit] + "…"
    return ascii(text) if not text.isprintable() else text


class Exchanger:
    def __init__(
        self,
        issuer_url: str,
        signer: Signer,
        iam: Callable[[], IamSet],
        keys: IssuerKeys,
        clock: Callable[[], float],
        log: Callable[[str], None],
    ) -> None:
        self.issuer_url = issuer_url
        self._signer = signer
        self._iam = iam
        self._keys = keys
        self._clock = clock
        self._log = log

    async def exchange(self, params: Mapping[str, str]) -> dict[str, Any]:
        try:
            claims, policies, expiry = await self._check(params)
        except ExchangeError as e:
            self._log(f"exchange refused: {e.description}")
            raise
        now = int(self._clock())
        out = dict(claims)
        out.update(
            {
                "iss": self.issuer_url,
                "aud": self.issuer_url,
                "sub": f"fed:{claims['sub']}",
                "fed:iss": claims["iss"],
                "policy": list(policies),
                "iat": now,
                "exp": now + expiry,
                "jti": secrets.token_urlsafe(16),
            }
        )
        token = self._signer.sign(out)
        self._log(f"exchange ok: sub={show(out['sub'])} fed:iss={show(claims['iss'])} policy={','.join(policies)}")
        return {
            "access_token": token,
            "issued_token_type": ID_TOKEN_TYPE,
            "token_type": "Bearer",
            "expires_in": expiry,
        }

    async def _check(self, params: Mapping[str, str]) -> tuple[dict[str, Any], tuple[str, ...], int]:
        from faas_pro.server.issuers import IssuerError
        from faas_pro.tokens import MAX_TOKEN_BYTES, TokenError, VerifyOptions, decode_unverified, verify

        grant = params.get("grant_type")
        if grant != GRANT_TOKEN_EXCHANGE:
            raise ExchangeError(f"grant_type must be {GRANT_TOKEN_EXCHANGE}", "unsupported_grant_type")
        token = params.get("subject_token")
        if not token:
            raise ExchangeError("subject_token is required")
        if params.get("subject_token_type") not in SUBJECT_TOKEN_TYPES:
            raise ExchangeError("subject_token_type must be an id_token, access_token or jwt token type")
        if len(token) > MAX_TOKEN_BYTES:
            raise ExchangeError(f"subject_token is longer than {MAX_TOKEN_BYTES} bytes")
        try:
            header, payload = decode_unverified(token)
        except TokenError as e:
            raise ExchangeError(f"malformed subject token: {e.reason}") from None
        iss = payload.get("iss")
        if not isinstance(iss, str) or not iss:
            raise ExchangeError("the subject token has no issuer")
        if iss == self.issuer_url:
            raise ExchangeError("gateway tokens cannot be exchanged; send the identity provider's token")
        iam = self._iam()
        issuer = iam.issuer_for(iss)
        if issuer is None:
            raise ExchangeError(f"untrusted issuer: {show(iss)}")
        kid = header.get("kid")
        try:
            lookup = await self._keys.lookup_for(issuer, kid if isinstance(kid, str) else None)
        except IssuerError as e:
            raise ExchangeError(f"cannot get the keys of issuer {show(iss)}: {e.reason}") from None
        options = VerifyOptions(issuer=iss, audiences=tuple(issuer.aud))
        try:
            claims = verify(token, lookup, options, self._clock())
        except TokenError as e:
            raise ExchangeError(_FRIENDLY.get(e.reason, f"invalid subject token: {e.reason}")) from None
        match = iam.match_roles(claims)
        if not match.policies:
            raise ExchangeError(f"No policies found for subject: {show(claims['sub'])}")
        return claims, tuple(match.policies), int(issuer.token_expiry)
