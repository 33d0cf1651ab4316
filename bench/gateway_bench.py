"""Gateway benchmark: (a) token exchanges/s; (b) authorised GET /system/functions req/s against
the same server with authorisation switched off (benchmark-only: --bench-insecure-no-authz plus
FAAS_PRO_BENCH_NO_AUTHZ=1), at concurrency 1 and 32, from a loopback load generator.

Run:  python bench/gateway_bench.py [--reps 5] [--requests 3000]

The load generator is a minimal asyncio HTTP/1.1 keep-alive client (one connection per worker,
bounded loop of requests), so that the client costs as little CPU as possible next to the server
on the same machine. Both servers run at once; repetitions alternate between them; medians are
reported. Any non-200 answer counts as an error. Both servers receive the same request bytes (the
bearer token too; the no-authz server ignores it), so the difference is the cost of verifying the
token and deciding, not of carrying the header.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.integration.server_fixtures import FakeIssuer
from tests.support.gateway import issuer_yaml, keygen, policy_yaml, role_yaml, running, serve_args, write_iam


async def _worker(host: str, port: int, request: bytes, count: int, errors: list[int]) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        for _ in range(count):
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            if length:
                await reader.readexactly(length)
            if status != 200:
                errors.append(status)
    finally:
        writer.close()


async def _load(url: str, request: bytes, total: int, concurrency: int) -> tuple[float, int]:
    u = urlsplit(url)
    errors: list[int] = []
    per = total // concurrency
    t0 = time.perf_counter()
    await asyncio.gather(*[_worker(u.hostname or "", u.port or 80, request, per, errors) for _ in range(concurrency)])
    elapsed = time.perf_counter() - t0
    return per * concurrency / elapsed, len(errors)


def _get(path: str, token: str | None) -> bytes:
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    return f"GET {path} HTTP/1.1\r\nHost: bench\r\n{auth}\r\n".encode()


def _post_form(path: str, form: dict[str, str]) -> bytes:
    body = urlencode(form).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--requests", type=int, default=3000)
    ap.add_argument("--functions", type=int, default=20)
    opts = ap.parse_args()
    import httpx

    fake = FakeIssuer()
    d = Path(tempfile.mkdtemp(prefix="gateway-bench-"))
    key = keygen(d / "key.pem")
    iam = write_iam(
        d,
        issuer_yaml("fake", fake.iss, ["fake-aud"])
        + policy_yaml("fn-rw", ["Function:*", "Namespace:List"], ["openfaas-fn:*", "staging:*"])
        + "".join(policy_yaml(f"other-{i}", ["Function:Get"], [f"team-{i}:fn-*"]) for i in range(50))
        + role_yaml("robot", ["fn-rw"], principal=["robot-1"]),
    )
    exchange_form = {
        "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
        "subject_token": fake.mint(fake.claims(exp=int(time.time()) + 3600)),
        "subject_token_type": "urn:ietf:params:oauth:token-type:id_token",
    }
    authz = serve_args(iam, key, d / "state-on", "http://gateway.bench")
    no_authz = [*serve_args(iam, key, d / "state-off", "http://gateway.bench"), "--bench-insecure-no-authz"]
    with running(authz) as on, running(no_authz, {"FAAS_PRO_BENCH_NO_AUTHZ": "1"}) as off:
        token = httpx.post(on.url + "/oauth/token", data=exchange_form).json()["access_token"]
        for srv in (on, off):
            for i in range(opts.functions):
                fn = {"service": f"fn-{i:03d}", "image": f"ghcr.io/acme/fn-{i}:1", "labels": {"team": "a"}}
                r = httpx.post(srv.url + "/system/functions", json=fn, headers={"Authorization": f"Bearer {token}"})
                assert r.status_code == 202, r.text
        print(f"python {sys.version.split()[0]}, {opts.reps} reps, {opts.requests} requests each, medians")
        results: dict[str, list[float]] = {}
        errors = 0
        for conc in (1, 32):
            for rep in range(opts.reps + 1):  # the first round warms up and is not counted
                runs = [
                    (f"exchange c={conc}", on.url, _post_form("/oauth/token", exchange_form), opts.requests // 3),
                    (f"functions authz c={conc}", on.url, _get("/system/functions", token), opts.requests),
                    (f"functions no-authz c={conc}", off.url, _get("/system/functions", token), opts.requests),
                ]
                if rep % 2:
                    runs[1], runs[2] = runs[2], runs[1]
                for name, url, req, n in runs:
                    rate, errs = asyncio.run(_load(url, req, n, conc))
                    errors += errs
                    if rep:
                        results.setdefault(name, []).append(rate)
        for name, rates in results.items():
            print(f"{name:32s} {statistics.median(rates):8.0f} req/s   (min {min(rates):.0f}, max {max(rates):.0f})")
        for conc in (1, 32):
            a = statistics.median(results[f"functions authz c={conc}"])
            b = statistics.median(results[f"functions no-authz c={conc}"])
            print(
                f"authorisation cost at c={conc}: {100 * (1 - a / b):.1f}% of throughput (authz/no-authz = {a / b:.3f})"
            )
        print(f"errors: {errors}")
    fake.close()
    if errors:
        sys.exit(1)


if __name__ == "__main__":
    main()
