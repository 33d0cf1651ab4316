"""Helpers for the `faas-pro auth` end-to-end tests (tests/integration/test_auth_*.py and others).

The CLI runs as a real subprocess (``run_cli``/``start_cli`` of tests/support/inproc.py) with ``--port 0`` and a
``--browser-command`` that plays the user's browser (tests/support/http_browser.py or
chromium_browser.py). The suite's autouse fixture has already pointed config and data
directories at the test's tmp_path through the environment, which the subprocess inherits.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt

from tests.support.inproc import ROOT

HTTP_BROWSER = f"{shlex.quote(sys.executable)} {shlex.quote(str(ROOT / 'tests/support/http_browser.py'))}"
CHROMIUM_BROWSER = f"{shlex.quote(sys.executable)} {shlex.quote(str(ROOT / 'tests/support/chromium_browser.py'))}"


def auth_argv(issuer: str, *extra: str, browser: str = HTTP_BROWSER) -> list[str]:
    return [
        "auth",
        "--authority",
        issuer,
        "--client-id",
        "faas-cli",
        "--port",
        "0",
        "--browser-command",
        browser,
        "--timeout",
        "60s",
        "--par",
        "never",  # these tests read the request's parameters in the URL (PAR: tests/integration/test_par.py)
        *extra,
    ]


def wait_for_file(path: Path, timeout: float = 30.0) -> str:
    end = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > end:
            raise AssertionError(f"{path} did not appear")
        time.sleep(0.02)
    return path.read_text(encoding="utf-8")


def wait_browser_done(log: Path, timeout: float = 60.0) -> list[dict[str, Any]]:
    """The browser script's log lines, once its last line says done."""
    end = time.monotonic() + timeout
    while True:
        lines = [json.loads(ln) for ln in log.read_text().splitlines()] if log.exists() else []
        if lines and lines[-1].get("done"):
            return lines
        if time.monotonic() > end:
            raise AssertionError(f"browser did not finish: {lines}")
        time.sleep(0.05)


def callback_of(auth_url: str) -> tuple[str, dict[str, str]]:
    """(redirect_uri, the authorization request's parameters) of an authorization URL."""
    q = {k: v[0] for k, v in parse_qs(urlsplit(auth_url).query).items()}
    return q["redirect_uri"], q


def verify_jwt(token: str, jwks: dict[str, Any], *, issuer: str, audience: str, alg: str) -> dict[str, Any]:
    """Independent check with PyJWT against the IdP's published keys."""
    kid = jwt.get_unverified_header(token)["kid"]
    key = next(k for k in jwt.PyJWKSet.from_dict(jwks).keys if k.key_id == kid)
    return jwt.decode(token, key.key, algorithms=[alg], audience=audience, issuer=issuer, leeway=30)


def config_dir() -> Path:
    return Path(os.environ["FAAS_PRO_CONFIG_DIR"])


def data_dir() -> Path:
    return Path(os.environ["FAAS_PRO_DATA_DIR"])


def saved_settings() -> dict[str, Any]:
    return json.loads((config_dir() / "settings.json").read_text())  # type: ignore[no-any-return]


def saved_tokens() -> dict[str, Any]:
    return json.loads((data_dir() / "tokens.json").read_text())  # type: ignore[no-any-return]


def get(url: str, **kw: Any) -> httpx.Response:
    return httpx.get(url, timeout=10, **kw)
