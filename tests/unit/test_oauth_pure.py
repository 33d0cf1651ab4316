"""Unit tests for the pure parts of faas_pro.oauth: durations, PKCE, redirect hosts, browser choice,
callback parameter judging, authorization URLs."""

from __future__ import annotations

import hashlib
import socket
from urllib.parse import parse_qs, urlsplit

import pytest

from faas_pro.errors import FaasProError, UsageError
from faas_pro.oauth.browser import BrowserPlan, check_openable, command_argv, plan_browser
from faas_pro.oauth.discovery import Discovery, check_endpoint, is_loopback_host
from faas_pro.oauth.duration import format_duration, parse_duration
from faas_pro.oauth.flows import authorize_url
from faas_pro.oauth.loopback import LoopbackReceiver, parse_params, parse_redirect_host
from faas_pro.oauth.pkce import AuthRequestSecrets, s256_challenge
from tests.support.tokens import b64url


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("5m", 300), ("30s", 30), ("1h30m", 5400), ("1.5s", 1.5), ("250ms", 0.25), ("2", 2), ("1m0.5s", 60.5)],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["m5", "5x", "-5s", "0s", "5m junk", "1e3s", "s", "5 m"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(UsageError) as e:
        parse_duration(text)
    assert "--timeout" in e.value.message


def test_parse_duration_rejects_empty() -> None:
    with pytest.raises(UsageError):
        parse_duration("")


@pytest.mark.parametrize(("seconds", "text"), [(300, "5m"), (90, "1m30s"), (2, "2s"), (0.5, "0.5s"), (3600, "1h")])
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


def test_pkce_s256_matches_rfc7636_appendix_b() -> None:
    assert (
        s256_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    )


def test_request_secrets_are_fresh_and_long() -> None:
    a, b = AuthRequestSecrets(), AuthRequestSecrets()
    assert len({a.state, a.nonce, a.code_verifier, b.state, b.nonce, b.code_verifier}) == 6
    assert 43 <= len(a.code_verifier) <= 128
    digest = hashlib.sha256(a.code_verifier.encode()).digest()
    assert a.code_challenge == b64url(digest)


@pytest.mark.parametrize(
    ("value", "host", "bind", "family"),
    [
        (None, "127.0.0.1", "127.0.0.1", socket.AF_INET),
        ("http://localhost", "localhost", "127.0.0.1", socket.AF_INET),
        ("http://[::1]", "[::1]", "::1", socket.AF_INET6),
        ("127.0.0.1/", "127.0.0.1", "127.0.0.1", socket.AF_INET),
    ],
)
def test_redirect_host(value: str | None, host: str, bind: str, family: int) -> None:
    t = parse_redirect_host(value)
    assert (t.host, t.bind, t.family) == (host, bind, family)


@pytest.mark.parametrize(
    "value",
    ["https://127.0.0.1", "http://0.0.0.0", "http://example.com", "http://127.0.0.1:8080", "http://127.0.0.1/cb"],
)
def test_redirect_host_refuses_non_loopback_or_extra_parts(value: str) -> None:
    with pytest.raises(UsageError):
        parse_redirect_host(value)


def test_browser_command_wins_over_everything() -> None:
    env = {"BROWSER": "firefox", "SSH_CONNECTION": "x"}
    assert plan_browser(no_browser=False, command="my-browser --new", env=env) == BrowserPlan(
        command=("my-browser", "--new")
    )
    assert plan_browser(no_browser=False, command=None, env=env).command == ("firefox",)


def test_no_display_or_ssh_means_no_browser() -> None:
    assert "no display" in plan_browser(no_browser=False, command=None, env={}, platform="linux").reason
    ssh = plan_browser(no_browser=False, command=None, env={"DISPLAY": ":0", "SSH_TTY": "/dev/pts/1"})
    assert not ssh.use_default and "SSH" in ssh.reason
    assert plan_browser(no_browser=False, command=None, env={"DISPLAY": ":0"}, platform="linux").use_default
    assert plan_browser(no_browser=False, command=None, env={}, platform="darwin").use_default
    assert plan_browser(no_browser=True, command="x", env={}).reason == "--no-browser"


def test_command_argv_appends_or_substitutes() -> None:
    assert command_argv(("b", "--x"), "http://u") == ["b", "--x", "http://u"]
    assert command_argv(("b", "--url=%s", "-y"), "http://u") == ["b", "--url=http://u", "-y"]


@pytest.mark.parametrize("url", ["file:///etc/passwd", "javascript:alert(1)", "x-scheme:abc"])
def test_only_http_urls_are_opened(url: str) -> None:
    with pytest.raises(FaasProError):
        check_openable(url)


def test_endpoint_checks() -> None:
    assert is_loopback_host("127.0.0.2") and is_loopback_host("[::1]") and not is_loopback_host("10.0.0.1")
    with pytest.raises(FaasProError, match="downgrades"):
        check_endpoint("http://idp/auth", "authorization_endpoint", "https://idp", "https://idp/.well-known")
    with pytest.raises(FaasProError, match="not an http"):
        check_endpoint("javascript:x", "authorization_endpoint", "http://idp", "u")
    with pytest.raises(FaasProError, match="has no jwks_uri"):
        check_endpoint(None, "jwks_uri", "http://idp", "u")


def test_parse_params_refuses_duplicates_and_floods() -> None:
    assert parse_params("code=a&state=b") == {"code": "a", "state": "b"}
    assert parse_params("state=a&state=b") is None
    assert parse_params("&".join(f"k{i}=v" for i in range(100))) is None


def _receiver(required: tuple[str, ...] = ("code",)) -> LoopbackReceiver:
    return LoopbackReceiver(parse_redirect_host(None), 0, state="S" * 43, issuer="http://idp", required=required)


def test_wrong_state_is_ignored_then_the_right_one_wins() -> None:
    r = _receiver()
    assert r.deliver("code=x&state=nope")[0] == 400
    assert r.deliver("code=x")[0] == 400
    assert r.deliver("error=access_denied&state=evil")[0] == 400
    assert r.deliver(f"code=good&state={'S' * 43}&iss=http%3A%2F%2Fidp")[0] == 200
    assert r.wait(0.01)["code"] == "good"
    assert r.deliver(f"code=second&state={'S' * 43}")[0] == 400  # single use


def test_error_with_right_state_stops_with_idp_text() -> None:
    r = _receiver()
    status, _, elem, message = r.deliver(f"error=access_denied&error_description=End-User+aborted&state={'S' * 43}")
    assert (status, elem) == (400, "faas-pro-error")
    with pytest.raises(FaasProError) as e:
        r.wait(0.01)
    assert e.value.message == "the identity provider refused the login: access_denied: End-User aborted"
    assert message == e.value.message


def test_other_issuer_with_right_state_is_a_mix_up() -> None:
    r = _receiver()
    r.deliver(f"code=x&state={'S' * 43}&iss=http%3A%2F%2Fevil")
    with pytest.raises(FaasProError, match="came from issuer 'http://evil'"):
        r.wait(0.01)


def test_missing_token_with_right_state_is_an_error() -> None:
    r = _receiver(("id_token", "access_token"))
    r.deliver(f"id_token=x&state={'S' * 43}")
    with pytest.raises(FaasProError, match="has no access_token"):
        r.wait(0.01)


def test_timeout_names_the_timeout() -> None:
    with pytest.raises(FaasProError, match=r"within 0\.05s \(--timeout\)"):
        _receiver().wait(0.05)


def _disc(modes: tuple[str, ...] = ()) -> Discovery:
    return Discovery("http://idp", "http://idp/auth?p=x", "http://idp/token", "http://idp/jwks", modes, (), (), {})


def test_authorize_url_code_has_pkce_and_nonce() -> None:
    sec = AuthRequestSecrets()
    url, mode = authorize_url(
        _disc(),
        client_id="cli",
        redirect_uri="http://127.0.0.1:1/oauth/callback",
        grant="code",
        scopes=("openid", "email"),
        audience="urn:aud",
        secrets=sec,
    )
    q = parse_qs(urlsplit(url).query)
    assert mode is None and url.startswith("http://idp/auth?")
    assert q["p"] == ["x"] and q["response_type"] == ["code"] and q["scope"] == ["openid email"]
    assert q["code_challenge"] == [sec.code_challenge] and q["code_challenge_method"] == ["S256"]
    assert q["state"] == [sec.state] and q["nonce"] == [sec.nonce]
    assert q["audience"] == ["urn:aud"] and q["resource"] == ["urn:aud"]
    assert sec.code_verifier not in url


def test_authorize_url_implicit_asks_form_post_only_when_listed() -> None:
    kw = {
        "client_id": "c",
        "redirect_uri": "http://127.0.0.1:1/oauth/callback",
        "scopes": ("openid",),
        "audience": None,
    }
    url, mode = authorize_url(_disc(("query", "form_post")), grant="implicit", secrets=AuthRequestSecrets(), **kw)  # type: ignore[arg-type]
    q = parse_qs(urlsplit(url).query)
    assert mode == "form_post" and q["response_mode"] == ["form_post"] and q["response_type"] == ["id_token token"]
    assert "code_challenge" not in q
    url, mode = authorize_url(_disc(("query",)), grant="implicit-id", secrets=AuthRequestSecrets(), **kw)  # type: ignore[arg-type]
    q = parse_qs(urlsplit(url).query)
    assert mode is None and "response_mode" not in q and q["response_type"] == ["id_token"]
