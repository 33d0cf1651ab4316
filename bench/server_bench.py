"""Server benchmark: the gateway's authorised GET /system/functions vs a bare ASGI hello app served
by the same server code (faas_pro/server/listener.py: same limits, same uvicorn settings), each
with 1 and N worker processes (--workers), from a loopback load generator.

Run:  python bench/server_bench.py [--workers 2] [--reps 5] [--requests 3000] [--concurrency 32] [--clients 1]
      [--functions 20]

The gateway runs twice for each worker count: with IAM authorisation and with the injected allow-all
authoriser (``--bench-insecure-no-authz`` with ``FAAS_PRO_BENCH_NO_AUTHZ=1``; tokens still verified),
so the authorisation cost is read within the run: paired per-repetition throughput ratios, and the
servers' CPU time per request from /proc (which hardly depends on the other jobs on the machine).

The load generator is a minimal asyncio HTTP/1.1 keep-alive client in ``--clients`` processes (one
connection per concurrent worker, a bounded number of requests, and a time limit per run). A last
case serves the hello app with plain uvicorn (none of the listener's limits): what the limits cost. It
shares the machine's cores with the servers, so on a small machine the N-worker figures are bounded
by the client too. Repetitions alternate between the servers; medians are reported; any non-200
answer counts as an error.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._load import cpu_seconds, deploy_functions, raw_get, worker
from tests.support.gateway import issuer_yaml, keygen, policy_yaml, role_yaml, running, serve_args, write_iam
from tests.support.issuer import FakeIssuer, exchange

RUN_LIMIT = 120.0  # seconds one measured run may take at most
NO_AUTHZ_ENV = {"FAAS_PRO_BENCH_NO_AUTHZ": "1"}


async def _share(url: str, request: bytes, total: int, concurrency: int) -> tuple[int, float, float, int]:
    """(requests, start, end, errors) of one client process's share."""
    u = urlsplit(url)
    errors: list[int] = []
    per = total // concurrency
    t0 = time.time()
    jobs = [worker(u.hostname or "", u.port or 80, request, per, errors) for _ in range(concurrency)]
    await asyncio.wait_for(asyncio.gather(*jobs), RUN_LIMIT)
    return per * concurrency, t0, time.time(), len(errors)


def _client(args: tuple[str, bytes, int, int]) -> tuple[int, float, float, int]:
    return asyncio.run(_share(*args))


def _measure(pool: object, clients: int, url: str, request: bytes, total: int, concurrency: int) -> tuple[float, int]:
    """Requests/s over ``clients`` load-generator processes started together."""
    share = (url, request, total // clients, max(1, concurrency // clients))
    parts = list(pool.map(_client, [share] * clients))  # type: ignore[attr-defined]
    done = sum(p[0] for p in parts)
    return done / (max(p[2] for p in parts) - min(p[1] for p in parts)), sum(p[3] for p in parts)


# ---------------------------------------------------------------------- the bare hello server


async def _hello(scope: dict[str, object], receive: object, send: object) -> None:
    if scope["type"] == "lifespan":
        while True:
            msg = await receive()  # type: ignore[operator]
            await send({"type": msg["type"] + ".complete"})  # type: ignore[operator]
            if msg["type"] == "lifespan.shutdown":
                return
    headers = [(b"content-type", b"text/plain"), (b"content-length", b"5")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})  # type: ignore[operator]
    await send({"type": "http.response.body", "body": b"hello"})  # type: ignore[operator]


def _serve_hello(workers: int) -> int:
    """Child mode: the hello app on 127.0.0.1:0 through the gateway's own server code."""
    from faas_pro.server.listener import Limits, run_server, run_workers

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(2048)
    sock.setblocking(False)
    port = sock.getsockname()[1]

    def ready() -> None:
        print(f"faas-pro serve: listening on http://127.0.0.1:{port}", flush=True)

    def log(message: str) -> None:
        print(f"hello: {message}", file=sys.stderr, flush=True)

    if workers < 0:  # plain uvicorn, none of the listener's limits: what the limits cost
        import uvicorn

        config = uvicorn.Config(_hello, http="h11", log_config=None, access_log=False, lifespan="on")
        config.server_header = config.date_header = False
        server = uvicorn.Server(config)

        async def plain() -> None:
            async def announce() -> None:
                while not server.started:
                    await asyncio.sleep(0.01)
                ready()

            task = asyncio.create_task(announce())
            await server.serve(sockets=[sock])
            task.cancel()

        asyncio.run(plain())
        return 0
    if workers > 1:
        return run_workers(lambda _: _hello, sock, Limits(), workers, log, ready)
    return 0 if run_server(_hello, sock, Limits(), log, ready) else 1


@contextmanager
def _hello_server(workers: int) -> Iterator[tuple[str, int]]:
    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve-hello", str(workers)], stdout=subprocess.PIPE, text=True, cwd=os.getcwd()
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        yield line.rsplit(" ", 1)[1].strip(), proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=15)


# ---------------------------------------------------------------------- main


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--requests", type=int, default=3000)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--clients", type=int, default=1, help="load-generator processes")
    ap.add_argument("--functions", type=int, default=20, help="functions in each gateway's registry")
    ap.add_argument("--serve-hello", type=int, default=0, help=argparse.SUPPRESS)
    opts = ap.parse_args()
    if opts.serve_hello:
        sys.exit(_serve_hello(opts.serve_hello))

    fake = FakeIssuer()
    n = opts.workers
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        iam = write_iam(
            root,
            issuer_yaml("fake", fake.iss, ["fake-aud"])
            + policy_yaml("dev", ["Function:*", "Namespace:List"], ["dev:*"])
            + role_yaml("dev", ["dev"], principal=["dev"]),
        )
        key = keygen(root / "gateway.pem")

        def gateway(workers: int, state: str, allow_all: bool = False) -> object:
            args = serve_args(iam, key, root / state, "http://gateway.test", "--namespace", "dev")
            if allow_all:  # the injected allow-all authoriser (benchmark only); tokens are still verified
                return running([*args, "--workers", str(workers), "--bench-insecure-no-authz"], NO_AUTHZ_ENV)
            return running([*args, "--workers", str(workers)])

        with (
            gateway(1, "s1") as gw1,  # type: ignore[attr-defined]
            gateway(n, "sn") as gwn,  # type: ignore[attr-defined]
            gateway(1, "a1", allow_all=True) as off1,  # type: ignore[attr-defined]
            gateway(n, "an", allow_all=True) as offn,  # type: ignore[attr-defined]
            _hello_server(1) as hello1,
            _hello_server(n) as hellon,
            _hello_server(-1) as plain,
        ):
            token = exchange(gw1.url, fake.mint(fake.claims(sub="dev", exp=int(time.time()) + 3600)))
            token = token.json()["access_token"]
            listing = raw_get("/system/functions?namespace=dev", token)
            for srv in (gw1, gwn, off1, offn):  # the same functions in each registry
                deploy_functions(srv.url, token, opts.functions, query="?namespace=dev")
            cases = [
                ("gateway authorised list, 1 worker", gw1.url, listing, gw1.proc.pid),
                ("gateway allow-all list, 1 worker", off1.url, listing, off1.proc.pid),
                (f"gateway authorised list, {n} workers", gwn.url, listing, gwn.proc.pid),
                (f"gateway allow-all list, {n} workers", offn.url, listing, offn.proc.pid),
                ("bare ASGI hello, 1 worker", hello1[0], raw_get("/"), hello1[1]),
                (f"bare ASGI hello, {n} workers", hellon[0], raw_get("/"), hellon[1]),
                ("bare ASGI hello, plain uvicorn, 1 worker", plain[0], raw_get("/"), plain[1]),
            ]
            results: dict[str, list[float]] = {c[0]: [] for c in cases}
            cpu: dict[str, list[float]] = {c[0]: [] for c in cases}
            errors = 0
            pool = ProcessPoolExecutor(opts.clients)
            for _name, url, request, _pid in cases:  # warm-up
                _measure(pool, opts.clients, url, request, min(300, opts.requests), opts.concurrency)
            for rep in range(opts.reps):  # alternating order: each pair is measured back to back
                for name, url, request, pid in cases if rep % 2 == 0 else cases[::-1]:
                    before = cpu_seconds(pid)
                    rate, errs = _measure(pool, opts.clients, url, request, opts.requests, opts.concurrency)
                    cpu[name].append(1e6 * (cpu_seconds(pid) - before) / opts.requests)
                    results[name].append(rate)
                    errors += errs
            pool.shutdown()
    fake.close()
    print(
        f"# {opts.reps} reps x {opts.requests} requests, concurrency {opts.concurrency}, "
        f"{opts.clients} client process(es), {os.cpu_count()} cores"
    )
    med = {name: statistics.median(v) for name, v in results.items()}
    for name, value in med.items():
        print(
            f"{name:40s} {value:8.0f} req/s (median; min {min(results[name]):.0f}, max {max(results[name]):.0f})"
            f"  server CPU {statistics.median(cpu[name]):5.0f} us/request"
        )
    for w in (1, n):
        on, off = f"gateway authorised list, {w} worker{'s' if w > 1 else ''}", f"gateway allow-all list, {w} worker"
        off += "s" if w > 1 else ""
        paired = statistics.median(a / b for a, b in zip(results[on], results[off], strict=True))
        on_cpu, off_cpu = statistics.median(cpu[on]), statistics.median(cpu[off])
        print(
            f"authorisation cost, {w} worker(s): {100 * (1 - paired):.1f}% of throughput (median paired ratio "
            f"{paired:.3f}), {on_cpu - off_cpu:+.0f} us CPU/request ({100 * (on_cpu / off_cpu - 1):+.1f}%)"
        )
    g1, gn = med[cases[0][0]], med[cases[2][0]]
    h1, hn = med[cases[4][0]], med[cases[5][0]]
    print(f"gateway {n} workers / 1 worker: x{gn / g1:.2f};  hello {n} workers / 1 worker: x{hn / h1:.2f}")
    print(f"gateway / hello: {g1 / h1:.0%} (1 worker), {gn / hn:.0%} ({n} workers);  errors: {errors}")


if __name__ == "__main__":
    main()
