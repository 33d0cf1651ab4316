"""How the loopback callback socket is bound (RFC 8252 §7.3, §8.3): the socket options chosen per
platform, binding the same port again right after a login, and the message for a port that is taken.
Real sockets on 127.0.0.1; the receiver runs in-process."""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator

import httpx
import pytest

from faas_pro.errors import EXIT_ERROR, FaasProError
from faas_pro.oauth.loopback import LoopbackReceiver, parse_redirect_host, socket_options
from tests.support.chromium import free_port

STATE = "S" * 43


def _receiver(port: int) -> LoopbackReceiver:
    return LoopbackReceiver(parse_redirect_host(None), port, state=STATE, issuer="http://idp", required=("code",))


def test_windows_never_sets_so_reuseaddr() -> None:
    # on Windows SO_REUSEADDR lets another socket bind a port that is in use: exclusive use only
    assert socket_options("win32") == ("SO_EXCLUSIVEADDRUSE",)
    assert "SO_REUSEADDR" not in socket_options("win32")


@pytest.mark.parametrize("platform", ["linux", "darwin"])
def test_linux_and_macos_rebind_over_time_wait(platform: str) -> None:
    assert socket_options(platform) == ("SO_REUSEADDR",)


@pytest.mark.parametrize("platform", ["win32", "linux", "darwin", "freebsd14", "cygwin", "emscripten"])
def test_no_platform_shares_a_live_port(platform: str) -> None:
    assert "SO_REUSEPORT" not in socket_options(platform)
    assert not ({"SO_REUSEADDR", "SO_EXCLUSIVEADDRUSE"} <= set(socket_options(platform)))


def test_the_bound_socket_carries_this_platforms_options() -> None:
    r = _receiver(0)
    r.start()
    try:
        assert r._server is not None
        sock = r._server.socket
        wanted = socket_options(sys.platform)
        assert bool(sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR)) == ("SO_REUSEADDR" in wanted)
        if hasattr(socket, "SO_REUSEPORT"):
            assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) == 0
    finally:
        r.close()


def test_the_same_port_binds_again_right_after_a_login() -> None:
    # The receiver answers over HTTP/1.0 and closes first, so its side of the connection stays in
    # TIME_WAIT on the callback port for a minute after every login.
    port = free_port()
    for _ in range(3):
        r = _receiver(port)
        r.start()
        try:
            got = httpx.get(f"http://127.0.0.1:{port}/oauth/callback?code=c&state={STATE}", timeout=10)
            assert got.status_code == 200
            assert r.wait(1)["code"] == "c"
        finally:
            r.close()


@pytest.fixture
def bound_not_listening() -> Iterator[int]:
    """A port held by a socket that is bound without listening (nothing answers on it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        yield int(s.getsockname()[1])


def test_a_port_held_without_a_listener_is_not_called_in_use(bound_not_listening: int) -> None:
    port = bound_not_listening
    with pytest.raises(FaasProError) as e:
        _receiver(port).start()
    assert e.value.exit_code == EXIT_ERROR
    assert e.value.message == f"port {port} on 127.0.0.1 is not free yet, though nothing listens there"
    assert "in use" not in e.value.line() and "--port 0" in e.value.line()


@pytest.mark.parametrize("address", ["127.0.0.1", "0.0.0.0", "::"])  # the wildcards cover 127.0.0.1 too
@pytest.mark.parametrize("reuse", [False, True], ids=["plain", "reuseaddr"])
def test_a_live_listener_is_refused_and_named(address: str, reuse: bool) -> None:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    if family == socket.AF_INET6 and not socket.has_dualstack_ipv6():
        pytest.skip("no dual-stack IPv6 here")
    with socket.socket(family) as s:
        if family == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)  # "::" then takes 0.0.0.0's port too
        if reuse:  # the other listener opted in as well: still no second live listener on Linux
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((address, 0))
        s.listen()
        port = int(s.getsockname()[1])
        with pytest.raises(FaasProError) as e:
            _receiver(port).start()
    assert e.value.exit_code == EXIT_ERROR
    assert e.value.message == f"port {port} on 127.0.0.1 is already in use"
    assert e.value.hint is not None and "--port 0" in e.value.hint
