"""The dashboard's sealed cookies: round trip, and every alteration is simply no session."""

from __future__ import annotations

import secrets

import pytest

from faas_pro.server.dashboard.session import Sealer, cookie_header, cookie_name
from tests.support.tokens import b64url, b64url_decode

NOW = 1_700_000_000.0


@pytest.fixture
def sealer() -> Sealer:
    return Sealer(secrets.token_bytes(32))


def test_round_trip(sealer: Sealer) -> None:
    value = sealer.seal("s", {"t": "tok", "exp": NOW + 60})
    assert "tok" not in value  # encrypted, not just signed
    assert sealer.open("s", value, NOW) == {"t": "tok", "exp": NOW + 60}


@pytest.mark.parametrize("where", [0, 5, 11, 12, 30, -1])
def test_any_changed_byte_is_refused(sealer: Sealer, where: int) -> None:
    value = sealer.seal("s", {"t": "tok", "exp": NOW + 60})
    blob = bytearray(b64url_decode(value))
    blob[where] ^= 0x01  # nonce (0-11), ciphertext, or the tag at the end
    bad = b64url(bytes(blob))
    assert sealer.open("s", bad, NOW) is None


def test_expired_foreign_purpose_and_other_key_are_refused(sealer: Sealer) -> None:
    value = sealer.seal("s", {"exp": NOW + 60})
    assert sealer.open("s", value, NOW + 61) is None
    assert sealer.open("login", value, NOW) is None  # a login cookie is not a session cookie
    assert Sealer(secrets.token_bytes(32)).open("s", value, NOW) is None
    assert sealer.open("s", sealer.seal("s", {"t": "no exp"}), NOW) is None


@pytest.mark.parametrize("value", [None, "", "!!!", "QUJD", "x" * 5000])
def test_garbage_is_no_session(sealer: Sealer, value: str | None) -> None:
    assert sealer.open("s", value, NOW) is None


def test_cookie_flags() -> None:
    assert cookie_name("sess", secure=True) == "__Host-sess"
    assert cookie_name("sess", secure=False) == "sess"
    h = cookie_header("__Host-sess", "v", max_age=30, secure=True)
    parts = h.split("; ")
    assert parts[0] == "__Host-sess=v"
    assert {"Path=/", "Max-Age=30", "HttpOnly", "SameSite=Lax", "Secure"} <= set(parts)
    assert not any(p.startswith("Domain") for p in parts)
    assert "Secure" not in cookie_header("sess", "v", max_age=30, secure=False).split("; ")
    assert "Max-Age=0" in cookie_header("sess", "", max_age=-5, secure=False)
