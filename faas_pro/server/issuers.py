"""Keys of the trusted issuers: discovery + JWKS, fetched only from configured URLs, cached.

Rules (docs/security.md rules 2, 6 and 10; docs/iam.md, JwtIssuer):
- the only URLs fetched are ``<issInternal or iss>/.well-known/openid-configuration`` and the
  ``jwks_uri`` it names; nothing that comes from a token (``jku``, ``x5u``, ``iss`` of an
  unconfigured issuer) is ever fetched;
- the discovery ``issuer`` must equal the configured ``iss`` byte for byte;
- an https issuer's ``jwks_uri`` must be https too (unless it is under the operator's
  ``issInternal``);
- JWKS entries whose ``kid`` is not a string are ignored (they can match no token);
- with ``issInternal``, a ``jwks_uri`` under the public ``iss`` is rewritten to the internal base;
- every fetch has a deadline and a size cap, follows no redirects;
- keys are cached; an unknown ``kid`` triggers at most one refetch per ``refetch_interval`` per
  issuer, single-flight (concurrent requests wait for the one fetch in progress);
- a failing issuer remembers its error for ``error_retry`` seconds: its exchanges fail fast with a
  clear reason and no other issuer is affected.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from faas_pro import strictjson

if TYPE_CHECKING:  # pragma: no cover
    import httpx

    from faas_pro.iam import JwtIssuer

MAX_DOC_BYTES = 256 * 1024
REFETCH_INTERVAL = 60.0
MAX_AGE = 3600.0
ERROR_RETRY = 5.0


class IssuerError(Exception):
    """This issuer's keys cannot be had right now; ``reason`` is safe to show to the client."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class _State:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    jwks: dict[str, Any] | None = None
    lookup: Any = None
    kids: frozenset[str | None] = frozenset()
    fetched_at: float = 0.0
    last_attempt: float = float("-inf")
    last_error: str | None = None
    generation: int = 0
    fetches: int = 0


class IssuerKeys:
    """The per-issuer key cache. ``clock`` is injected so tests and the server agree on time."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        clock: Callable[[], float],
        make_lookup: Callable[[dict[str, Any]], Any],
        *,
        timeout: float = 5.0,
        refetch_interval: float = REFETCH_INTERVAL,
        error_retry: float = ERROR_RETRY,
    ) -> None:
        self._client = client
        self._clock = clock
        self._make_lookup = make_lookup
        self._timeout = timeout
        self._refetch_interval = refetch_interval
        self._error_retry = error_retry
        self._states: dict[tuple[str, str | None], _State] = {}

    def fetch_count(self, iss: str) -> int:
        """How many fetches were made for an issuer (for logs and tests)."""
        return sum(s.fetches for (i, _), s in self._states.items() if i == iss)

    async def lookup_for(self, issuer: JwtIssuer, kid: str | None) -> Any:
        """A KeyLookup over the issuer's JWKS, refreshed when stale or (rate-limited) on an unknown ``kid``."""
        st = self._states.setdefault((issuer.iss, issuer.iss_internal), _State())
        if not self._wants_fetch(st, kid):
            if st.jwks is None:
                raise IssuerError(st.last_error or "keys unavailable")
            return st.lookup
        seen = st.generation
        async with st.lock:
            if st.generation == seen:  # nobody fetched while we waited: this request does it
                await self._refresh(issuer, st)
        if st.jwks is None:
            raise IssuerError(st.last_error or "keys unavailable")
        return st.lookup

    def _wants_fetch(self, st: _State, kid: str | None) -> bool:
        now = self._clock()
        since = now - st.last_attempt
        if st.jwks is None:
            return since >= self._error_retry
        if now - st.fetched_at >= MAX_AGE:
            return since >= self._error_retry
        return kid not in st.kids and since >= self._refetch_interval

    async def _refresh(self, issuer: JwtIssuer, st: _State) -> None:
        st.last_attempt = self._clock()
        st.generation += 1
        st.fetches += 1
        try:
            jwks = await asyncio.wait_for(self._fetch(issuer), self._timeout)
        except IssuerError as e:
            st.last_error = e.reason
            return
        except TimeoutError:
            st.last_error = f"timed out after {self._timeout:g}s fetching the issuer's keys"
            return
        try:
            lookup = self._make_lookup(jwks)
        except Exception:  # a key set the verifier cannot use is this issuer's problem only
            st.last_error = "the JWKS has no usable keys"
            return
        st.lookup = lookup
        st.jwks = jwks
        # only string kids (or none) can match a token's kid; other values are ignored, never hashed
        st.kids = frozenset(
            kid
            for k in jwks["keys"]
            if isinstance(k, dict)
            for kid in (k.get("kid"),)
            if kid is None or isinstance(kid, str)
        )
        st.fetched_at = self._clock()
        st.last_error = None

    async def _get_json(self, url: str, what: str) -> Any:
        import httpx

        try:
            async with self._client.stream("GET", url, headers={"Accept": "application/json"}) as r:
                if r.status_code != 200:
                    raise IssuerError(f"{what} answered HTTP {r.status_code}")
                declared = r.headers.get("content-length")
                if declared is not None and declared.isdigit() and int(declared) > MAX_DOC_BYTES:
                    raise IssuerError(f"{what} is larger than {MAX_DOC_BYTES} bytes")
                buf = bytearray()
                async for chunk in r.aiter_bytes():  # decoded: the cap also stops decompression bombs
                    buf += chunk
                    if len(buf) > MAX_DOC_BYTES:
                        raise IssuerError(f"{what} is larger than {MAX_DOC_BYTES} bytes")
        except httpx.HTTPError as e:
            raise IssuerError(f"cannot fetch {what}: {type(e).__name__}") from None
        try:
            return strictjson.loads(bytes(buf))
        except strictjson.StrictJSONError as e:
            raise IssuerError(f"{what} {e}") from None

    async def _fetch(self, issuer: JwtIssuer) -> dict[str, Any]:
        base = (issuer.iss_internal or issuer.iss).rstrip("/")
        doc = await self._get_json(base + "/.well-known/openid-configuration", "the discovery document")
        if not isinstance(doc, dict):
            raise IssuerError("the discovery document is not a JSON object")
        if doc.get("issuer") != issuer.iss:
            raise IssuerError("the discovery document's issuer does not match the configured iss")
        jwks_uri = doc.get("jwks_uri")
        if not isinstance(jwks_uri, str) or not jwks_uri.startswith(("https://", "http://")):
            raise IssuerError("the discovery document has no usable jwks_uri")
        internal = issuer.iss_internal.rstrip("/") if issuer.iss_internal else None
        under_internal = internal is not None and (jwks_uri == internal or jwks_uri.startswith(internal + "/"))
        if issuer.iss.startswith("https://") and not jwks_uri.startswith("https://") and not under_internal:
            raise IssuerError("the discovery document's jwks_uri is not https (the issuer is)")
        if issuer.iss_internal:
            public = issuer.iss.rstrip("/")
            if jwks_uri == public or jwks_uri.startswith(public + "/"):
                jwks_uri = issuer.iss_internal.rstrip("/") + jwks_uri[len(public) :]
        jwks = await self._get_json(jwks_uri, "the JWKS")
        if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
            raise IssuerError("the JWKS has no keys array")
        return jwks
