"""Fixtures for the end-to-end tests of the daily loop (issue 5): real processes only.

One test IdP (the session's ``idp``), and per module:

- ``gw``: ``faas-pro serve`` with the seed's objects: a JwtIssuer for the IdP (aud ``faas-gateway``,
  ``tokenExpiry: 30m``), Policy ``staging-rw`` (``Function:*`` + ``Namespace:List`` on ``staging:*``),
  a Role for alice only, and an ``admin`` Role for the ``faas-svc`` client that deploys the
  functions in ``staging`` and ``openfaas-fn`` through the API;
- ``gw_short``: a second gateway whose JwtIssuer has ``tokenExpiry: 11s`` (expired for the CLI,
  which starts counting at ``exp - 10 s``, about one second after the exchange);
- ``alice``: one ``faas-pro auth`` as alice against ``gw``, run once; ``restore(alice)`` copies the
  saved settings and tokens into the current test's isolated directories.

The CLI always runs as a subprocess (``run_cli``), except where a test needs to pin the clock. The
helpers are in tests/support/e2e.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.e2e import FUNCTIONS, GW_ISSUER, SHORT_EXPIRY, SHORT_ISSUER, Login, auth_args, clean_env
from tests.support.gateway import Server, issuer_yaml, keygen, policy_yaml, role_yaml, start_gateway
from tests.support.idp import IdP
from tests.support.inproc import run_cli
from tests.support.issuer import bearer, exchange


def _objects(idp: IdP, expiry: str) -> dict[str, str]:
    return {
        "issuer.yaml": issuer_yaml("test-idp", idp.issuer, ["faas-gateway"], expiry),
        "policies.yaml": policy_yaml("staging-rw", ["Function:*", "Namespace:List"], ["staging:*"])
        + policy_yaml("admin", ["*"], ["*"]),
        "roles.yaml": role_yaml("alice-staging", ["staging-rw"], principal=["user-alice"])
        + role_yaml("svc-admin", ["admin"], principal=["faas-svc"]),
    }


def _admin_token(server: Server, idp: IdP) -> str:
    r = exchange(server.url, idp.client_credentials_token())
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


@pytest.fixture(scope="module")
def e2e_key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return keygen(tmp_path_factory.mktemp("e2e-key") / "gateway.pem")


@pytest.fixture(scope="module")
def gw(idp: IdP, tmp_path_factory: pytest.TempPathFactory, e2e_key: Path) -> Iterator[Server]:
    d = tmp_path_factory.mktemp("gw-a")
    with start_gateway(d, _objects(idp, "30m"), "--namespace", "staging", issuer_url=GW_ISSUER, key=e2e_key) as s:
        h = bearer(_admin_token(s, idp))
        for ns, name, image, labels in FUNCTIONS:
            body = {"service": name, "image": image, "namespace": ns, "labels": labels}
            r = httpx.post(s.url + "/system/functions", json=body, headers=h, timeout=10)
            assert r.status_code == 202, r.text
        yield s


@pytest.fixture(scope="module")
def gw_short(idp: IdP, tmp_path_factory: pytest.TempPathFactory, e2e_key: Path) -> Iterator[Server]:
    d = tmp_path_factory.mktemp("gw-b")
    objects = _objects(idp, f"{SHORT_EXPIRY}s")
    with start_gateway(d, objects, "--namespace", "staging", issuer_url=SHORT_ISSUER, key=e2e_key) as s:
        yield s


@pytest.fixture(scope="module")
def alice(idp: IdP, gw: Server, tmp_path_factory: pytest.TempPathFactory) -> Login:
    """alice's ``faas-pro auth -g <gw> … --print-token``, run once for the module."""
    root = tmp_path_factory.mktemp("alice")
    env = clean_env(root)
    return Login(root, run_cli(*auth_args(idp.issuer, gw.url, "--print-token"), env=env))
