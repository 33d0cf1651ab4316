"""Device flow (RFC 8628) timing and error handling against a small real HTTP server that answers
what the real test IdP never does (slow_down, no interval, expired_token, hostile answers).

Time is a fake clock advanced by the fake sleep, so the sleeps are exact and the tests are quick.
The server is the suite's ``FakeHTTP`` (the ``server`` fixture of tests/conftest.py).
"""

from __future__ import annotations

import socket
from typing import Any

import httpx
import pytest

from faas_pro.errors import FaasProError, Unreachable
from faas_pro.oauth.device import DEFAULT_INTERVAL, DevicePrompt, device_login
from faas_pro.oauth.token_endpoint import TokenEndpointError
from tests.support.fakehttp import HANG_UP, Answer, FakeHTTP, json_answer


class FakeTime:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


PENDING = json_answer({"error": "authorization_pending"}, 400)
SLOW_DOWN = json_answer({"error": "slow_down"}, 400)
TOKENS = json_answer({"access_token": "at-1", "token_type": "Bearer", "expires_in": 600})


def device_body(base: str, **over: Any) -> dict[str, Any]:
    body = {
        "device_code": "dc-123",
        "user_code": "ABCD-EFGH",
        "verification_uri": f"{base}/activate",
        "verification_uri_complete": f"{base}/activate?user_code=ABCD-EFGH",
        "expires_in": 600,
        **over,
    }
    return {k: v for k, v in body.items() if v is not None}


def device_answer(base: str, **over: Any) -> Answer:
    return json_answer(device_body(base, **over))


def meta_of(base: str) -> dict[str, Any]:
    return {"issuer": base, "token_endpoint": f"{base}/token", "device_authorization_endpoint": f"{base}/device"}


def run(server: FakeHTTP, t: FakeTime, *, timeout: float = 300, **kw: Any) -> tuple[dict[str, Any], list[Any]]:
    prompts: list[DevicePrompt] = []
    with httpx.Client() as http:
        out = device_login(
            http,
            kw.pop("meta", meta_of(server.url)),
            kw.pop("client_id", "cli"),
            kw.pop("scopes", ["openid"]),
            timeout=timeout,
            on_prompt=prompts.append,
            clock=t.clock,
            sleep=t.sleep,
            **kw,
        )
    return out, prompts


def test_no_interval_means_5s_and_each_slow_down_adds_5s(server: FakeHTTP) -> None:
    server.on("/device", device_answer(server.url))
    server.on("/token", PENDING, SLOW_DOWN, PENDING, SLOW_DOWN, TOKENS)
    t = FakeTime()
    out, prompts = run(server, t)
    assert out["access_token"] == "at-1"
    assert DEFAULT_INTERVAL == 5
    assert t.sleeps == [5, 5, 10, 10, 15]
    polls = server.hits("/token")
    assert len(polls) == 5
    assert polls[0].form() == {
        "client_id": ["cli"],
        "grant_type": ["urn:ietf:params:oauth:grant-type:device_code"],
        "device_code": ["dc-123"],
    }
    (p,) = prompts
    assert (p.user_code, p.interval, p.expires_in) == ("ABCD-EFGH", 5, 600)
    assert p.url_to_open == f"{server.url}/activate?user_code=ABCD-EFGH"
    assert any("ABCD-EFGH" in line and f"{server.url}/activate" in line for line in p.lines())


def test_server_interval_is_used(server: FakeHTTP) -> None:
    server.on("/device", device_answer(server.url, interval=2))
    server.on("/token", PENDING, PENDING, TOKENS)
    t = FakeTime()
    run(server, t)
    assert t.sleeps == [2, 2, 2]
    assert server.hits("/device")[0].form() == {"client_id": ["cli"], "scope": ["openid"]}


@pytest.mark.parametrize("interval", [0, -3, "7", True, 1e9])
def test_odd_intervals_are_sane(server: FakeHTTP, interval: object) -> None:
    server.on("/device", device_answer(server.url, interval=interval))
    server.on("/token", TOKENS)
    t = FakeTime()
    _, (p,) = run(server, t)
    assert 1 <= p.interval <= 300
    assert t.sleeps == [p.interval]


def test_access_denied_is_a_clear_error(server: FakeHTTP) -> None:
    server.on("/device", device_answer(server.url, interval=1))
    server.on(
        "/token",
        PENDING,
        json_answer({"error": "access_denied", "error_description": "End-User aborted interaction"}, 400),
    )
    with pytest.raises(TokenEndpointError) as e:
        run(server, FakeTime())
    assert (
        e.value.line()
        == "the device login was denied at the identity provider (access_denied: End-User aborted interaction)"
    )


def test_expired_token_from_the_server(server: FakeHTTP) -> None:
    server.on("/device", device_answer(server.url, interval=1))
    server.on("/token", PENDING, json_answer({"error": "expired_token"}, 400))
    with pytest.raises(FaasProError, match="the device code expired before the login was approved"):
        run(server, FakeTime())
    assert len(server.hits("/token")) == 2


def test_expires_in_stops_polling_without_the_server_saying_so(server: FakeHTTP) -> None:
    server.on("/device", device_answer(server.url, expires_in=7))
    server.on("/token", PENDING)
    t = FakeTime()
    with pytest.raises(FaasProError, match="device code expired"):
        run(server, t)
    assert t.sleeps == [5, 2]
    assert len(server.hits("/token")) == 2


def test_timeout_is_honoured_and_named(server: FakeHTTP) -> None:
    server.on("/device", device_answer(server.url))
    server.on("/token", PENDING)
    t = FakeTime()
    with pytest.raises(FaasProError) as e:
        run(server, t, timeout=12)
    assert e.value.line() == (
        "timed out after 12s waiting for the device login to be approved; approve it sooner or raise --timeout"
    )
    assert t.sleeps == [5, 5, 2]
    assert len(server.hits("/token")) == 3


def test_ctrl_c_propagates(server: FakeHTTP) -> None:
    server.on("/device", device_answer(server.url))
    server.on("/token", PENDING)

    def interrupted(_: float) -> None:
        raise KeyboardInterrupt

    with httpx.Client() as http, pytest.raises(KeyboardInterrupt):
        device_login(
            http,
            meta_of(server.url),
            "cli",
            [],
            timeout=60,
            on_prompt=lambda p: None,
            clock=FakeTime().clock,
            sleep=interrupted,
        )
    assert server.hits("/token") == []


@pytest.mark.parametrize("uri", ["javascript:alert(1)", "file:///etc/passwd", "https://", 42, None])
def test_verification_uri_must_be_http_and_is_never_shown_otherwise(server: FakeHTTP, uri: object) -> None:
    server.on("/device", device_answer(server.url, verification_uri=uri, verification_uri_complete=None))
    server.on("/token", TOKENS)
    prompts: list[DevicePrompt] = []
    with httpx.Client() as http, pytest.raises(FaasProError, match="verification_uri") as e:
        device_login(
            http,
            meta_of(server.url),
            "cli",
            [],
            timeout=60,
            on_prompt=prompts.append,
            clock=FakeTime().clock,
            sleep=FakeTime().sleep,
        )
    assert prompts == []
    assert "javascript" not in e.value.line() and "passwd" not in e.value.line()
    assert server.hits("/token") == []


def test_a_non_http_complete_uri_is_dropped_and_google_style_verification_url_accepted(
    server: FakeHTTP,
) -> None:
    body = device_body(server.url, verification_uri=None, verification_uri_complete="javascript:alert(1)")
    body["verification_url"] = "https://www.google.com/device"
    server.on("/device", json_answer(body))
    server.on("/token", TOKENS)
    _, (p,) = run(server, FakeTime())
    assert p.verification_uri == "https://www.google.com/device"
    assert p.verification_uri_complete is None
    assert p.url_to_open == "https://www.google.com/device"
    assert not any("javascript" in line for line in p.lines())


@pytest.mark.parametrize("code", ["", "AB CD", "A\x1b[31mB", "x" * 65, None])
def test_hostile_user_codes_are_refused(server: FakeHTTP, code: object) -> None:
    server.on("/device", device_answer(server.url, user_code=code))
    with pytest.raises(FaasProError, match="user_code"):
        run(server, FakeTime())


def test_no_device_endpoint_is_a_clear_error() -> None:
    with httpx.Client() as http, pytest.raises(FaasProError, match="does not offer the device flow"):
        device_login(
            http,
            {"issuer": "https://idp.example", "token_endpoint": "https://idp.example/token"},
            "cli",
            [],
            timeout=5,
            on_prompt=lambda p: None,
            clock=FakeTime().clock,
            sleep=FakeTime().sleep,
        )


def test_confidential_client_basic_auth_audience_and_secret_redacted(server: FakeHTTP) -> None:
    secret = "s3cr3t-value/with:odd+chars"
    server.on("/device", json_answer({"error": "invalid_client", "error_description": f"bad secret {secret}"}, 401))
    with pytest.raises(TokenEndpointError) as e:
        run(server, FakeTime(), client_secret=secret, audience="https://gw.example")
    assert e.value.error == "invalid_client"
    assert secret not in e.value.line() and "***" in e.value.line()
    (req,) = server.hits("/device")
    assert req.headers["authorization"].startswith("Basic ")
    assert "client_secret" not in req.form() and "client_id" not in req.form()
    assert req.form()["audience"] == req.form()["resource"] == ["https://gw.example"]


def test_non_json_error_answer_names_the_url(server: FakeHTTP) -> None:
    server.on("/device", json_answer(b"<html>bad gateway</html>", 502))
    with pytest.raises(FaasProError) as e:
        run(server, FakeTime())
    assert (
        e.value.line()
        == f"the identity provider's device authorization endpoint at {server.url}/device answered HTTP 502"
    )


def test_oversized_device_answer_is_refused(server: FakeHTTP) -> None:
    server.on("/device", json_answer({"device_code": "x" * 300_000}))
    with pytest.raises(FaasProError, match="larger than 256 KiB"):
        run(server, FakeTime())


def test_network_trouble_while_polling_backs_off_and_is_named_at_the_end(server: FakeHTTP) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/token"
    server.on("/device", device_answer(server.url))
    t = FakeTime()
    with pytest.raises(Unreachable) as e:
        run(server, t, timeout=30, meta={**meta_of(server.url), "token_endpoint": dead})
    assert t.sleeps == [5, 10, 15]
    assert e.value.line().startswith(f"cannot reach the identity provider's token endpoint at {dead}")


def test_polling_recovers_after_network_trouble(server: FakeHTTP) -> None:
    server.on("/device", device_answer(server.url, interval=1))
    server.on("/token", HANG_UP, PENDING, TOKENS)
    t = FakeTime()
    out, _ = run(server, t)
    assert out["access_token"] == "at-1"
    assert t.sleeps == [1, 2, 2]  # doubled after the failure, kept after pending
    assert len(server.hits("/token")) == 3
