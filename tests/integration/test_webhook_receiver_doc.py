"""The receiver shown in docs/webhooks.md, run as written against a real gateway: it verifies both
signatures of real deliveries; a captured delivery replayed at once is acknowledged and not
processed again; replayed after 5 minutes, with its timestamp changed, or without the Standard
Webhooks headers, it is refused."""

from __future__ import annotations

import re
import types
from pathlib import Path
from typing import Any

import httpx

from tests.support.audit import SECRET, audited_args, wait_until
from tests.support.fakehttp import serve_handler
from tests.support.gateway import running
from tests.support.issuer import FakeIssuer, bearer, exchange

DOC = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"
SIGNED = ("content-type", "x-openfaas-event", "x-openfaas-signature-256", "x-openfaas-delivery")


def doc_receiver() -> types.ModuleType:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)
    assert len(blocks) == 1, "docs/webhooks.md should show one Python receiver"
    module = types.ModuleType("webhooks_doc_receiver")
    exec(compile(blocks[0], str(DOC), "exec"), module.__dict__)
    return module


def test_the_docs_receiver_verifies_deliveries_and_refuses_replays(tmp_path: Path, gateway_key: Path) -> None:
    doc = doc_receiver()
    captured: list[tuple[dict[str, str], bytes]] = []
    processed: list[dict[str, Any]] = []

    class Capturing(doc.Receiver):  # type: ignore[name-defined,misc]
        def verify(self, headers: dict[str, str], body: bytes) -> Any:
            captured.append(({k.lower(): v for k, v in headers.items()}, body))
            return super().verify(headers, body)

    fake = FakeIssuer()
    try:
        with serve_handler(doc.handler(Capturing(SECRET + b"\n"), processed.extend)) as base:
            url = base + "/audit"
            with running(audited_args(tmp_path, gateway_key, fake, url, SECRET)) as gw:
                h = bearer(exchange(gw.url, fake.mint()).json()["access_token"])
                for i in range(2):
                    r = httpx.post(gw.url + "/system/functions", json={"service": f"f{i}", "image": "i:1"}, headers=h)
                    assert r.status_code == 202
                wait_until(lambda: len(processed) == 2)
            assert [e["path"] for e in processed] == ["/system/functions"] * 2
            headers, body = captured[0]
            replay = {k: v for k, v in headers.items() if k.startswith("webhook-") or k in SIGNED}
            assert set(replay) >= {"webhook-id", "webhook-timestamp", "webhook-signature", "x-openfaas-signature-256"}
            assert replay["webhook-id"] == replay["x-openfaas-delivery"]

            r = httpx.post(url, content=body, headers=replay)  # replayed at once: acknowledged, not processed
            assert r.status_code == 204 and len(processed) == len({e["id"] for e in processed})

            fresh = str(int(replay["webhook-timestamp"]) + 7)  # a fresh timestamp on the old signature
            moved = dict(replay, **{"webhook-timestamp": fresh})
            assert httpx.post(url, content=body, headers=moved).status_code == 400
            legacy_only = {k: v for k, v in replay.items() if not k.startswith("webhook-")}
            assert httpx.post(url, content=body, headers=legacy_only).status_code == 400
            forged = dict(replay, **{"x-openfaas-signature-256": "sha256=" + "0" * 64})
            assert httpx.post(url, content=body, headers=forged).status_code == 400

        later: list[dict[str, Any]] = []  # a receiver that forgot the ids, 5 minutes and 1 s later
        receiver = doc.Receiver(SECRET, clock=lambda: int(replay["webhook-timestamp"]) + 301)
        with serve_handler(doc.handler(receiver, later.extend)) as base2:
            r = httpx.post(base2 + "/audit", content=body, headers=replay)
            assert r.status_code == 400 and later == []
            on_time = doc.Receiver(SECRET, clock=lambda: int(replay["webhook-timestamp"]) + 299)
            assert on_time.verify(replay, body) is not None  # the same delivery inside the window verifies
    finally:
        fake.close()
