"""Rule 11, authorise what is executed: in upstream mode the forwarded request is rebuilt from the
decided values. One test per row, each asserting what the recording upstream (its own process)
received. The caller ``dev`` may do anything in ``dev`` and has an explicit Deny on ``prod``."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.gateway import Server, issuer_yaml, policy_yaml, role_yaml, start_gateway
from tests.support.issuer import FakeIssuer, bearer, exchange
from tests.support.upstream import Upstream

CREDS = "admin:upstream-pass-sentinel"


@dataclass
class World:
    gw: Server
    up: Upstream
    h: dict[str, str]

    def send(self, method: str, path: str, body: bytes | None = None, **headers: str) -> httpx.Response:
        self.up.clear()
        return httpx.request(method, self.gw.url + path, content=body, headers={**self.h, **headers})

    def received(self) -> list[dict[str, Any]]:
        return self.up.calls()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, gateway_key: Path) -> Iterator[World]:
    idp, up = FakeIssuer(), Upstream(CREDS)
    d = tmp_path_factory.mktemp("rule11")
    objects = (
        issuer_yaml("fake", idp.iss, ["fake-aud"])
        + policy_yaml("dev-all", ["*"], ["dev:*", "openfaas-fn:*"])
        + policy_yaml("no-prod", ["*"], ["prod:*"], effect="Deny")
        + role_yaml("dev", ["dev-all", "no-prod"], principal=["dev"])
    )
    (d / "auth").write_text(CREDS + "\n")
    extra = ("--upstream", up.url, "--upstream-auth-file", str(d / "auth"))
    with start_gateway(d, objects, *extra, key=gateway_key) as gw:
        token = exchange(gw.url, idp.mint(idp.claims(sub="dev"))).json()["access_token"]
        h = {"Content-Type": "application/json", **bearer(token)}
        assert httpx.post(gw.url + "/system/namespace/", content=b'{"name":"dev"}', headers=h).status_code == 201
        yield World(gw, up, h)
        assert "Traceback" not in gw.stderr()
    idp.close()
    up.close()


@pytest.mark.parametrize(
    "body",
    [
        b'{"service":"alice-x","Service":"payments","namespace":"dev","Namespace":"prod","image":"evil:1"}',
        b'{"service":"alice-x","SERVICE":"payments","namespace":"dev","image":"evil:1"}',
        '{"service":"alice-x","\u017fervice":"payments","namespace":"dev","image":"evil:1"}'.encode(),
        b'{"service":"alice-x","\\u017fervice":"payments","namespace":"dev","image":"evil:1"}',
        b'{"service":"alice-x","namespace":"dev","namespac\\u0045":"prod","image":"evil:1"}',
        '{"service":"alice-x","namespace":"dev","image":"evil:1","\u212aey":1,"Image":"x"}'.encode(),
    ],
    ids=["Service+Namespace", "SERVICE", "long-s", "long-s-escaped", "escaped-E", "Image"],
)
def test_case_and_fold_variant_keys_are_400_and_nothing_is_forwarded(world: World, body: bytes) -> None:
    r = world.send("POST", "/system/functions", body)
    assert r.status_code == 400 and "case-sensitive" in r.text
    assert world.received() == []


def test_a_variant_key_inside_limits_is_refused_too(world: World) -> None:
    body = b'{"service":"fn","namespace":"dev","image":"i:1","limits":{"memory":"1Mi","Memory":"64Gi"}}'
    assert world.send("POST", "/system/functions", body).status_code == 400
    assert world.received() == []


def test_duplicate_keys_are_400(world: World) -> None:
    body = b'{"service":"alice-x","service":"payments","namespace":"dev","image":"i:1"}'
    r = world.send("POST", "/system/functions", body)
    assert r.status_code == 400 and "duplicate" in r.text
    assert world.received() == []


def test_the_forwarded_body_is_rebuilt_from_the_known_fields(world: World) -> None:
    body = b'{"image":"i:1","service":"fn-a","network":"host","namespace":"dev","registryAuth":"x","envVars":null}'
    assert world.send("POST", "/system/functions", body).status_code == 202
    (got,) = world.received()
    assert got["method"] == "POST" and got["path"] == "/system/functions"
    assert got["body"] == b'{"service":"fn-a","image":"i:1","namespace":"dev"}'  # canonical order, nothing else
    assert world.send("DELETE", "/system/functions", b'{"functionName":"fn-a","namespace":"dev"}').status_code == 202


def test_the_namespace_from_the_query_is_written_into_the_forwarded_body(world: World) -> None:
    body = b'{"service":"fn-q","image":"i:1"}'
    assert world.send("POST", "/system/functions?namespace=dev", body).status_code == 202
    assert json.loads(world.received()[0]["body"])["namespace"] == "dev"
    r = world.send("POST", "/system/functions?namespace=dev", b'{"service":"fn-q","image":"i:1","namespace":"prod"}')
    assert r.status_code == 400 and world.received() == []  # body and query disagree


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/system/functions", b'{"service":"fn","namespace":"prod\\n","image":"i:1"}'),
        ("POST", "/system/functions", b'{"service":"fn\\n","namespace":"dev","image":"i:1"}'),
        ("GET", "/system/functions?namespace=prod%0A", None),
        ("GET", "/system/function/fn%0A", None),
        ("GET", "/system/function/fn%0A?namespace=dev", None),
        ("GET", "/system/namespace/prod%0A", None),
        ("GET", "/system/logs?name=fn%0A&namespace=dev", None),
        ("POST", "/system/secrets", b'{"name":"s\\n","namespace":"dev","value":"v"}'),
        ("GET", "/function/fn.prod%0A", None),
    ],
)
def test_names_with_a_trailing_newline_are_400_not_500(world: World, method: str, path: str, body: bytes) -> None:
    r = world.send(method, path, body)
    assert r.status_code == 400 and "DNS-1123" in r.text
    assert world.received() == []


def test_head_with_a_body_is_a_get_and_never_writes(world: World) -> None:
    body = b'{"service":"head-fn","namespace":"dev","image":"i:1"}'
    r = world.send("HEAD", "/system/functions?namespace=dev", body, **{"Content-Length": str(len(body))})
    assert r.status_code == 200
    assert [(c["method"], c["path"]) for c in world.received()] == [("GET", "/system/functions")]
    names = [f["name"] for f in world.send("GET", "/system/functions?namespace=dev").json()]
    assert "head-fn" not in names


@pytest.mark.parametrize(
    ("method", "path", "body", "reason"),
    [
        ("POST", "/system/functions", b'{"name":"db","namespace":"dev","value":"v"}', "service is required"),
        ("DELETE", "/system/functions", b'{"service":"fn","namespace":"dev","image":"i"}', "functionName is required"),
        ("POST", "/system/secrets", b'{"service":"fn","namespace":"dev","image":"i"}', "name is required"),
        ("POST", "/system/namespace/", b'{"service":"fn","image":"i"}', "name is required"),
        ("POST", "/system/scale-function/fn?namespace=dev", b'{"service":"fn"}', "replicas is required"),
        ("POST", "/system/scale-function/fn?namespace=dev", b'{"serviceName":"other","replicas":1}', "serviceName"),
        ("POST", "/system/functions", b'["service","fn"]', "JSON object"),
        ("POST", "/system/functions", b'{"service":"fn","image":1}', "image must be a string"),
    ],
)
def test_a_body_for_another_type_is_400(world: World, method: str, path: str, body: bytes, reason: str) -> None:
    r = world.send(method, path, body)
    assert r.status_code == 400 and reason in r.text
    assert world.received() == []


def test_the_query_is_rebuilt_from_decided_values(world: World) -> None:
    r = world.send("GET", "/system/function/fn?namespace=dev&usage=1&evil=x&namespace2=prod")
    assert r.status_code == 404  # the upstream has no fn; what matters is what it was asked
    (got,) = world.received()
    assert got["path"] == "/system/function/fn" and got["query"] == "namespace=dev&usage=1"
    r = world.send("GET", "/system/functions?namespace=dev&namespace=prod")
    assert r.status_code == 400 and world.received() == []


def test_caller_credentials_and_hop_by_hop_headers_are_never_forwarded(world: World) -> None:
    assert world.send("GET", "/system/functions?namespace=dev").status_code == 200
    (got,) = world.received()
    assert got["header"]["authorization"].startswith("Basic ") and world.h["Authorization"] not in str(got)
    headers = {
        "Connection": "keep-alive, X-Hop",
        "X-Hop": "1",
        "Proxy-Authorization": "Basic c2VjcmV0",
        "X-Forwarded-For": "6.6.6.6",
        "X-Forwarded-Proto": "https",
        "X-Custom": "kept",
    }
    assert world.send("POST", "/function/open-fn.dev/p", b"x", **headers).status_code == 200
    (got,) = [c for c in world.received() if c["path"].startswith("/function/")]
    h = got["header"]
    assert "authorization" not in h and "proxy-authorization" not in h
    assert h["x-forwarded-for"] == "127.0.0.1" and h["x-forwarded-proto"] == "http" and h["x-custom"] == "kept"


def test_an_invalid_url_is_400_never_500(world: World) -> None:
    host, port = world.gw.url.removeprefix("http://").split(":")
    for target in (b"/function/fn.dev/%zz", b"/system/function/%ff%fe?namespace=dev", b"/function/%00"):
        world.up.clear()
        with socket.create_connection((host, int(port)), timeout=10) as s:
            s.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            answer = b""
            while chunk := s.recv(65536):
                answer += chunk
        status = int(answer.split(b" ", 2)[1])
        assert 400 <= status < 500, (target, answer[:200])
        assert [c for c in world.received() if c["path"].startswith("/system")] == []


def test_a_deny_is_not_bypassed_by_any_spelling(world: World) -> None:
    for body in (
        b'{"service":"fn","namespace":"prod","image":"i:1"}',
        b'{"service":"fn","image":"i:1"}',
    ):
        r = world.send("POST", "/system/functions?namespace=prod", body)
        assert r.status_code == 403
    assert world.received() == []
