#!/usr/bin/env python3
"""Login benchmark: wall time of `faas-pro auth` end to end, per path, against `python -c pass`.

Run:  python bench/login_bench.py [--runs 9]

Real parts only: the test OpenID provider (tests/support/idp, consent skipped, refresh tokens
issued) and a real `faas-pro serve` with a Role for alice. The "browser" is
tests/support/http_browser.py, which walks the provider's login page over HTTP and delivers the
redirect to the CLI's loopback server, so a browser login here includes starting that helper process
(a Python interpreter with httpx: ~0.15 s of the figure), which a person's browser would not cost.
Measured, interleaved round-robin, medians:
  python -c pass                            baseline interpreter start
  auth --no-exchange --print-token          PKCE login only (discovery, loopback, token, ID token check)
  auth (PKCE + exchange + gateway check)    the full daily login
  auth -g (silent refresh + exchange)       the next login, with the saved refresh token
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.gateway import issuer_yaml, policy_yaml, role_yaml, start_gateway  # noqa: E402
from tests.support.idp import start_idp  # noqa: E402

BROWSER = f"{shlex.quote(sys.executable)} {shlex.quote(str(ROOT / 'tests/support/http_browser.py'))}"


def timed(argv: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    r = subprocess.run(argv, env=env, capture_output=True, text=True, cwd=ROOT, check=False)
    dt = time.perf_counter() - t0
    if r.returncode != 0:
        raise SystemExit(f"{argv[3:5]} failed ({r.returncode}): {r.stderr[-500:]}")
    return dt


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=9)
    args = ap.parse_args()
    py = [sys.executable]
    fp = [sys.executable, "-m", "faas_pro"]
    times: dict[str, list[float]] = {}
    with start_idp(IDP_SKIP_CONSENT="1", IDP_REFRESH="always") as idp, tempfile.TemporaryDirectory() as tmp:
        objects = "---\n".join(
            [
                issuer_yaml("test-idp", idp.issuer, ["faas-gateway"], "1h"),
                policy_yaml("staging-rw", ["Function:*", "Namespace:List"], ["staging:*"]),
                role_yaml("alice", ["staging-rw"], principal=["user-alice"]),
            ]
        )
        with start_gateway(Path(tmp), objects) as gw:
            login = [
                "auth",
                "-g",
                gw.url,
                "--authority",
                idp.issuer,
                "--client-id",
                "faas-cli",
                "--port",
                "0",
                "--browser-command",
                BROWSER,
                "--timeout",
                "60s",
            ]
            for i in range(args.runs + 1):  # the first round warms caches and is not counted

                def env_for(name: str, i: int = i) -> dict[str, str]:  # a fresh login state per measurement
                    d = Path(tmp) / f"run{i}-{name}"
                    return {
                        **os.environ,
                        "FAAS_PRO_CONFIG_DIR": str(d / "c"),
                        "FAAS_PRO_DATA_DIR": str(d / "d"),
                        "FAAS_PRO_TOKEN_STORE": "file",
                        "NO_PROXY": "*",
                    }

                idp_only, full = env_for("idp-only"), env_for("full")
                row = {
                    "python -c pass": timed([*py, "-c", "pass"], full),
                    "auth --no-exchange --print-token": timed(
                        [*fp, *login, "--no-exchange", "--print-token"], idp_only
                    ),
                    "auth (PKCE + exchange + gateway check)": timed([*fp, *login], full),
                    # same state as the line above: a refresh token is saved, so no browser this time
                    "auth -g (silent refresh + exchange)": timed([*fp, "auth", "-g", gw.url, "--timeout", "20s"], full),
                }
                if i:
                    for k, v in row.items():
                        times.setdefault(k, []).append(v)
    base = statistics.median(times["python -c pass"])
    print(f"median wall time of {args.runs} interleaved runs:")
    for k, v in times.items():
        med = statistics.median(v)
        print(
            f"  {k:42s} {med * 1000:8.1f} ms  {med / base:6.1f}x   (min {min(v) * 1000:.1f}, max {max(v) * 1000:.1f})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
