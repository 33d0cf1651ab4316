"""The RFC 8693 client against scripted gateway answers (httpx.MockTransport: what the real server
cannot be made to answer on purpose - redirects, HTML, 404)."""

from __future__ import annotations

from urllib.parse import parse_qs

import httpx
import pytest

from faas_pro.errors import FaasProError, Unreachable
from faas_pro.oauth.exchange import GRANT_TYPE, ID_TOKEN_TYPE, NoTokenEndpoint, exchange
from tests.support.tokens import compact

GW = "http://gw.test"


JWT = compact({"alg": "ES256", "kid": "k"}, {"sub": "fed:x"}, "c2ln")


def _client(status: int, body: object = None, headers: dict[str, str] | None = None) -> tuple[httpx.Client, list]:  # type: ignore[type-arg]
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return (
            httpx.Response(status, json=body, headers=headers)
            if body is not None
            else httpx.Response(status, headers=headers)
        )

    return httpx.Client(transport=httpx.MockTransport(handler), follow_redirects=False), seen


def test_success_sends_rfc8693_form() -> None:
    client, seen = _client(200, {"access_token": JWT, "token_type": "Bearer", "expires_in": 3600})
    out = exchange(client, GW, "SUBJECT")
    assert out.access_token == JWT and out.expires_in == 3600
    req = seen[0]
    assert req.method == "POST" and str(req.url) == f"{GW}/oauth/token"
    form = {k: v[0] for k, v in parse_qs(req.content.decode()).items()}
    assert form == {"grant_type": GRANT_TYPE, "subject_token": "SUBJECT", "subject_token_type": ID_TOKEN_TYPE}


def test_400_shows_error_description() -> None:
    client, _ = _client(400, {"error": "invalid_request", "error_description": "No policies found for subject: u"})
    with pytest.raises(FaasProError) as e:
        exchange(client, GW, "S")
    assert e.value.message.endswith("(HTTP 400): No policies found for subject: u")


def test_404_means_no_token_endpoint() -> None:
    client, _ = _client(404)
    with pytest.raises(NoTokenEndpoint, match="has no token endpoint"):
        exchange(client, GW, "S")


def test_redirect_is_not_followed() -> None:
    client, seen = _client(307, headers={"Location": "http://evil.test/steal"})
    with pytest.raises(FaasProError, match="never followed"):
        exchange(client, GW, "S")
    assert len(seen) == 1


def test_non_jwt_token_is_refused() -> None:
    client, _ = _client(200, {"access_token": "opaque"})
    with pytest.raises(FaasProError, match="not a JWT"):
        exchange(client, GW, "S")


def test_connection_refused_is_unreachable_naming_the_gateway() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("Connection refused", request=request)

    client = httpx.Client(transport=httpx.MockTransport(refuse))
    with pytest.raises(Unreachable, match=f"cannot reach the gateway at {GW}/oauth/token"):
        exchange(client, GW, "S")


class NotGzip(httpx.SyncByteStream):
    """A body sent as it is (read lazily, as from a socket) under a Content-Encoding it does not have."""

    def __iter__(self):
        yield b"not gzip at all"


def test_an_undecodable_body_is_a_faas_pro_error() -> None:
    def garbled(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"Content-Encoding": "gzip"}, stream=NotGzip())

    client = httpx.Client(transport=httpx.MockTransport(garbled))
    with pytest.raises(FaasProError, match=f"the gateway at {GW}/oauth/token sent a body that cannot be decoded"):
        exchange(client, GW, "S")


def test_an_echoed_long_subject_token_is_redacted_before_the_line_is_shortened() -> None:
    subject = "eyJ" + "a" * 400 + ".eyJ" + "b" * 400 + ".sig"
    client, _ = _client(400, {"error": "invalid_grant", "error_description": f"cannot verify {subject}"})
    with pytest.raises(FaasProError) as e:
        exchange(client, GW, subject)
    assert e.value.message.endswith("(HTTP 400): cannot verify ***")
    assert "eyJaaaa" not in e.value.line()
