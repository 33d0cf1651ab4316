"""--upstream: authorised calls are forwarded to an OpenFaaS gateway with ITS basic auth; the
namespace list is filtered; refused calls never reach it. The upstream is a small real HTTP
server speaking the OpenFaaS API (``FakeHTTP``; a fake by necessity: no OpenFaaS here)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from faas_pro.errors import FaasProError
from faas_pro.server.backends import read_upstream_auth
from tests.support.fakehttp import Answer, FakeHTTP, Req, json_answer
from tests.support.gateway import issuer_yaml, policy_yaml, role_yaml, start_gateway
from tests.support.issuer import FakeIssuer, bearer, exchange

GATEWAY = "http://gateway.test"
CREDS = ("admin", "upstream-pass-sentinel")


class Upstream:
    """A ``FakeHTTP`` answering the OpenFaaS API for ``CREDS`` only; ``calls`` records every request."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.http = FakeHTTP(self._handle)
        self.url = self.http.url

    def _handle(self, req: Req) -> Answer:
        self.calls.append(
            {"method": req.method, "path": req.path, "auth": req.headers.get("authorization"), "body": _json(req)}
        )
        want = "Basic " + base64.b64encode(":".join(CREDS).encode()).decode()
        if req.headers.get("authorization") != want:
            return json_answer(b"", 401)
        path = req.url_path
        if path == "/system/namespaces":
            return json_answer(["openfaas-fn", "staging", "secret"])
        if path == "/system/functions" and req.method == "GET":
            ns = req.path.split("namespace=")[-1]
            return json_answer([{"name": "up-fn", "namespace": ns, "image": "i", "invocationCount": 7}])
        if path == "/system/functions":
            return json_answer(b"", 202)
        if path == "/system/info":
            return json_answer({"provider": {"provider": "faas-netes-ce"}})
        return json_answer(b"", 404)

    def close(self) -> None:
        self.http.close()


def _json(req: Req) -> Any:
    return req.json() if req.body else None


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
