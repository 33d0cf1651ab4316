"""Device flow (RFC 8628) against the real test IdP: the test acts as the second device, over plain
HTTP (``drive_login``) and once in real headless Chromium, while ``device_login`` polls with the
real clock (the fixtures set IDP_DEVICE_INTERVAL=1)."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from faas_pro.errors import FaasProError
from faas_pro.oauth.device import DevicePrompt
from faas_pro.oauth.token_endpoint import TokenEndpointError
from tests.support.device import check_access_token, login, second_device
from tests.support.idp import IdP


def test_device_login_approved_over_http(idp: IdP) -> None:
    on_prompt, seen = second_device(idp)
    out = login(idp, on_prompt, ["openid", "profile", "email"])
    seen["thread"].join(10)
    assert "error" not in seen
    assert 'id="device-success"' in seen["last"].text
    p: DevicePrompt = seen["prompt"]
    assert p.interval == 1 and p.verification_uri == f"{idp.issuer}/device"
    assert p.verification_uri_complete == f"{idp.issuer}/device?user_code={p.user_code}"
    claims = check_access_token(idp, out["access_token"])
    assert claims["email"] == "alice@example.test"
    assert out["id_token"].count(".") == 2


def test_device_login_denied_is_access_denied(idp: IdP) -> None:
    on_prompt, seen = second_device(idp, approve=False)
    with pytest.raises(TokenEndpointError) as e:
        login(idp, on_prompt, ["openid"])
    seen["thread"].join(10)
    assert e.value.error == "access_denied"
    assert any(path.endswith("/abort") for path in seen["posts"])  # Deny was really pressed
    assert e.value.line().startswith("the device login was denied at the identity provider (access_denied")


def test_device_login_times_out_when_nobody_approves(idp: IdP) -> None:
    shown: list[DevicePrompt] = []
    start = time.monotonic()
    with pytest.raises(FaasProError, match=r"timed out after 1\.5s waiting for the device login"):
        login(idp, shown.append, ["openid"], timeout=1.5)
    assert len(shown) == 1
    assert time.monotonic() - start < 10


@pytest.mark.chromium
def test_device_login_approved_in_headless_chromium(idp: IdP) -> None:
    from tests.support.chromium import chromium_session

    seen: dict[str, Any] = {}

    def in_browser(p: DevicePrompt) -> None:
        def go() -> None:
            try:
                with chromium_session() as d:
                    d.go(p.verification_uri)  # type the code by hand, as a person would
                    d.type("input[name=user_code]", p.user_code)
                    d.click("#continue")
                    d.find("#user-code")  # the confirm page, not the code page that is being left
                    d.click("#continue")  # confirm the device
                    d.type("#username", "bob")
                    d.type("#password", "bob-password")
                    d.click("#sign-in")
                    d.click("#approve")
                    seen["done"] = d.text("#device-success")
            except Exception as e:  # reported by the assertion below
                seen["error"] = e

        t = threading.Thread(target=go, daemon=True)
        seen["thread"] = t
        t.start()

    out = login(idp, in_browser, ["openid", "email"], timeout=60)
    seen["thread"].join(30)
    assert "error" not in seen, seen.get("error")
    assert "signed in" in seen["done"]
    assert check_access_token(idp, out["access_token"])["email"] == "bob@example.test"
