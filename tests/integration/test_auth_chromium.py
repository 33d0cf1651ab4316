"""One login per browser grant in real headless Chromium: the IdP's pages, its form_post
auto-submit and the loopback's fragment relay page all run as they would for a user."""

from __future__ import annotations

from pathlib import Path

import pytest

from faas_pro.errors import EXIT_OK
from tests.support.authcli import CHROMIUM_BROWSER, auth_argv, verify_jwt, wait_browser_done
from tests.support.idp import IdP
from tests.support.inproc import run_cli

pytestmark = [pytest.mark.chromium, pytest.mark.slow]


def _login(idp: IdP, tmp_path: Path, *extra: str, env: dict[str, str] | None = None) -> tuple[str, list[dict]]:  # type: ignore[type-arg]
    log = tmp_path / "chromium.log"
    r = run_cli(
        *auth_argv(idp.issuer, "--no-exchange", "--print-token", *extra, browser=CHROMIUM_BROWSER),
        env={"TEST_BROWSER_LOG": str(log), **(env or {})},
        timeout=120,
    )
    steps = wait_browser_done(log, timeout=90)  # the browser outlives the CLI a little: let it finish
    assert r.returncode == EXIT_OK, (r.stderr, steps)
    assert steps[-1]["element"] == "#faas-pro-done", steps
    return r.stdout.strip(), steps


def test_code_pkce_in_chromium(idp: IdP, tmp_path: Path) -> None:
    token, _ = _login(idp, tmp_path)
    claims = verify_jwt(token, idp.jwks(), issuer=idp.issuer, audience="faas-gateway", alg="ES256")
    assert claims["sub"] == "user-alice"


def test_implicit_with_the_relay_page_in_chromium(idp: IdP, tmp_path: Path) -> None:
    token, steps = _login(
        idp, tmp_path, "--grant", "implicit", env={"FAAS_PRO_RESPONSE_MODE": "fragment", "TEST_BROWSER_USER": "bob"}
    )
    assert "#" not in steps[-1]["url"]  # the relay page removed the tokens from the address bar
    claims = verify_jwt(token, idp.jwks(), issuer=idp.issuer, audience="faas-gateway", alg="ES256")
    assert claims["sub"] == "user-bob"


def test_implicit_id_with_form_post_in_chromium(idp: IdP, tmp_path: Path) -> None:
    token, _ = _login(idp, tmp_path, "--grant", "implicit-id")
    claims = verify_jwt(token, idp.jwks(), issuer=idp.issuer, audience="faas-cli", alg="RS256")
    assert claims["sub"] == "user-alice" and claims["nonce"]
