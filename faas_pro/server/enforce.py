"""Who is calling: the gateway API accepts only tokens signed with OUR key (docs/server.md; docs/security.md rule 3).

``Authenticator.claims(authorization_header)`` returns the verified claims or raises
``Unauthenticated``. Verified tokens are remembered (by SHA-256 of the token, bounded LRU) until
their ``exp``, so a client re-using its token pays one signature check, not one per request;
``policy`` names are resolved against the IAM set in force, so Policy edits apply at once;
``IamAuthoriser`` remembers its decisions per token until the IAM set changes.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # pragma: no cover
    from faas_pro.iam import IamSet
    from faas_pro.server.signing import Signer

CACHE_SIZE = 10_000
# each entry keeps its token's claims alive: no more entries than the token cache holds tokens
DECISION_CACHE_SIZE = CACHE_SIZE
FUNCTION_SCOPE = "function"


class Unauthenticated(Exception):
    def __init__(self, reason: str, *, missing: bool = False, oversized: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.missing = missing
        self.oversized = oversized  # refused before any parsing: 400, not 401


class Authoriser(Protocol):
    """Decides one action on ``<namespace>:<function>`` (``function=None``: ``<namespace>:*``)."""

    def allowed(self, claims: dict[str, Any], action: str, namespace: str, function: str | None) -> bool: ...


class IamAuthoriser:
    """The production decision: the IAM set in force, the token's policy names (so edits apply at once).

    Decisions are remembered per verified token, keyed on the identity of its claims object (the
    ``Authenticator`` hands out the same object for every request with the same token; the entry
    keeps that object alive, so its ``id`` cannot be reused while the entry exists) and on the
    action and resource. The IAM engine is pure (no clock, no I/O), so a decision depends only on
    the IAM set and the claims: when the holder returns another IAM set (a reload), every
    remembered decision is dropped before the next one is made. The cache is bounded; when full,
    the oldest entry goes.
    """

    def __init__(self, iam: Callable[[], IamSet], cache_size: int = DECISION_CACHE_SIZE) -> None:
        self._iam = iam
        self._cache_size = cache_size
        self._set: IamSet | None = None
        self._decisions: dict[tuple[int, str, str, str | None], tuple[dict[str, Any], bool]] = {}

    def allowed(self, claims: dict[str, Any], action: str, namespace: str, function: str | None) -> bool:
        iam = self._iam()
        decisions = self._decisions
        if iam is not self._set:  # a reload: nothing decided under the old set counts any more
            decisions.clear()
            self._set = iam
        key = (id(claims), action, namespace, function)
        hit = decisions.get(key)
        if hit is not None and hit[0] is claims:
            return hit[1]
        policies = tuple(claims.get("policy") or ())
        allowed = bool(iam.authorize(policies, action, namespace, function, claims).allowed)
        if len(decisions) >= self._cache_size:
            del decisions[next(iter(decisions))]
        decisions[key] = (claims, allowed)
        return allowed


class AllowAllForBenchmark:
    """Allows everything. Built only for ``--bench-insecure-no-authz`` with its environment switch."""

    def allowed(self, claims: dict[str, Any], action: str, namespace: str, function: str | None) -> bool:
        return True


OWN_LEEWAY = 5  # seconds


class Authenticator:
    def __init__(self, issuer_url: str, signer: Signer, clock: Callable[[], float]) -> None:
        from faas_pro.tokens import VerifyOptions

        self._signer = signer
        self._clock = clock
        # our own tokens are checked against our own clock: a few seconds of leeway, not the 60 s
        # other issuers get for clock skew (docs/security.md rule 1)
        self._options = VerifyOptions(
            issuer=issuer_url, audiences=(issuer_url,), algorithms=("ES256",), typ=("at+jwt",), leeway=OWN_LEEWAY
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

    def api_claims(self, authorization: str | None) -> dict[str, Any]:
        """An API token (``/system/*``): a function token is refused here."""
        claims = self.claims(authorization)
        if claims.get("scope") == FUNCTION_SCOPE:
            raise Unauthenticated("a function token is not accepted by the API")
        return claims

    def function_claims(self, authorization: str | None, namespace: str, name: str) -> dict[str, Any]:
        """A function token for ``namespace:name`` (``/function/*``): an API token is refused here."""
        claims = self.claims(authorization)
        if claims.get("scope") != FUNCTION_SCOPE:
            raise Unauthenticated("an API token is not accepted for invocation (exchange it with scope=function)")
        function = claims.get("function")
        audience = function.get("audience") if isinstance(function, dict) else None
        if audience and (not isinstance(audience, list) or f"{namespace}:{name}" not in audience):
            raise Unauthenticated(f"the token's audience does not include {namespace}:{name}")
        return claims
