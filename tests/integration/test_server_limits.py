"""Slow and greedy clients against a running ``faas-pro serve`` (docs/server-limits.md): hundreds of
half-open and idle connections while legitimate requests are answered within 2 s, 503 beyond the
in-flight cap, header / body / keep-alive deadlines, no traceback on stderr."""

from __future__ import annotations

import resource
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.gateway import Server, issuer_yaml, policy_yaml, role_yaml, running, serve_args, write_iam
from tests.support.inproc import run_cli
from tests.support.issuer import FakeIssuer, bearer, exchange

GATEWAY = "http://gateway.test"
NOFILE = 512  # the gateway's open-file limit in these tests (soft and hard: it cannot raise it)


def _nofile(limit: int) -> Callable[[], None]:
    def set_limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))

    return set_limit


def _iam(root: Path, good: FakeIssuer, slow: FakeIssuer) -> Path:
    return write_iam(
        root,
        issuer_yaml("good", good.iss, ["fake-aud"])
        + issuer_yaml("slow", slow.iss, ["fake-aud"])
        + policy_yaml("dev", ["Function:*", "Namespace:List"], ["dev:*"])
        + role_yaml("dev", ["dev"], principal=["dev"]),
    )


@pytest.fixture(scope="module")
def issuers() -> Iterator[tuple[FakeIssuer, FakeIssuer]]:
    good, slow = FakeIssuer(), FakeIssuer()
    slow.mode = "slow"
    yield good, slow
    good.close()
    slow.close()


def _start(root: Path, key: Path, issuers: tuple[FakeIssuer, FakeIssuer], *extra: str, nofile: int = NOFILE) -> Any:
    iam = _iam(root, *issuers)
    return running(serve_args(iam, key, root / "state", GATEWAY, "--namespace", "dev", *extra), None, _nofile(nofile))


def _addr(server: Server) -> tuple[str, int]:
    host, port = server.url.removeprefix("http://").rsplit(":", 1)
    return host, int(port)


def _timed(call: Callable[[], httpx.Response]) -> tuple[int, float]:
    t0 = time.monotonic()
    status = call().status_code
    return status, time.monotonic() - t0


def _no_traceback(server: Server) -> None:
    err = server.stderr()
    assert "Traceback" not in err and "Errno 24" not in err, err[-3000:]


def test_half_open_and_idle_connections_do_not_starve_the_gateway(
    tmp_path: Path, gateway_key: Path, issuers: tuple[FakeIssuer, FakeIssuer]
) -> None:
    good = issuers[0]
    with _start(tmp_path, gateway_key, issuers) as gw:
        token = exchange(gw.url, good.mint(good.claims(sub="dev"))).json()["access_token"]
        held: list[socket.socket] = []
        try:
            # 300 that send half a request header and wait, 300 that connect and send nothing:
            # more than the gateway's 512 descriptors
            for i in range(600):
                s = socket.create_connection(_addr(gw), timeout=5)
                if i % 2 == 0:
                    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: gateway\r\nX-Slow: ")
                held.append(s)
            for _ in range(3):
                with httpx.Client(timeout=5) as c:
                    status, took = _timed(lambda: c.get(gw.url + "/healthz"))
                    assert status == 200 and took < 2, (status, took)
                    status, took = _timed(
                        lambda: c.get(gw.url + "/system/functions?namespace=dev", headers=bearer(token))
                    )
                    assert status == 200 and took < 2, (status, took)
                time.sleep(0.2)
            gw.wait_log("connection cap")  # the cap (fitted to 512 descriptors) closed the oldest idle ones
        finally:
            for s in held:
                s.close()
        with httpx.Client(timeout=5) as c:
            assert c.get(gw.url + "/healthz").status_code == 200
        _no_traceback(gw)


def test_beyond_the_in_flight_cap_answers_503_at_once(
    tmp_path: Path, gateway_key: Path, issuers: tuple[FakeIssuer, FakeIssuer]
) -> None:
    with _start(tmp_path, gateway_key, issuers, "--max-requests-in-flight", "2", "--body-timeout", "3") as gw:
        # two requests whose bodies never finish hold the two slots (the app waits for the body)
        holders = [socket.create_connection(_addr(gw), timeout=5) for _ in range(2)]
        try:
            for h in holders:
                h.sendall(b"POST /oauth/token HTTP/1.1\r\nHost: gateway\r\nContent-Length: 100\r\n\r\ngrant_type=")
            time.sleep(0.3)
            status, took = _timed(lambda: httpx.get(gw.url + "/healthz", timeout=5))
            assert status == 503 and took < 0.5, (status, took)
            # the body deadline frees the slots
            for h in holders:
                _closed_within(h, 6)
        finally:
            for h in holders:
                h.close()
        assert httpx.get(gw.url + "/healthz", timeout=5).status_code == 200
        gw.wait_log("requests in flight")
        _no_traceback(gw)


def test_at_the_connection_cap_with_every_connection_busy_a_new_one_gets_503(
    tmp_path: Path, gateway_key: Path, issuers: tuple[FakeIssuer, FakeIssuer]
) -> None:
    with _start(tmp_path, gateway_key, issuers, "--max-connections", "3", "--body-timeout", "3") as gw:
        busy = [socket.create_connection(_addr(gw), timeout=5) for _ in range(3)]
        try:
            for b in busy:  # in a request (its body unfinished): not closed to make room
                b.sendall(b"POST /oauth/token HTTP/1.1\r\nHost: gateway\r\nContent-Length: 100\r\n\r\ngrant_type=")
            time.sleep(0.3)
            status, took = _timed(lambda: httpx.get(gw.url + "/healthz", timeout=5))
            assert status == 503 and took < 0.5, (status, took)
        finally:
            for b in busy:
                b.close()
        time.sleep(0.3)
        assert httpx.get(gw.url + "/healthz", timeout=5).status_code == 200
        gw.wait_log("connection cap (3) reached with every connection in a request")
        _no_traceback(gw)


def _closed_within(sock: socket.socket, seconds: float, t0: float | None = None) -> tuple[bytes, float]:
    """Read until the server closes the connection; what it sent and when (since ``t0``)."""
    t0 = time.monotonic() if t0 is None else t0
    sock.settimeout(seconds)
    got = b""
    while True:
        chunk = sock.recv(4096)
        if not chunk:
            return got, time.monotonic() - t0
        got += chunk


def test_header_body_and_keep_alive_deadlines(
    tmp_path: Path, gateway_key: Path, issuers: tuple[FakeIssuer, FakeIssuer]
) -> None:
    args = ("--header-timeout", "1", "--body-timeout", "1", "--keep-alive-timeout", "1")
    with _start(tmp_path, gateway_key, issuers, *args) as gw:
        half = socket.create_connection(_addr(gw), timeout=5)
        idle = socket.create_connection(_addr(gw), timeout=5)
        body = socket.create_connection(_addr(gw), timeout=5)
        kept = socket.create_connection(_addr(gw), timeout=5)
        try:
            half.sendall(b"GET /healthz HTTP/1.1\r\nHost: gateway\r\n")
            body.sendall(b"POST /oauth/token HTTP/1.1\r\nHost: gateway\r\nContent-Length: 100\r\n\r\ngrant_type")
            kept.sendall(b"GET /healthz HTTP/1.1\r\nHost: gateway\r\n\r\n")
            t0 = time.monotonic()
            got, took = _closed_within(half, 5, t0)
            assert got.startswith(b"HTTP/1.1 408 ") and 0.8 < took < 3, (got, took)
            got, took = _closed_within(idle, 5, t0)
            assert got == b"" and took < 3
            got, took = _closed_within(body, 5, t0)
            assert b" 200 " not in got and took < 3, (got, took)
            got, took = _closed_within(kept, 5, t0)  # answered, then closed once idle for 1 s
            assert got.startswith(b"HTTP/1.1 200 ") and 0.8 < took < 3, (got, took)
        finally:
            for s in (half, idle, body, kept):
                s.close()
        gw.wait_log("no complete request headers within 1 s")
        _no_traceback(gw)


@pytest.mark.parametrize(
    "flag", [("--workers", "0"), ("--header-timeout", "0"), ("--max-connections", "0"), ("--body-timeout", "-1")]
)
def test_bad_limit_flags_are_one_line(tmp_path: Path, gateway_key: Path, flag: tuple[str, str]) -> None:
    iam = write_iam(tmp_path, policy_yaml("p", ["*"], ["*"]))
    r = run_cli("serve", *serve_args(iam, gateway_key, tmp_path / "state"), *flag, timeout=30)
    assert r.returncode == 2 and flag[0] in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
