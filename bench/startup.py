#!/usr/bin/env python3
"""Start-up benchmark: how long faas-pro takes to start, against `python -c pass` and two peers.

Run:  python bench/startup.py [--runs 21]

It builds two virtual environments under bench/.venvs/ (reused on later runs):
  cli    faas-pro installed WITHOUT the server extra (no click, uvicorn, starlette), as a user has it
  peers  awscli and httpie from PyPI, the peers the goals name
then times, interleaved round-robin so that machine noise hits every command alike:
  python -c pass                      (baseline, same interpreter as faas-pro)
  faas-pro --help, faas-pro list --help
  faas-pro status                     (a saved, valid OpenFaaS token)
  faas-pro list                       (that token, against a local `faas-pro serve` with 3 functions)
  aws --version, http --version
and prints medians and ratios against the goals of issue 7. The local gateway, the test IdP and the
token are real: the IdP is started from tests/support/idp, the token comes from a real exchange.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENVS = ROOT / "bench" / ".venvs"
sys.path.insert(0, str(ROOT))


def sh(args: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, check=True, text=True, capture_output=True, **kw)  # type: ignore[call-overload, no-any-return]


def make_venv(name: str, packages: list[str]) -> Path:
    path = VENVS / name
    py = path / "bin" / "python"
    if not py.exists():
        venv.EnvBuilder(with_pip=True, clear=True).create(path)
    sh([str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check", *packages])
    return path


def time_runs(cmds: dict[str, list[str]], env: dict[str, str], runs: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {k: [] for k in cmds}
    for _ in range(2):  # warm the page cache and .pyc files
        for args in cmds.values():
            subprocess.run(args, env=env, capture_output=True, check=False)
    for _ in range(runs):
        for name, args in cmds.items():
            t0 = time.perf_counter()
            r = subprocess.run(args, env=env, capture_output=True, check=False)
            times[name].append(time.perf_counter() - t0)
            if r.returncode != 0:
                raise SystemExit(f"{name} failed ({r.returncode}): {r.stderr.decode()[-400:]}")
    return times


def start_gateway(tmp: Path, issuer: str) -> tuple[subprocess.Popen[str], str]:
    key = tmp / "gw.pem"
    sh([sys.executable, "-m", "faas_pro", "serve", "keygen", str(key)])
    iam = tmp / "iam"
    iam.mkdir()
    (iam / "objects.yaml").write_text(
        f"""apiVersion: iam.openfaas.com/v1
kind: JwtIssuer
metadata: {{name: test-idp, namespace: openfaas}}
spec: {{iss: "{issuer}", aud: ["faas-gateway"], tokenExpiry: 1h}}
---
apiVersion: iam.openfaas.com/v1
kind: Policy
metadata: {{name: all, namespace: openfaas}}
spec:
  statement:
    - {{sid: all, effect: Allow, action: ["*"], resource: ["*"]}}
---
apiVersion: iam.openfaas.com/v1
kind: Role
metadata: {{name: svc, namespace: openfaas}}
spec:
  policy: ["all"]
  principal: {{"jwt:sub": ["faas-svc"]}}
"""
    )
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "faas_pro",
            "serve",
            "--iam",
            str(iam),
            "--issuer-url",
            "http://127.0.0.1:0",
            "--issuer-key",
            str(key),
            "--listen",
            "127.0.0.1:0",
            "--state",
            str(tmp / "state"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if "listening on" not in line:
        proc.kill()
        raise SystemExit(f"faas-pro serve did not start: {line!r}")
    return proc, line.rsplit(" ", 1)[1].strip()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=21)
    ap.add_argument("--no-peers", action="store_true", help="skip awscli/httpie")
    args = ap.parse_args()

    cli = make_venv("cli", [str(ROOT)])
    peers = None if args.no_peers else make_venv("peers", ["awscli", "httpie"])
    bad = sh(
        [
            str(cli / "bin" / "python"),
            "-c",
            "import importlib.util as u; print([m for m in ('click','uvicorn','starlette') if u.find_spec(m)])",
        ]
    )
    print(f"cli venv: {cli}  (server-only packages present: {bad.stdout.strip()})")

    from tests.support.idp import start_idp

    tmp = Path(tempfile.mkdtemp(prefix="faas-pro-bench-"))
    gw_proc = None
    try:
        with start_idp() as idp:
            gw_proc, gateway = start_gateway(tmp, idp.issuer)
            import httpx

            subject = idp.client_credentials_token()
            r = httpx.post(
                gateway + "/oauth/token",
                data={
                    "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
                    "subject_token": subject,
                    "subject_token_type": "urn:ietf:params:oauth:token-type:id_token",
                },
                timeout=10,
            )
            r.raise_for_status()
            token = r.json()["access_token"]
            for i in range(3):
                httpx.post(
                    gateway + "/system/functions",
                    headers={"Authorization": f"Bearer {token}"},
                    json={"service": f"fn{i}", "image": f"ghcr.io/acme/fn{i}:1.0", "namespace": "openfaas-fn"},
                    timeout=10,
                ).raise_for_status()
            env = {
                **os.environ,
                "FAAS_PRO_CONFIG_DIR": str(tmp / "config"),
                "FAAS_PRO_DATA_DIR": str(tmp / "data"),
                "FAAS_PRO_TOKEN_STORE": "file",
                "OPENFAAS_URL": gateway,
                "NO_COLOR": "1",
            }
            store = (
                "import os, sys; from pathlib import Path; from faas_pro.storage.secrets import open_secret_store\n"
                "store = open_secret_store(os.environ, Path(os.environ['FAAS_PRO_DATA_DIR']))\n"
                "store.put(sys.argv[1], {'openfaas_token': sys.stdin.read().strip()})\n"
            )
            # the token goes through stdin, never argv
            sh([str(cli / "bin" / "python"), "-c", store, gateway], env=env, input=token)
            fp = str(cli / "bin" / "faas-pro")
            cmds = {
                "python -c pass": [str(cli / "bin" / "python"), "-c", "pass"],
                "faas-pro --help": [fp, "--help"],
                "faas-pro list --help": [fp, "list", "--help"],
                "faas-pro status": [fp, "status"],
                "faas-pro list": [fp, "list"],
            }
            if peers is not None:
                cmds["aws --version"] = [str(peers / "bin" / "aws"), "--version"]
                cmds["http --version"] = [str(peers / "bin" / "http"), "--version"]
            times = time_runs(cmds, env, args.runs)
    finally:
        if gw_proc is not None:
            gw_proc.terminate()
            gw_proc.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)

    med = {k: statistics.median(v) * 1000 for k, v in times.items()}
    base = med["python -c pass"]
    print(f"\nmedian wall time of {args.runs} interleaved runs (ms), ratio to `python -c pass`:")
    for k, v in med.items():
        print(f"  {k:24s} {v:8.1f} ms  {v / base:6.2f}x")
    goals = [
        ("faas-pro --help within 6x of python -c pass", med["faas-pro --help"] / base <= 6),
        ("faas-pro list within 12x of python -c pass", med["faas-pro list"] / base <= 12),
    ]
    if peers is not None:
        goals += [
            ("faas-pro --help under 1/4 of aws --version", med["faas-pro --help"] < med["aws --version"] / 4),
            ("faas-pro list under 0.6x of http --version", med["faas-pro list"] < 0.6 * med["http --version"]),
        ]
        print(
            f"\n  --help / aws --version = {med['faas-pro --help'] / med['aws --version']:.3f}"
            f"   list / http --version = {med['faas-pro list'] / med['http --version']:.3f}"
        )
    print()
    for text, ok in goals:
        print(f"  {'MET ' if ok else 'MISS'} {text}")
    print(json.dumps({"median_ms": med, "runs": args.runs}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
