"""SECURITY.md appendix A, row by row: one mutation of a valid token at a time, every one rejected.

Keys are generated here (real EC P-256 / RSA keys); tokens are assembled by hand so that the
mutations (raw JSON, bad base64, odd signatures) are exactly what the row says. Each case also
names the reason it must be rejected for, so a row cannot pass by failing for another reason.
"""

from __future__ import annotations

import json
import secrets
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from faas_pro.strictjson import MAX_DEPTH
from faas_pro.tokens import TokenError, TokenErrorCode, VerifyOptions, jwks_lookup, verify
from tests.support.listener import Listener
from tests.support.tokens import b64url, b64url_decode, public_jwk, raw
from tests.support.tokenworld import AUD, DROP, ISS, NONCE, NOW, World

OPTIONS = VerifyOptions(issuer=ISS, audiences=(AUD,), typ=None, reject_typ=("at+jwt",), nonce=NONCE)


@pytest.fixture(scope="module")
def world() -> World:
    return World()


class Recorder:
    """A key lookup that records every kid it is asked for."""

    def __init__(self, inner: Callable[[str | None], Any]) -> None:
        self.inner = inner
        self.calls: list[str | None] = []

    def __call__(self, kid: str | None) -> Any:
        self.calls.append(kid)
        return self.inner(kid)


@pytest.fixture(scope="module")
def listener() -> Iterator[Listener]:
    """Shared by every row: it must still have seen 0 connections after all of them."""
    lst = Listener("/jwks.json")
    yield lst
    lst.close()
    assert lst.connections == 0


@pytest.fixture
def own_listener() -> Iterator[Listener]:
    lst = Listener("/jwks.json")
    yield lst
    lst.close()


# Each case: (id, builder(world, ctx) -> (token, options or None), expected reason substring)
# (the builder is typed loosely: several take the loop's value as a default argument)
Case = tuple[str, Callable[..., tuple[str, VerifyOptions | None]], str]


def _pem(w: World) -> bytes:
    return bytes(
        w.ec_key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


def _hs_forms(w: World) -> dict[str, bytes]:
    pub = w.ec_key.public_key()
    return {
        "pem": _pem(w),
        "jwk": json.dumps(public_jwk(w.ec_key, "k1", "ES256")).encode(),
        "ssh": bytes(pub.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)),
        "der": bytes(pub.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)),
    }


def _der_sig(w: World) -> str:
    h = b64url(raw(w.header()))
    p = b64url(raw(w.claims()))
    der = w.ec_key.sign(f"{h}.{p}".encode(), ec.ECDSA(hashes.SHA256()))
    return f"{h}.{p}.{b64url(der)}"


def _flip(token: str) -> str:
    h, p, s = token.split(".")
    sig = bytearray(b64url_decode(s))
    sig[10] ^= 0x01
    return f"{h}.{p}.{b64url(bytes(sig))}"


def _with_sig(token: str, sig: str) -> str:
    h, p, _ = token.split(".")
    return f"{h}.{p}.{sig}"


CASES: list[Case] = []
for _alg in ("none", "None", "NONE"):
    CASES.append((f"A1-{_alg}-empty-sig", lambda w, c, a=_alg: (w.token(w.header(alg=a), key=False), None), "none"))
    CASES.append(
        (
            f"A1-{_alg}-kept-sig",
            lambda w, c, a=_alg: (_with_sig(w.token(w.header(alg=a)), w.token().split(".")[2]), None),
            "none",
        )
    )
for _form in ("pem", "jwk", "ssh", "der"):
    CASES.append(
        (
            f"A2-HS256-{_form}",
            lambda w, c, f=_form: (
                w.token(w.header(alg="HS256"), key=_hs_forms(w)[f]),
                VerifyOptions(issuer=ISS, audiences=(AUD,), algorithms=("ES256", "HS256"), nonce=NONCE),
            ),
            "symmetric",
        )
    )
CASES += [
    (
        "A3-RS256-when-pinned-ES256",
        lambda w, c: (
            w.token(w.header(alg="RS256", kid="r1"), key=w.rsa_key),
            VerifyOptions(issuer=ISS, audiences=(AUD,), algorithms=("ES256",), nonce=NONCE),
        ),
        "not allowed",
    ),
    (
        "A3-ES256-when-pinned-RS256",
        lambda w, c: (w.token(), VerifyOptions(issuer=ISS, audiences=(AUD,), algorithms=("RS256",), nonce=NONCE)),
        "not allowed",
    ),
    ("A3-RS256-header-on-EC-key", lambda w, c: (w.token(w.header(alg="RS256"), key=w.rsa_key), None), "key is for"),
    ("A3-ES256-header-on-RSA-key", lambda w, c: (w.token(w.header(kid="r1")), None), "key is for"),
    (
        "A4-jwk-attacker-new-kid",
        lambda w, c: (w.token(w.header(kid="evil", jwk=public_jwk(w.attacker, "evil", "ES256")), key=w.attacker), None),
        "unknown kid",
    ),
    (
        "A4-jwk-attacker-our-kid",
        lambda w, c: (w.token(w.header(jwk=public_jwk(w.attacker, "k1", "ES256")), key=w.attacker), None),
        "does not verify",
    ),
    (
        "A4-jwk-attacker-no-kid",
        lambda w, c: (w.token(w.header(kid=DROP, jwk=public_jwk(w.attacker, "x", "ES256")), key=w.attacker), None),
        "unknown kid",
    ),
    ("A5-jku", lambda w, c: (w.token(w.header(kid="evil", jku=c["url"]), key=w.attacker), None), "unknown kid"),
    ("A5-x5u", lambda w, c: (w.token(w.header(kid="evil", x5u=c["url"]), key=w.attacker), None), "unknown kid"),
    ("A5-jku-our-kid", lambda w, c: (w.token(w.header(jku=c["url"]), key=w.attacker), None), "does not verify"),
    ("A7-dotdot", lambda w, c: (w.token(w.header(kid="../../dev/null")), None), "kid"),
    ("A7-sql", lambda w, c: (w.token(w.header(kid="' OR 1=1--")), None), "kid"),
    ("A7-10KB", lambda w, c: (w.token(w.header(kid="k" * 10240)), None), "header longer"),
    ("A7-1KB", lambda w, c: (w.token(w.header(kid="k" * 1024)), None), "kid"),
    ("A7-number", lambda w, c: (w.token(w.header(kid=123)), None), "kid"),
    ("A7-null", lambda w, c: (w.token(w.header(kid=None)), None), "kid"),
    ("A7-empty", lambda w, c: (w.token(w.header(kid="")), None), "kid"),
    ("A8-crit", lambda w, c: (w.token(w.header(crit=["exp-ext"], **{"exp-ext": 1})), None), "crit"),
    ("A8-crit-empty", lambda w, c: (w.token(w.header(crit=[])), None), "crit"),
    (
        "A9-JWT-at-gateway",
        lambda w, c: (w.token(), VerifyOptions(issuer=ISS, audiences=(AUD,), typ=("at+jwt",), nonce=NONCE)),
        "typ",
    ),
    (
        "A9-missing-typ-at-gateway",
        lambda w, c: (
            w.token(w.header(typ=DROP)),
            VerifyOptions(issuer=ISS, audiences=(AUD,), typ=("at+jwt",), nonce=NONCE),
        ),
        "typ",
    ),
    ("A9-at+jwt-as-id-token", lambda w, c: (w.token(w.header(typ="at+jwt")), None), "typ"),
    ("A9-application/AT+JWT-as-id-token", lambda w, c: (w.token(w.header(typ="application/AT+JWT")), None), "typ"),
    ("A10-bit-flipped", lambda w, c: (_flip(w.token()), None), "does not verify"),
    ("A10-truncated", lambda w, c: (w.token()[:-4], None), "64 bytes"),
    ("A10-DER", lambda w, c: (_der_sig(w), None), "64 bytes"),
    ("A10-MAYCAQACAQA", lambda w, c: (_with_sig(w.token(), "MAYCAQACAQA"), None), "64 bytes"),
    ("A10-zero-r-s", lambda w, c: (_with_sig(w.token(), b64url(bytes(64))), None), "does not verify"),
    ("A10-empty", lambda w, c: (_with_sig(w.token(), ""), None), "empty"),
    (
        "A10-rsa-bit-flipped",
        lambda w, c: (_flip(w.token(w.header(alg="RS256", kid="r1"), key=w.rsa_key)), None),
        "does not verify",
    ),
]
for _name, _iss in [
    ("slash-added", ISS + "/"),
    ("case", ISS.upper()),
    ("prefix", ISS[:-1]),
    ("suffix", ISS + "x"),
    ("substring", "idp.example.com"),
    ("at-evil", "https://idp.example.com@evil.example/realms/main"),
    ("array", [ISS]),
    ("number", 1),
]:
    CASES.append((f"A11-{_name}", lambda w, c, v=_iss: (w.token(payload=w.claims(iss=v)), None), "issuer"))
CASES.append(
    (
        "A11-slash-removed",
        lambda w, c: (w.token(), VerifyOptions(issuer=ISS + "/", audiences=(AUD,), nonce=NONCE)),
        "issuer",
    )
)
for _name, _aud in [
    ("missing", DROP),
    ("other", "https://other.example.com"),
    ("ours-and-other", [AUD, "https://other.example.com"]),
    ("empty-list", []),
    ("number", 123),
    ("object", {"a": 1}),
    ("nested", [[AUD]]),
]:
    CASES.append(
        (
            f"A12-{_name}",
            lambda w, c, v=_aud: (w.token(payload=w.claims(aud=v)), None),
            "audience is not ours" if _name in ("other", "ours-and-other") else "aud is",
        )
    )
for _name, _exp, _why in [
    ("past-leeway+1", NOW - 61, "expired"),
    ("missing", DROP, "exp is missing"),
    ("string", "9999999999", "NumericDate"),
    ("true", True, "NumericDate"),
    ("1e309", "1e309", "NumericDate"),
    ("minus-1", -1, "NumericDate"),
    ("huge-int", 10**400, "NumericDate"),
]:
    if _name == "1e309":  # json.dumps cannot write it: splice the raw literal
        CASES.append(
            (
                "A13-1e309",
                lambda w, c: (w.token(payload=json.dumps(w.claims(exp=0)).replace('"exp": 0', '"exp": 1e309')), None),
                _why,
            )
        )
    else:
        CASES.append((f"A13-{_name}", lambda w, c, v=_exp: (w.token(payload=w.claims(exp=v)), None), _why))
CASES += [
    (
        "A13-NaN",
        lambda w, c: (w.token(payload=json.dumps(w.claims(exp=0)).replace('"exp": 0', '"exp": NaN')), None),
        "NaN",
    ),
    ("A14-nbf-future", lambda w, c: (w.token(payload=w.claims(nbf=NOW + 61)), None), "not valid yet"),
    ("A14-iat-future", lambda w, c: (w.token(payload=w.claims(iat=NOW + 61)), None), "future"),
    ("A14-nbf-string", lambda w, c: (w.token(payload=w.claims(nbf="0")), None), "NumericDate"),
    ("A15-sub-missing", lambda w, c: (w.token(payload=w.claims(sub=DROP)), None), "sub"),
    ("A15-sub-empty", lambda w, c: (w.token(payload=w.claims(sub="")), None), "sub"),
    ("A15-sub-number", lambda w, c: (w.token(payload=w.claims(sub=123)), None), "sub"),
    ("A15-sub-list", lambda w, c: (w.token(payload=w.claims(sub=["alice"])), None), "sub"),
    ("A16-nonce-missing", lambda w, c: (w.token(payload=w.claims(nonce=DROP)), None), "nonce"),
    ("A16-nonce-different", lambda w, c: (w.token(payload=w.claims(nonce="other")), None), "nonce"),
    ("A16-nonce-number", lambda w, c: (w.token(payload=w.claims(nonce=1)), None), "nonce"),
    (
        "A17-duplicate-iss",
        lambda w, c: (w.token(payload=json.dumps(w.claims())[:-1] + ', "iss": "https://evil"}'), None),
        "duplicate",
    ),
    ("A17-duplicate-alg", lambda w, c: (w.token(header='{"alg":"ES256","kid":"k1","alg":"none"}'), None), "duplicate"),
    ("A18-list", lambda w, c: (w.token(payload="[]"), None), "not a JSON object"),
    ("A18-string", lambda w, c: (w.token(payload='"x"'), None), "not a JSON object"),
    ("A18-null", lambda w, c: (w.token(payload="null"), None), "not a JSON object"),
    (
        "A18-non-utf8",
        lambda w, c: (w.token(payload=json.dumps(w.claims(sub="X")).encode().replace(b'"X"', b'"\xff"')), None),
        "UTF-8",
    ),
    (
        "A18-latin1",
        lambda w, c: (w.token(payload=json.dumps(w.claims(sub="é"), ensure_ascii=False).encode("latin-1")), None),
        "UTF-8",
    ),
    ("A18-bom", lambda w, c: (w.token(payload=b"\xef\xbb\xbf" + json.dumps(w.claims()).encode()), None), "byte order"),
    ("A18-header-list", lambda w, c: (w.token(header="[]"), None), "not a JSON object"),
    (
        "A18-deep-nesting",
        lambda w, c: (w.token(payload="[" * 5000 + "]" * 5000), None),
        f"payload is nested more than {MAX_DEPTH} levels deep",
    ),
    (
        "A18-deep-nesting-object",
        lambda w, c: (w.token(payload='{"a":' * (MAX_DEPTH + 1) + "1" + "}" * (MAX_DEPTH + 1)), None),
        f"payload is nested more than {MAX_DEPTH} levels deep",
    ),
    ("A19-2-segments", lambda w, c: (".".join(w.token().split(".")[:2]), None), "2 segments"),
    ("A19-4-segments", lambda w, c: (w.token() + ".AAAA", None), "4 segments"),
    ("A19-5-segments", lambda w, c: (w.token() + ".AAAA.AAAA", None), "5 segments"),
    ("A19-padding", lambda w, c: (w.token().replace(".", "==.", 1), None), "base64url"),
    ("A19-plus-slash", lambda w, c: (w.token()[:-2] + "+/", None), "base64url"),
    ("A19-whitespace", lambda w, c: (w.token().replace(".", " .", 1), None), "base64url"),
    ("A19-newline", lambda w, c: (w.token() + "\n", None), "base64url"),
    ("A19-1MB-header", lambda w, c: (w.token(w.header(pad="x" * 1_000_000)), None), "longer than"),
    ("A19-non-ascii", lambda w, c: (w.token() + "é", None), "non-ASCII"),
    (
        "A20-other-issuer-key-own-kid",
        lambda w, c: (w.token(w.header(kid="b1"), key=w.other_issuer), None),
        "unknown kid",
    ),
    ("A20-other-issuer-key-our-kid", lambda w, c: (w.token(key=w.other_issuer), None), "does not verify"),
]


# The code each row must carry, by the reason it is refused for (callers decide by the code).
_CODE_BY_REASON = {
    "none": TokenErrorCode.BAD_ALG,
    "symmetric": TokenErrorCode.BAD_ALG,
    "not allowed": TokenErrorCode.BAD_ALG,
    "key is for": TokenErrorCode.KEY_MISMATCH,
    "unknown kid": TokenErrorCode.UNKNOWN_KID,
    "does not verify": TokenErrorCode.BAD_SIGNATURE,
    "kid": TokenErrorCode.BAD_KID,
    "header longer": TokenErrorCode.MALFORMED,
    "crit": TokenErrorCode.BAD_HEADER,
    "typ": TokenErrorCode.BAD_TYP,
    "64 bytes": TokenErrorCode.BAD_SIGNATURE_FORMAT,
    "empty": TokenErrorCode.BAD_SIGNATURE_FORMAT,
    "issuer": TokenErrorCode.BAD_ISSUER,
    "audience is not ours": TokenErrorCode.BAD_AUDIENCE,
    "aud is": TokenErrorCode.BAD_CLAIM,
    "expired": TokenErrorCode.EXPIRED,
    "exp is missing": TokenErrorCode.MISSING_CLAIM,
    "NumericDate": TokenErrorCode.BAD_CLAIM,
    "NaN": TokenErrorCode.BAD_JSON,
    "not valid yet": TokenErrorCode.NOT_YET_VALID,
    "future": TokenErrorCode.NOT_YET_VALID,
    "sub": TokenErrorCode.BAD_CLAIM,
    "nonce": TokenErrorCode.BAD_NONCE,
    "duplicate": TokenErrorCode.BAD_JSON,
    "not a JSON object": TokenErrorCode.BAD_JSON,
    "UTF-8": TokenErrorCode.BAD_JSON,
    "byte order": TokenErrorCode.BAD_JSON,
    f"payload is nested more than {MAX_DEPTH} levels deep": TokenErrorCode.BAD_JSON,
    "2 segments": TokenErrorCode.MALFORMED,
    "4 segments": TokenErrorCode.MALFORMED,
    "5 segments": TokenErrorCode.MALFORMED,
    "base64url": TokenErrorCode.MALFORMED,
    "longer than": TokenErrorCode.TOO_LONG,
    "non-ASCII": TokenErrorCode.MALFORMED,
}
_CODE_BY_ROW = {  # rows whose reason names a claim that is absent
    "A12-missing": TokenErrorCode.MISSING_CLAIM,
    "A15-sub-missing": TokenErrorCode.MISSING_CLAIM,
}


def _expected_code(name: str, why: str) -> TokenErrorCode:
    return _CODE_BY_ROW.get(name) or _CODE_BY_REASON[why]


def test_the_unmutated_token_verifies(world: World) -> None:
    """The control: without a mutation the same builder's token is accepted, with every claim."""
    claims = verify(world.token(), jwks_lookup(world.jwks()), OPTIONS, NOW)
    assert claims == world.claims()
    rs = world.token(world.header(alg="RS256", kid="r1"), key=world.rsa_key)
    assert verify(rs, jwks_lookup(world.jwks()), VerifyOptions(issuer=ISS, audiences=(AUD,), nonce=NONCE), NOW)["sub"]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_appendix_a_row_is_rejected(case: Case, world: World, listener: Listener) -> None:
    name, build, why = case
    token, options = build(world, {"url": listener.url})
    # A20: a second trusted issuer exists, but this lookup holds only *our* issuer's keys.
    lookup = Recorder(jwks_lookup(world.jwks()))
    with pytest.raises(TokenError) as info:
        verify(token, lookup, options or OPTIONS, NOW)
    assert why.lower() in info.value.reason.lower(), (name, info.value.reason)
    assert info.value.code is _expected_code(name, why), (name, info.value.code)
    # no network from token contents (A4, A5): the listener saw nothing
    assert listener.connections == 0
    # the reason never echoes the token
    assert token.split(".")[0][:20] not in info.value.line()
    if name.startswith(("A7", "A19", "A18", "A17", "A1-", "A2-", "A8", "A9")):
        assert lookup.calls == [], f"{name}: the key lookup must not be reached"


def test_a5_listener_is_real_and_would_count(own_listener: Listener) -> None:
    """Guard for A5: the listener does count connections, so 0 above means none were made."""
    with socket.create_connection(own_listener.sock.getsockname(), timeout=2):
        pass
    for _ in range(100):
        if own_listener.connections:
            break
        threading.Event().wait(0.02)
    assert own_listener.connections == 1


def test_a5_jku_on_an_otherwise_valid_token_is_ignored(world: World, listener: Listener) -> None:
    """jku/x5u/x5c are never read: a token signed by the real key verifies, and nothing is fetched."""
    token = world.token(world.header(jku=listener.url, x5u=listener.url, x5c=["MIIB"]))
    assert verify(token, jwks_lookup(world.jwks()), OPTIONS, NOW)["sub"] == "alice"
    assert listener.connections == 0


def test_a6_unknown_kids_reach_the_lookup_and_are_rejected(world: World) -> None:
    """A6 (the re-fetch budget belongs to the server's JWKS cache): verify asks the lookup, then rejects."""
    lookup = Recorder(jwks_lookup(world.jwks()))
    kids = [secrets.token_urlsafe(12) for _ in range(1000)]
    for kid in kids:
        with pytest.raises(TokenError, match="unknown kid"):
            verify(world.token(world.header(kid=kid)), lookup, OPTIONS, NOW)
    assert lookup.calls == kids
