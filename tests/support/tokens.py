"""JWTs for tests: the one minter, keys and their JWKS, and raw segments for hostile tokens.

- ``mint(claims, key, alg=…, kid=…, typ=…, headers=…)``: a well-formed signed JWT (PyJWT).
- ``new_key(alg)``, ``public_jwk(key, kid)``, ``Signer``: keys a test owns and what it publishes.
- ``b64url``, ``segment``, ``sign``, ``compact``: a compact JWS assembled by hand, so that any part
  (header bytes, payload bytes, base64, signature) can be malformed on purpose (RFC 7515 §7.1).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import jwt
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

Part = dict[str, Any] | str | bytes


# --------------------------------------------------------------------------- keys


def new_key(alg: str = "ES256") -> Any:
    """A fresh private key for ``alg`` (ES256: P-256, RS256/PS256: RSA 2048, EdDSA: Ed25519, HS256: 32 bytes)."""
    if alg == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    if alg in ("RS256", "PS256"):
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if alg == "EdDSA":
        return ed25519.Ed25519PrivateKey.generate()
    if alg.startswith("HS"):
        return b"k" * 32
    raise ValueError(alg)


def alg_of(key: Any) -> str:
    """The usual algorithm for a key: ES256, RS256, EdDSA or HS256."""
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return "ES256"
    if isinstance(key, rsa.RSAPrivateKey):
        return "RS256"
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return "EdDSA"
    if isinstance(key, bytes | str):
        return "HS256"
    raise TypeError(f"no algorithm for {type(key).__name__}")


def public_jwk(key: Any, kid: str | None = None, alg: str | None = None, *, use: str | None = "sig") -> dict[str, Any]:
    """The public JWK of a private key, with ``kid``, ``alg`` and ``use`` when given."""
    from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

    pub = key.public_key()
    algo: Any = OKPAlgorithm
    if isinstance(key, ec.EllipticCurvePrivateKey):
        algo = ECAlgorithm
    elif isinstance(key, rsa.RSAPrivateKey):
        algo = RSAAlgorithm
    jwk: dict[str, Any] = json.loads(algo.to_jwk(pub))
    extra = {"kid": kid, "alg": alg, "use": use}
    jwk.update({k: v for k, v in extra.items() if v is not None})
    return jwk


class Signer:
    """A key with its ``kid``: ``mint`` tokens, publish ``jwks()``."""

    def __init__(self, kid: str = "k1", alg: str = "ES256", key: Any = None) -> None:
        self.kid, self.alg = kid, alg
        self.key = new_key(alg) if key is None else key

    def jwk(self) -> dict[str, Any]:
        return public_jwk(self.key, self.kid, self.alg)

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.jwk()]}

    def mint(self, claims: dict[str, Any], typ: str | None = "JWT", **headers: Any) -> str:
        return mint(claims, self.key, alg=self.alg, kid=self.kid, typ=typ, headers=headers)


# --------------------------------------------------------------------------- the minter


def mint(
    claims: dict[str, Any],
    key: Any,
    *,
    alg: str | None = None,
    kid: str | None = None,
    typ: str | None = None,
    headers: dict[str, Any] | None = None,
) -> str:
    """A signed compact JWT; ``alg`` defaults to the key's usual algorithm, ``kid``/``typ`` only when given."""
    h: dict[str, Any] = {}
    if kid is not None:
        h["kid"] = kid
    if typ is not None:
        h["typ"] = typ
    h.update(headers or {})
    return jwt.encode(claims, key, algorithm=alg or alg_of(key), headers=h or None)


# --------------------------------------------------------------------------- raw segments (hostile tokens)


def b64url(data: bytes) -> str:
    """base64url without padding (RFC 7515 §2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def raw(part: Part) -> bytes:
    """A part's bytes: dicts as JSON (``json.dumps`` defaults), strings as UTF-8, bytes unchanged."""
    if isinstance(part, bytes):
        return part
    if isinstance(part, str):
        return part.encode()
    return json.dumps(part).encode()


def segment(part: Part) -> str:
    return b64url(raw(part))


def sign(alg: str, key: Any, data: bytes) -> bytes:
    """The JWS signature of ``data`` (RFC 7518 §3): ES256 as r‖s, RS256, PS256, EdDSA, HS256."""
    if alg == "ES256":
        r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
        return bytes(r.to_bytes(32, "big") + s.to_bytes(32, "big"))
    if alg == "RS256":
        return bytes(key.sign(data, padding.PKCS1v15(), hashes.SHA256()))
    if alg == "PS256":
        pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
        return bytes(key.sign(data, pss, hashes.SHA256()))
    if alg == "EdDSA":
        return bytes(key.sign(data))
    if alg.upper().startswith("HS"):
        secret = key.encode() if isinstance(key, str) else key
        return hmac.new(secret, data, hashlib.sha256).digest()
    return b""


def compact(
    header: Part,
    payload: Part,
    signature: bytes | str | None = None,
    *,
    key: Any = None,
    alg: str | None = None,
) -> str:
    """``header.payload.signature`` from raw parts. ``signature``: bytes (base64url-encoded here), a
    str (used as the segment, as is), or None: signed with ``key`` (``alg`` from the header unless
    given), or empty without a key."""
    signing_input = f"{segment(header)}.{segment(payload)}"
    if isinstance(signature, str):
        return f"{signing_input}.{signature}"
    if signature is None:
        if alg is None and isinstance(header, dict):
            alg = header.get("alg")
        signature = sign(str(alg), key, signing_input.encode()) if key is not None else b""
    return f"{signing_input}.{b64url(signature)}"
