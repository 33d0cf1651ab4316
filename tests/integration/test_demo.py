"""The README's "try it" path: scripts/demo starts the test IdP and the gateway with the seed's
objects, and the printed `faas-pro auth` line logs alice in; Ctrl-C stops everything."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from faas_pro.errors import EXIT_DENIED, EXIT_OK
from tests.integration.conftest_auth import HTTP_BROWSER, run_cli

ROOT = Path(__file__).resolve().parents[2]


def test_demo_walkthrough() -> None:
    env = {**os.environ, "GATEWAY_PORT": "0"}
    demo = subprocess.Popen(
        [sys.executable, str(ROOT / "scripts" / "demo")],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert demo.stdout is not None
        lines: list[str] = []
        for line in demo.stdout:
            lines.append(line)
            if "Ctrl-C stops everything." in line:
                break
        text = "".join(lines)
        auth_line = next(ln.strip() for ln in lines if ln.strip().startswith("faas-pro auth "))
        gateway = re.search(r"export OPENFAAS_URL=(\S+)", text)
        assert gateway, text
        gw = gateway.group(1)
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
    finally:
        demo.send_signal(signal.SIGINT)
        rc = demo.wait(timeout=20)
        if demo.stdout is not None:
            demo.stdout.close()
    assert rc == 0
    # everything it started is gone with it
    try:
        httpx.get(gw + "/healthz", timeout=2)
        raise AssertionError("the gateway is still running after Ctrl-C")
    except httpx.TransportError:
        pass
