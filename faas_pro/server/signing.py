"""The gateway's own ES256 signing key: load, generate, publish (JWKS) and sign.

The ``kid`` is the RFC 7638 thumbprint of the public key, so it is stable across restarts and
different keys never share one. Previous keys (``--previous-issuer-key``) are published and accepted
for verification but never used to sign: that is the rotation overlap (docs/security.md rule 10).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from faas_pro.errors import FaasProError


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class SigningKey:
    private_key: Any  # cryptography EllipticCurvePrivateKey
    public_key: Any
    kid: str
    jwk: dict[str, str]


def _public_jwk(public_key: Any) -> tuple[str, dict[str, str]]:
    nums = public_key.public_numbers()
    x = _b64(nums.x.to_bytes(32, "big"))
    y = _b64(nums.y.to_bytes(32, "big"))
    canonical = json.dumps({"crv": "P-256", "kty": "EC", "x": x, "y": y}, separators=(",", ":"), sort_keys=True)
    kid = _b64(hashlib.sha256(canonical.encode()).digest())
    return kid, {"kty": "EC", "crv": "P-256", "x": x, "y": y, "kid": kid, "alg": "ES256", "use": "sig"}


def load_key(path: Path) -> SigningKey:
    """Read a P-256 private key (PEM, PKCS#8 or SEC1); one clear error for anything else."""
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        data = path.read_bytes()
    except OSError as e:
        raise FaasProError(f"cannot read the issuer key {path}: {e.strerror}") from None
    try:
        key = load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise FaasProError(
            f"the issuer key {path} is not an unencrypted PEM private key",
            "create one with: faas-pro serve keygen FILE",
        ) from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise FaasProError(f"the issuer key {path} must be an EC P-256 key (ES256)")
    kid, jwk = _public_jwk(key.public_key())
    return SigningKey(private_key=key, public_key=key.public_key(), kid=kid, jwk=jwk)


def generate_key_file(path: Path) -> str:
    """Write a new P-256 key to ``path`` (mode 0600, never overwriting); return its kid."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        raise FaasProError(f"{path} already exists; refusing to overwrite a key", "choose a new file name") from None
    except OSError as e:
        raise FaasProError(f"cannot create {path}: {e.strerror}") from None
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
        f.flush()
        os.fsync(f.fileno())
    return _public_jwk(key.public_key())[0]


class Signer:
    """Signs gateway tokens with the current key; knows the public keys it accepts."""

    def __init__(self, current: SigningKey, previous: tuple[SigningKey, ...] = ()) -> None:
        self.current = current
        self._public = {k.kid: k.public_key for k in (current, *previous)}
        self._jwks = {"keys": [current.jwk, *[k.jwk for k in previous if k.kid != current.kid]]}

    def jwks(self) -> dict[str, Any]:
        return self._jwks

    def lookup(self, kid: str | None) -> Any | None:
        """KeyLookup for faas_pro.tokens.verify: only our own keys, never anything from the token."""
        return self._public.get(kid) if kid is not None else None

    def sign(self, claims: dict[str, Any]) -> str:
        import jwt

        return jwt.encode(
            claims, self.current.private_key, algorithm="ES256", headers={"kid": self.current.kid, "typ": "at+jwt"}
        )
