"""Helpers for the security review tests (SECURITY.md's top 10, one flaw at a time).

- ``FakeHTTP``: a real HTTP(S) server on a free loopback port whose answers a test scripts, and
  which records every request (for what no real part produces: hostile IdPs and gateways).
- ``fake_idp``: a ``FakeHTTP`` scripted as an IdP (discovery, token, device, JWKS), and
  ``client_credentials_argv`` to log in at it with a client secret.
- ``tls_files``: a self-signed certificate for 127.0.0.1 (the CA file is the certificate itself).
- ``sentinel_jwt``: a JWT-shaped token whose signature segment is a recognisable sentinel, so a
  leak of the raw token anywhere (stderr, logs, webhooks, argv) is found by a substring search.
- ``run_cli_inproc``: the CLI in this process with captured streams and a no-op ``sleep``.
- ``gateway_world``: one ``faas-pro serve`` per module whose JwtIssuer is a ``FakeIssuer``.
"""

from __future__ import annotations

import base64
import json
import ssl
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.integration.server_fixtures import FakeIssuer
from tests.support.gateway import Server, issuer_yaml, policy_yaml, role_yaml, start_gateway
from tests.support.inproc import Captured, run_inproc
from tests.support.tls import self_signed_cert

SENTINEL = "SENTINEL7f3a9c"
SECRET = "SENTINEL-client-secret-5d2e"
PYTHON = sys.executable


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sentinel_jwt(marker: str = SENTINEL, **claims: Any) -> str:
    """``header.payload.<marker…>``: JWT-shaped (strictly parseable), never valid, easy to find."""
    header = b64(json.dumps({"alg": "ES256", "typ": "at+jwt", "kid": "k1"}).encode())
    now = int(time.time())
    body = {"iss": "https://idp.sentinel.test", "aud": "x", "sub": "s", "iat": now, "exp": now + 600, **claims}
    sig = marker + "x" * (-len(marker) % 4) + "SIGNATURExx"
    return f"{header}.{b64(json.dumps(body).encode())}.{sig}"


def signature_of(token: str) -> str:
    return token.rsplit(".", 1)[1]


def assert_no_leak(text: str, *secrets: str) -> None:
    for s in secrets:
        assert s not in text, f"secret {s[:12]}… leaked in:\n{text[:3000]}"


# --------------------------------------------------------------------------- a scriptable HTTP(S) server


@dataclass
class Req:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


Answer = tuple[int, dict[str, str], bytes]
NO_LENGTH = "X-Test-No-Content-Length"  # answer header: send no Content-Length, close after the body


def json_answer(obj: Any, status: int = 200) -> Answer:
    return status, {"Content-Type": "application/json"}, json.dumps(obj).encode()


@dataclass
class FakeHTTP:
    """``route(req) -> (status, headers, body)``; ``requests`` records everything received."""

    route: Callable[[Req], Answer]
    tls: tuple[Path, Path] | None = None
    requests: list[Req] = field(default_factory=list)
    url: str = ""

    def __post_init__(self) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a: Any) -> None:
                pass

            def _any(self) -> None:
                n = int(self.headers.get("Content-Length") or 0)
                req = Req(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, self.rfile.read(n))
                outer.requests.append(req)
                status, headers, body = outer.route(req)
                self.send_response(status)
                for k, v in headers.items():
                    if k != NO_LENGTH:
                        self.send_header(k, v)
                if NO_LENGTH in headers:  # the body ends when the connection closes
                    self.send_header("Connection", "close")
                    self.close_connection = True
                elif "Content-Length" not in headers:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                with suppress(OSError):
                    self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_DELETE = _any

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        scheme = "http"
        if self.tls is not None:
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(str(self.tls[0]), str(self.tls[1]))
            self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
            scheme = "https"
        self.url = f"{scheme}://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()

    def paths(self) -> list[str]:
        return [r.path for r in self.requests]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(timeout=5)


def fake_idp(tls: tuple[Path, Path] | None = None, **overrides: Callable[[Req, str], Answer]) -> FakeHTTP:
    """A scripted IdP: discovery always; ``/token``, ``/device``, ``/jwks`` as the test says."""
    holder: dict[str, str] = {}

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


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(certificate = CA file, private key) for 127.0.0.1, self-signed."""
    return self_signed_cert(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def elsewhere() -> Iterator[FakeHTTP]:
    """Another origin that records whatever reaches it (the target of hostile redirects)."""
    f = FakeHTTP(lambda req: json_answer(["stolen"]))
    yield f
    f.close()


# --------------------------------------------------------------------------- the CLI in this process


def run_cli_inproc(*args: str, env: dict[str, str] | None = None, stdin: str = "") -> Captured:
    """faas-pro in this process (the suite's isolated environment), ``sleep`` a no-op."""
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
