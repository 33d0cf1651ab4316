"""GatewayClient status mapping, with httpx.MockTransport answering as a gateway might."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from faas_pro.errors import EXIT_AUTH, EXIT_DENIED, EXIT_ERROR, EXIT_UNREACHABLE, FaasProError
from faas_pro.gateway import GatewayClient

GW = "http://gw.example.com:8080"


def client(handler: Callable[[httpx.Request], httpx.Response], token: str | None = "tok") -> GatewayClient:
    return GatewayClient(httpx.Client(transport=httpx.MockTransport(handler), follow_redirects=False), GW, token)


def test_success_sends_the_bearer_token_to_the_gateway_only() -> None:
    seen: list[httpx.Request] = []

    def handler(req: httpx.Request) -> httpx.Response:
        seen.append(req)
        if req.url.path == "/system/namespaces":
            return httpx.Response(200, json=["openfaas-fn", "staging"])
        return httpx.Response(200, json=[{"name": "fn", "replicas": 1}])

    c = client(handler)
    assert c.list_namespaces() == ["openfaas-fn", "staging"]
    assert c.list_functions("staging") == [{"name": "fn", "replicas": 1}]
    assert c.list_functions() == [{"name": "fn", "replicas": 1}]
    assert [str(r.url) for r in seen] == [
        f"{GW}/system/namespaces",
        f"{GW}/system/functions?namespace=staging",
        f"{GW}/system/functions",
    ]
    assert {r.headers["authorization"] for r in seen} == {"Bearer tok"}


@pytest.mark.parametrize(
    ("response", "code", "line"),
    [
        (
            httpx.Response(401, text="unauthorized"),
            EXIT_AUTH,
            f"{GW} did not accept the token (401 Unauthorized); run faas-pro auth -g {GW}",
        ),
        (
            httpx.Response(403, text="Forbidden\n"),
            EXIT_DENIED,
            "Server returned unexpected status code: 403 - Forbidden",
        ),
        (
            httpx.Response(403, json={"error": "no policy allows Namespace:List"}),
            EXIT_DENIED,
            'Server returned unexpected status code: 403 - {"error":"no policy allows Namespace:List"}',
        ),
        (httpx.Response(500, text="boom"), EXIT_ERROR, f"{GW} answered /system/namespaces with status 500: boom"),
        (
            httpx.Response(502, text="<html><body>Bad gateway</body></html>", headers={"content-type": "text/html"}),
            EXIT_ERROR,
            f"{GW} answered /system/namespaces with status 502",
        ),
        (
            httpx.Response(302, headers={"location": "https://evil.example/"}),
            EXIT_ERROR,
            f"{GW} answered /system/namespaces with status 302",
        ),
        (
            httpx.Response(200, text="<!doctype html><p>login</p>", headers={"content-type": "text/html"}),
            EXIT_ERROR,
            f"{GW} answered /system/namespaces with HTML (status 200), not JSON: is it OpenFaaS?",
        ),
        (httpx.Response(200, text=""), EXIT_ERROR, f"{GW} answered /system/namespaces with an empty body (status 200)"),
        (
            httpx.Response(200, text="[1,"),
            EXIT_ERROR,
            f"{GW} answered /system/namespaces with invalid JSON (status 200)",
        ),
        (
            httpx.Response(200, json={"namespaces": []}),
            EXIT_ERROR,
            f"{GW} answered /system/namespaces (status 200) with something other than a list of names",
        ),
    ],
    ids=["401", "403-text", "403-json", "500", "502-html", "302", "200-html", "200-empty", "200-bad-json", "200-shape"],
)
def test_status_mapping(response: httpx.Response, code: int, line: str) -> None:
    with pytest.raises(FaasProError) as info:
        client(lambda req: response).list_namespaces()
    assert info.value.exit_code == code
    assert info.value.line() == line
    assert "tok" not in info.value.line().replace("token", "")


def test_connection_errors_are_unreachable() -> None:
    def refuse(req: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=req)

    def slow(req: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=req)

    for handler in (refuse, slow):
        with pytest.raises(FaasProError) as info:
            client(handler).list_functions()
        assert info.value.exit_code == EXIT_UNREACHABLE
        assert info.value.line() == f"Cannot connect to OpenFaaS on URL: {GW}"


def test_function_list_shape_is_checked() -> None:
    with pytest.raises(FaasProError, match="function list"):
        client(lambda req: httpx.Response(200, json=[{"image": "x"}])).list_functions()


def test_no_token_means_no_authorization_header() -> None:
    seen: list[httpx.Request] = []

    def handler(req: httpx.Request) -> httpx.Response:
        seen.append(req)
        return httpx.Response(200, json=[])

    client(handler, token=None).list_namespaces()
    assert "authorization" not in seen[0].headers


class NotGzip(httpx.SyncByteStream):
    """A body sent as it is (read lazily, as from a socket) under a Content-Encoding it does not have."""

    def __iter__(self) -> Iterator[bytes]:
        yield b"not gzip at all"


def test_an_undecodable_body_is_one_error_line_not_a_traceback() -> None:
    def garbled(req: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"Content-Encoding": "gzip"}, stream=NotGzip())

    with pytest.raises(FaasProError) as info:
        client(garbled).list_namespaces()
    assert info.value.exit_code == EXIT_ERROR
    assert info.value.line() == f"{GW} answered /system/namespaces with a body that cannot be decoded"
