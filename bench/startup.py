#!/usr/bin/env python3
"""Start-up benchmark: how long faas-pro takes to start, against `python -c pass`, side by side.

Run:  python bench/startup.py [--runs 21] [--no-peers] [--no-keyring]

It builds virtual environments under bench/.venvs/ (reused on later runs):
  cli    faas-pro installed WITHOUT the server extra (no click, uvicorn, starlette), as a user has it
  peers  awscli and httpie from PyPI (issue 7's peers; --no-peers skips them)
then times, interleaved round-robin so that machine noise hits every command alike:
  python -c pass                      (baseline, same interpreter as faas-pro)
  faas-pro --help, faas-pro list --help
  faas-pro status, token, list, namespaces      a saved, valid OpenFaaS token in the file store
  faas-pro token, list (keyring)                 the same token in the OS keyring: a real Secret
                                                 Service (gnome-keyring on a private D-Bus session,
                                                 started here), FAAS_PRO_TOKEN_STORE unset; and
                                                 `token` without the remembered backend (probing)
  faas-pro list (Typer path)                     FAAS_PRO_NO_FAST_PATH=1: what the fast path saves
  faas-cli list                                  the Go CLI, when it is on PATH
  aws --version, http --version
and prints medians, ratios to `python -c pass` and the budgets of issues 7 and 17. The local gateway
(`faas-pro serve` with 3 functions), the test IdP and the token are real: the IdP is started from
tests/support/idp, the token comes from a real exchange.
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
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
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


Cmd = tuple[list[str], dict[str, str]]


def time_runs(cmds: dict[str, Cmd], runs: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {k: [] for k in cmds}
    for _ in range(2):  # warm the page cache and .pyc files
        for args, env in cmds.values():
            subprocess.run(args, env=env, capture_output=True, check=False)
    for _ in range(runs):
        for name, (args, env) in cmds.items():
            t0 = time.perf_counter()
            r = subprocess.run(args, env=env, capture_output=True, check=False)
            times[name].append(time.perf_counter() - t0)
            if r.returncode != 0:
                raise SystemExit(f"{name} failed ({r.returncode}): {r.stderr.decode()[-400:]}")
    return times


@contextmanager
def secret_service(tmp: Path) -> Iterator[str]:
    """A private D-Bus session bus with an unlocked gnome-keyring (Secret Service) on it: its address."""
    from tests.support.secret_service import secret_service as start

    with start(tmp / "ss-home", b"bench-keyring-password") as address:
        yield address


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


BUDGETS = [  # (text, command, baseline command or None for `python -c pass`, ratio at most)
    ("faas-pro --help within 5x of python -c pass (issue 17)", "faas-pro --help", None, 5.0),
    ("faas-pro list within 6x of python -c pass (issue 17; stretch 4.5x)", "faas-pro list", None, 6.0),
    ("faas-pro namespaces within 6x of python -c pass (issue 17)", "faas-pro namespaces", None, 6.0),
    ("faas-pro token within 4x of python -c pass (issue 17)", "faas-pro token", None, 4.0),
    ("faas-pro list, stretch: within 4.5x (issue 17)", "faas-pro list", None, 4.5),
    (
        "token with the keyring within 1.3x of the file store (issue 17)",
        "faas-pro token (keyring)",
        "faas-pro token",
        1.3,
    ),
    ("list with the keyring within 1.3x of the file store (issue 17)", "faas-pro list (keyring)", "faas-pro list", 1.3),
]


def import_breakdown(py: Path, argv: list[str], env: dict[str, str], top: int = 8) -> str:
    """Self import time per top-level package for one run of ``argv`` (a console script) under
    ``python -X importtime`` (several runs' medians would be steadier; this shows the shape)."""
    r = subprocess.run(
        [str(py), "-X", "importtime", *argv],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        cwd=tempfile.gettempdir(),
    )
    per: dict[str, int] = {}
    for line in r.stderr.splitlines():
        fields = [f.strip() for f in line.removeprefix("import time:").split("|")]
        if not line.startswith("import time:") or len(fields) != 3 or not fields[0].isdigit():
            continue
        pkg = fields[2].split(".")[0]
        per[pkg] = per.get(pkg, 0) + int(fields[0])
    total = sum(per.values())
    parts = sorted(per.items(), key=lambda kv: -kv[1])[:top]
    return f"imports {total / 1000:.1f} ms, by package: " + ", ".join(f"{k} {v / 1000:.1f}" for k, v in parts)


def save_token(py: Path, env: dict[str, str], gateway: str, token: str) -> str:
    store = (
        "import os, sys; from pathlib import Path; from faas_pro.storage.secrets import open_secret_store\n"
        "store = open_secret_store(os.environ, Path(os.environ['FAAS_PRO_DATA_DIR']))\n"
        "store.put(sys.argv[1], {'openfaas_token': sys.stdin.read().strip()})\n"
        "print(store.backend_of(sys.argv[1]))\n"
    )
    # the token goes through stdin, never argv
    r = sh([str(py), "-c", store, gateway], env=env, input=token)
    print(f"token saved in: {r.stdout.strip()}")
    return r.stdout.strip()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=21)
    ap.add_argument("--no-peers", action="store_true", help="skip awscli/httpie")
    ap.add_argument("--no-keyring", action="store_true", help="skip the keyring store (gnome-keyring)")
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
    with_keyring = not args.no_keyring and bool(shutil.which("dbus-daemon") and shutil.which("gnome-keyring-daemon"))
    faas_cli = shutil.which("faas-cli")

    from tests.support.idp import start_idp

    tmp = Path(tempfile.mkdtemp(prefix="faas-pro-bench-"))
    gw_proc = None
    py = cli / "bin" / "python"
    try:
        with start_idp() as idp, secret_service(tmp) if with_keyring else nullcontext("") as bus:
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
            base_env = {k: v for k, v in os.environ.items() if not k.startswith("FAAS_PRO_")}
            env = {
                **base_env,
                "FAAS_PRO_CONFIG_DIR": str(tmp / "config"),
                "FAAS_PRO_DATA_DIR": str(tmp / "data"),
                "FAAS_PRO_TOKEN_STORE": "file",
                "OPENFAAS_URL": gateway,
                "NO_COLOR": "1",
            }
            save_token(py, env, gateway, token)
            fp = str(cli / "bin" / "faas-pro")
            cmds: dict[str, Cmd] = {
                "python -c pass": ([str(py), "-c", "pass"], env),
                "faas-pro --help": ([fp, "--help"], env),
                "faas-pro list --help": ([fp, "list", "--help"], env),
                "faas-pro status": ([fp, "status"], env),
                "faas-pro token": ([fp, "token"], env),
                "faas-pro list": ([fp, "list"], env),
                "faas-pro namespaces": ([fp, "namespaces"], env),
                "faas-pro list (Typer path)": ([fp, "list"], {**env, "FAAS_PRO_NO_FAST_PATH": "1"}),
            }
            if with_keyring:
                kenv = {k: v for k, v in env.items() if k != "FAAS_PRO_TOKEN_STORE"}
                kenv.update(FAAS_PRO_DATA_DIR=str(tmp / "kdata"), DBUS_SESSION_BUS_ADDRESS=bus)
                where = save_token(py, kenv, gateway, token)
                if not where.startswith("keyring (SecretService"):
                    raise SystemExit(f"the keyring store was not used: {where}")
                cmds["faas-pro token (keyring)"] = ([fp, "token"], kenv)
                cmds["faas-pro list (keyring)"] = ([fp, "list"], kenv)
                penv = {**kenv, "FAAS_PRO_DATA_DIR": str(tmp / "pdata")}
                save_token(py, penv, gateway, token)
                (tmp / "pdata" / "keyring-backend.json").unlink()  # no memo: keyring probes every backend
                cmds["faas-pro token (keyring, probing)"] = ([fp, "token"], penv)
            if faas_cli:
                cmds["faas-cli list"] = ([faas_cli, "list", "-g", gateway, "--token", token], env)
            if peers is not None:
                cmds["aws --version"] = ([str(peers / "bin" / "aws"), "--version"], env)
                cmds["http --version"] = ([str(peers / "bin" / "http"), "--version"], env)
            times = time_runs(cmds, args.runs)
            # where the time goes, per faas-pro command (printed for the budgets that are missed)
            breakdown = {k: import_breakdown(py, argv, e) for k, (argv, e) in cmds.items() if argv[0] == fp}
    finally:
        if gw_proc is not None:
            gw_proc.terminate()
            gw_proc.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)

    med = {k: statistics.median(v) * 1000 for k, v in times.items()}
    base = med["python -c pass"]
    print(f"\nmedian wall time of {args.runs} interleaved runs (ms), ratio to `python -c pass`:")
    for k, v in med.items():
        print(f"  {k:28s} {v:8.1f} ms  {v / base:6.2f}x")
    results: list[tuple[str, float | None, float]] = []
    missed: list[str] = []
    for text, cmd, against, limit in BUDGETS:
        if cmd not in med or (against is not None and against not in med):
            results.append((text, None, limit))
            continue
        ratio = med[cmd] / (med[against] if against else base)
        results.append((text, ratio, limit))
        if ratio > limit and cmd not in missed:
            missed.append(cmd)
    if peers is not None:
        results += [
            (
                "faas-pro --help under 1/4 of aws --version (issue 7)",
                med["faas-pro --help"] / med["aws --version"],
                0.25,
            ),
            ("faas-pro list under 0.6x of http --version (issue 7)", med["faas-pro list"] / med["http --version"], 0.6),
        ]
    print()
    for text, got, limit in results:
        verdict = "SKIP" if got is None else ("MET " if got <= limit else "MISS")
        shown = "" if got is None else f"  ({got:.2f}x, at most {limit}x)"
        print(f"  {verdict} {text}{shown}")
    if missed:
        print("\nwhere the time goes in the missed ones (one run with python -X importtime, self time summed):")
        for cmd in missed:
            print(f"  {cmd}: {breakdown[cmd]}")
    print(json.dumps({"median_ms": med, "runs": args.runs}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
