"""SECURITY.md appendix A, row by row, against the running gateway: every mutation of a valid token
is refused at the exchange endpoint (400) AND at the API (401; 400 for a token over 16 KiB).

The exchange context: tokens of a configured JwtIssuer served by ``FakeIssuer`` (a real HTTP server
with keys this test owns). The API context: gateway tokens signed with the gateway's own key file.
A16 (nonce) does not apply here: the exchange takes access tokens, which carry no nonce (the
verifier's nonce check is covered by tests/unit/test_tokens_appendix_a.py).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from faas_pro.tokens import MAX_TOKEN_BYTES
from tests.support.gateway import Server, issuer_yaml, policy_yaml, role_yaml, start_gateway
from tests.support.issuer import FakeIssuer, bearer, exchange, nodelay_client
from tests.support.listener import Listener
from tests.support.tokens import b64url, b64url_decode, compact

GATEWAY = "http://gateway.test"
DROP = object()


@dataclass
class Ctx:
    name: str
    key: Any
    kid: str
    claims: dict[str, Any]

    def token(
        self,
        header: dict[str, Any] | None = None,
        claims: dict[str, Any] | None = None,
        key: Any = None,
        alg: str = "ES256",
    ) -> str:
        h: dict[str, Any] = {"alg": alg, "typ": "at+jwt", "kid": self.kid}
        c = dict(self.claims)
        for src, dst in ((header or {}, h), (claims or {}, c)):
            for k, v in src.items():
                if v is DROP:
                    dst.pop(k, None)
                else:
                    dst[k] = v
        return compact(h, c, key=key or self.key, alg=alg)

    def parts(self) -> tuple[str, str, str]:
        a, b, c = self.token().split(".")
        return a, b, c


@dataclass
class World:
    server: Server
    fake: FakeIssuer
    fake2: FakeIssuer
    listener: Listener
    exchange_ctx: Ctx
    api_ctx: Ctx


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, gateway_key: Path) -> Iterator[World]:
    fake, fake2, listener = FakeIssuer(), FakeIssuer(), Listener()
    d = tmp_path_factory.mktemp("hostile")
    objects = (
        issuer_yaml("fake", fake.iss, ["fake-aud"])
        + issuer_yaml("fake2", fake2.iss, ["fake-aud"])
        + policy_yaml("admin", ["*"], ["*"])
        + role_yaml("robot", ["admin"], principal=["robot-1"])
    )
    key = serialization.load_pem_private_key(gateway_key.read_bytes(), None)
    with start_gateway(d, objects, issuer_url=GATEWAY, key=gateway_key) as server:
        kid = httpx.get(server.url + "/.well-known/jwks.json").json()["keys"][0]["kid"]
        now = int(time.time())
        api_claims = {
            "iss": GATEWAY,
            "aud": GATEWAY,
            "sub": "fed:robot-1",
            "fed:iss": fake.iss,
            "policy": ["admin"],
            "iat": now,
            "exp": now + 3000,
            "jti": "j1",
        }
        yield World(
            server,
            fake,
            fake2,
            listener,
            Ctx("exchange", fake.ec_key, "ec-1", fake.claims(exp=int(time.time()) + 3000)),
            Ctx("api", key, kid, api_claims),
        )
    fake.close()
    fake2.close()
    listener.close()


def _flip(sig: str) -> str:
    raw = bytearray(b64url_decode(sig))
    raw[5] ^= 0x01
    return b64url(bytes(raw))


def _der(ctx: Ctx, w: World) -> str:
    from cryptography.hazmat.primitives import hashes

    h, p, _ = ctx.parts()
    der = ctx.key.sign(f"{h}.{p}".encode(), ec.ECDSA(hashes.SHA256()))
    return f"{h}.{p}." + b64url(der)


def _public_forms(ctx: Ctx) -> dict[str, bytes]:
    pub = ctx.key.public_key()
    return {
        "pem": pub.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo),
        "jwk": jwt.algorithms.ECAlgorithm.to_jwk(pub).encode(),
        "ssh": pub.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH),
        "der": pub.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo),
    }


def _hs(ctx: Ctx, form: str) -> str:
    return compact(
        {"alg": "HS256", "typ": "at+jwt", "kid": ctx.kid}, ctx.claims, key=_public_forms(ctx)[form], alg="HS256"
    )


def _raw_payload(ctx: Ctx, payload: str | bytes) -> str:
    h = {"alg": "ES256", "typ": "at+jwt", "kid": ctx.kid}
    return compact(h, payload, key=ctx.key, alg="ES256")


def _claims_json(ctx: Ctx, **replace_raw: str) -> str:
    """The base claims as JSON text, with some values replaced by raw JSON text (NaN, 1e309, …)."""
    text = json.dumps({k: v for k, v in ctx.claims.items() if k not in replace_raw}, separators=(",", ":"))
    extra = ",".join(f'"{k}":{v}' for k, v in replace_raw.items())
    return text[:-1] + ("," + extra if extra else "") + "}"


ATTACKER_EC = ec.generate_private_key(ec.SECP256R1())
ATTACKER_RSA = rsa.generate_private_key(public_exponent=65537, key_size=2048)
NOW = int(time.time())


def _iss(ctx: Ctx) -> str:
    return str(ctx.claims["iss"])


def _aud(ctx: Ctx) -> str:
    aud = ctx.claims["aud"]
    return aud if isinstance(aud, str) else aud[0]


Mutation = Callable[[Ctx, World], str]
ROWS: list[tuple[str, Mutation]] = [
    *[
        (f"A1-alg-{v}", lambda c, w, v=v: compact({"alg": v, "kid": c.kid}, c.claims, b""))
        for v in ("none", "None", "NONE")
    ],
    ("A1-none-sig-kept", lambda c, w: compact({"alg": "none", "kid": c.kid}, c.claims, b"x")[:-2] + c.parts()[2]),
    *[(f"A2-hs256-{f}", lambda c, w, f=f: _hs(c, f)) for f in ("pem", "jwk", "ssh", "der")],
    ("A3-rs256-for-es256", lambda c, w: c.token(key=ATTACKER_RSA, alg="RS256")),
    (
        "A4-embedded-jwk",
        lambda c, w: c.token(
            header={"jwk": json.loads(jwt.algorithms.ECAlgorithm.to_jwk(ATTACKER_EC.public_key())), "kid": DROP},
            key=ATTACKER_EC,
        ),
    ),
    (
        "A4-embedded-jwk-own-kid",
        lambda c, w: c.token(
            header={"jwk": json.loads(jwt.algorithms.ECAlgorithm.to_jwk(ATTACKER_EC.public_key()))}, key=ATTACKER_EC
        ),
    ),
    ("A5-jku", lambda c, w: c.token(header={"jku": w.listener.url, "kid": "attacker-1"}, key=ATTACKER_EC)),
    ("A5-x5u", lambda c, w: c.token(header={"x5u": w.listener.url, "kid": "attacker-1"}, key=ATTACKER_EC)),
    ("A5-jku-known-kid", lambda c, w: c.token(header={"jku": w.listener.url}, key=ATTACKER_EC)),
    *[
        (f"A7-kid-{i}", lambda c, w, k=k: c.token(header={"kid": k}))
        for i, k in enumerate(["../../dev/null", "' OR 1=1--", "k" * 10240, 123, None])
    ],
    ("A8-crit", lambda c, w: c.token(header={"crit": ["exp-ext"], "exp-ext": 1})),
    ("A10-bit-flipped", lambda c, w: ".".join([*c.parts()[:2], _flip(c.parts()[2])])),
    ("A10-truncated", lambda c, w: ".".join([*c.parts()[:2], c.parts()[2][:-4]])),
    ("A10-der", _der),
    ("A10-MAYCAQACAQA", lambda c, w: ".".join([*c.parts()[:2], "MAYCAQACAQA"])),
    ("A10-empty", lambda c, w: ".".join([*c.parts()[:2], ""])),
    ("A11-trailing-slash", lambda c, w: c.token(claims={"iss": _iss(c) + "/"})),
    ("A11-case", lambda c, w: c.token(claims={"iss": _iss(c).upper()})),
    ("A11-prefix", lambda c, w: c.token(claims={"iss": "x" + _iss(c)})),
    ("A11-suffix", lambda c, w: c.token(claims={"iss": _iss(c) + "x"})),
    ("A11-substring", lambda c, w: c.token(claims={"iss": _iss(c)[:-1]})),
    ("A11-at-evil", lambda c, w: c.token(claims={"iss": _iss(c) + "@evil.example"})),
    ("A11-array", lambda c, w: c.token(claims={"iss": [_iss(c)]})),
    ("A11-number", lambda c, w: c.token(claims={"iss": 123})),
    ("A12-missing", lambda c, w: c.token(claims={"aud": DROP})),
    ("A12-other", lambda c, w: c.token(claims={"aud": "someone-else"})),
    ("A12-ours-and-other", lambda c, w: c.token(claims={"aud": [_aud(c), "someone-else"]})),
    ("A12-empty-list", lambda c, w: c.token(claims={"aud": []})),
    ("A12-number", lambda c, w: c.token(claims={"aud": 123})),
    ("A12-object", lambda c, w: c.token(claims={"aud": {"a": 1}})),
    ("A12-nested", lambda c, w: c.token(claims={"aud": [[_aud(c)]]})),
    ("A13-expired", lambda c, w: c.token(claims={"exp": int(time.time()) - 62})),
    ("A13-missing", lambda c, w: c.token(claims={"exp": DROP})),
    ("A13-string", lambda c, w: c.token(claims={"exp": "9999999999"})),
    ("A13-true", lambda c, w: c.token(claims={"exp": True})),
    ("A13-NaN", lambda c, w: _raw_payload(c, _claims_json(c, exp="NaN"))),
    ("A13-1e309", lambda c, w: _raw_payload(c, _claims_json(c, exp="1e309"))),
    ("A13-negative", lambda c, w: c.token(claims={"exp": -1})),
    ("A14-nbf-future", lambda c, w: c.token(claims={"nbf": int(time.time()) + 62})),
    ("A14-iat-future", lambda c, w: c.token(claims={"iat": int(time.time()) + 120})),
    ("A15-sub-missing", lambda c, w: c.token(claims={"sub": DROP})),
    ("A15-sub-empty", lambda c, w: c.token(claims={"sub": ""})),
    ("A15-sub-number", lambda c, w: c.token(claims={"sub": 123})),
    ("A17-duplicate-iss", lambda c, w: _raw_payload(c, _claims_json(c, iss=json.dumps("https://evil.example")))),
    ("A18-list", lambda c, w: _raw_payload(c, "[]")),
    ("A18-string", lambda c, w: _raw_payload(c, '"x"')),
    ("A18-null", lambda c, w: _raw_payload(c, "null")),
    ("A18-not-utf8", lambda c, w: _raw_payload(c, b'{"sub":"\xff\xfe"}')),
    ("A18-bom", lambda c, w: _raw_payload(c, b"\xef\xbb\xbf" + json.dumps(c.claims).encode())),
    ("A19-two-segments", lambda c, w: ".".join(c.parts()[:2])),
    ("A19-four-segments", lambda c, w: ".".join([*c.parts(), "x"])),
    ("A19-five-segments", lambda c, w: ".".join([*c.parts(), "x", "y"])),
    ("A19-padding", lambda c, w: ".".join([c.parts()[0] + "==", *c.parts()[1:]])),
    (
        "A19-plus-slash",
        lambda c, w: ".".join([c.parts()[0], c.parts()[1].replace("-", "+").replace("_", "/") + "+/", c.parts()[2]]),
    ),
    ("A19-whitespace", lambda c, w: ".".join([c.parts()[0], " " + c.parts()[1], c.parts()[2]])),
    ("A19-1MB-header", lambda c, w: c.token(header={"x": "a" * 1024 * 1024})),
]


def _a20(ctx: Ctx, w: World) -> str:
    # a valid signature by ANOTHER trusted key, claiming this context's issuer
    other = w.fake2.ec_key if ctx.name == "exchange" else w.fake.ec_key
    return ctx.token(key=other)


ROWS.append(("A20-other-trusted-key", _a20))
# A9: the wrong token kind for the context
ROWS.append(
    ("A9-typ", lambda c, w: c.token(header={"typ": "JWT"}) if c.name == "api" else c.token(claims={"iss": GATEWAY}))
)
ROWS.append(
    (
        "A9-typ-missing",
        lambda c, w: (
            c.token(header={"typ": DROP})
            if c.name == "api"
            else c.token(claims={"iss": GATEWAY}, header={"typ": "JWT"})
        ),
    )
)


def _try_api(w: World, token: str) -> httpx.Response | None:
    try:
        return httpx.get(w.server.url + "/system/namespaces", headers=bearer(token), timeout=10)
    except httpx.HTTPError:
        return None  # the server dropped a request it could not even parse (1 MB header)


def test_baselines_are_accepted(world: World) -> None:
    r = exchange(world.server.url, world.exchange_ctx.token())
    assert r.status_code == 200, r.text
    r2 = httpx.get(world.server.url + "/system/namespaces", headers=bearer(world.api_ctx.token()))
    assert r2.status_code == 200, r2.text


# rows whose error_description is part of the contract, word for word
EXACT_DESCRIPTION = {"A13-expired": "token expired", "A12-other": "audience not accepted"}


@pytest.mark.parametrize("row", [r[0] for r in ROWS])
def test_exchange_refuses(world: World, row: str) -> None:
    token = dict(ROWS)[row](world.exchange_ctx, world)
    r = exchange(world.server.url, token)
    if len(token) > 64 * 1024:
        assert r.status_code == 413
        return
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["error"] == "invalid_request" and body["error_description"]
    if row in EXACT_DESCRIPTION:
        assert body["error_description"] == EXACT_DESCRIPTION[row], r.text
    assert token not in r.text


@pytest.mark.parametrize("row", [r[0] for r in ROWS])
def test_api_refuses(world: World, row: str) -> None:
    token = dict(ROWS)[row](world.api_ctx, world)
    r = _try_api(world, token)
    if len(token) > MAX_TOKEN_BYTES:  # refused before any parsing (or by the HTTP parser itself)
        assert r is None or r.status_code in (400, 431), r.text
        assert r is None or r.status_code == 431 or r.text == "Bad Request: token too long\n", r.text
        return
    assert r is not None
    assert r.status_code == 401, r.text
    assert r.headers["www-authenticate"].startswith("Bearer")


def test_jku_x5u_listener_never_contacted(world: World) -> None:
    for row in ("A5-jku", "A5-x5u", "A5-jku-known-kid"):
        for ctx in (world.exchange_ctx, world.api_ctx):
            token = dict(ROWS)[row](ctx, world)
            exchange(world.server.url, token)
            _try_api(world, token)
    assert world.listener.connections == 0


def test_unknown_kid_x1000_refetches_at_most_once(world: World) -> None:
    assert exchange(world.server.url, world.exchange_ctx.token()).status_code == 200  # keys cached
    before = world.fake.requests.count("/jwks")
    with nodelay_client() as c:
        for i in range(1000):
            t = world.exchange_ctx.token(header={"kid": f"random-{i}"}, key=ATTACKER_EC)
            r = c.post(
                world.server.url + "/oauth/token",
                data={
                    "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
                    "subject_token": t,
                    "subject_token_type": "urn:ietf:params:oauth:token-type:id_token",
                },
            )
            assert r.status_code == 400
    assert world.fake.requests.count("/jwks") - before <= 1


def test_no_token_reaches_the_logs(world: World) -> None:
    token = world.exchange_ctx.token()
    assert exchange(world.server.url, token).status_code == 200
    time.sleep(0.1)
    err = world.server.stderr()
    assert "exchange ok: sub=fed:robot-1" in err
    assert token.split(".")[2] not in err and token not in err
