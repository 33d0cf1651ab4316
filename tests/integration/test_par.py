"""Pushed authorization requests (RFC 9126) with the real test IdP, which lists
``pushed_authorization_request_endpoint``: by default (``--par auto``) the browser grants push the
request and open only ``client_id`` + ``request_uri``; ``--par never`` opens the full request;
``--par always`` with an IdP that lists no endpoint is a usage error before any browser."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from faas_pro.errors import EXIT_OK, EXIT_USAGE
from tests.support.authcli import HTTP_BROWSER, saved_tokens, verify_jwt
from tests.support.fakehttp import FakeHTTP, json_answer
from tests.support.idp import IdP
from tests.support.inproc import run_cli


def argv(issuer: str, *extra: str) -> list[str]:
    return [
        "auth", "--authority", issuer, "--client-id", "faas-cli", "--port", "0", "--browser-command", HTTP_BROWSER,
        "--timeout", "60s", "--no-exchange", "--print-token", *extra,
    ]  # fmt: skip


def opened_url(stderr: str) -> str:
    lines = stderr.splitlines()
    return lines[lines.index("Opened a browser to log in. If it did not open, visit this URL:") + 1]


@pytest.mark.parametrize("grant", ["code", "implicit"])
def test_login_pushes_the_request_by_default(idp: IdP, grant: str) -> None:
    assert idp.discovery.get("pushed_authorization_request_endpoint")
    r = run_cli(*argv(idp.issuer, "--grant", grant))
    assert r.returncode == EXIT_OK, r.stderr
    url = opened_url(r.stderr)
    assert url.startswith(idp.discovery["authorization_endpoint"] + "?")
    q = parse_qs(urlsplit(url).query)
    assert set(q) == {"client_id", "request_uri"} and q["client_id"] == ["faas-cli"]
    assert q["request_uri"][0].startswith("urn:ietf:params:oauth:request_uri:")
    assert "code_challenge" not in url and "nonce" not in url and "scope" not in url
    claims = verify_jwt(r.stdout.strip(), idp.jwks(), issuer=idp.issuer, audience="faas-gateway", alg="ES256")
    assert claims["sub"] == "user-alice"  # the pushed request led to a real login
    assert saved_tokens()["http://127.0.0.1:8080"]["idp_issuer"] == idp.issuer


def test_par_never_opens_the_full_request_and_is_remembered(idp: IdP) -> None:
    r = run_cli(*argv(idp.issuer, "--par", "never", "--no-refresh"))
    assert r.returncode == EXIT_OK, r.stderr
    q = parse_qs(urlsplit(opened_url(r.stderr)).query)
    assert "request_uri" not in q and q["code_challenge_method"] == ["S256"]
    # the next login for this gateway, with no flags but the test browser, repeats the choice
    again = run_cli("auth", "--browser-command", HTTP_BROWSER, "--timeout", "60s", "--no-exchange", "--print-token")
    assert again.returncode == EXIT_OK, again.stderr
    q = parse_qs(urlsplit(opened_url(again.stderr)).query)
    assert "request_uri" not in q and q["client_id"] == ["faas-cli"] and q["code_challenge_method"] == ["S256"]


def test_par_always_without_the_endpoint_is_a_usage_error(idp: IdP) -> None:
    doc = {k: v for k, v in idp.discovery.items() if k != "pushed_authorization_request_endpoint"}

    with FakeHTTP() as no_par:
        url = no_par.url
        no_par.on("/.well-known/openid-configuration", json_answer({**doc, "issuer": url}))
        r = run_cli(*argv(url, "--par", "always"))
    assert r.returncode == EXIT_USAGE
    assert r.stderr == (
        f"--par always: the discovery document of {url} lists no pushed_authorization_request_endpoint;"
        " use --par auto or --par never with this identity provider\n"
    )


def test_a_bad_par_value_is_a_usage_error(idp: IdP) -> None:
    r = run_cli(*argv(idp.issuer, "--par", "sometimes"))
    assert (r.returncode, r.stderr) == (EXIT_USAGE, "--par must be one of never, auto, always, not 'sometimes'\n")
