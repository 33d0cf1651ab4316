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

The CLI always runs as a subprocess (``run_cli``), except where a test needs to pin the clock.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from tests.conftest import _CLEARED
from tests.integration.conftest_auth import auth_argv
from tests.integration.server_fixtures import bearer, exchange
from tests.support.gateway import Server, issuer_yaml, keygen, policy_yaml, role_yaml, start_gateway
from tests.support.idp import IdP
from tests.support.inproc import Captured, run_inproc

GW_ISSUER = "http://gateway-a.test"
SHORT_ISSUER = "http://gateway-b.test"
SHORT_EXPIRY = 11

# (namespace, service, image, labels): deployed in this order, so --sort creation differs from name
FUNCTIONS: list[tuple[str, str, str, dict[str, str]]] = [
    ("staging", "zeta-resizer", "ghcr.io/acme/zeta-resizer:2.0.1", {"team": "media"}),
    ("staging", "alpha", "ghcr.io/acme/platform/alpha-with-a-rather-long-image-name:1.4.0", {}),
    ("staging", "mid", "ghcr.io/acme/mid:0.1", {"com.openfaas.scale.min": "3"}),
    ("openfaas-fn", "figlet", "ghcr.io/openfaas/figlet:latest", {}),
]

_API_LINE = re.compile(r"^faas-pro serve: (GET|POST|PUT|DELETE) (/system/\S*) (\d{3}) (\S+)$")


@dataclass(frozen=True)
class ApiCall:
    method: str
    path: str
    status: int
    sub: str


def api_calls(server: Server) -> list[ApiCall]:
    """Every API request the gateway logged on stderr (method, path, status, subject)."""
    out = []
    for ln in server.stderr().splitlines():
        m = _API_LINE.match(ln)
        if m:
            out.append(ApiCall(m[1], m[2], int(m[3]), m[4]))
    return out


def settled_calls(server: Server) -> list[ApiCall]:
    """``api_calls`` once the log has caught up: a sentinel request is sent and waited for.

    The gateway logs a request before answering it, so every request made by a CLI that has
    already exited is in the log once the sentinel (logged after it) is.
    """
    before = sum(1 for c in api_calls(server) if c.path == "/system/info" and c.sub == "-")
    r = httpx.get(server.url + "/system/info", timeout=10)
    assert r.status_code == 401, r.text
    for _ in range(500):
        calls = api_calls(server)
        if sum(1 for c in calls if c.path == "/system/info" and c.sub == "-") > before:
            return [c for c in calls if not (c.path == "/system/info" and c.sub == "-")]
        time.sleep(0.02)
    raise AssertionError(f"sentinel request not logged; stderr:\n{server.stderr()}")


def clean_env(root: Path) -> dict[str, str]:
    """The suite's isolated environment (tests/conftest.py) for a module-scoped run under ``root``."""
    env = {k: v for k, v in os.environ.items() if k not in _CLEARED}
    home = root / "home"
    home.mkdir(parents=True, exist_ok=True)
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        FAAS_PRO_CONFIG_DIR=str(root / "config"),
        FAAS_PRO_DATA_DIR=str(root / "data"),
        FAAS_PRO_TOKEN_STORE="file",
        NO_PROXY="*",
    )
    return env


def verify_gateway_token(server: Server, token: str, issuer: str) -> dict[str, Any]:
    """Check an OpenFaaS token independently (PyJWT) against the gateway's published keys."""
    jwks = httpx.get(server.url + "/.well-known/jwks.json", timeout=10).json()
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "ES256" and header["typ"] == "at+jwt", header
    key = jwt.PyJWKSet.from_dict(jwks)[header["kid"]]
    return jwt.decode(token, key.key, algorithms=["ES256"], audience=issuer, issuer=issuer)  # type: ignore[no-any-return]


def unverified_claims(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})  # type: ignore[no-any-return]


def run_in_process(*args: str, clock: Callable[[], float]) -> Captured:
    """The CLI in this process with a pinned clock (the saved token is read as at that instant)."""
    return run_inproc(*args, clock=clock)


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


@dataclass(frozen=True)
class Login:
    root: Path
    result: subprocess.CompletedProcess[str]


def auth_args(issuer: str, gateway: str, *extra: str, timeout: str | None = None) -> list[str]:
    """``faas-pro auth -g GATEWAY`` for the test IdP's public client, port 0 and the HTTP browser.

    ``timeout`` overrides auth_argv's 60s (the last ``--timeout`` given wins).
    """
    return auth_argv(issuer, "-g", gateway, *extra, *(("--timeout", timeout) if timeout else ()))


@pytest.fixture(scope="module")
def alice(idp: IdP, gw: Server, tmp_path_factory: pytest.TempPathFactory) -> Login:
    """alice's ``faas-pro auth -g <gw> … --print-token``, run once for the module."""
    root = tmp_path_factory.mktemp("alice")
    env = clean_env(root)
    r = subprocess.run(
        [sys.executable, "-m", "faas_pro", *auth_args(idp.issuer, gw.url, "--print-token")],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
    )
    return Login(root, r)


def restore(login: Login) -> None:
    """Copy a module-level login's saved files into this test's isolated directories."""
    assert login.result.returncode == 0, login.result.stderr
    for name in ("FAAS_PRO_CONFIG_DIR", "FAAS_PRO_DATA_DIR"):
        src = login.root / Path(os.environ[name]).name
        shutil.copytree(src, os.environ[name], dirs_exist_ok=True)
