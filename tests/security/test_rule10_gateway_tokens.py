"""SECURITY rule 10: short-lived, rotatable, auditable gateway tokens and a bounded audit pipeline.

Gateway tokens have a unique ``jti``, ``exp - iat`` equal to the issuer's ``tokenExpiry``, a ``kid``
naming a published key, ``typ: at+jwt`` and ES256; ``iam validate`` warns about a tokenExpiry over
24 h; the audit outbox is bounded, and dropping events is counted and logged.
"""

from __future__ import annotations

import io
import sqlite3
import time
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from faas_pro.errors import EXIT_OK
from tests.support.gateway import issuer_yaml, keygen, policy_yaml, role_yaml
from tests.support.hostile import EXPIRY_S, GATEWAY, GatewayWorld, run_cli_inproc
from tests.support.issuer import bearer, exchange


def test_gateway_tokens_unique_jti_exact_ttl_and_published_kid(gateway_world: GatewayWorld) -> None:
    url = gateway_world.server.url
    jwks = httpx.get(url + "/.well-known/jwks.json", timeout=10).json()
    kids = {k["kid"] for k in jwks["keys"]}
    jtis = set()
    for _ in range(20):
        r = exchange(url, gateway_world.idp_token())
        assert r.status_code == 200, r.text
        assert r.json()["expires_in"] == EXPIRY_S
        token = r.json()["access_token"]
        header = jwt.get_unverified_header(token)
        assert (header["alg"], header["typ"]) == ("ES256", "at+jwt") and header["kid"] in kids, header
        key = jwt.PyJWKSet.from_dict(jwks)[header["kid"]].key
        claims = jwt.decode(token, key, algorithms=["ES256"], audience=GATEWAY, issuer=GATEWAY)
        assert claims["exp"] - claims["iat"] == EXPIRY_S
        assert abs(claims["iat"] - time.time()) < 60
        jtis.add(claims["jti"])
    assert len(jtis) == 20 and all(len(j) >= 16 for j in jtis)


def test_iam_validate_warns_about_token_expiry_over_24h(tmp_path: Path) -> None:
    for expiry, warned in (("24h", False), ("24h1s", True), ("168h", True)):
        f = tmp_path / f"issuer-{expiry}.yaml"
        f.write_text(issuer_yaml("i", "https://idp.example.com", ["openfaas"], expiry))
        r = run_cli_inproc("iam", "validate", str(f))
        assert r.code == EXIT_OK, r
        assert ("tokenExpiry" in r.stdout and "cannot be revoked" in r.stdout) == warned, (expiry, r)


def test_audit_outbox_is_bounded_and_drops_are_counted(tmp_path: Path) -> None:
    from faas_pro.server.audit import Outbox

    box = Outbox(tmp_path / "audit.db", max_events=3)
    try:
        dropped = [box.put({"n": i}, authenticated=True) for i in range(5)]
        assert dropped == [0, 0, 0, 1, 1] and box.dropped == 2 and box.pending() == 3
        _wait_written(box)
        assert [e for _, e in box.peek()] == ['{"n": 0}', '{"n": 1}', '{"n": 2}']  # the new ones are dropped
    finally:
        box.close()
    assert box.closed and box.put({"n": 9}, authenticated=True) == 1  # a closed outbox takes nothing


def _wait_written(box: Any) -> None:
    deadline = time.monotonic() + 5
    while box.buffered() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not box.buffered()


def test_a_full_outbox_is_logged_and_never_fails_a_request(tmp_path: Path) -> None:
    """The gateway app with a 2-event outbox and a webhook that is down: every request still succeeds,
    and the drop is logged (once, not per request)."""
    import asyncio

    from faas_pro.deps import Deps
    from faas_pro.server.app import build_app
    from faas_pro.server.audit import Outbox
    from faas_pro.server.run import ServeConfig, build_gateway

    iam = tmp_path / "iam"
    iam.mkdir()
    (iam / "iam.yaml").write_text(
        issuer_yaml("i", "https://idp.example.com", ["a"]) + policy_yaml("admin", ["*"], ["*"])
        + role_yaml("r", ["admin"], principal=["s"])
    )  # fmt: skip
    (tmp_path / "secret").write_text("s3cret")
    err = io.StringIO()
    deps = Deps(env={}, stdin=io.StringIO(), stdout=io.StringIO(), stderr=err, data_dir=tmp_path / "data")
    cfg = ServeConfig(
        iam_paths=(iam,), issuer_url=GATEWAY, issuer_key=keygen(tmp_path / "k.pem"), state_dir=tmp_path / "state",
        namespaces=("staging",), audit_webhook="http://127.0.0.1:9/hook", audit_secret_file=tmp_path / "secret",
    )  # fmt: skip
    gw = build_gateway(cfg, deps)
    assert gw.outbox is not None
    gw.outbox.close()
    gw.outbox = Outbox(tmp_path / "small.db", max_events=2, log=gw.log)  # run.py passes the log too
    now = int(time.time())
    token = gw.signer.sign(
        {"iss": GATEWAY, "aud": GATEWAY, "sub": "fed:s", "policy": ["admin"], "iat": now, "exp": now + 60, "jti": "j"}
    )
    app = build_app(gw)

    async def requests() -> tuple[list[int], int, int]:
        async with app.router.lifespan_context(app):  # the deliverer runs (and fails) as in production
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
                statuses = []
                for i in range(6):
                    body = {"service": f"fn{i}", "image": "img:1", "namespace": "staging"}
                    r = await client.post("/system/functions", json=body, headers=bearer(token))
                    statuses.append(r.status_code)
                return statuses, gw.outbox.pending(), gw.outbox.dropped  # read before shutdown closes it

    statuses, pending, dropped = asyncio.run(requests())
    assert statuses == [202] * 6
    assert pending == 2 and dropped == 4
    assert gw.outbox.closed  # the gateway's shutdown closed the outbox
    with pytest.raises(sqlite3.ProgrammingError):
        gw.outbox.peek()
    assert err.getvalue().count("audit outbox full") == 1, err.getvalue()
