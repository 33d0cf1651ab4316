"""Helpers for the security review tests (tests/security/, one flaw at a time).

- ``sentinel_jwt``: a JWT-shaped token whose signature segment is a recognisable sentinel, so a
  leak of the raw token anywhere (stderr, logs, webhooks, argv) is found by a substring search;
  ``assert_no_leak`` looks for it.
- ``fake_idp``: a ``FakeHTTP`` scripted as an IdP (discovery, token, device, JWKS), and
  ``client_credentials_argv`` to log in at it with a client secret.
- ``run_cli_inproc``: ``run_inproc`` with a no-op ``sleep``; ``recorder_command``: a browser
  command that records what it was asked to open.
- ``GatewayWorld``: one ``faas-pro serve`` whose JwtIssuer is a ``FakeIssuer``
  (the ``gateway_world`` fixture in tests/security/conftest.py).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.fakehttp import Answer, FakeHTTP, Req, json_answer
from tests.support.gateway import Server
from tests.support.inproc import Captured, run_inproc
from tests.support.issuer import FakeIssuer
from tests.support.tokens import compact

SENTINEL = "SENTINEL7f3a9c"
SECRET = "SENTINEL-client-secret-5d2e"
PYTHON = sys.executable


def sentinel_jwt(marker: str = SENTINEL, **claims: Any) -> str:
    """``header.payload.<marker…>``: JWT-shaped (strictly parseable), never valid, easy to find."""
    header = {"alg": "ES256", "typ": "at+jwt", "kid": "k1"}
    now = int(time.time())
    body = {"iss": "https://idp.sentinel.test", "aud": "x", "sub": "s", "iat": now, "exp": now + 600, **claims}
    return compact(header, body, marker + "x" * (-len(marker) % 4) + "SIGNATURExx")


def signature_of(token: str) -> str:
    return token.rsplit(".", 1)[1]


def assert_no_leak(text: str, *secrets: str) -> None:
    for s in secrets:
        assert s not in text, f"secret {s[:12]}… leaked in:\n{text[:3000]}"


IdPHandler = Callable[[Req, str], Answer]  # (request, the IdP's base URL) -> answer


def fake_idp(
    routes: Mapping[str, IdPHandler] | None = None, *, tls: tuple[Path, Path] | None = None, **named: IdPHandler
) -> FakeHTTP:
    """A scripted IdP: discovery always; ``/token``, ``/device``, ``/jwks`` (or any path, without its
    leading slash, in ``routes``) as the test says."""
    holder: dict[str, str] = {}
    overrides = {**(routes or {}), **named}

    def route(req: Req) -> Answer:
        base = holder["url"]
        path = req.path.split("?")[0]
        if path.lstrip("/") in overrides:
            return overrides[path.lstrip("/")](req, base)
        if path == "/.well-known/openid-configuration":
            doc: dict[str, Any] = {
                "issuer": base,
                "authorization_endpoint": base + "/auth",
                "token_endpoint": base + "/token",
                "jwks_uri": base + "/jwks",
                "device_authorization_endpoint": base + "/device",
            }
            return json_answer(doc)
        if path == "/token":
            return json_answer({"error": "invalid_client", "error_description": "unknown client"}, 401)
        if path == "/jwks":
            return json_answer({"keys": []})
        return 404, {}, b""

    f = FakeHTTP(route, tls=tls)
    holder["url"] = f.url
    return f


def client_credentials_argv(authority: str, secret_file: Path, *extra: str) -> list[str]:
    """``faas-pro auth`` with the client credentials grant at ``authority`` (client ``svc``), no exchange."""
    return [
        "auth", "-g", "http://127.0.0.1:9", "--authority", authority, "--client-id", "svc",
        "--client-secret-file", str(secret_file), "--grant", "client_credentials", "--no-exchange", *extra,
    ]  # fmt: skip


# --------------------------------------------------------------------------- the CLI in this process


def run_cli_inproc(*args: str, env: dict[str, str] | None = None, stdin: str = "") -> Captured:
    """``run_inproc`` with a no-op ``sleep`` (no test waits out a retry delay)."""
    return run_inproc(*args, env=env, stdin=stdin, sleep=lambda s: None)


def recorder_command(record: Path, then: str = "deny") -> str:
    """A ``--browser-command`` that writes its argv to ``record`` as JSON, then (``deny``) sends the
    login's callback an ``error=access_denied`` with the right state, so the CLI stops at once."""
    script = (
        "import json,sys,urllib.parse as u,urllib.request as r\n"
        f"open({str(record)!r},'w').write(json.dumps(sys.argv))\n"
        f"if {then!r}=='deny' and 'redirect_uri=' in sys.argv[-1]:\n"
        "    q=dict(u.parse_qsl(u.urlsplit(sys.argv[-1]).query))\n"
        "    try: r.urlopen(q['redirect_uri']+'?error=access_denied&state='+u.quote(q['state']),timeout=10)\n"
        "    except Exception: pass\n"
    )
    path = record.with_suffix(".py")
    path.write_text(script)
    return f"{PYTHON} {path}"


# --------------------------------------------------------------------------- one gateway with a fake issuer

GATEWAY = "http://gateway.security.test"
EXPIRY_S = 420


@dataclass
class GatewayWorld:
    server: Server
    issuer: FakeIssuer
    root: Path

    def idp_token(self, sub: str = "robot-1", **claims: Any) -> str:
        return self.issuer.mint(self.issuer.claims(sub=sub, **claims))
