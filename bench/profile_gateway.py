"""Where the gateway's time goes: py-spy samples a running ``faas-pro serve`` while the load
generator of bench/_load.py drives it (loopback, bounded in requests and time).

Run:  python bench/profile_gateway.py [--seconds 8] [--top 25]   (py-spy must be on PATH or in the venv;
it is not a project dependency: ``pip install py-spy`` into a throwaway or your own venv)

Profiles, each at concurrency 32: the authorised ``GET /system/functions``, the same with the
allow-all benchmark authoriser, and ``POST /function/echo`` in upstream mode. Prints, per profile,
the functions with the most samples (inclusive) and the share of samples in a few named places.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._load import deploy, deploy_functions, gateway_setup, load, raw_get, raw_post
from tests.support.gateway import running, serve_args


def _spy() -> str:
    found = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(found).exists():
        sys.exit("py-spy not found (pip install py-spy into your venv; it is not a project dependency)")
    return found


def _profile(name: str, pid: int, url: str, request: bytes, seconds: float, top: int, out: Path) -> None:
    stop = time.monotonic() + seconds + 2
    done = threading.Event()

    def drive() -> None:  # bounded: at most `seconds + 2` s of 2,000-request rounds
        while time.monotonic() < stop and not done.is_set():
            asyncio.run(load(url, request, 2000, 32))

    t = threading.Thread(target=drive)
    t.start()
    time.sleep(0.5)
    raw = out / f"{name}.txt"
    subprocess.run(
        [_spy(), "record", "-p", str(pid), "-d", str(int(seconds)), "-r", "250", "-f", "raw", "-o", str(raw)],
        check=True,
        capture_output=True,
    )
    done.set()
    t.join()
    incl: collections.Counter[str] = collections.Counter()
    self_: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        n = int(count)
        total += n
        frames = [f.split(" (")[0] + " " + f.split("/")[-1].rstrip(")") for f in stack.split(";")]
        for f in set(frames):
            incl[f] += n
        self_[frames[-1]] += n
    print(f"\n== {name}: {total} samples")
    print("  inclusive:")
    for f, n in incl.most_common(top):
        print(f"    {100 * n / total:5.1f}%  {f}")
    print("  self:")
    for f, n in self_.most_common(top):
        print(f"    {100 * n / total:5.1f}%  {f}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=8)
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--only", choices=("list", "invoke"), default=None)
    opts = ap.parse_args()
    import httpx

    from tests.support.upstream import upstream

    fake, d, key, iam, form = gateway_setup("gateway-profile-")
    out = d / "profiles"
    out.mkdir()
    with upstream("admin:bench-pass") as up:
        (d / "auth").write_text("admin:bench-pass\n")
        on_args = serve_args(iam, key, d / "state-on", "http://gateway.bench")
        off_args = [*serve_args(iam, key, d / "state-off", "http://gateway.bench"), "--bench-insecure-no-authz"]
        up_args = [*serve_args(iam, key, d / "state-up", "http://gateway.bench"), "--upstream", up.url]
        up_args += ["--upstream-auth-file", str(d / "auth")]
        with (
            running(on_args) as on,
            running(off_args, {"FAAS_PRO_BENCH_NO_AUTHZ": "1"}) as off,
            running(up_args) as gw,
        ):
            token = httpx.post(on.url + "/oauth/token", data=form).json()["access_token"]
            for srv in (on, off):
                deploy_functions(srv.url, token, 20)
            deploy(gw.url, token, {"service": "echo", "image": "ghcr.io/acme/echo:1"})
            if opts.only in (None, "list"):
                req = raw_get("/system/functions", token)
                _profile("list-authz", on.proc.pid, on.url, req, opts.seconds, opts.top, out)
                _profile("list-allow-all", off.proc.pid, off.url, req, opts.seconds, opts.top, out)
            if opts.only in (None, "invoke"):
                req = raw_post("/function/echo", b'{"hello":"world"}')
                _profile("invoke-upstream", gw.proc.pid, gw.url, req, opts.seconds, opts.top, out)
    fake.close()
    print(f"\nraw profiles: {out}")


if __name__ == "__main__":
    main()
