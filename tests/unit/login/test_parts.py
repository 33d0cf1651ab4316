"""Small parts of the login: the grant table, the browser decision, the token entry, the lock wait."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import pytest

from faas_pro.errors import AuthRequired, FaasProError
from faas_pro.oauth.browser import choose_browser
from faas_pro.oauth.flows import GRANTS
from faas_pro.oauth.progress import Progress
from faas_pro.storage.entry import FORMAT_KEY, TokenEntry, UnknownEntryFormat
from faas_pro.storage.lock import LockBusy, gateway_lock
from faas_pro.usecases.login.context import locked
from faas_pro.usecases.login.grants import RUNNERS
from tests.support.loginworld import GATEWAY, FakeWorld, make_deps, recorder, stderr_of


def test_every_grant_has_exactly_one_runner() -> None:
    assert set(RUNNERS) == set(GRANTS)


@pytest.mark.parametrize(
    ("kw", "env", "available", "reason"),
    [
        ({"no_browser": True}, {"BROWSER": "x"}, False, "--no-browser"),
        ({"command": "open-it --new"}, {"SSH_TTY": "/dev/pts/1"}, True, ""),
        ({}, {"BROWSER": "firefox"}, True, ""),
        ({}, {"SSH_CONNECTION": "1 2 3 4"}, False, "this is an SSH session"),
        ({}, {}, False, "there is no display (DISPLAY/WAYLAND_DISPLAY unset)"),
        ({}, {"DISPLAY": ":0"}, True, ""),
    ],
)
def test_one_browser_decision(kw: dict[str, object], env: dict[str, str], available: bool, reason: str) -> None:
    b = choose_browser(no_browser=bool(kw.get("no_browser")), command=kw.get("command"), env=env, platform="linux")  # type: ignore[arg-type]
    assert (b.available, b.reason) == (available, reason)


def test_an_injected_opener_stands_in_for_the_default_browser_but_not_for_no_browser() -> None:
    opened: list[str] = []
    b = choose_browser(no_browser=False, command=None, env={}, opener=recorder(opened), platform="linux")
    assert b.available and b.open("https://idp.test/auth") and opened == ["https://idp.test/auth"]
    with pytest.raises(FaasProError, match="not http"):
        b.open("file:///etc/passwd")
    declined = choose_browser(no_browser=True, command=None, env={}, opener=lambda u: True)
    assert not declined.available and declined.declined and declined.open("https://idp.test") is False


def test_token_entry_round_trip_and_format() -> None:
    e = TokenEntry(openfaas_token="t", idp_issuer="https://i", idp_client_id="c", idp_refresh_token="r")
    d = e.to_dict()
    assert d == {"openfaas_token": "t", "idp_issuer": "https://i", "idp_client_id": "c", "idp_refresh_token": "r"}
    assert FORMAT_KEY not in d  # format 1: the keys every faas-pro so far has written
    assert TokenEntry.from_dict({**d, "future_key": "x", "idp_id_token": ""}) == e
    assert e.refreshable_by("https://i", "c") and not e.refreshable_by("https://i", "other")
    with pytest.raises(UnknownEntryFormat) as info:
        TokenEntry.from_dict({FORMAT_KEY: "2"}, GATEWAY)
    assert isinstance(info.value, AuthRequired) and f"run faas-pro auth -g {GATEWAY}" in info.value.line()


def test_locked_waits_only_for_lock_busy(tmp_path: Path) -> None:
    world = FakeWorld()
    deps = make_deps(tmp_path, world)
    deps.verbose = True
    release = threading.Event()
    held = threading.Event()

    def hold() -> None:
        with gateway_lock(deps.data_dir, GATEWAY):
            held.set()
            release.wait(10)

    t = threading.Thread(target=hold)
    t.start()
    assert held.wait(10)
    with pytest.raises(LockBusy), locked(deps, GATEWAY, 0.05, Progress(io.StringIO())):
        pass
    assert "waiting for another faas-pro run" in stderr_of(deps)
    release.set()
    t.join(10)


def test_locked_does_not_mistake_another_failure_for_busy(tmp_path: Path) -> None:
    world = FakeWorld()
    (tmp_path / "file").write_text("x")
    deps = make_deps(tmp_path, world)
    deps._data_dir = tmp_path / "file"  # the lock directory cannot be created under a file
    deps.verbose = True
    with pytest.raises(FaasProError) as info, locked(deps, GATEWAY, 60, Progress(io.StringIO())):
        pass
    assert not isinstance(info.value, LockBusy) and "cannot create the directory" in info.value.message
    assert "waiting" not in stderr_of(deps)  # it failed at once, without waiting 60 s
