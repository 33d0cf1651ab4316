"""Audit events carry the action that was decided, not the HTTP method: a HEAD with a body is the
GET it is (never a write, not audited by default), a protected invocation is audited with
Function:Invoke, an unprotected one decides nothing and is not an event, and secret values never
appear in an event."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from tests.support.audit import SECRET, Receiver, audited_args, wait_until
from tests.support.gateway import running
from tests.support.issuer import FakeIssuer, bearer, exchange


def test_events_name_the_decided_action(tmp_path: Path, gateway_key: Path) -> None:
    fake, receiver = FakeIssuer(), Receiver()
    receiver.up = True
    try:
        with running(audited_args(tmp_path, gateway_key, fake, receiver.url, SECRET)) as gw:
            token = exchange(gw.url, fake.mint()).json()["access_token"]
            h = {"Content-Type": "application/json", **bearer(token)}
            head_body = b'{"service":"by-head","image":"i:1"}'
            r = httpx.request("HEAD", gw.url + "/system/functions", content=head_body, headers=h)
            assert r.status_code == 200
            deploy = b'{"service":"guarded","image":"i:1","envVars":{"jwt_auth":"true"}}'
            assert httpx.post(gw.url + "/system/functions", content=deploy, headers=h).status_code == 202
            assert httpx.post(gw.url + "/system/functions", content=b'{"service":"open","image":"i:1"}', headers=h)
            secret = b'{"name":"db","value":"audit-secret-value-sentinel"}'
            assert httpx.post(gw.url + "/system/secrets", content=secret, headers=h).status_code == 201
            assert httpx.post(gw.url + "/function/guarded", content=b"x").status_code == 401
            assert httpx.post(gw.url + "/function/open", content=b"x").status_code == 502  # registry mode
            wait_until(lambda: len(receiver.events()) >= 4)
            time.sleep(0.5)
            names = [f["name"] for f in httpx.get(gw.url + "/system/functions", headers=h).json()]
            assert "by-head" not in names
        events = receiver.events()
        got = [(e["method"], e["path"], e["actions"], e["response_code"]) for e in events]
        assert got == [
            ("POST", "/system/functions", ["Function:Create"], 202),
            ("POST", "/system/functions", ["Function:Create"], 202),
            ("POST", "/system/secrets", ["Secret:Create"], 201),
            ("POST", "/function/guarded", ["Function:Invoke"], 401),
        ]
        assert all("audit-secret-value-sentinel" not in d["raw"] for d in receiver.deliveries)
    finally:
        fake.close()
        receiver.close()
