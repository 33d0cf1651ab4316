"""SECURITY rule 2 (exact issuer trust): nothing in a token decides where keys come from.

A token whose ``iss``, ``jku`` and ``x5u`` all name a local listener goes through the CLI (``auth
--token-file``, ``iam explain``, ``iam can-i``) and the real gateway: it is refused, and the listener
gets no connection at all. A configured issuer with a trailing ``/`` added is a different issuer.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from faas_pro.errors import EXIT_DENIED, EXIT_ERROR
from tests.support.fakehttp import Answer, FakeHTTP, Req, json_answer
from tests.support.gateway import issuer_yaml, policy_yaml, role_yaml
from tests.support.hostile import GatewayWorld, run_cli_inproc
from tests.support.issuer import exchange
from tests.support.listener import Listener


def test_unconfigured_issuer_triggers_no_fetch_anywhere(gateway_world: GatewayWorld, tmp_path: Path) -> None:
    listener = Listener()
    try:
        base = listener.url.rsplit("/", 1)[0]
        fake = gateway_world.issuer
        hostile = [
            fake.mint(fake.claims(iss=base), jku=listener.url, x5u=listener.url),
            fake.mint(fake.claims(iss=base + "/.well-known/openid-configuration")),
            fake.mint(fake.claims(iss=fake.iss + "/"), jku=listener.url),  # trailing slash: not the same issuer
            fake.mint(fake.claims(), jku=listener.url, x5u=listener.url),  # configured iss, hostile headers
        ]
        gw = gateway_world.server.url
        for i, token in enumerate(hostile):
            f = tmp_path / f"t{i}"
            f.write_text(token)
            r = run_cli_inproc("auth", "-g", gw, "--token-file", str(f))
            if i < 3:
                assert r.code == EXIT_ERROR and "untrusted issuer" in r.stderr, (i, r)
            else:
                assert r.code == 0, r  # jku/x5u are ignored: the configured issuer's own keys verify it
            assert exchange(gw, token).status_code == (400 if i < 3 else 200)
        iam = tmp_path / "iam.yaml"
        iam.write_text(
            issuer_yaml("fake", fake.iss, ["fake-aud"]) + policy_yaml("admin", ["*"], ["*"])
            + role_yaml("robot", ["admin"], principal=["robot-1"])
        )  # fmt: skip
        claims = tmp_path / "claims.json"
        claims.write_text(json.dumps({"iss": base, "sub": "robot-1", "aud": "fake-aud", "jku": listener.url}))
        r = run_cli_inproc("iam", "can-i", "Function:List", "staging", str(iam), "--claims-file", str(claims), "-v")
        assert r.code == EXIT_DENIED, r
        r = run_cli_inproc("iam", "explain", str(iam), "--token-env", "T", "--json", env={"T": hostile[0]})
        assert base in r.stdout + r.stderr, r  # the unknown issuer is named, and nothing more happens
        assert listener.connections == 0
    finally:
        listener.close()


def test_an_https_issuers_jwks_uri_must_be_https(tls_files: tuple[Path, Path]) -> None:
    """An https issuer whose discovery names an http ``jwks_uri`` fails with a clear reason and the
    http URL is never fetched; an https ``jwks_uri``, or one under the operator's ``issInternal``,
    is fetched."""
    import asyncio
    import ssl

    import httpx

    from faas_pro.iam.model import JwtIssuer
    from faas_pro.server.issuers import IssuerError, IssuerKeys

    listener = Listener("/jwks")
    named: dict[str, str] = {}

    def route(req: Req) -> Answer:
        if req.path == "/.well-known/openid-configuration":
            return json_answer({"issuer": named["iss"], "jwks_uri": named["jwks_uri"]})
        if req.path == "/jwks":
            return json_answer({"keys": []})
        return 404, {}, b""

    idp = FakeHTTP(route, tls=tls_files)
    try:
        named["iss"] = idp.url
        ctx = ssl.create_default_context(cafile=str(tls_files[0]))

        async def keys_of(jwks_uri: str, internal: str | None = None) -> tuple[str, int]:
            named["jwks_uri"] = jwks_uri
            async with httpx.AsyncClient(verify=ctx, trust_env=False, follow_redirects=False) as client:
                keys = IssuerKeys(client, lambda: 1000.0, lambda jwks: jwks)
                issuer = JwtIssuer(name="idp", iss=idp.url, aud=("gw",), token_expiry=3600, iss_internal=internal)
                try:
                    await keys.lookup_for(issuer, "k1")
                except IssuerError as e:
                    return e.reason, len(idp.requests)
                return "ok", len(idp.requests)

        reason, requests = asyncio.run(keys_of(listener.url))
        assert "jwks_uri is not https" in reason and requests == 1  # discovery only
        assert listener.connections == 0
        assert asyncio.run(keys_of(idp.url + "/jwks")) == ("ok", 3)  # discovery + JWKS, both https
        # the operator's issInternal (here the same TLS server) is trusted as configured
        assert asyncio.run(keys_of(idp.url + "/jwks", internal=idp.url))[0] == "ok"
    finally:
        idp.close()
        listener.close()


ODD_KIDS: list[Any] = [["x"], {"a": 1}, 123, None, True, 1.5, "../../dev/null", "k" * 10_000, ""]


def test_odd_kids_in_a_trusted_jwks_are_ignored(tmp_path: Path) -> None:
    """A trusted issuer's JWKS with extra keys whose ``kid`` is not a plain short string (a list, an
    object, a number, null…): exchanges of that issuer's tokens still work, and a token whose own
    ``kid`` is odd is refused with a 400, never a 500."""
    from tests.support.gateway import start_gateway
    from tests.support.issuer import FakeIssuer
    from tests.support.tokens import compact

    fake = FakeIssuer()
    good = fake.jwks()
    odd_entries = [dict(good["keys"][0], kid=k) for k in ODD_KIDS]
    fake.jwks = lambda: {"keys": [*odd_entries, *good["keys"]]}  # type: ignore[method-assign]
    objects = (
        issuer_yaml("fake", fake.iss, ["fake-aud"]) + policy_yaml("admin", ["*"], ["*"])
        + role_yaml("robot", ["admin"], principal=["robot-1"])
    )  # fmt: skip
    try:
        with start_gateway(tmp_path, objects) as gw:
            r = exchange(gw.url, fake.mint())
            assert r.status_code == 200, r.text
            for kid in (["x"], {"a": 1}, 123):
                token = compact({"alg": "ES256", "typ": "JWT", "kid": kid}, fake.claims(), key=fake.ec_key)
                r = exchange(gw.url, token)
                assert r.status_code == 400, (kid, r.status_code, r.text)
            assert "Traceback" not in gw.stderr()
    finally:
        fake.close()
