"""CSPRNG values for one authorization request: state, nonce and the PKCE S256 pair (RFC 7636)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field


def _token() -> str:
    # 32 random bytes, base64url: 43 characters, within RFC 7636's 43..128 verifier length
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class AuthRequestSecrets:
    """Single-use values of one login; never logged."""

    state: str = field(default_factory=_token)
    nonce: str = field(default_factory=_token)
    code_verifier: str = field(default_factory=_token)

    @property
    def code_challenge(self) -> str:
        return s256_challenge(self.code_verifier)


def s256_challenge(verifier: str) -> str:
    """BASE64URL(SHA256(verifier)) without padding, via Authlib's RFC 7636 helper."""
    from authlib.oauth2.rfc7636 import create_s256_code_challenge

    return str(create_s256_code_challenge(verifier))
