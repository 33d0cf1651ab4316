"""--upstream: authorised calls are forwarded to an OpenFaaS gateway with ITS basic auth; the
namespace list is filtered; refused calls never reach it. The upstream is a small real HTTP
server speaking the OpenFaaS API (a fake by necessity: no OpenFaaS here)."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from faas_pro.errors import FaasProError
from faas_pro.server.backends import read_upstream_auth
from tests.integration.server_fixtures import FakeIssuer, bearer, exchange, gateway_key
from tests.support.gateway import issuer_yaml, policy_yaml, role_yaml, start_gateway

__all__ = ["gateway_key"]
GATEWAY = "http://gateway.test"
CREDS = ("admin", "upstream-pass-sentinel")


class Upstream:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        outer = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a: Any) -> None:
                pass

            def _answer(self, status: int, body: Any = None) -> None:
                raw = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def _handle(self) -> None:
                n = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(n)) if n else None
                outer.calls.append(
                    {"method": self.command, "path": self.path, "auth": self.headers.get("Authorization"), "body": body}
                )
                want = "Basic " + base64.b64encode(":".join(CREDS).encode()).decode()
                if self.headers.get("Authorization") != want:
                    return self._answer(401)
                path = self.path.split("?")[0]
                if path == "/system/namespaces":
                    return self._answer(200, ["openfaas-fn", "staging", "secret"])
                if path == "/system/functions" and self.command == "GET":
                    ns = self.path.split("namespace=")[-1]
                    return self._answer(200, [{"name": "up-fn", "namespace": ns, "image": "i", "invocationCount": 7}])
                if path == "/system/functions":
                    return self._answer(202)
                if path == "/system/info":
                    return self._answer(200, {"provider": {"provider": "faas-netes-ce"}})
                return self._answer(404)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory, gateway_key: Path) -> Iterator[tuple[str, str, Upstream]]:
    fake, up = FakeIssuer(), Upstream()
    d = tmp_path_factory.mktemp("upstream")
    objects = (
        issuer_yaml("fake", fake.iss, ["fake-aud"])
        + policy_yaml("staging-rw", ["Function:*", "Namespace:List"], ["staging:*"])
        + role_yaml("r", ["staging-rw"], principal=["robot-1"])
    )
    (d / "auth").write_text(":".join(CREDS) + "\n")
    extra = ("--upstream", up.url, "--upstream-auth-file", str(d / "auth"))
    with start_gateway(d, objects, *extra, issuer_url=GATEWAY, key=gateway_key) as gw:
        token = exchange(gw.url, fake.mint()).json()["access_token"]
        yield gw.url, token, up
        assert CREDS[1] not in gw.stderr()
    fake.close()
    up.close()


def test_namespaces_filtered(setup: tuple[str, str, Upstream]) -> None:
    url, token, up = setup
    assert httpx.get(url + "/system/namespaces", headers=bearer(token)).json() == ["staging"]
    assert up.calls[-1]["auth"].startswith("Basic ")


def test_forwarded_with_upstream_credentials(setup: tuple[str, str, Upstream]) -> None:
    url, token, up = setup
    r = httpx.get(url + "/system/functions?namespace=staging", headers=bearer(token))
    assert r.status_code == 200 and r.json()[0]["name"] == "up-fn" and r.json()[0]["namespace"] == "staging"
    deploy = {"service": "fn", "image": "img", "namespace": "staging"}
    assert httpx.post(url + "/system/functions", json=deploy, headers=bearer(token)).status_code == 202
    last = up.calls[-1]
    assert last["method"] == "POST" and last["body"]["namespace"] == "staging" and token not in str(last)


def test_refused_calls_never_reach_upstream(setup: tuple[str, str, Upstream]) -> None:
    url, token, up = setup
    before = len(up.calls)
    assert httpx.get(url + "/system/functions?namespace=secret", headers=bearer(token)).status_code == 403
    assert httpx.get(url + "/system/info", headers=bearer(token)).status_code == 403
    assert httpx.get(url + "/system/functions?namespace=staging").status_code == 401
    assert len(up.calls) == before


def test_auth_file_formats(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.write_text("user:pa:ss\n")
    assert read_upstream_auth(plain, "http://gw:8080") == ("user", "pa:ss")
    cfg = tmp_path / "config.yml"
    token = base64.b64encode(b"admin:secret").decode()
    cfg.write_text(
        "auths:\n- gateway: http://other:8080\n  auth: basic\n  token: eA==\n"
        f"- gateway: http://GW:8080/\n  auth: basic\n  token: {token}\n"
    )
    assert read_upstream_auth(cfg, "http://gw:8080") == ("admin", "secret")
    bad = tmp_path / "bad"
    bad.write_text("no-colon\n")
    with pytest.raises(FaasProError, match="user:password"):
        read_upstream_auth(bad, "http://gw:8080")
    with pytest.raises(FaasProError, match="no basic auth entry"):
        read_upstream_auth(cfg, "http://elsewhere:8080")
