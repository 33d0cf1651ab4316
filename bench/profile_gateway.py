"""Where the gateway's time goes: py-spy samples a running ``faas-pro serve`` while the load
generator of bench/gateway_bench.py drives it (loopback, bounded in requests and time).

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
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.gateway_bench import _get, _load, _post
from tests.support.gateway import issuer_yaml, keygen, policy_yaml, role_yaml, running, serve_args, write_iam
from tests.support.issuer import FakeIssuer


def _spy() -> str:
    found = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(found).exists():
        sys.exit("py-spy not found (pip install py-spy into your venv; it is not a project dependency)")
    return found


def _profile(name: str, pid: int, url: str, request: bytes, seconds: float, top: int, out: Path) -> None:
    stop = time.monotonic() + seconds + 2
    done = threading.Event()

    def load() -> None:  # bounded: at most `seconds + 2` s of 2,000-request rounds
        while time.monotonic() < stop and not done.is_set():
            asyncio.run(_load(url, request, 2000, 32))

    t = threading.Thread(target=load)
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

    fake = FakeIssuer()
    d = Path(tempfile.mkdtemp(prefix="gateway-profile-"))
    key = keygen(d / "key.pem")
    iam = write_iam(
        d,
        issuer_yaml("fake", fake.iss, ["fake-aud"])
        + policy_yaml("fn-rw", ["Function:*", "Namespace:List"], ["openfaas-fn:*", "staging:*"])
        + "".join(policy_yaml(f"other-{i}", ["Function:Get"], [f"team-{i}:fn-*"]) for i in range(50))
        + role_yaml("robot", ["fn-rw"], principal=["robot-1"]),
    )
    form = {
        "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
        "subject_token": fake.mint(fake.claims(exp=int(time.time()) + 3600)),
        "subject_token_type": "urn:ietf:params:oauth:token-type:id_token",
    }
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
            auth = {"Authorization": f"Bearer {token}"}
            for srv in (on, off):
                for i in range(20):
                    fn = {"service": f"fn-{i:03d}", "image": f"ghcr.io/acme/fn-{i}:1"}
                    assert httpx.post(srv.url + "/system/functions", json=fn, headers=auth).status_code == 202
            fn = {"service": "echo", "image": "ghcr.io/acme/echo:1"}
            assert httpx.post(gw.url + "/system/functions", json=fn, headers=auth).status_code == 202
            if opts.only in (None, "list"):
                req = _get("/system/functions", token)
                _profile("list-authz", on.proc.pid, on.url, req, opts.seconds, opts.top, out)
                _profile("list-allow-all", off.proc.pid, off.url, req, opts.seconds, opts.top, out)
            if opts.only in (None, "invoke"):
                req = _post("/function/echo", b'{"hello":"world"}')
                _profile("invoke-upstream", gw.proc.pid, gw.url, req, opts.seconds, opts.top, out)
    fake.close()
    print(f"\nraw profiles: {out}")


if __name__ == "__main__":
    main()
