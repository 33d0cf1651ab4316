"""SECURITY rule 7 (secret hygiene) and rule 9 (no credential cross-origin), gateway side.

One ``faas-pro serve`` with a real audit webhook receiver (every method audited) and one in
upstream mode in front of a hostile upstream. Sentinel tokens, the audit secret and the upstream
password must appear in no log line, no webhook payload, no response body and no outbox row.
The gateway has a single log level (everything on stderr, uvicorn's own warnings included).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support.fakehttp import FakeHTTP, Req, json_answer
from tests.support.gateway import Server, issuer_yaml, policy_yaml, role_yaml, start_gateway
from tests.support.hostile import SENTINEL, assert_no_leak, sentinel_jwt, signature_of
from tests.support.issuer import FakeIssuer, bearer, exchange

AUDIT_SECRET = "SENTINEL-audit-hmac-secret-0c1d"
UPSTREAM_PASSWORD = "SENTINEL-upstream-pw-77e"
GATEWAY = "http://gateway.audit.test"


@dataclass
class World:
    server: Server
    fake: FakeIssuer
    receiver: FakeHTTP
    state: Path


def _objects(fake: FakeIssuer) -> str:
    return (
        issuer_yaml("fake", fake.iss, ["fake-aud"])
        + policy_yaml("admin", ["*"], ["*"])
        + role_yaml("robot", ["admin"], principal=["robot-1"])
    )


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    d = tmp_path_factory.mktemp("audit")
    fake = FakeIssuer()
    receiver = FakeHTTP(lambda req: (204, {}, b""))
    secret = d / "audit.secret"
    secret.write_text(AUDIT_SECRET + "\n")
    extra = (
        "--namespace", "staging", "--audit-webhook", receiver.url + "/hook", "--audit-secret-file", str(secret),
        "--audit-verbs", "GET,POST,PUT,DELETE",
    )  # fmt: skip
    with start_gateway(d, _objects(fake), *extra, issuer_url=GATEWAY) as s:
        yield World(s, fake, receiver, d / "state")
    receiver.close()
    fake.close()


def _events(receiver: FakeHTTP, n: int) -> list[dict[str, object]]:
    for _ in range(500):
        events = [e for r in receiver.requests for e in json.loads(r.body)]
        if len(events) >= n:
            return events
        time.sleep(0.02)
    raise AssertionError(f"fewer than {n} audit events arrived: {receiver.requests}")


def test_tokens_and_secrets_reach_no_log_webhook_or_outbox(world: World) -> None:
    url = world.server.url
    subject = world.fake.mint()
    r = exchange(url, subject)
    assert r.status_code == 200, r.text
    gw_token = r.json()["access_token"]
    hostile = [
        sentinel_jwt(),
        SENTINEL + ".x.y",
        world.fake.mint().rsplit(".", 1)[0] + "." + signature_of(sentinel_jwt()),
    ]
    bodies = []
    for bad in hostile:  # refused exchanges: the description says why, never echoes the token
        rb = exchange(url, bad)
        assert rb.status_code == 400, rb.text
        bodies.append(rb.text)
    calls = [
        ("GET", "/system/functions?namespace=staging&access_token=" + gw_token, gw_token, None),
        ("POST", "/system/functions", gw_token, {"service": "fn1", "image": "img:1", "namespace": "staging"}),
        ("PUT", "/system/functions", gw_token, {"service": "fn1", "image": "img:2", "namespace": "staging"}),
        ("DELETE", "/system/functions", gw_token, {"functionName": "fn1", "namespace": "staging"}),
        ("GET", "/system/namespaces", sentinel_jwt(), None),
        ("POST", "/system/functions", SENTINEL, {"service": "x", "image": "i", "namespace": "staging"}),
    ]
    for method, path, token, body in calls:
        rr = httpx.request(method, url + path, headers=bearer(token), json=body, timeout=10)
        assert rr.status_code < 500, rr.text
        bodies.append(rr.text)
    events = _events(world.receiver, len(calls))
    secrets = [
        gw_token, signature_of(gw_token), subject, signature_of(subject), SENTINEL, AUDIT_SECRET,
        signature_of(hostile[0]),
    ]  # fmt: skip
    assert_no_leak(world.server.stderr(), *secrets)
    assert_no_leak("\n".join(bodies), *secrets)
    for req in world.receiver.requests:
        assert_no_leak(req.body.decode() + json.dumps(req.headers), *secrets)
        expected = "sha256=" + hmac.new(AUDIT_SECRET.encode(), req.body, hashlib.sha256).hexdigest()
        assert req.headers["x-openfaas-signature-256"] == expected
    assert {e["path"] for e in events} >= {"/system/functions", "/system/namespaces"}  # no query string
    assert {e["actor"]["sub"] for e in events} == {"fed:robot-1", ""}  # type: ignore[index]
    # the durable outbox holds no token either (closing(): sqlite3's own context manager does not close)
    with closing(sqlite3.connect(world.state / "audit.db")) as db:
        rows = "\n".join(e for (e,) in db.execute("SELECT event FROM outbox"))
    assert_no_leak(rows, *secrets)


# --------------------------------------------------------------------------- upstream mode


@dataclass
class Upstream:
    server: Server
    fake: FakeIssuer
    upstream: FakeHTTP
    elsewhere: FakeHTTP


@pytest.fixture(scope="module")
def upstream_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Upstream]:
    d = tmp_path_factory.mktemp("upstream")
    fake = FakeIssuer()
    elsewhere = FakeHTTP(lambda req: json_answer(["stolen"]))

    def route(req: Req) -> tuple[int, dict[str, str], bytes]:
        if req.path.startswith("/system/function/moved"):
            return 307, {"Location": elsewhere.url + req.path}, b""
        if req.path.startswith("/system/function/found"):
            return 302, {"Location": elsewhere.url + req.path}, b""
        if req.path.startswith("/system/info"):  # an upstream that refuses and echoes the credentials
            return 401, {"Content-Type": "text/plain"}, f"bad credentials {req.headers.get('authorization')}".encode()
        if req.path.startswith("/system/functions"):
            return 500, {"Content-Type": "text/plain"}, f"crash; you sent {req.headers.get('authorization')}".encode()
        return json_answer(["openfaas-fn", "staging"])

    upstream = FakeHTTP(route)
    auth = d / "upstream.auth"
    auth.write_text(f"admin:{UPSTREAM_PASSWORD}\n")
    extra = ("--upstream", upstream.url, "--upstream-auth-file", str(auth))
    with start_gateway(d, _objects(fake), *extra, issuer_url=GATEWAY) as s:
        yield Upstream(s, fake, upstream, elsewhere)
    upstream.close()
    elsewhere.close()
    fake.close()


def test_upstream_redirects_and_errors_keep_the_credentials_home(upstream_world: Upstream) -> None:
    w = upstream_world
    r = exchange(w.server.url, w.fake.mint())
    assert r.status_code == 200, r.text
    h = bearer(r.json()["access_token"])
    bodies = []
    for path in ("/system/function/moved", "/system/function/found", "/system/info", "/system/functions"):
        rr = httpx.get(w.server.url + path + "?namespace=staging", headers=h, timeout=10)
        assert "location" not in rr.headers, (path, rr.headers)  # the caller is not sent elsewhere either
        bodies.append(f"{path} {rr.status_code} {rr.text}")
    assert [b.split(" ")[1] for b in bodies] == ["307", "302", "502", "500"], bodies
    assert w.elsewhere.requests == []  # no redirect followed: the basic auth never left for another origin
    basic = w.upstream.requests[0].headers["authorization"]
    assert basic.startswith("Basic ") and all(q.headers["authorization"] == basic for q in w.upstream.requests)
    secrets = [UPSTREAM_PASSWORD, basic, basic.split(" ", 1)[1], r.json()["access_token"]]
    assert_no_leak(w.server.stderr(), *secrets)
    assert "crash; you sent Basic ***" in bodies[3]  # upstream bodies pass through with our credentials masked
    assert_no_leak("\n".join(bodies), *secrets)
