"""Audit webhooks for the gateway tests: a receiver that checks every delivery's signatures, the
serve arguments of an audited gateway.

The receiver is a ``FakeHTTP`` (tests/support/fakehttp.py) answering ``POST /audit``: 503 while
``up`` is False (the attempt is still counted), 204 once it is up.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

from tests.support.fakehttp import Answer, FakeHTTP, Req
from tests.support.gateway import issuer_yaml, policy_yaml, role_yaml, serve_args, write_iam
from tests.support.issuer import FakeIssuer
from tests.support.wait import wait_until

__all__ = ["GATEWAY", "SECRET", "Receiver", "audited_args", "wait_until"]

GATEWAY = "http://gateway.test"
SECRET = b"audit-secret-\xe2\x9c\x93-sentinel"


class Receiver:
    """A webhook receiver that keeps every delivery and whether both its signatures verified with
    ``secret`` (``X-OpenFaaS-Signature-256``, and Standard Webhooks' ``webhook-signature``)."""

    def __init__(self, port: int = 0, secret: bytes = SECRET, up: bool = False) -> None:
        self.secret = secret
        self.up = up
        self.attempts = 0
        self.attempt_ids: list[str] = []
        self.deliveries: list[dict[str, Any]] = []
        self.http = FakeHTTP({"POST /audit": self._deliver}, port=port)
        self.url = self.http.url + "/audit"

    def _deliver(self, req: Req) -> Answer:
        h, body = req.headers, req.body
        self.attempts += 1
        self.attempt_ids.append(h["webhook-id"])
        if not self.up:
            return 503, {}, b""
        want = "sha256=" + hmac.new(self.secret, body, hashlib.sha256).hexdigest()
        msg_id, ts = h["webhook-id"], h["webhook-timestamp"]
        mac = hmac.new(self.secret, f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest()
        v1 = "v1," + base64.b64encode(mac).decode()
        self.deliveries.append(
            {
                "valid": hmac.compare_digest(want, h["x-openfaas-signature-256"])
                and hmac.compare_digest(v1, h["webhook-signature"])
                and abs(time.time() - int(ts)) < 60,
                "id": msg_id,
                "event": h["x-openfaas-event"],
                "delivery": h["x-openfaas-delivery"],
                "raw": body.decode(),
                "events": json.loads(body),
            }
        )
        return 204, {}, b""

    def events(self) -> list[dict[str, Any]]:
        return [e for d in self.deliveries for e in d["events"]]

    def close(self) -> None:
        self.http.close()


def audited_args(
    tmp_path: Path, gateway_key: Path, fake: FakeIssuer, webhook: str, secret: bytes, *extra: str
) -> list[str]:
    """serve arguments: an admin Role for the fake issuer's robot-1 and an audit webhook."""
    iam = write_iam(
        tmp_path,
        issuer_yaml("fake", fake.iss, ["fake-aud"])
        + policy_yaml("admin", ["*"], ["*"])
        + role_yaml("r", ["admin"], principal=["robot-1"]),
    )
    (tmp_path / "secret").write_bytes(secret)
    return serve_args(
        iam, gateway_key, tmp_path / "state", GATEWAY,
        "--audit-webhook", webhook, "--audit-secret-file", str(tmp_path / "secret"), *extra,
    )  # fmt: skip
