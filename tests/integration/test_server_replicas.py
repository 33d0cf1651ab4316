"""More than one gateway (docs/server-limits.md): two ``faas-pro serve`` replicas sharing a signing
key and an IAM directory accept each other's tokens, both reload an IAM edit, and deliver their
audit events (each from its own outbox) without loss or duplicated ids; ``--workers 2`` serves from
two processes, restarts one that dies, and stops on SIGTERM."""

from __future__ import annotations

import os
import signal
import time
from functools import partial
from pathlib import Path

import httpx

from tests.support.audit import Receiver, wait_until
from tests.support.gateway import issuer_yaml, policy_yaml, role_yaml, running, serve_args, write_iam
from tests.support.issuer import FakeIssuer, bearer, exchange

GATEWAY = "http://gateway.test"
REPLICA_SECRET = b"replica-audit-secret"


def _answers(url: str, headers: dict[str, str], status: int) -> bool:
    return httpx.get(url, headers=headers, timeout=10).status_code == status


def _objects(fake: FakeIssuer) -> dict[str, str]:
    return {
        "issuers.yaml": issuer_yaml("fake", fake.iss, ["fake-aud"]),
        "policies.yaml": policy_yaml("dev", ["Function:*", "Namespace:List"], ["dev:*"]),
        "roles.yaml": role_yaml("dev", ["dev"], principal=["dev"]),
    }


def _audit(root: Path, receiver: Receiver) -> tuple[str, ...]:
    (root / "secret").write_bytes(REPLICA_SECRET)
    return ("--audit-webhook", receiver.url, "--audit-secret-file", str(root / "secret"), "--namespace", "dev")


def test_two_replicas_share_tokens_iam_edits_and_audit(tmp_path: Path, gateway_key: Path) -> None:
    fake, receiver = FakeIssuer(), Receiver(secret=REPLICA_SECRET, up=True)
    iam = write_iam(tmp_path, _objects(fake))
    extra = _audit(tmp_path, receiver)
    try:
        with (
            running(serve_args(iam, gateway_key, tmp_path / "state-a", GATEWAY, *extra)) as a,
            running(serve_args(iam, gateway_key, tmp_path / "state-b", GATEWAY, *extra)) as b,
        ):
            from_a = exchange(a.url, fake.mint(fake.claims(sub="dev"))).json()["access_token"]
            from_b = exchange(b.url, fake.mint(fake.claims(sub="dev"))).json()["access_token"]
            for url, token in ((b.url, from_a), (a.url, from_b)):  # each replica accepts the other's token
                r = httpx.get(url + "/system/functions?namespace=dev", headers=bearer(token), timeout=10)
                assert r.status_code == 200, r.text
            # an IAM edit reaches both
            other = "/system/functions?namespace=openfaas-fn"
            assert httpx.get(a.url + other, headers=bearer(from_a), timeout=10).status_code == 403
            policies = iam / "policies.yaml"
            policies.write_text(policies.read_text().replace('["dev:*"]', '["dev:*", "openfaas-fn:*"]'))
            for url in (a.url, b.url):
                wait_until(partial(_answers, url + other, bearer(from_b), 200))
            # audited calls on both replicas: each one's events arrive once, ids unique across both
            for i in range(10):
                for url, token in ((a.url, from_a), (b.url, from_b)):
                    fn = {"service": f"fn-{url[-5:]}-{i}", "image": "img:1", "namespace": "dev"}
                    r = httpx.post(url + "/system/functions", json=fn, headers=bearer(token), timeout=10)
                    assert r.status_code == 202, r.text
            wait_until(lambda: sum(1 for e in receiver.events() if e.get("response_code") == 202) >= 20)
            time.sleep(1.5)  # nothing more (no duplicate) arrives later
        deploys = [e for e in receiver.events() if e.get("response_code") == 202]
        assert len(deploys) == 20
        ids = [e["id"] for e in receiver.events()]
        assert len(ids) == len(set(ids))
        assert (tmp_path / "state-a" / "audit.db").exists() and (tmp_path / "state-b" / "audit.db").exists()
    finally:
        fake.close()
        receiver.close()


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def test_workers_share_the_socket_restart_and_stop(tmp_path: Path, gateway_key: Path) -> None:
    fake, receiver = FakeIssuer(), Receiver(secret=REPLICA_SECRET, up=True)
    iam = write_iam(tmp_path, _objects(fake))
    try:
        args = serve_args(iam, gateway_key, tmp_path / "state", GATEWAY, *_audit(tmp_path, receiver), "--workers", "2")
        with running(args) as gw:
            wait_until(lambda: len(_children(gw.proc.pid)) == 2)
            workers = _children(gw.proc.pid)
            token = exchange(gw.url, fake.mint(fake.claims(sub="dev"))).json()["access_token"]
            # tokens verify in every worker (same key): fresh connections land on either
            for _ in range(20):
                r = httpx.get(gw.url + "/system/functions?namespace=dev", headers=bearer(token), timeout=10)
                assert r.status_code == 200, r.text
            # one audit outbox per worker
            wait_until(
                lambda: (tmp_path / "state" / "audit-1.db").exists() and (tmp_path / "state" / "audit.db").exists()
            )
            os.kill(workers[1], signal.SIGKILL)  # the parent restarts a worker that dies
            gw.wait_log("restarting it in 1 s")
            wait_until(lambda: len(_children(gw.proc.pid)) == 2 and workers[1] not in _children(gw.proc.pid))
            assert httpx.get(gw.url + "/healthz", timeout=10).status_code == 200
            now = _children(gw.proc.pid)
        assert gw.proc.returncode == 0
        for pid in now:  # SIGTERM reached the workers: all gone
            assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]
        assert "Traceback" not in gw.stderr()
        # started again with fewer workers: worker 1's outbox is named, not silently forgotten
        with running(serve_args(iam, gateway_key, tmp_path / "state", GATEWAY, *_audit(tmp_path, receiver))) as one:
            one.wait_log("audit-1.db are not delivered with --workers 1")
    finally:
        fake.close()
        receiver.close()


def _deploy_many(url: str, token: str, prefix: str, n: int, errors: list[str]) -> None:
    with httpx.Client(timeout=30) as c:  # its own connection: the kernel hands it to either worker
        for i in range(n):
            fn = {"service": f"{prefix}-{i}", "image": "img:1", "namespace": "dev"}
            r = c.post(url + "/system/functions", json=fn, headers=bearer(token))
            if r.status_code != 202:
                errors.append(f"{prefix}-{i}: {r.status_code} {r.text}")


def test_workers_share_one_registry_under_concurrent_writes(tmp_path: Path, gateway_key: Path) -> None:
    import sqlite3
    import threading

    # a registry written by an older faas-pro (no labels/annotations columns): both workers start on
    # it at once, and the one schema upgrade must not fail either of them
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    old = sqlite3.connect(str(state / "registry.db"))
    try:
        old.execute("CREATE TABLE namespaces (name TEXT PRIMARY KEY, created_at TEXT NOT NULL)")
        old.commit()
    finally:
        old.close()
    fake = FakeIssuer()
    iam = write_iam(tmp_path, _objects(fake))
    try:
        args = serve_args(iam, gateway_key, state, GATEWAY, "--namespace", "dev", "--workers", "2")
        with running(args) as gw:
            wait_until(lambda: len(_children(gw.proc.pid)) == 2)
            token = exchange(gw.url, fake.mint(fake.claims(sub="dev"))).json()["access_token"]
            errors: list[str] = []
            threads = [
                threading.Thread(target=_deploy_many, args=(gw.url, token, f"t{k}", 6, errors)) for k in range(6)
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join(120)
            assert errors == []
            # every worker sees every function (fresh connections land on either)
            for _ in range(6):
                r = httpx.get(gw.url + "/system/functions?namespace=dev", headers=bearer(token), timeout=10)
                assert r.status_code == 200 and len(r.json()) == 36, r.text
        assert gw.proc.returncode == 0
        assert "Traceback" not in gw.stderr() and "cannot open the registry" not in gw.stderr(), gw.stderr()
    finally:
        fake.close()
