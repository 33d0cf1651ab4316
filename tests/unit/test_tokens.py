"""tokens.py beyond appendix A: what is accepted, unverified decoding, expiry, JWKS lookups."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from faas_pro.errors import FaasProError
from faas_pro.tokens import (
    MAX_TOKEN_BYTES,
    TokenError,
    TokenErrorCode,
    VerifyOptions,
    decode_unverified,
    expiry,
    is_expired,
    jwks_lookup,
    pretty,
    verify,
)
from tests.support.tokens import compact, public_jwk
from tests.support.tokenworld import AUD, ISS, NOW, World


@pytest.fixture(scope="module")
def world() -> World:
    return World()


def _opts(**kw: object) -> VerifyOptions:
    base: dict[str, object] = {"issuer": ISS, "audiences": (AUD,)}
    base.update(kw)
    return VerifyOptions(**base)  # type: ignore[arg-type]


def test_token_error_is_a_faas_pro_error_with_a_short_reason() -> None:
    e = TokenError(TokenErrorCode.BAD_SIGNATURE, "signature does not verify")
    assert isinstance(e, FaasProError)
    assert e.code is TokenErrorCode.BAD_SIGNATURE and e.reason == "signature does not verify"
    assert e.line() == "invalid token: signature does not verify"


def test_decode_unverified_and_pretty(world: World) -> None:
    token = world.token()
    header, payload = decode_unverified(token)
    assert header == {"alg": "ES256", "kid": "k1", "typ": "JWT"}
    assert payload == world.claims()
    assert pretty(token) == json.dumps({"header": header, "payload": payload}, indent=2, sort_keys=True)
    assert pretty(token).startswith('{\n  "header": {\n    "alg": "ES256",')


def test_decode_unverified_is_as_strict_as_verify() -> None:
    with pytest.raises(TokenError, match="duplicate"):
        decode_unverified(compact({"alg": "ES256"}, '{"a":1,"a":2}', b"x"))
    with pytest.raises(TokenError, match="longer than"):
        decode_unverified("a" * (MAX_TOKEN_BYTES + 1))
    with pytest.raises(TokenError, match="not a string"):
        decode_unverified(b"a.b.c")  # type: ignore[arg-type]
    # an unsigned token decodes (nothing is verified here), the signature segment may be empty
    assert decode_unverified(compact({"alg": "none"}, {"sub": "x"}))[1] == {"sub": "x"}


def test_expiry_and_is_expired_use_exp_minus_skew() -> None:
    assert expiry({"exp": 100}) == 100.0
    assert expiry({"exp": "100"}) is None
    assert expiry({"exp": True}) is None
    assert expiry({"exp": float("inf")}) is None
    assert expiry({"exp": 10**400}) is None
    assert expiry({}) is None
    assert is_expired({"exp": 100}, now=89.9) is False
    assert is_expired({"exp": 100}, now=90.0) is True
    assert is_expired({"exp": 100}, now=99.0, skew=0) is False
    assert is_expired({}, now=1e12) is False  # unknown expiry: the server decides


def test_accepted_variants(world: World) -> None:
    lookup = jwks_lookup(world.jwks())
    # every audience ours (a list) is fine; typ compared case-insensitively without "application/"
    tok = world.token(world.header(typ="application/AT+JWT"), world.claims(aud=[AUD, "second"], nonce=None))
    claims = verify(tok, lookup, _opts(audiences=(AUD, "second"), typ=("at+jwt",)), NOW)
    assert claims["aud"] == [AUD, "second"]
    # PS256 with an RSA key whose JWK does not pin an alg
    jwk = public_jwk(world.rsa_key, "p1", "PS256")
    del jwk["alg"]
    ps = world.token(world.header(alg="PS256", kid="p1"), key=world.rsa_key)
    assert verify(ps, jwks_lookup({"keys": [jwk]}), _opts(algorithms=("PS256",)), NOW)["sub"] == "alice"
    # a cryptography public key straight from the lookup, and a token without kid
    plain = world.token(world.header(kid=None), key=world.ec_key)
    no_kid = compact({"alg": "ES256"}, world.claims(), key=world.ec_key)
    assert verify(no_kid, lambda kid: world.ec_key.public_key(), _opts(), NOW)["iss"] == ISS
    with pytest.raises(TokenError, match="kid"):
        verify(plain, lambda kid: world.ec_key.public_key(), _opts(), NOW)


def test_leeway_is_capped_at_60_seconds(world: World) -> None:
    lookup = jwks_lookup(world.jwks())
    tok = world.token(payload=world.claims(exp=NOW - 59))
    assert verify(tok, lookup, _opts(leeway=3600), NOW)["sub"] == "alice"
    late = world.token(payload=world.claims(exp=NOW - 61))
    with pytest.raises(TokenError, match="expired"):
        verify(late, lookup, _opts(leeway=3600), NOW)
    with pytest.raises(TokenError, match="expired"):
        verify(tok, lookup, _opts(leeway=0), NOW)


def test_key_type_is_bound_to_the_algorithm(world: World) -> None:
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    tok = world.token(world.header(alg="RS256", kid="s"), key=small)
    with pytest.raises(TokenError, match="key type"):
        verify(tok, lambda kid: small.public_key(), _opts(algorithms=("RS256",)), NOW)
    p384 = ec.generate_private_key(ec.SECP384R1())
    with pytest.raises(TokenError, match="key type"):
        verify(world.token(), lambda kid: p384.public_key(), _opts(), NOW)
    # a private key is never accepted as the verification key
    with pytest.raises(TokenError, match="key type"):
        verify(world.token(), lambda kid: world.ec_key, _opts(), NOW)


def test_jwks_lookup_skips_what_it_cannot_use(world: World) -> None:
    good = public_jwk(world.ec_key, "k1", "ES256")
    private = json.loads(__import__("jwt").algorithms.ECAlgorithm.to_jwk(world.attacker)) | {"kid": "priv"}
    jwks = {
        "keys": [
            {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
            private,
            public_jwk(world.attacker, "enc", "ES256") | {"use": "enc"},
            public_jwk(world.attacker, "../x", "ES256"),
            public_jwk(world.attacker, "k" * 200, "ES256"),
            {"kty": "EC", "kid": "broken", "crv": "P-256", "x": "AA", "y": "AA"},
            "not a dict",
            good,
            public_jwk(world.attacker, "k1", "ES256"),  # a duplicate kid: the first wins
        ]
    }
    lookup = jwks_lookup(jwks)
    for kid in ("hmac", "priv", "enc", "../x", "k" * 200, "broken", None):
        assert lookup(kid) is None, kid
    assert verify(world.token(), lookup, _opts(), NOW)["sub"] == "alice"
    assert jwks_lookup({"keys": [good]})(None) is not None  # a single key answers a token without kid
    assert jwks_lookup({"nothing": 1})("k1") is None
    assert jwks_lookup([])("k1") is None  # type: ignore[arg-type]


def test_strict_json_names_deep_nesting_itself() -> None:
    """The bound is ours, checked before json parses: the same reason on every Python version."""
    from faas_pro import strictjson

    ok = "[" * strictjson.MAX_DEPTH + "]" * strictjson.MAX_DEPTH
    assert strictjson.loads(ok) is not None
    for deep in (
        "[" * (strictjson.MAX_DEPTH + 1) + "]" * (strictjson.MAX_DEPTH + 1),
        '{"a":' * 5000 + "1" + "}" * 5000,
        "[" * 100_000,  # unclosed, too: the bound speaks first
    ):
        with pytest.raises(strictjson.StrictJSONError) as info:
            strictjson.loads(deep)
        assert str(info.value) == f"is nested more than {strictjson.MAX_DEPTH} levels deep"
    # brackets inside strings (escaped quotes included) are text, not nesting
    text = '{"a": "' + '[\\"{' * 500 + '", "b": [[1]]}'
    assert strictjson.loads(text)["b"] == [[1]]
    assert strictjson.loads(("[" * 10 + '"[[["' + "]" * 10).encode())
