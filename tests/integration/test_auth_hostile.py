"""Hostile and broken inputs to `faas-pro auth`, one flaw per test (SECURITY.md rules 2, 5, 6, 8).

The CLI runs as a subprocess whose "browser" only records the authorization URL
(``TEST_BROWSER_RECORD``); the test then talks to the CLI's loopback with a real HTTP client and,
where the login should still complete, plays the real browser afterwards.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from faas_pro.errors import EXIT_ERROR, EXIT_OK, EXIT_UNREACHABLE
from tests.support import http_browser
from tests.support.authcli import auth_argv, callback_of, config_dir, data_dir, verify_jwt, wait_for_file
from tests.support.chromium import free_port
from tests.support.fakehttp import FakeHTTP, text_answer
from tests.support.idp import IdP
from tests.support.inproc import run_cli, start_cli, stop_cli
from tests.support.tokens import mint, new_key


class Login:
    """A CLI login in progress: its process, the URL it opened, its callback and state."""

    def __init__(self, proc: subprocess.Popen[str], url: str) -> None:
        self.proc, self.url = proc, url
        self.callback, self.params = callback_of(url)
        self.state = self.params["state"]

    def finish(self, timeout: float = 60) -> tuple[int, str, str]:
        out, err = self.proc.communicate(timeout=timeout)
        return self.proc.returncode, out, err


@pytest.fixture
def login(idp: IdP, tmp_path: Path) -> Iterator[Login]:
    record = tmp_path / "url.txt"
    proc = start_cli(*auth_argv(idp.issuer, "--no-exchange", "--print-token"), env={"TEST_BROWSER_RECORD": str(record)})
    try:
        yield Login(proc, wait_for_file(record))
    finally:
        stop_cli(proc)


def test_wrong_state_is_refused_and_the_login_still_completes(login: Login, idp: IdP) -> None:
    r = httpx.get(login.callback, params={"code": "stolen", "state": "not-the-state"})
    assert r.status_code == 400 and 'id="faas-pro-rejected"' in r.text
    assert http_browser.browse(login.url).status_code == 200
    code, out, err = login.finish()
    assert code == EXIT_OK, err
    verify_jwt(out.strip(), idp.jwks(), issuer=idp.issuer, audience="faas-gateway", alg="ES256")


def test_missing_state_is_refused_and_the_login_still_completes(login: Login) -> None:
    r = httpx.get(login.callback, params={"code": "stolen"})
    assert r.status_code == 400
    r = httpx.get(login.callback, params={"error": "access_denied"})  # an error without state is ignored too
    assert r.status_code == 400
    assert http_browser.browse(login.url).status_code == 200
    code, out, err = login.finish()
    assert code == EXIT_OK, err
    assert out.count(".") == 2


def test_access_denied_with_the_right_state_stops_with_the_idp_text(login: Login) -> None:
    desc = "<script>alert(1)</script> said no"
    r = httpx.get(login.callback, params={"error": "access_denied", "error_description": desc, "state": login.state})
    assert r.status_code == 400
    assert "<script>alert" not in r.text and "&lt;script&gt;alert(1)&lt;/script&gt; said no" in r.text
    code, out, err = login.finish()
    assert code == EXIT_ERROR and out == ""
    assert err.strip().endswith(f"the identity provider refused the login: access_denied: {desc}")
    assert "Traceback" not in err


_EXIT_AT_ONCE = """
import os, sys
from faas_pro.oauth.loopback import LoopbackReceiver, parse_redirect_host
r = LoopbackReceiver(parse_redirect_host(None), 0, state="S" * 43, issuer="http://idp", required=("code",))
r.start()
print(r.port, flush=True)
try:
    r.wait(30)
finally:
    os._exit(3)  # the harshest CLI: gone the instant the login's outcome is known
"""


def test_the_error_page_is_whole_even_when_the_cli_exits_at_once() -> None:
    # the CLI stops as soon as the IdP's error arrives; the browser must still get the whole page
    # (it used to be cut off now and then: the login went on before the page was written)
    for _ in range(8):
        with subprocess.Popen([sys.executable, "-c", _EXIT_AT_ONCE], stdout=subprocess.PIPE, text=True) as child:
            assert child.stdout is not None
            port = int(child.stdout.readline())
            url = f"http://127.0.0.1:{port}/oauth/callback"
            r = httpx.get(url, params={"error": "access_denied", "state": "S" * 43}, timeout=10)
            assert r.status_code == 400 and r.text.endswith("</body></html>")
            assert "the identity provider refused the login: access_denied" in r.text
            assert child.wait(10) == 3


def test_denied_at_the_real_idp_consent_page(idp: IdP) -> None:
    r = run_cli(*auth_argv(idp.issuer, "--no-exchange"), env={"TEST_BROWSER_DENY": "1"})
    assert r.returncode == EXIT_ERROR
    assert "the identity provider refused the login: access_denied" in r.stderr
    assert not (config_dir() / "settings.json").exists()


def test_wrong_host_header_is_refused(login: Login) -> None:
    port = login.callback.split(":")[2].split("/")[0]
    for host in ("evil.example", f"evil.example:{port}", f"localhost:{port}"):
        r = httpx.get(login.callback, params={"code": "x", "state": login.state}, headers={"Host": host})
        assert r.status_code == 400, host
    assert http_browser.browse(login.url).status_code == 200
    code, _, err = login.finish()
    assert code == EXIT_OK, err


def test_oversized_callbacks_are_refused(login: Login) -> None:
    r = httpx.get(login.callback, params={"state": login.state, "code": "x" * 20000})
    assert r.status_code == 414
    r = httpx.post(login.callback, data={"state": login.state, "id_token": "x" * 70000})
    assert r.status_code == 413
    assert http_browser.browse(login.url).status_code == 200
    assert login.finish()[0] == EXIT_OK


def _listeners(port: int) -> list[str]:
    """Local addresses (hex, as in /proc/net/tcp*) in LISTEN state on ``port``."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            addr, hexport = local.split(":")
            if int(hexport, 16) == port and state == "0A":
                found.append(addr)
    return found


def test_loopback_listens_only_on_127_0_0_1(login: Login) -> None:
    port = int(login.callback.split(":")[2].split("/")[0])
    assert _listeners(port) == ["0100007F"]  # 127.0.0.1, nothing else, no IPv6 wildcard
    assert http_browser.browse(login.url).status_code == 200
    assert login.finish()[0] == EXIT_OK


def test_timeout_names_the_timeout(idp: IdP, tmp_path: Path) -> None:
    argv = auth_argv(idp.issuer, "--no-exchange")
    argv[argv.index("--timeout") + 1] = "1s"
    r = run_cli(*argv, env={"TEST_BROWSER_RECORD": str(tmp_path / "url.txt")})
    assert r.returncode == EXIT_ERROR
    assert "no login response arrived within 1s (--timeout)" in r.stderr
    assert "Traceback" not in r.stderr


def test_busy_port_names_the_port(idp: IdP) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        argv = auth_argv(idp.issuer, "--no-exchange")
        argv[argv.index("--port") + 1] = str(port)
        r = run_cli(*argv)
    assert r.returncode == EXIT_ERROR
    assert f"port {port} on 127.0.0.1 is already in use" in r.stderr and "--port 0" in r.stderr


def test_discovery_unreachable_names_the_url() -> None:
    authority = f"http://127.0.0.1:{free_port()}"
    r = run_cli(*auth_argv(authority, "--no-exchange"))
    assert r.returncode == EXIT_UNREACHABLE
    assert f"{authority}/.well-known/openid-configuration" in r.stderr


def test_discovery_not_json_names_the_url() -> None:
    with FakeHTTP(default=text_answer("<html>not discovery</html>", content_type="text/html")) as html:
        authority = html.url
        r = run_cli(*auth_argv(authority, "--no-exchange"))
    assert r.returncode == EXIT_ERROR
    assert f"the discovery document at {authority}/.well-known/openid-configuration is not a JSON object" in r.stderr


def test_discovery_with_another_issuer_names_the_url(idp: IdP) -> None:
    authority = idp.issuer + "/"  # one byte off: the real IdP's issuer has no trailing slash
    r = run_cli(*auth_argv(authority, "--no-exchange"))
    assert r.returncode == EXIT_ERROR
    assert f"{idp.issuer}/.well-known/openid-configuration names issuer '{idp.issuer}'" in r.stderr


def test_corrupt_settings_file_is_reported_and_left_untouched(idp: IdP) -> None:
    path = config_dir() / "settings.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    garbage = b'{"version": 1, "gateways": {oops'
    path.write_bytes(garbage)
    r = run_cli(*auth_argv(idp.issuer, "--no-exchange"))
    assert r.returncode == EXIT_ERROR
    assert str(path) in r.stderr and "Traceback" not in r.stderr
    assert path.read_bytes() == garbage


def test_failed_login_keeps_the_saved_settings_and_token(idp: IdP, tmp_path: Path) -> None:
    ok = run_cli(*auth_argv(idp.issuer, "--no-exchange"))
    assert ok.returncode == EXIT_OK, ok.stderr
    settings, tokens = config_dir() / "settings.json", data_dir() / "tokens.json"
    before = settings.read_bytes(), tokens.read_bytes()
    # a new login that changes every setting, then fails at the IdP (denied)
    denied = run_cli(
        *auth_argv(idp.issuer, "--no-exchange", "--grant", "implicit", "--scope", "openid"),
        env={"TEST_BROWSER_DENY": "1"},
    )
    assert denied.returncode == EXIT_ERROR and "access_denied" in denied.stderr
    # and one that times out
    argv = auth_argv(idp.issuer, "--no-exchange", "--grant", "implicit-id")
    argv[argv.index("--timeout") + 1] = "1s"
    timed_out = run_cli(*argv, env={"TEST_BROWSER_RECORD": str(tmp_path / "u.txt")})
    assert timed_out.returncode == EXIT_ERROR
    assert (settings.read_bytes(), tokens.read_bytes()) == before


def _forge_id_token(idp: IdP, nonce: str, how: str) -> str:
    """An ID token with every claim right (issuer, audience, nonce, times) that the IdP never signed."""
    now = int(time.time())
    claims = {"iss": idp.issuer, "sub": "user-mallory", "aud": "faas-cli", "nonce": nonce, "iat": now, "exp": now + 600}
    kid = next(k["kid"] for k in idp.jwks()["keys"] if k["kty"] == "RSA")  # a kid the IdP really publishes
    if how == "alg-none":
        return mint(claims, "", alg="none", kid=kid)
    return mint(claims, new_key("RS256"), kid=kid)


@pytest.mark.parametrize(
    ("how", "reason"), [("own-key", "signature does not verify"), ("alg-none", "alg none is never accepted")]
)
def test_forged_id_token_with_the_right_state_is_refused_and_nothing_is_saved(
    idp: IdP, tmp_path: Path, how: str, reason: str
) -> None:
    record = tmp_path / "url.txt"
    argv = auth_argv(idp.issuer, "--grant", "implicit-id", "--no-exchange", "--print-token")
    proc = start_cli(*argv, env={"TEST_BROWSER_RECORD": str(record)})
    try:
        login = Login(proc, wait_for_file(record))
        forged = _forge_id_token(idp, login.params["nonce"], how)
        # a hostile "browser" posts its own id_token the way the relay page / form_post would
        r = httpx.post(login.callback, data={"state": login.state, "id_token": forged, "iss": idp.issuer})
        assert r.status_code == 200, r.text  # the shape is right: the loopback takes it, the CLI judges it
        code, out, err = login.finish()
    finally:
        stop_cli(proc)
    assert code == EXIT_ERROR and out == ""
    problem = [ln for ln in err.splitlines() if "ID token" in ln]
    assert problem == [f"the ID token from {idp.issuer} was refused: {reason}"], err
    assert err.splitlines()[-1] == problem[0]
    assert forged not in err and "Traceback" not in err and "mallory" not in err
    assert not (config_dir() / "settings.json").exists()
    assert not (data_dir() / "tokens.json").exists()
