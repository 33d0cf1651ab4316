"""The dashboard's cookies: JSON sealed with AES-256-GCM (encrypted and authenticated).

The cookie name is bound into the additional data, so a login-transaction cookie cannot be
replayed as a session cookie; anything that does not open (tampered, another key, truncated,
expired) is simply no session.
"""

from __future__ import annotations

import base64
import json
import secrets
from typing import Any

NONCE_BYTES = 12
MAX_COOKIE_CHARS = 4000


def _b64e(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Sealer:
    def __init__(self, key: bytes) -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        if len(key) != 32:
            raise ValueError("the session key must be 32 bytes")
        self._aead = AESGCM(key)

    def seal(self, purpose: str, payload: dict[str, Any]) -> str:
        nonce = secrets.token_bytes(NONCE_BYTES)
        raw = json.dumps(payload, separators=(",", ":")).encode()
        return _b64e(nonce + self._aead.encrypt(nonce, raw, purpose.encode()))

    def open(self, purpose: str, value: str | None, now: float) -> dict[str, Any] | None:
        """The payload, or None when the value is missing, altered, foreign or past its ``exp``."""
        from cryptography.exceptions import InvalidTag

        if not value or len(value) > MAX_COOKIE_CHARS:
            return None
        try:
            blob = _b64d(value)
            if len(blob) <= NONCE_BYTES:
                return None
            raw = self._aead.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], purpose.encode())
            payload = json.loads(raw)
        except (InvalidTag, ValueError):
            return None
        if not isinstance(payload, dict):
            return None
        exp = payload.get("exp")
        if not isinstance(exp, int | float) or exp <= now:
            return None
        return payload


def cookie_name(base: str, secure: bool) -> str:
    """``__Host-`` + name on https (RFC 6265bis: Secure, Path=/, no Domain), the bare name otherwise."""
    return f"__Host-{base}" if secure else base


def cookie_header(name: str, value: str, *, max_age: int, secure: bool) -> str:
    parts = [f"{name}={value}", "Path=/", f"Max-Age={max(0, max_age)}", "HttpOnly", "SameSite=Lax"]
    if secure:
        parts.append("Secure")
    return "; ".join(parts)
