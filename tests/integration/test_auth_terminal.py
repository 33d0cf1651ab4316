"""`faas-pro auth` on a real terminal (a pty drives the subprocess): the pasted redirect URL when no
browser can open (and never with CI set), the progress line that appears only when stderr is a
terminal, and the browser login that follows a refused refresh token."""

from __future__ import annotations

import json
import os
import select
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from faas_pro.errors import EXIT_ERROR, EXIT_OK
from tests.support.authcli import HTTP_BROWSER, auth_argv, data_dir, saved_tokens, verify_jwt, wait_for_file
from tests.support.http_browser import browse
from tests.support.idp import IdP, drive_login
from tests.support.inproc import run_cli, start_cli


class Pty:
    """A pty whose output is drained into ``text`` by a thread (a full pty would block the child)."""

    def __init__(self) -> None:
        self.master, self.slave = os.openpty()
        self.text = ""
        self._stop = False
        self._t = threading.Thread(target=self._drain, daemon=True)
        self._t.start()

    def _drain(self) -> None:
        while not self._stop:
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if ready:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:
                    return
                self.text += chunk.decode("utf-8", errors="replace")

    def wait_for(self, needle: str, timeout: float = 30) -> str:
        end = time.monotonic() + timeout
        while needle not in self.text:
            assert time.monotonic() < end, f"{needle!r} never appeared in:\n{self.text}"
            time.sleep(0.02)
        return self.text

    def close(self) -> None:
        self._stop = True
        self._t.join(5)
        os.close(self.master)


@contextmanager
def cli_on_pty(args: list[str], *, stdin_tty: bool, env: dict[str, str]) -> Iterator[tuple[subprocess.Popen[str], Pty]]:
    pty = Pty()
    p = start_cli(
        *args,
        env={"TERM": "xterm", "COLUMNS": "200", **env},
        stdin=pty.slave if stdin_tty else subprocess.DEVNULL,
        stderr=pty.slave,
    )
    os.close(pty.slave)
    try:
        yield p, pty
    finally:
        if p.poll() is None:
            p.kill()
        p.communicate()
        pty.close()


def test_pasted_redirect_url_completes_the_login_without_a_browser(idp: IdP) -> None:
    args = ["auth", "--authority", idp.issuer, "--client-id", "faas-cli", "--port", "0", "--no-exchange"]
    with cli_on_pty([*args, "--print-token", "--timeout", "60s"], stdin_tty=True, env={}) as (p, pty):
        text = pty.wait_for("then Enter)")
        url = next(ln.strip() for ln in text.splitlines() if ln.strip().startswith(idp.issuer + "/auth?"))
        with httpx.Client(timeout=10, follow_redirects=False) as c:
            r = drive_login(c, idp.issuer, url)  # the browser on the other machine, stopped at the redirect
        assert r.status_code in (302, 303)
        callback = r.headers["location"]
        os.write(pty.master, b"http://127.0.0.1:1/not-this-one?state=nope\n")  # refused, the login goes on
        pty.wait_for("That URL was not accepted")
        os.write(pty.master, callback.encode() + b"\n")
        out, _ = p.communicate(timeout=60)
    assert p.returncode == EXIT_OK, pty.text
    assert "Not opening a browser: there is no display (DISPLAY/WAYLAND_DISPLAY unset)." in pty.text
    claims = verify_jwt(out.strip(), idp.jwks(), issuer=idp.issuer, audience="faas-gateway", alg="ES256")
    assert claims["sub"] == "user-alice"


def test_progress_line_counts_down_on_a_terminal_only(idp: IdP, tmp_path: Path) -> None:
    record = tmp_path / "url"
    args = ["auth", "--authority", idp.issuer, "--client-id", "faas-cli", "--port", "0", "--no-exchange"]
    args += ["--browser-command", HTTP_BROWSER, "--timeout", "60s"]
    with cli_on_pty(args, stdin_tty=False, env={"TEST_BROWSER_RECORD": str(record)}) as (p, pty):
        text = pty.wait_for(" left of 1m)")
        assert "Waiting for the browser to come back to http://127.0.0.1:" in text
        assert "\x1b[" in text  # drawn and erased with terminal control sequences
        assert browse(wait_for_file(record)).status_code == 200
        p.communicate(timeout=60)
    assert p.returncode == EXIT_OK, pty.text
    assert "Logged in as alice" in pty.text


def test_ci_on_a_terminal_never_asks_for_a_pasted_url(idp: IdP) -> None:
    args = ["auth", "--authority", idp.issuer, "--client-id", "faas-cli", "--port", "0", "--no-exchange"]
    with cli_on_pty([*args, "--no-browser", "--timeout", "2s"], stdin_tty=True, env={"CI": "true"}) as (p, pty):
        p.communicate(timeout=30)
        pty.wait_for("(--timeout)")
    assert p.returncode == EXIT_ERROR, pty.text
    assert "Open this URL in a browser to log in:" in pty.text and f"{idp.issuer}/auth?" in pty.text
    assert "paste" not in pty.text.lower()
    assert "no login response arrived within 2s (--timeout)" in pty.text
    assert "Traceback" not in pty.text


def test_refused_refresh_token_on_a_terminal_logs_in_again_with_the_browser(idp_skip_consent: IdP) -> None:
    idp, gw = idp_skip_consent, "http://127.0.0.1:8080"  # the default gateway; --no-exchange: never called
    first = run_cli(*auth_argv(idp.issuer, "--no-exchange", "--print-token"))
    assert first.returncode == EXIT_OK, first.stderr
    tokens_file = data_dir() / "tokens.json"
    doc = json.loads(tokens_file.read_text())
    assert doc[gw]["idp_refresh_token"]
    doc[gw]["idp_refresh_token"] = "spent-or-revoked-SENTINEL"
    tokens_file.write_text(json.dumps(doc))

    args = ["auth", "--no-exchange", "--print-token", "--browser-command", HTTP_BROWSER, "--timeout", "60s"]
    with cli_on_pty(args, stdin_tty=True, env={}) as (p, pty):
        out, _ = p.communicate(timeout=60)
    assert p.returncode == EXIT_OK, pty.text
    assert "the identity provider no longer accepts the saved refresh token (invalid_grant" in pty.text
    assert "; logging in again" in pty.text and "Opened a browser to log in." in pty.text
    assert "paste" not in pty.text.lower()  # a browser was started: nothing is read from the terminal
    token = out.strip()
    claims = verify_jwt(token, idp.jwks(), issuer=idp.issuer, audience="faas-gateway", alg="ES256")
    assert claims["sub"] == "user-alice" and token != first.stdout.strip()
    saved = saved_tokens()[gw]
    assert saved["idp_access_token"] == token and saved["idp_refresh_token"] != "spent-or-revoked-SENTINEL"
