"""A token verifier's world for the verification tests (tests/unit/test_tokens*.py): an issuer's
EC and RSA keys (published as ``k1``/``r1``), an attacker's key, and ``token()`` built from raw
parts (``compact`` of tests/support/tokens.py) so that any row of a mutation table can change any
part. ``DROP`` as a header or claim value leaves that member out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.support.tokens import compact, new_key, public_jwk

NOW = 1_700_000_000
ISS = "https://idp.example.com/realms/main"
AUD = "https://gw.example.com"
NONCE = "n-0S6_WzA2Mj"


DROP: Any = object()


@dataclass
class World:
    ec_key: Any = field(default_factory=lambda: new_key("ES256"))
    rsa_key: Any = field(default_factory=lambda: new_key("RS256"))
    attacker: Any = field(default_factory=lambda: new_key("ES256"))
    other_issuer: Any = field(default_factory=lambda: new_key("ES256"))

    def jwks(self) -> dict[str, Any]:
        return {"keys": [public_jwk(self.ec_key, "k1", "ES256"), public_jwk(self.rsa_key, "r1", "RS256")]}

    def header(self, **changes: Any) -> dict[str, Any]:
        h: dict[str, Any] = {"alg": "ES256", "kid": "k1", "typ": "JWT"}
        h.update(changes)
        return {k: v for k, v in h.items() if v is not DROP}

    def claims(self, **changes: Any) -> dict[str, Any]:
        c: dict[str, Any] = {
            "iss": ISS,
            "aud": AUD,
            "sub": "alice",
            "iat": NOW - 30,
            "nbf": NOW - 30,
            "exp": NOW + 300,
            "jti": "j-1",
            "nonce": NONCE,
        }
        c.update(changes)
        return {k: v for k, v in c.items() if v is not DROP}

    def token(self, header: Any = None, payload: Any = None, key: Any = None, **kw: Any) -> str:
        return compact(
            self.header() if header is None else header,
            self.claims() if payload is None else payload,
            key=self.ec_key if key is None else key,
            **kw,
        )
