"""Audit webhook: durable outbox, HMAC-signed batches (OpenFaaS and Standard Webhooks signatures),
delivery after the receiver comes back (in the same running gateway, and across a restart of the
gateway, with the same batch id); API calls never fail because of the webhook. Under faults: an
anonymous flood while the webhook is down pushes out no authenticated event, and an exclusive lock
on audit.db slows neither /healthz nor the API, loses no event and sends none under two ids."""

from __future__ import annotations

import socket
import sqlite3
import time
from pathlib import Path

import httpx

from tests.support.audit import GATEWAY, SECRET, Receiver, audited_args, wait_until
from tests.support.gateway import running
from tests.support.issuer import FakeIssuer, bearer, exchange


def test_delivery_after_outage_and_restart(tmp_path: Path, gateway_key: Path) -> None:
    fake, receiver = FakeIssuer(), Receiver()
    try:
        # the trailing newline is part of the test: the secret file is read without it
        args = audited_args(tmp_path, gateway_key, fake, receiver.url, SECRET + b"\n")
        subject = fake.mint(fake.claims(name="Robot One"))
        with running(args) as gw:
            token = exchange(gw.url, subject).json()["access_token"]
            h = bearer(token)
            deploy = {"service": "fn1", "image": "img:1"}
            assert httpx.post(gw.url + "/system/functions", json=deploy, headers=h).status_code == 202
            assert httpx.get(gw.url + "/system/functions", headers=h).status_code == 200  # GET: not audited
            assert httpx.post(gw.url + "/system/namespace/", json={"name": "ns2"}, headers=h).status_code == 201
            assert httpx.post(gw.url + "/system/functions", json=deploy).status_code == 401  # audited too
            wait_until(lambda: receiver.attempts >= 1)  # the webhook is down: tried, nothing lost, calls succeeded
            gw.wait_log("audit webhook: delivery failed (HTTP 503)")
        assert receiver.deliveries == []
        tried = set(receiver.attempt_ids)
        assert len(tried) == 1  # every attempt of that batch carried the same id
        receiver.up = True
        with running(args) as gw2:  # a restart: the outbox survives
            wait_until(lambda: len(receiver.events()) >= 3)
            h2 = bearer(exchange(gw2.url, subject).json()["access_token"])
            r = httpx.request("DELETE", gw2.url + "/system/functions", json={"functionName": "fn1"}, headers=h2)
            assert r.status_code == 202
            wait_until(lambda: len(receiver.events()) >= 4)
            log = gw2.stderr()
        events = receiver.events()
        assert [(e["method"], e["path"], e["response_code"]) for e in events] == [
            ("POST", "/system/functions", 202),
            ("POST", "/system/namespace/", 201),
            ("POST", "/system/functions", 401),
            ("DELETE", "/system/functions", 202),
        ]
        first = events[0]
        assert first["actor"] == {"sub": "fed:robot-1", "name": "Robot One", "issuer": GATEWAY, "fed_issuer": fake.iss}
        assert first["actions"] == ["Function:Create"] and events[1]["actions"] == ["Namespace:Create"]
        assert first["time"].endswith("Z")
        assert events[2]["actor"]["sub"] == ""
        assert len({e["id"] for e in events}) == 4
        assert receiver.deliveries[0]["id"] in tried  # the same batch id after the restart
        for d in receiver.deliveries:
            assert d["valid"] and d["event"] == "api_access" and len(d["delivery"]) == 36
            assert d["delivery"] == d["id"]
            assert token not in d["raw"] and subject not in d["raw"] and SECRET.decode() not in d["raw"]
        assert SECRET.decode() not in log
    finally:
        fake.close()
        receiver.close()


def test_delivery_recovers_without_a_restart(tmp_path: Path, gateway_key: Path) -> None:
    """Nothing listens at the webhook URL: API calls succeed and the events wait in the outbox; the
    receiver then comes up on that URL and the SAME gateway delivers every event (HMAC checked)
    within the capped back-off (10 s), and keeps delivering new ones at once."""
    with socket.socket() as sock:  # a port where nothing listens yet
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    fake = FakeIssuer()
    receiver: Receiver | None = None
    try:
        args = audited_args(tmp_path, gateway_key, fake, f"http://127.0.0.1:{port}/audit", SECRET)
        with running(args) as gw:
            h = bearer(exchange(gw.url, fake.mint()).json()["access_token"])
            for i in range(3):
                r = httpx.post(gw.url + "/system/functions", json={"service": f"fn{i}", "image": "img:1"}, headers=h)
                assert r.status_code == 202, r.text
            gw.wait_log("audit webhook: delivery failed (ConnectError)")
            time.sleep(2)  # let the back-off grow past its first steps while the receiver is down
            assert gw.proc.poll() is None
            receiver = Receiver(port)
            receiver.up = True
            came_up = time.monotonic()
            wait_until(lambda: len(receiver.events()) >= 3, seconds=12)  # the back-off is capped at 10 s
            assert time.monotonic() - came_up < 11
            gw.wait_log("audit webhook: delivered again")
            r = httpx.request("DELETE", gw.url + "/system/functions", json={"functionName": "fn0"}, headers=h)
            assert r.status_code == 202
            wait_until(lambda: len(receiver.events()) >= 4, seconds=3)  # no back-off left once it recovered
            assert gw.proc.poll() is None  # the same process all along
        events = receiver.events()
        assert [(e["method"], e["path"], e["response_code"]) for e in events] == [
            ("POST", "/system/functions", 202),
            ("POST", "/system/functions", 202),
            ("POST", "/system/functions", 202),
            ("DELETE", "/system/functions", 202),
        ]
        assert len({e["id"] for e in events}) == 4
        assert receiver.deliveries and all(d["valid"] and d["event"] == "api_access" for d in receiver.deliveries)
    finally:
        fake.close()
        if receiver is not None:
            receiver.close()


def _deploy(client: httpx.Client, url: str, name: str, headers: dict[str, str] | None = None) -> int:
    r = client.post(url + "/system/functions", json={"service": name, "image": "img:1"}, headers=headers)
    return r.status_code


def _one_id_per_event(receiver: Receiver) -> None:
    """Every event arrived in exactly one batch id, and every batch id was accepted once."""
    ids = [d["id"] for d in receiver.deliveries]
    assert len(ids) == len(set(ids)), ids
    where: dict[str, str] = {}
    for d in receiver.deliveries:
        for e in d["events"]:
            assert where.setdefault(e["id"], d["id"]) == d["id"], e
    assert all(d["valid"] for d in receiver.deliveries)


def test_an_anonymous_flood_while_the_webhook_is_down_pushes_out_no_authenticated_event(
    tmp_path: Path, gateway_key: Path
) -> None:
    """The outbox holds 200 events, 2 of them (1 %) for unauthenticated requests. 600 POSTs without
    credentials between authenticated calls, while the webhook answers 503: once it is back, every
    authenticated event is delivered, signed, and the anonymous ones beyond the quota were counted
    and logged (once), not stored."""
    fake, receiver = FakeIssuer(), Receiver()
    try:
        args = audited_args(tmp_path, gateway_key, fake, receiver.url, SECRET, "--audit-max-events", "200")
        with running(args) as gw, httpx.Client(timeout=10) as client:
            h = bearer(exchange(gw.url, fake.mint()).json()["access_token"])
            assert [_deploy(client, gw.url, f"a{i}", h) for i in range(3)] == [202] * 3
            assert {_deploy(client, gw.url, f"x{i}") for i in range(600)} == {401}
            assert [_deploy(client, gw.url, f"b{i}", h) for i in range(3)] == [202] * 3
            gw.wait_log("audit outbox full: dropped new events (0 authenticated, ")
            receiver.up = True
            wait_until(lambda: sum(1 for e in receiver.events() if e["actor"]["sub"]) == 6, seconds=30)
            time.sleep(0.5)
            log = gw.stderr()
        events = receiver.events()
        authenticated = [e for e in events if e["actor"]["sub"]]
        assert [e["path"] for e in authenticated] == ["/system/functions"] * 6
        assert [e["response_code"] for e in authenticated] == [202] * 6
        assert len(events) - len(authenticated) == 2  # the anonymous quota, no more
        _one_id_per_event(receiver)
        assert log.count("audit outbox full: dropped new events") == 1, log  # rate-limited, not one per request
        assert "Traceback" not in log
    finally:
        fake.close()
        receiver.close()


def test_an_exclusive_lock_on_the_outbox_slows_nothing_and_loses_nothing(tmp_path: Path, gateway_key: Path) -> None:
    """Another process holds ``BEGIN EXCLUSIVE`` on audit.db for 3 s (the busy timeout is 0.2 s),
    while a batch is waiting to be delivered and the receiver comes back: /healthz and audited calls
    are answered within a second, the delivery loop logs the database error and recovers, every
    event arrives, and no event is sent under two batch ids."""
    fake, receiver = FakeIssuer(), Receiver()
    try:
        args = audited_args(tmp_path, gateway_key, fake, receiver.url, SECRET)
        with running(args) as gw, httpx.Client(timeout=10) as client:
            h = bearer(exchange(gw.url, fake.mint()).json()["access_token"])
            assert [_deploy(client, gw.url, f"a{i}", h) for i in range(3)] == [202] * 3
            wait_until(lambda: receiver.attempts >= 1)  # the first batch has its id and waits (503)
            db = sqlite3.connect(str(tmp_path / "state" / "audit.db"), isolation_level=None)
            try:
                db.execute("BEGIN EXCLUSIVE")
                receiver.up = True  # the batch is delivered, but cannot be removed while the lock holds
                slowest = 0.0
                until = time.monotonic() + 3.0
                i = 0
                while time.monotonic() < until:
                    start = time.monotonic()
                    assert client.get(gw.url + "/healthz").status_code == 200
                    assert _deploy(client, gw.url, f"l{i}", h) == 202
                    slowest = max(slowest, time.monotonic() - start)
                    i += 1
                    time.sleep(0.1)
                assert slowest < 1.0, slowest
                gw.wait_log("audit outbox: cannot write to the database")
                db.execute("COMMIT")
            finally:
                db.close()
            wait_until(lambda: len(receiver.events()) == 3 + i, seconds=30)
            time.sleep(1.0)  # nothing more arrives: no batch is sent twice
            assert len(receiver.events()) == 3 + i
            assert gw.proc.poll() is None
            log = gw.stderr()
        _one_id_per_event(receiver)
        names = [e["path"] for e in receiver.events()]
        assert names == ["/system/functions"] * (3 + i)
        assert "Traceback" not in log
    finally:
        fake.close()
        receiver.close()
