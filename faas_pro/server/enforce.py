"""Who is calling: the gateway API accepts only tokens signed with OUR key (DESIGN §3, SECURITY 3).

``Authenticator.claims(authorization_header)`` returns the verified claims or raises
``Unauthenticated``. Verified tokens are remembered (by SHA-256 of the token, bounded LRU) until
their ``exp``, so a client re-using its token pays one signature check, not one per request;
``policy`` names are resolved against the IAM set at every request, so Policy edits apply at once.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from faas_pro.server.signing import Signer

CACHE_SIZE = 10_000


class Unauthenticated(Exception):
    def __init__(self, reason: str, *, missing: bool = False, oversized: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.missing = missing
        self.oversized = oversized  # refused before any parsing: 400, not 401


class Authenticator:
    def __init__(self, issuer_url: str, signer: Signer, clock: Callable[[], float]) -> None:
        from faas_pro.tokens import VerifyOptions

        self._signer = signer
        self._clock = clock
        self._options = VerifyOptions(
            issuer=issuer_url, audiences=(issuer_url,), algorithms=("ES256",), typ=("at+jwt",)
        )
        self._cache: OrderedDict[bytes, tuple[dict[str, Any], float]] = OrderedDict()

    def claims(self, authorization: str | None) -> dict[str, Any]:
        from faas_pro.tokens import MAX_TOKEN_BYTES, TokenError, verify

        if not authorization:
            raise Unauthenticated("missing bearer token", missing=True)
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise Unauthenticated("missing bearer token", missing=True)
        if len(token) > MAX_TOKEN_BYTES:
            raise Unauthenticated("token too long", oversized=True)
        now = self._clock()
        key = hashlib.sha256(token.encode("utf-8", "surrogateescape")).digest()
        hit = self._cache.get(key)
        if hit is not None:
            if now < hit[1]:
                self._cache.move_to_end(key)
                return hit[0]
            del self._cache[key]
        try:
            claims = verify(token, self._signer.lookup, self._options, now)
        except TokenError as e:
            raise Unauthenticated(e.reason) from None
        policy = claims.get("policy")
        if not isinstance(policy, list) or not all(isinstance(p, str) for p in policy):
            raise Unauthenticated("token has no policy list")
        self._cache[key] = (claims, float(claims["exp"]))
        if len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
        return claims
