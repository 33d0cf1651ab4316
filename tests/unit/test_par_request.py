"""push_authorization_request (RFC 9126) against scripted answers: what is posted, how the client
authenticates, and the one-line errors for a refusal or an answer without ``request_uri``."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from faas_pro.errors import FaasProError
from faas_pro.oauth.discovery import Discovery
from faas_pro.oauth.flows import push_authorization_request

ISS = "https://idp.example"
DISC = Discovery(
    issuer=ISS, authorization_endpoint=ISS + "/auth", token_endpoint=ISS + "/token", jwks_uri=ISS + "/jwks",
    response_modes_supported=(), id_token_algs=(), token_auth_methods=(),
    raw={"issuer": ISS, "pushed_authorization_request_endpoint": ISS + "/par"},
)  # fmt: skip
WHAT = "the identity provider's pushed authorization request endpoint"
URL = ISS + "/auth?response_type=code&client_id=cli&redirect_uri=http%3A%2F%2F127.0.0.1%3A1%2Fcb&code_challenge=X"


def client(answer: httpx.Response, seen: list[httpx.Request]) -> httpx.Client:
    def handler(req: httpx.Request) -> httpx.Response:
        seen.append(req)
        return answer

    return httpx.Client(transport=httpx.MockTransport(handler))


def test_public_client_posts_the_request_and_opens_only_the_request_uri() -> None:
    seen: list[httpx.Request] = []
    answer = httpx.Response(201, json={"request_uri": "urn:ietf:params:oauth:request_uri:abc", "expires_in": 60})
    url = push_authorization_request(client(answer, seen), DISC, URL, "cli", None)
    assert url == ISS + "/auth?client_id=cli&request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3Aabc"
    (req,) = seen
    assert str(req.url) == ISS + "/par" and "authorization" not in req.headers
    form = {k: v[0] for k, v in parse_qs(req.content.decode()).items()}
    assert form["code_challenge"] == "X" and form["client_id"] == "cli" and form["response_type"] == "code"
    assert parse_qs(urlsplit(url).query).keys() == {"client_id", "request_uri"}


def test_confidential_client_authenticates_with_basic() -> None:
    seen: list[httpx.Request] = []
    answer = httpx.Response(201, json={"request_uri": "urn:x"})
    push_authorization_request(client(answer, seen), DISC, URL, "cli", "s3cret")
    assert seen[0].headers["authorization"].startswith("Basic ")


@pytest.mark.parametrize(
    ("answer", "line"),
    [
        (
            httpx.Response(400, json={"error": "invalid_request", "error_description": "bad s3cret"}),
            f"{WHAT} refused the request: invalid_request: bad ***",
        ),
        (
            httpx.Response(201, json={"expires_in": 60}),
            f"{WHAT} at {ISS}/par answered without a request_uri",
        ),
    ],
)
def test_refusals_are_one_line(answer: httpx.Response, line: str) -> None:
    with pytest.raises(FaasProError) as e:
        push_authorization_request(client(answer, []), DISC, URL, "cli", "s3cret")
    assert e.value.line() == line
