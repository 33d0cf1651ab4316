"""RFC 8693 token exchange: an IdP token in, an ES256 OpenFaaS token out (docs/server.md).

Every refusal is an ``ExchangeError`` that becomes a 400 with a description meant for the
operator. Descriptions and logs carry claim values only truncated and ``repr``-quoted, never the
token itself.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from faas_pro.server.schema import is_name
from faas_pro.tokens import MAX_TOKEN_BYTES

if TYPE_CHECKING:  # pragma: no cover
    from faas_pro.iam import IamSet
    from faas_pro.server.enforce import Authenticator
    from faas_pro.server.issuers import IssuerKeys
    from faas_pro.server.signing import Signer

FUNCTION_SCOPE = "function"
GRANT_TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ID_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id_token"
SUBJECT_TOKEN_TYPES = frozenset(
    {ID_TOKEN_TYPE, "urn:ietf:params:oauth:token-type:access_token", "urn:ietf:params:oauth:token-type:jwt"}
)
# the descriptions the issue asks for, from faas_pro.tokens' reasons


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


def _too_big(claims: Mapping[str, Any], size: int) -> str:
    """Name the claim that makes a gateway token longer than the API accepts."""
    import json

    name, value = max(claims.items(), key=lambda kv: len(json.dumps(kv[1])))
    return (
        f"the gateway token would be {size} bytes, more than the API accepts ({MAX_TOKEN_BYTES}): "
        f"claim {show(name, 60)} alone is {len(json.dumps(value))} bytes; "
        "ask the identity provider's administrator to leave it out of this client's tokens"
    )


class Exchanger:
    def __init__(
        self,
        issuer_url: str,
        signer: Signer,
        iam: Callable[[], IamSet],
        keys: IssuerKeys,
        clock: Callable[[], float],
        log: Callable[[str], None],
        authn: Authenticator | None = None,
        leeway: int = 60,
    ) -> None:
        self._authn = authn
        self._leeway = leeway  # clock skew allowed for other issuers' tokens (--issuer-leeway)
        self.issuer_url = issuer_url
        self._signer = signer
        self._iam = iam
        self._keys = keys
        self._clock = clock
        self._log = log

    async def exchange(self, params: Mapping[str, str], audiences: Sequence[str] = ()) -> dict[str, Any]:
        """An API token (no ``scope``), or a function token for ``scope=function`` (docs/server.md)."""
        scope = params.get("scope")
        try:
            if scope not in (None, "", FUNCTION_SCOPE):
                raise ExchangeError(f"scope must be {FUNCTION_SCOPE} or absent", "invalid_scope")
            if scope != FUNCTION_SCOPE and audiences:
                raise ExchangeError("audience is only for scope=function")
            for a in audiences:
                ns, colon, fn = a.partition(":")
                if not colon or not is_name(ns) or not is_name(fn):
                    raise ExchangeError(f"audience {show(a, 80)} must be <namespace>:<function>", "invalid_target")
            own = scope == FUNCTION_SCOPE and self._is_ours(params.get("subject_token"))
            if own:
                claims, policies, expiry = self._check_own(params)
            else:
                claims, policies, expiry = await self._check(params)
                claims = {**claims, "sub": f"fed:{claims['sub']}", "fed:iss": claims["iss"]}
        except ExchangeError as e:
            self._log(f"exchange refused: {e.description}")
            raise
        now = int(self._clock())
        remaining = int(claims.get("exp", now + expiry)) - now if isinstance(claims.get("exp"), int) else expiry
        expiry = max(1, min(expiry, remaining)) if scope == FUNCTION_SCOPE else expiry
        out = dict(claims)
        for k in ("nbf", "function", "scope"):
            out.pop(k, None)
        out.update(
            {
                "iss": self.issuer_url,
                "aud": self.issuer_url,
                "policy": list(policies),
                "iat": now,
                "exp": now + expiry,
                "jti": secrets.token_urlsafe(16),
            }
        )
        if scope == FUNCTION_SCOPE:
            out["scope"] = FUNCTION_SCOPE
            out["function"] = {"permissions": self._permissions(policies), "audience": list(dict.fromkeys(audiences))}
        token = self._signer.sign(out)
        if len(token) > MAX_TOKEN_BYTES:  # the API would refuse it on every call: say why now
            too_big = ExchangeError(_too_big(out, len(token)))
            self._log(f"exchange refused: {too_big.description}")
            raise too_big
        kind = "function token" if scope == FUNCTION_SCOPE else "exchange"
        self._log(f"{kind} ok: sub={show(out['sub'])} fed:iss={show(out.get('fed:iss'))} policy={','.join(policies)}")
        return {
            "access_token": token,
            "issued_token_type": ID_TOKEN_TYPE,
            "token_type": "Bearer",
            "expires_in": expiry,
        }

    def _is_ours(self, token: str | None) -> bool:
        from faas_pro.tokens import TokenError, decode_unverified

        if not token:
            return False
        try:
            _, payload = decode_unverified(token)
        except TokenError:
            return False
        return payload.get("iss") == self.issuer_url

    def _check_own(self, params: Mapping[str, str]) -> tuple[dict[str, Any], tuple[str, ...], int]:
        """This gateway's own API token, exchanged for a function token (what faas-cli sends)."""
        from faas_pro.server.enforce import Unauthenticated

        if self._authn is None:
            raise ExchangeError("gateway tokens cannot be exchanged here")
        if params.get("subject_token_type") not in SUBJECT_TOKEN_TYPES:
            raise ExchangeError("subject_token_type must be an id_token, access_token or jwt token type")
        try:
            claims = self._authn.api_claims("Bearer " + params["subject_token"])
        except Unauthenticated as e:
            raise ExchangeError(f"invalid subject token: {e.reason}") from None
        issuer = self._iam().issuer_for(str(claims.get("fed:iss", "")))
        expiry = int(issuer.token_expiry) if issuer is not None else int(claims["exp"]) - int(self._clock())
        return dict(claims), tuple(claims["policy"]), expiry

    def _permissions(self, policies: Sequence[str]) -> list[str]:
        """The ``<ns>:<name>`` patterns the policies allow to invoke (OpenFaaS watchdogs read them)."""
        iam = self._iam()
        out: list[str] = []
        for name in policies:
            policy = iam.policies.get(name)
            for st in policy.statements if policy is not None else ():
                if st.effect == "Allow" and "Function:Invoke" in st.covers and st.condition is None:
                    out.extend(r.pattern for r in st.resources)
        return sorted(set(out))

    async def _check(self, params: Mapping[str, str]) -> tuple[dict[str, Any], tuple[str, ...], int]:
        from faas_pro.server.issuers import IssuerError
        from faas_pro.server.token_answers import exchange_answer
        from faas_pro.tokens import TokenError, VerifyOptions, decode_unverified, verify

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
            raise ExchangeError(exchange_answer(e.code, e.reason).description) from None
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
        options = VerifyOptions(issuer=iss, audiences=tuple(issuer.aud), leeway=self._leeway)
        try:
            claims = verify(token, lookup, options, self._clock())
        except TokenError as e:
            raise ExchangeError(exchange_answer(e.code, e.reason).description) from None
        match = iam.match_roles(claims)
        if not match.policies:
            raise ExchangeError(f"No policies found for subject: {show(claims['sub'])}")
        return claims, tuple(match.policies), int(issuer.token_expiry)
