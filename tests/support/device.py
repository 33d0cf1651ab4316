"""The device flow (RFC 8628) against the real test IdP, with the test as the second device:
``second_device`` approves (or denies) the code in a thread as a phone would, ``login`` runs
``device_login`` with the real clock, ``check_access_token`` verifies what it got."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import httpx

from faas_pro.oauth.device import DevicePrompt, device_login
from faas_pro.tokens import VerifyOptions, jwks_lookup, verify
from tests.support.idp import IdP, drive_login


def second_device(idp: IdP, approve: bool = True) -> tuple[Callable[[DevicePrompt], None], dict[str, Any]]:
    """An on_prompt that approves (or denies) the code in a thread, as a phone would."""
    seen: dict[str, Any] = {}

    def approve_it(p: DevicePrompt) -> None:
        seen["prompt"] = p
        assert p.verification_uri_complete is not None

        def go() -> None:
            posts: list[str] = seen.setdefault("posts", [])
            hooks = {"request": [lambda r: posts.append(r.url.path) if r.method == "POST" else None]}
            with httpx.Client(timeout=10, event_hooks=hooks) as c:
                try:
                    seen["last"] = drive_login(c, idp.issuer, p.verification_uri_complete or "", approve=approve)
                except AssertionError as e:  # after Deny the IdP's pages loop back to the code form
                    seen["error"] = e

        t = threading.Thread(target=go, daemon=True)
        seen["thread"] = t
        t.start()

    return approve_it, seen


def login(
    idp: IdP, on_prompt: Callable[[DevicePrompt], None], scopes: list[str], timeout: float = 30
) -> dict[str, Any]:
    with httpx.Client(timeout=10) as http:
        return device_login(
            http,
            idp.discovery,
            "faas-cli",
            scopes,
            timeout=timeout,
            on_prompt=on_prompt,
            clock=time.time,
            sleep=time.sleep,
        )


def check_access_token(idp: IdP, token: str) -> dict[str, Any]:
    return verify(
        token,
        jwks_lookup(idp.jwks()),
        VerifyOptions(issuer=idp.issuer, audiences=("faas-gateway",), typ=("at+jwt",)),
        time.time(),
    )
