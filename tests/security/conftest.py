"""Fixtures for the security review tests (SECURITY.md's top 10, one flaw at a time); the helpers
are in tests/support/hostile.py, the fake HTTP server in tests/support/fakehttp.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.fakehttp import FakeHTTP, json_answer
from tests.support.gateway import issuer_yaml, policy_yaml, role_yaml, start_gateway
from tests.support.hostile import GATEWAY, GatewayWorld
from tests.support.issuer import FakeIssuer
from tests.support.tls import self_signed_cert


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(certificate = CA file, private key) for 127.0.0.1, self-signed."""
    return self_signed_cert(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def elsewhere() -> Iterator[FakeHTTP]:
    """Another origin that records whatever reaches it (the target of hostile redirects)."""
    with FakeHTTP(lambda req: json_answer(["stolen"])) as f:
        yield f


@pytest.fixture(scope="module")
def gateway_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayWorld]:
    """``faas-pro serve`` trusting one FakeIssuer (aud ``fake-aud``, tokenExpiry 7m); robot-1 is admin."""
    root = tmp_path_factory.mktemp("gw")
    fake = FakeIssuer()
    objects = (
        issuer_yaml("fake", fake.iss, ["fake-aud"], "7m")
        + policy_yaml("admin", ["*"], ["*"])
        + role_yaml("robot", ["admin"], principal=["robot-1"])
    )
    with start_gateway(root, objects, "--namespace", "staging", issuer_url=GATEWAY) as s:
        yield GatewayWorld(s, fake, root)
    fake.close()
