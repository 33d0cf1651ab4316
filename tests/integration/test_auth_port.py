"""`faas-pro auth` on one fixed callback port, as with an IdP that wants its exact registered redirect
URI: login after login binds the port again at once (the previous login's connection is still in
TIME_WAIT), and a port where something really listens is still refused, naming the port."""

from __future__ import annotations

import socket
from urllib.parse import quote

import pytest

from faas_pro.errors import EXIT_ERROR, EXIT_OK
from faas_pro.oauth.loopback import DEFAULT_PORT
from tests.support.authcli import auth_argv, saved_tokens
from tests.support.chromium import free_port
from tests.support.idp import IdP
from tests.support.inproc import run_cli

GW = "http://127.0.0.1:8080"


def _fixed_port() -> int:
    """The default port when it is free now (other runs on this machine may hold it), else another."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the receiver binds on Linux
        try:
            probe.bind(("127.0.0.1", DEFAULT_PORT))
        except OSError:
            return free_port()
    return DEFAULT_PORT


def test_three_logins_in_a_row_on_one_fixed_port(idp: IdP) -> None:
    port = _fixed_port()
    argv = auth_argv(idp.issuer, "--no-exchange", "--print-token")
    at = argv.index("--port")
    if port == DEFAULT_PORT:
        del argv[at : at + 2]  # the default, as a new user runs it
    else:
        argv[at + 1] = str(port)
    redirect = quote(f"http://127.0.0.1:{port}/oauth/callback", safe="")
    tokens = []
    for attempt in range(3):
        r = run_cli(*argv)
        assert r.returncode == EXIT_OK, f"login {attempt + 1} on port {port}: {r.stderr}"
        assert f"redirect_uri={redirect}" in r.stderr  # the printed authorization URL
        tokens.append(r.stdout.strip())
    assert len(set(tokens)) == 3 and saved_tokens()[GW]["idp_access_token"] == tokens[-1]


@pytest.mark.parametrize("address", ["127.0.0.1", "0.0.0.0"])  # the wildcard covers 127.0.0.1 too
def test_a_live_listener_still_refuses_the_login(idp: IdP, address: str) -> None:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # even one that opted in to reuse
        s.bind((address, 0))
        s.listen()
        port = s.getsockname()[1]
        argv = auth_argv(idp.issuer, "--no-exchange")
        argv[argv.index("--port") + 1] = str(port)
        r = run_cli(*argv)
    assert r.returncode == EXIT_ERROR
    assert f"port {port} on 127.0.0.1 is already in use" in r.stderr and "--port 0" in r.stderr
    assert "Traceback" not in r.stderr
