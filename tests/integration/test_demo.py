"""The README's "try it" path: scripts/demo starts the test IdP and the gateway with the seed's
objects, and the printed `faas-pro auth` line logs alice in. SIGINT (Ctrl-C), SIGTERM, SIGHUP and
the end of its parent process all stop it: no process it started, no port it listened on and no
temporary folder is left behind."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse as up
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from faas_pro.errors import EXIT_DENIED, EXIT_OK
from tests.support.authcli import HTTP_BROWSER
from tests.support.inproc import run_cli

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "scripts" / "demo"
READY = "Ctrl-C stops everything."

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process table in /proc")


def _proc_table() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, state) for every process visible in /proc."""
    table: dict[int, tuple[int, str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # it ended meanwhile
            continue
        fields = stat.rpartition(")")[2].split()  # after "pid (comm)": state ppid …
        table[int(entry.name)] = (int(fields[1]), fields[0])
    return table


def descendants(pid: int) -> set[int]:
    table = _proc_table()
    found: set[int] = set()
    todo = [pid]
    while todo:
        parent = todo.pop()
        kids = {p for p, (pp, _) in table.items() if pp == parent} - found
        found |= kids
        todo.extend(kids)
    return found


def alive(pid: int) -> bool:
    """Running or stopped, not a zombie (a zombie holds no port and no resources but its pid)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


def listening(url: str) -> bool:
    p = urlsplit(url)
    with socket.socket() as s:
        return s.connect_ex((p.hostname or "", p.port or 80)) == 0


@dataclass
class Demo:
    pid: int
    proc: subprocess.Popen[str]  # the demo itself, or the shell that started it
    text: str
    stderr: Path

    @property
    def gateway(self) -> str:
        m = re.search(r"export OPENFAAS_URL=(\S+)", self.text)
        assert m, self.text
        return m.group(1)

    @property
    def issuer(self) -> str:
        m = re.search(r"OpenID provider\s+(\S+)", self.text)
        assert m, self.text
        return m.group(1)

    def state_dir(self) -> Path:
        m = re.search(r"demo state in (\S+)", self.stderr.read_text())
        assert m, self.stderr.read_text()
        return Path(m.group(1))


def _read_until_ready(proc: subprocess.Popen[str]) -> list[str]:
    assert proc.stdout is not None
    lines: list[str] = []
    for line in proc.stdout:
        lines.append(line)
        if READY in line:
            return lines
    raise AssertionError("the demo ended before it was ready:\n" + "".join(lines))


def _start(tmp_path: Path, *, via_shell: bool = False) -> Demo:
    env = {**os.environ, "GATEWAY_PORT": "0"}
    argv = [sys.executable, str(DEMO)]
    if via_shell:  # a parent that can die under the demo: the shell prints the demo's pid first
        argv = ["sh", "-c", '"$0" "$1" & echo "$!"; wait', *argv]
    stderr = tmp_path / "demo.stderr"
    with stderr.open("w") as err:
        proc = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=err, text=True)
    pid = 0
    try:
        assert proc.stdout is not None
        pid = int(proc.stdout.readline()) if via_shell else proc.pid
        text = "".join(_read_until_ready(proc))
    except BaseException:  # not ready (or interrupted): nothing may outlive the test, nothing may hang
        roots = {proc.pid, pid} - {0}  # the shell and the demo (which may have lost its shell already)
        for victim in [*roots, *(d for r in roots for d in descendants(r))]:  # its IdP and gateway too
            with contextlib.suppress(ProcessLookupError):
                os.kill(victim, signal.SIGKILL)
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()  # not communicate(): an orphan that still held the pipe would block it
        raise
    return Demo(pid, proc, text, stderr)


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    d = _start(tmp_path)
    try:
        yield d
    finally:
        if d.proc.poll() is None:
            d.proc.kill()
            d.proc.wait()
        assert d.proc.stdout is not None
        d.proc.stdout.close()


def _assert_nothing_left(d: Demo, children: set[int]) -> None:
    assert children, "the demo had started no process"
    left = sorted(pid for pid in children if alive(pid))
    assert not left, f"still running after the demo stopped: {left}"
    for url in (d.gateway, d.issuer):
        assert not listening(url), f"{url} still accepts connections"
    assert not d.state_dir().exists()
    assert "demo stopped" in d.stderr.read_text()


def test_demo_walkthrough(demo: Demo) -> None:
    auth_line = next(ln.strip() for ln in demo.text.splitlines() if ln.strip().startswith("faas-pro auth "))
    gw = demo.gateway
    args = auth_line.split()[1:]  # as printed, plus a browser for the test
    r = run_cli(*args, "--browser-command", HTTP_BROWSER, "--timeout", "60s", env={"OPENFAAS_URL": gw})
    assert r.returncode == EXIT_OK, r.stderr
    ns = run_cli("namespaces", env={"OPENFAAS_URL": gw})
    assert (ns.returncode, ns.stdout) == (EXIT_OK, "Namespaces:\n - staging\n"), ns.stderr
    fns = run_cli("list", "-q", "-n", "staging", env={"OPENFAAS_URL": gw})
    assert (fns.returncode, fns.stdout) == (EXIT_OK, "hello\nnodeinfo\n"), fns.stderr
    denied = run_cli("list", "-n", "openfaas-fn", env={"OPENFAAS_URL": gw})
    assert denied.returncode == EXIT_DENIED
    assert "Server returned unexpected status code: 403" in denied.stderr
    _dashboard_logins(demo)
    children = descendants(demo.pid)
    demo.proc.send_signal(signal.SIGINT)  # Ctrl-C, sent to the demo alone
    assert demo.proc.wait(timeout=30) == 0
    _assert_nothing_left(demo, children)


def _dashboard_logins(demo: Demo) -> None:
    """The printed dashboard URL: alice logs in there (authorization code + PKCE, pushed when the
    provider offers PAR) and sees staging; bob sees "Not authorised"."""
    import httpx

    from tests.support.idp import drive_login

    m = re.search(r"Dashboard\s+(\S+)", demo.text)
    assert m and m.group(1) == demo.gateway + "/ui/", demo.text
    ui = m.group(1)
    for user, shows in (
        ("alice", '<a href="/ui/ns/staging" class="ns">staging</a>'),
        ("bob", "no policies found for subject user-bob"),
    ):
        with httpx.Client(timeout=30) as c:
            assert 'id="login"' in c.get(ui + "login").text
            start = c.get(ui + "auth/login")
            assert start.status_code == 303 and start.headers["location"].startswith(demo.issuer + "/")
            query = dict(up.parse_qsl(up.urlsplit(start.headers["location"]).query))
            assert "request_uri" in query or query.get("code_challenge_method") == "S256", query
            back = drive_login(c, demo.issuer, start.headers["location"], user)
            assert back.status_code in (302, 303) and back.headers["location"].startswith(ui + "auth/callback?")
            page = c.get(back.headers["location"], follow_redirects=True)
            assert shows in page.text, (user, page.status_code, page.text[:500])
            assert page.text.count('class="ns"') == (1 if user == "alice" else 0)  # staging only


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_signal_stops_everything(demo: Demo, sig: signal.Signals) -> None:
    children = descendants(demo.pid)
    demo.proc.send_signal(sig)
    assert demo.proc.wait(timeout=30) == 0
    assert f"demo stopped ({sig.name})" in demo.stderr.read_text()
    _assert_nothing_left(demo, children)


def test_the_end_of_its_parent_stops_everything(tmp_path: Path) -> None:
    d = _start(tmp_path, via_shell=True)
    try:
        children = descendants(d.pid)
        d.proc.kill()  # the shell: the demo now has another parent
        d.proc.wait()
        end = time.monotonic() + 30
        while alive(d.pid):
            assert time.monotonic() < end, "the demo kept running after its parent ended"
            time.sleep(0.1)
        assert "demo stopped (parent process ended)" in d.stderr.read_text()
        _assert_nothing_left(d, children)
    finally:
        for pid in [d.pid, *descendants(d.pid)]:  # only if the test failed
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        assert d.proc.stdout is not None
        d.proc.stdout.close()
