"""Helpers for the end-to-end tests of the daily loop (tests/e2e/; the fixtures are in
tests/e2e/conftest.py): what the gateway logged (``api_calls``, ``settled_calls``), an isolated
environment for a module-scoped run (``clean_env``), independent token checks, and the module's
login (``Login``, ``auth_args``, ``restore``)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt

from tests.support.authcli import auth_argv
from tests.support.env import CLEARED
from tests.support.gateway import Server

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
    env = {k: v for k, v in os.environ.items() if k not in CLEARED}
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
    return jwt.decode(token, key.key, algorithms=["ES256"], audience=issuer, issuer=issuer)


def unverified_claims(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


@dataclass(frozen=True)
class Login:
    root: Path
    result: subprocess.CompletedProcess[str]


def auth_args(issuer: str, gateway: str, *extra: str, timeout: str | None = None) -> list[str]:
    """``faas-pro auth -g GATEWAY`` for the test IdP's public client, port 0 and the HTTP browser.

    ``timeout`` overrides auth_argv's 60s (the last ``--timeout`` given wins).
    """
    return auth_argv(issuer, "-g", gateway, *extra, *(("--timeout", timeout) if timeout else ()))


def restore(login: Login) -> None:
    """Copy a module-level login's saved files into this test's isolated directories."""
    assert login.result.returncode == 0, login.result.stderr
    for name in ("FAAS_PRO_CONFIG_DIR", "FAAS_PRO_DATA_DIR"):
        src = login.root / Path(os.environ[name]).name
        shutil.copytree(src, os.environ[name], dirs_exist_ok=True)
