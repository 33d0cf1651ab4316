"""`faas-pro auth` end to end: the CLI as a subprocess, the real test IdP, an HTTP browser."""

from __future__ import annotations

import json
from pathlib import Path

import jwt

from faas_pro.errors import EXIT_ERROR, EXIT_OK, EXIT_UNREACHABLE
from tests.support.authcli import (
    HTTP_BROWSER,
    auth_argv,
    callback_of,
    config_dir,
    data_dir,
    saved_settings,
    saved_tokens,
    verify_jwt,
    wait_browser_done,
)
from tests.support.chromium import free_port
from tests.support.fakehttp import FakeHTTP
from tests.support.idp import IdP
from tests.support.inproc import run_cli

DEFAULT_GW = "http://127.0.0.1:8080"


def test_code_pkce_prints_a_token_that_verifies(idp: IdP, tmp_path: Path) -> None:
    r = run_cli(*auth_argv(idp.issuer, "--no-exchange", "--print-token"))
    assert r.returncode == EXIT_OK, r.stderr
    token = r.stdout.strip()
    assert r.stdout == token + "\n"  # stdout carries the token and nothing else
    claims = verify_jwt(token, idp.jwks(), issuer=idp.issuer, audience="faas-gateway", alg="ES256")
    assert claims["sub"] == "user-alice" and claims["client_id"] == "faas-cli"
    assert "code_challenge_method=S256" in r.stderr  # the URL is always printed on stderr
    assert "Logged in as alice" in r.stderr
    assert saved_settings()["gateways"][DEFAULT_GW] == {
        "authority": idp.issuer,
        "client_id": "faas-cli",
        "grant": "code",
        "port": 0,
        "par": "never",  # auth_argv's --par never, saved like every login flag
    }
    entry = saved_tokens()[DEFAULT_GW]
    assert entry["idp_access_token"] == token and entry["idp_issuer"] == idp.issuer
    assert "openfaas_token" not in entry
    verify_jwt(entry["idp_id_token"], idp.jwks(), issuer=idp.issuer, audience="faas-cli", alg="RS256")


def test_pretty_prints_the_decoded_token(idp: IdP) -> None:
    r = run_cli(*auth_argv(idp.issuer, "--no-exchange", "--pretty"))
    assert r.returncode == EXIT_OK, r.stderr
    doc = json.loads(r.stdout)
    assert set(doc) == {"header", "payload"}
    assert doc["header"]["alg"] == "ES256" and doc["payload"]["sub"] == "user-alice"
    assert r.stdout == json.dumps(doc, indent=2, sort_keys=True) + "\n"
    assert "UNVERIFIED" in r.stderr


def test_implicit_with_form_post(idp: IdP, tmp_path: Path) -> None:
    log = tmp_path / "browser.log"
    r = run_cli(
        *auth_argv(idp.issuer, "--grant", "implicit", "--no-exchange", "--print-token"),
        env={"TEST_BROWSER_LOG": str(log)},
    )
    assert r.returncode == EXIT_OK, r.stderr
    assert "response_mode=form_post" in r.stderr
    steps = wait_browser_done(log)
    assert [s["step"] for s in steps] == ["form_post", "final"]
    claims = verify_jwt(r.stdout.strip(), idp.jwks(), issuer=idp.issuer, audience="faas-gateway", alg="ES256")
    assert claims["sub"] == "user-alice"


def test_implicit_with_the_fragment_relay_page(idp: IdP, tmp_path: Path) -> None:
    log = tmp_path / "browser.log"
    r = run_cli(
        *auth_argv(idp.issuer, "--grant", "implicit", "--no-exchange", "--print-token"),
        env={"TEST_BROWSER_LOG": str(log), "FAAS_PRO_RESPONSE_MODE": "fragment"},
    )
    assert r.returncode == EXIT_OK, r.stderr
    assert "response_mode" not in r.stderr
    steps = wait_browser_done(log)
    assert steps[0] == {"step": "callback", "status": 200, "fragment": True}
    assert steps[-1]["status"] == 200 and 'id="faas-pro-done"' in steps[-1]["body"]
    verify_jwt(r.stdout.strip(), idp.jwks(), issuer=idp.issuer, audience="faas-gateway", alg="ES256")


def test_implicit_id_prints_the_id_token(idp: IdP) -> None:
    r = run_cli(*auth_argv(idp.issuer, "--grant", "implicit-id", "--no-exchange", "--print-token"))
    assert r.returncode == EXIT_OK, r.stderr
    assert "response_type=id_token&" in r.stderr
    claims = verify_jwt(r.stdout.strip(), idp.jwks(), issuer=idp.issuer, audience="faas-cli", alg="RS256")
    assert claims["sub"] == "user-alice" and claims["nonce"]
    assert "idp_access_token" not in saved_tokens()[DEFAULT_GW]


def test_second_run_reuses_saved_settings_and_flags_update_them(idp: IdP, tmp_path: Path) -> None:
    gw = "http://gw.example:8080"
    first = run_cli(*auth_argv(idp.issuer, "-g", gw, "--grant", "implicit", "--no-exchange"))
    assert first.returncode == EXIT_OK, first.stderr
    assert first.stdout == ""
    # only -g (the browser comes from BROWSER now): same authority, client, grant and port
    second = run_cli(
        "auth",
        "-g",
        gw,
        "--no-exchange",
        "--par",
        "never",  # the test reads the request's parameters in the URL
        "--print-token",
        "--scope",
        "openid",
        "--scope",
        "groups",
        env={"BROWSER": HTTP_BROWSER, "TEST_BROWSER_USER": "bob"},
    )
    assert second.returncode == EXIT_OK, second.stderr
    assert "response_type=id_token+token" in second.stderr and "scope=openid+groups" in second.stderr
    claims = verify_jwt(second.stdout.strip(), idp.jwks(), issuer=idp.issuer, audience="faas-gateway", alg="ES256")
    assert claims["sub"] == "user-bob"
    saved = saved_settings()["gateways"][gw]
    assert saved["grant"] == "implicit" and saved["scopes"] == ["openid", "groups"] and saved["port"] == 0


def _recorded_url(tmp_path: Path, *args: str) -> str:
    """Run `faas-pro auth ARGS` with a browser that only records the URL; the CLI then times out (2s)."""
    record = tmp_path / "recorded-url"
    record.unlink(missing_ok=True)
    argv = (*args, "--par", "never", "--browser-command", HTTP_BROWSER, "--timeout", "2s")
    r = run_cli(*argv, env={"TEST_BROWSER_RECORD": str(record)})
    assert r.returncode == EXIT_ERROR and "no login response arrived within 2s (--timeout)" in r.stderr, r.stderr
    return record.read_text()


def test_auth_with_only_the_gateway_repeats_the_saved_grant_and_scopes(idp: IdP, tmp_path: Path) -> None:
    gw = "https://gw-repeat.example:8080"  # never contacted; https: no --insecure-http needed
    first = run_cli(
        *auth_argv(idp.issuer, "-g", gw, "--grant", "implicit", "--scope", "openid", "--scope", "groups"),
        "--no-exchange",
    )
    assert first.returncode == EXIT_OK, first.stderr
    settings_before = (config_dir() / "settings.json").read_bytes()

    url = _recorded_url(tmp_path, "auth", "-g", gw)  # only -g: everything else is the saved settings
    assert url.startswith(idp.issuer + "/auth?")
    query = url.split("?", 1)[1]
    assert "response_type=id_token+token" in query or "response_type=id_token%20token" in query, url
    redirect_uri, params = callback_of(url)
    assert params["response_type"] == "id_token token"
    # the saved scopes, not the defaults (no profile/email); offline_access: the IdP lists it (refresh)
    assert params["scope"] == "openid groups offline_access"
    assert "scope=openid+groups" in query or "scope=openid%20groups" in query, url
    assert params["client_id"] == "faas-cli" and params["nonce"]
    port = int(redirect_uri.split(":")[2].split("/")[0])
    assert redirect_uri == f"http://127.0.0.1:{port}/oauth/callback" and port != 31111  # the saved --port 0
    assert (config_dir() / "settings.json").read_bytes() == settings_before  # a failed run changes nothing


def test_callback_port_defaults_to_31111(idp: IdP, tmp_path: Path) -> None:
    # The browser only records the URL and never connects: port 31111 is held for the 2 s of --timeout.
    # Where something else holds 31111 at that moment (another test run on this machine), the refusal
    # must name that port: either way the default is 31111, and nothing is saved. (Decided by the run
    # itself, not by a probe beforehand: a probe misses a socket that is bound but not listening.)
    record = tmp_path / "recorded-url"
    argv = ("auth", "--authority", idp.issuer, "--client-id", "faas-cli", "--no-exchange", "--par", "never")
    r = run_cli(*argv, "--browser-command", HTTP_BROWSER, "--timeout", "2s", env={"TEST_BROWSER_RECORD": str(record)})
    assert r.returncode == EXIT_ERROR, r.stderr
    if record.exists():
        assert "no login response arrived within 2s (--timeout)" in r.stderr, r.stderr
        redirect_uri, params = callback_of(record.read_text())
        assert redirect_uri == "http://127.0.0.1:31111/oauth/callback"
        assert params["response_type"] == "code" and params["scope"].split()[:3] == ["openid", "profile", "email"]
    else:  # 31111 taken by someone else right now: in use, or not free yet
        assert "port 31111 on 127.0.0.1 is " in r.stderr, r.stderr
    assert not (config_dir() / "settings.json").exists()


def test_gateway_without_token_endpoint_saves_the_idp_token(idp: IdP) -> None:
    with FakeHTTP() as no_exchange:  # every path: 404
        gw = no_exchange.url
        r = run_cli(*auth_argv(idp.issuer, "-g", gw, "--print-token"))
    assert r.returncode == EXIT_OK, r.stderr
    assert f"the gateway {gw} has no token endpoint" in r.stderr and "no token exchange was done" in r.stderr
    entry = saved_tokens()[gw]
    assert "openfaas_token" not in entry and entry["idp_access_token"] == r.stdout.strip()


def test_gateway_unreachable_names_it_and_saves_nothing(idp: IdP) -> None:
    gw = f"http://127.0.0.1:{free_port()}"
    r = run_cli(*auth_argv(idp.issuer, "-g", gw, "--print-token"))
    assert r.returncode == EXIT_UNREACHABLE, r.stderr
    assert f"cannot reach the gateway at {gw}/oauth/token" in r.stderr
    assert r.stdout == "" and "Traceback" not in r.stderr


def test_client_secret_on_argv_warns_and_is_never_saved(idp: IdP) -> None:
    secret = "SENTINEL-secret-4711"
    r = run_cli(*auth_argv(idp.issuer, "--no-exchange", "--client-secret", secret))
    assert "--client-secret on the command line is visible" in r.stderr
    # faas-cli is a public client: the IdP refuses client authentication it did not register
    assert r.returncode == EXIT_ERROR
    assert "the identity provider's token endpoint refused the request: invalid_client" in r.stderr
    assert secret not in r.stderr and secret not in r.stdout
    for d in (config_dir(), data_dir()):
        for f in d.rglob("*") if d.exists() else []:
            if f.is_file():
                assert secret.encode() not in f.read_bytes(), f


def test_jwt_access_token_is_verified_against_the_issuer_keys(idp: IdP) -> None:
    """The access token is for another audience, yet its signature and issuer check out: no warning."""
    r = run_cli(*auth_argv(idp.issuer, "--no-exchange"))
    assert r.returncode == EXIT_OK, r.stderr
    assert "does not verify" not in r.stderr and "opaque" not in r.stderr
    at = saved_tokens()[DEFAULT_GW]["idp_access_token"]
    assert jwt.get_unverified_header(at)["typ"] == "at+jwt"
