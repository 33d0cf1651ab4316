"""The one hardened JWT verifier (docs/security.md rule 1, appendix A) and unverified decoding.

Every JWT the CLI or the server accepts goes through :func:`verify`. The order is deliberate:

1. size caps, before any base64, JSON or crypto work;
2. our own strict parse: exactly three base64url segments (no padding, no whitespace, no ``+/``),
   UTF-8 without BOM, JSON objects only, duplicate keys rejected, no ``NaN``/``Infinity``;
3. header: ``alg`` in the caller's allowlist (never ``none`` or ``HS*``), no ``crit``, ``typ``
   checked, ``kid`` a short sane string; ``jwk``/``jku``/``x5u``/``x5c`` are never read, so no
   network can happen here: keys come only through the ``keys`` lookup;
4. the key type bound to the algorithm (ES256 → EC P-256, RS*/PS* → RSA ≥ 2048 bits), ES256
   signatures exactly 64 bytes R‖S, then PyJWT's algorithm object checks the signature over the
   bytes we parsed (PyJWT never re-parses the token, so it cannot decide differently);
5. claims: ``iss`` byte-exact, every ``aud`` entry ours, ``exp``/``iat``/``nbf`` real JSON numbers,
   ``sub`` a non-empty string, ``nonce`` when asked; leeway capped at 60 s; ``now`` is a parameter.

Duplicate JSON keys (A17) are rejected rather than resolved, in the header and the payload.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from faas_pro import strictjson
from faas_pro.errors import FaasProError

MAX_TOKEN_BYTES = 16384
MAX_HEADER_BYTES = 2048  # encoded header segment
MAX_LEEWAY = 60
MAX_JWKS_KEYS = 64
_MAX_TIME = 1e11  # year ~5138: anything larger is not a timestamp
_B64URL = re.compile(r"[A-Za-z0-9_-]*")
# kid: printable, no spaces or quotes; base64 (+/=) and base64url, dots and colons allowed, no ".."
_KID = re.compile(r"[A-Za-z0-9._~:+/=-]{1,128}")

KeyLookup = Callable[[str | None], Any | None]


class TokenErrorCode(Enum):
    """Why a token was refused, for callers that decide by it (never by the wording of ``reason``)."""

    TOO_LONG = "too_long"  # the whole token is over MAX_TOKEN_BYTES (nothing was parsed)
    MALFORMED = "malformed"  # not three ASCII base64url segments, or the header segment is over its cap
    BAD_JSON = "bad_json"  # header or payload is not a strict JSON object (duplicate keys, too deep…)
    BAD_ALG = "bad_alg"  # alg missing, none, symmetric, or not in the caller's allowlist
    BAD_HEADER = "bad_header"  # crit or b64 present
    BAD_TYP = "bad_typ"  # typ not a string, refused here, or missing where required
    BAD_KID = "bad_kid"  # kid not a short plain string
    BAD_SIGNATURE_FORMAT = "bad_signature_format"  # empty, or not the algorithm's exact length
    UNKNOWN_KID = "unknown_kid"  # the key lookup has no key for this kid
    KEY_MISMATCH = "key_mismatch"  # the key found is for another algorithm or key type
    BAD_SIGNATURE = "bad_signature"  # the signature does not verify
    MISSING_CLAIM = "missing_claim"  # a required claim is absent
    BAD_CLAIM = "bad_claim"  # aud, exp/iat/nbf or sub of the wrong type or shape
    BAD_ISSUER = "bad_issuer"  # iss is not byte-for-byte the expected issuer
    BAD_AUDIENCE = "bad_audience"  # an aud entry is not one of ours
    EXPIRED = "expired"  # exp (plus leeway) has passed
    NOT_YET_VALID = "not_yet_valid"  # nbf or iat in the future (beyond leeway)
    BAD_NONCE = "bad_nonce"  # nonce missing or not the one sent


class TokenError(FaasProError):
    """A token was refused. ``code`` says why, for programs; ``reason`` says it for people: it is
    short and never contains the token or its signature (its wording may change, the codes do not).
    """

    def __init__(self, code: TokenErrorCode, reason: str) -> None:
        super().__init__(f"invalid token: {reason}")
        self.code = code
        self.reason = reason


# --------------------------------------------------------------------------- strict parsing


def _b64decode(segment: str, what: str) -> bytes:
    if not _B64URL.fullmatch(segment):
        raise TokenError(TokenErrorCode.MALFORMED, f"{what} is not unpadded base64url")
    if len(segment) % 4 == 1:
        raise TokenError(TokenErrorCode.MALFORMED, f"{what} has an impossible base64url length")
    try:
        return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError) as e:
        raise TokenError(TokenErrorCode.MALFORMED, f"{what} is not valid base64url") from e


def _json_object(raw: bytes, what: str) -> dict[str, Any]:
    try:
        return strictjson.loads_object(raw)
    except strictjson.StrictJSONError as e:
        raise TokenError(TokenErrorCode.BAD_JSON, f"{what} {e}") from e


@dataclass(frozen=True)
class _Parsed:
    header: dict[str, Any]
    payload: dict[str, Any]
    signing_input: bytes
    signature: bytes


def _parse(token: str) -> _Parsed:
    if not isinstance(token, str):
        raise TokenError(TokenErrorCode.MALFORMED, "not a string")
    if len(token) > MAX_TOKEN_BYTES:  # characters >= bytes for ASCII; non-ASCII fails below
        raise TokenError(TokenErrorCode.TOO_LONG, f"longer than {MAX_TOKEN_BYTES} bytes")
    if not token.isascii():
        raise TokenError(TokenErrorCode.MALFORMED, "contains non-ASCII characters")
    parts = token.split(".")
    if len(parts) != 3:
        raise TokenError(TokenErrorCode.MALFORMED, f"has {len(parts)} segments, expected 3")
    h64, p64, s64 = parts
    if not h64 or not p64:
        raise TokenError(TokenErrorCode.MALFORMED, "empty header or payload segment")
    if len(h64) > MAX_HEADER_BYTES:
        raise TokenError(TokenErrorCode.MALFORMED, f"header longer than {MAX_HEADER_BYTES} bytes")
    header = _json_object(_b64decode(h64, "header"), "header")
    payload = _json_object(_b64decode(p64, "payload"), "payload")
    signature = _b64decode(s64, "signature")
    return _Parsed(header, payload, f"{h64}.{p64}".encode("ascii"), signature)


def decode_unverified(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and payload of a token, strictly parsed but NOT verified: never trust the result."""
    p = _parse(token)
    return p.header, p.payload


def pretty(token: str) -> str:
    """The decoded (UNVERIFIED) token as ``{"header": …, "payload": …}``, 2-space indent, sorted keys."""
    header, payload = decode_unverified(token)
    return json.dumps({"header": header, "payload": payload}, indent=2, sort_keys=True)


# --------------------------------------------------------------------------- time claims


def _is_time(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if isinstance(value, float) and not math.isfinite(value):
        return False
    return 0 <= value <= _MAX_TIME  # compared as int first: 10**400 must not overflow a float


def expiry(claims: Mapping[str, Any]) -> float | None:
    """``exp`` as a float, or None when it is missing or not a sane JSON number."""
    exp = claims.get("exp")
    return float(exp) if exp is not None and _is_time(exp) else None


def is_expired(claims: Mapping[str, Any], now: float, skew: float = 10.0) -> bool:
    """True from ``exp - skew`` on (docs/auth.md: the CLI gives itself no leeway).

    A token without a usable ``exp`` is not known to be expired: False (the server decides).
    """
    exp = expiry(claims)
    return exp is not None and now >= exp - skew


# --------------------------------------------------------------------------- verification


@dataclass(frozen=True)
class VerifyOptions:
    issuer: str
    audiences: tuple[str, ...]
    algorithms: tuple[str, ...] = ("ES256", "RS256")
    typ: tuple[str, ...] | None = None
    reject_typ: tuple[str, ...] = ()
    leeway: int = 60
    nonce: str | None = None
    required: tuple[str, ...] = ("iss", "aud", "exp", "iat", "sub")


def _rsa_ok(key: Any) -> bool:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

    return isinstance(key, RSAPublicKey) and key.key_size >= 2048


def _ec_ok(curve: str, key: Any) -> bool:
    from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePublicKey

    return isinstance(key, EllipticCurvePublicKey) and key.curve.name == curve


# alg -> (check of the public key type, exact raw signature length or None)
_ALGS: dict[str, tuple[Callable[[Any], bool], int | None]] = {
    "ES256": (lambda k: _ec_ok("secp256r1", k), 64),
    "ES384": (lambda k: _ec_ok("secp384r1", k), 96),
    "RS256": (_rsa_ok, None),
    "RS384": (_rsa_ok, None),
    "RS512": (_rsa_ok, None),
    "PS256": (_rsa_ok, None),
    "PS384": (_rsa_ok, None),
    "PS512": (_rsa_ok, None),
}


def _norm_typ(value: str) -> str:
    v = value.strip().lower()
    return v[len("application/") :] if v.startswith("application/") else v


def _check_header(header: Mapping[str, Any], options: VerifyOptions) -> tuple[str, str | None]:
    alg = header.get("alg")
    if not isinstance(alg, str) or not alg:
        raise TokenError(TokenErrorCode.BAD_ALG, "header alg missing or not a string")
    if alg.lower() == "none":
        raise TokenError(TokenErrorCode.BAD_ALG, "alg none is never accepted")
    if alg.upper().startswith("HS"):
        raise TokenError(TokenErrorCode.BAD_ALG, f"symmetric alg {alg[:10]} is never accepted")
    if alg not in options.algorithms or alg not in _ALGS:
        raise TokenError(TokenErrorCode.BAD_ALG, f"alg {alg[:10]} is not allowed here")
    if "crit" in header:
        raise TokenError(TokenErrorCode.BAD_HEADER, "header crit is not supported")
    if "b64" in header:
        raise TokenError(TokenErrorCode.BAD_HEADER, "header b64 is not supported")
    typ = header.get("typ")
    if typ is not None and not isinstance(typ, str):
        raise TokenError(TokenErrorCode.BAD_TYP, "header typ is not a string")
    norm = _norm_typ(typ) if typ is not None else None
    if norm is not None and norm in {_norm_typ(t) for t in options.reject_typ}:
        raise TokenError(TokenErrorCode.BAD_TYP, f"typ {norm[:20]} is not accepted here")
    if options.typ is not None and norm not in {_norm_typ(t) for t in options.typ}:
        raise TokenError(TokenErrorCode.BAD_TYP, "typ missing or not accepted here")
    kid = header.get("kid")
    if "kid" in header and not (isinstance(kid, str) and _KID.fullmatch(kid) and ".." not in kid):
        raise TokenError(TokenErrorCode.BAD_KID, "header kid is not a short, plain string")
    return alg, kid


def _public_key(key: Any, alg: str) -> Any:
    import jwt

    if isinstance(key, jwt.PyJWK):
        declared = getattr(key, "_jwk_data", {}).get("alg")
        if declared is not None and declared != alg:
            raise TokenError(TokenErrorCode.KEY_MISMATCH, f"key is for {str(declared)[:10]}, token says {alg}")
        key = key.key
    key_ok, _ = _ALGS[alg]
    if not key_ok(key):
        raise TokenError(TokenErrorCode.KEY_MISMATCH, f"key type does not match alg {alg}")
    return key


def _check_time(claims: Mapping[str, Any], name: str) -> float | None:
    if name not in claims:
        return None
    value = claims[name]
    if not _is_time(value):
        raise TokenError(TokenErrorCode.BAD_CLAIM, f"claim {name} is not a valid NumericDate")
    return float(value)


def _check_claims(claims: Mapping[str, Any], options: VerifyOptions, now: float) -> None:
    leeway = min(max(int(options.leeway), 0), MAX_LEEWAY)
    for name in options.required:
        if name not in claims:
            raise TokenError(TokenErrorCode.MISSING_CLAIM, f"claim {name} is missing")
    iss = claims.get("iss")
    if not isinstance(iss, str) or iss != options.issuer:
        raise TokenError(TokenErrorCode.BAD_ISSUER, "issuer is not the expected one")
    aud = claims.get("aud")
    auds = [aud] if isinstance(aud, str) else aud
    if not isinstance(auds, list) or not auds or not all(isinstance(a, str) for a in auds):
        raise TokenError(TokenErrorCode.BAD_CLAIM, "aud is not a string or a non-empty list of strings")
    if not options.audiences or any(a not in options.audiences for a in auds):
        raise TokenError(TokenErrorCode.BAD_AUDIENCE, "audience is not ours")
    exp = _check_time(claims, "exp")
    if exp is None:
        raise TokenError(TokenErrorCode.MISSING_CLAIM, "claim exp is missing")
    if now >= exp + leeway:
        raise TokenError(TokenErrorCode.EXPIRED, "token has expired")
    iat = _check_time(claims, "iat")
    if iat is not None and iat > now + leeway:
        raise TokenError(TokenErrorCode.NOT_YET_VALID, "token issued in the future")
    nbf = _check_time(claims, "nbf")
    if nbf is not None and nbf > now + leeway:
        raise TokenError(TokenErrorCode.NOT_YET_VALID, "token not valid yet")
    if "sub" in claims or "sub" in options.required:
        sub = claims.get("sub")
        if not isinstance(sub, str) or not sub:
            raise TokenError(TokenErrorCode.BAD_CLAIM, "sub is not a non-empty string")
    if options.nonce is not None:
        nonce = claims.get("nonce")
        import hmac  # here, not at the top: hashlib/OpenSSL cost start-up time on every command

        if not isinstance(nonce, str) or not hmac.compare_digest(nonce.encode(), options.nonce.encode()):
            raise TokenError(TokenErrorCode.BAD_NONCE, "nonce missing or not the one sent")


def verify(token: str, keys: KeyLookup, options: VerifyOptions, now: float) -> dict[str, Any]:
    """The verified claims of ``token``, or :class:`TokenError`. No clock, no network."""
    from jwt.algorithms import get_default_algorithms

    parsed = _parse(token)
    alg, kid = _check_header(parsed.header, options)
    _, sig_len = _ALGS[alg]
    if not parsed.signature:
        raise TokenError(TokenErrorCode.BAD_SIGNATURE_FORMAT, "signature is empty")
    if sig_len is not None and len(parsed.signature) != sig_len:
        raise TokenError(TokenErrorCode.BAD_SIGNATURE_FORMAT, f"{alg} signature must be {sig_len} bytes R||S")
    found = keys(kid)
    if found is None:
        raise TokenError(TokenErrorCode.UNKNOWN_KID, "signing key not found (unknown kid)")
    public_key = _public_key(found, alg)
    algorithm = get_default_algorithms()[alg]
    if not algorithm.verify(parsed.signing_input, public_key, parsed.signature):
        raise TokenError(TokenErrorCode.BAD_SIGNATURE, "signature does not verify")
    _check_claims(parsed.payload, options, now)
    return parsed.payload


def jwks_lookup(jwks: Mapping[str, Any]) -> KeyLookup:
    """A lookup over a JWKS document's public signing keys.

    Skipped: symmetric (``oct``) keys, keys with private parts, ``use`` other than ``sig``, keys
    PyJWT cannot load, and keys whose ``kid`` is not a short plain string. A missing ``kid`` in
    the token finds a key only when the set has exactly one. The first of duplicate kids wins.
    """
    import jwt

    entries = jwks.get("keys") if isinstance(jwks, Mapping) else None
    by_kid: dict[str | None, jwt.PyJWK] = {}
    usable: list[jwt.PyJWK] = []
    for entry in entries[:MAX_JWKS_KEYS] if isinstance(entries, list) else []:
        if not isinstance(entry, dict) or entry.get("kty") not in ("EC", "RSA"):
            continue
        if "d" in entry or entry.get("use", "sig") != "sig":
            continue
        kid = entry.get("kid")
        if kid is not None and not (isinstance(kid, str) and _KID.fullmatch(kid) and ".." not in kid):
            continue
        try:
            key = jwt.PyJWK(entry)
        except (jwt.PyJWTError, ValueError, TypeError, KeyError):
            continue
        usable.append(key)
        by_kid.setdefault(kid, key)

    def lookup(kid: str | None) -> Any | None:
        if kid is None:
            return usable[0] if len(usable) == 1 else None
        return by_kid.get(kid)

    return lookup
