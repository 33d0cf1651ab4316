"""Gateway benchmark: (a) token exchanges/s; (b) authorised GET /system/functions req/s against
the same server with authorisation switched off (benchmark-only: --bench-insecure-no-authz plus
FAAS_PRO_BENCH_NO_AUTHZ=1), at concurrency 1 and 32, from a loopback load generator.

(c) function invocations through the gateway in upstream mode against the same upstream called
directly (the recording OpenFaaS stand-in of tests/support/upstream.py, its own process): the
median added latency at concurrency 1 and the throughput ratio at 32.

Run:  python bench/gateway_bench.py [--reps 5] [--requests 3000] [--invocations 2000] [--workers 2]

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
import contextlib
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.gateway import issuer_yaml, keygen, policy_yaml, role_yaml, running, serve_args, write_iam
from tests.support.issuer import FakeIssuer


async def _worker(
    host: str, port: int, request: bytes, count: int, errors: list[int], times: list[float] | None = None
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        for _ in range(count):
            t0 = time.perf_counter()
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
            if times is not None:
                times.append(time.perf_counter() - t0)
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


async def _latency(url: str, request: bytes, total: int) -> tuple[float, int]:
    """Median seconds per request at concurrency 1, and the error count."""
    u = urlsplit(url)
    errors: list[int] = []
    times: list[float] = []
    await _worker(u.hostname or "", u.port or 80, request, total, errors, times)
    return statistics.median(times), len(errors)


def _cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by a process and its live children (its workers),
    from /proc (Linux). Unlike throughput, this hardly depends on what else the machine runs."""
    total, tick = 0.0, os.sysconf("SC_CLK_TCK")
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    for p in (pid, *map(int, children)):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def _measured(pid: int, run: Coroutine[Any, Any, tuple[float, int]], n: int) -> tuple[float, int, float]:
    """(the run's result, its errors, the server's CPU microseconds per request during it)."""
    before = _cpu(pid)
    value, errs = asyncio.run(run)
    return value, errs, 1e6 * (_cpu(pid) - before) / n


def _post(path: str, body: bytes) -> bytes:
    head = f"POST {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: text/plain\r\nContent-Length: {len(body)}\r\n\r\n"
    return head.encode() + body


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
    ap.add_argument("--invocations", type=int, default=2000)
    ap.add_argument("--only-invocations", action="store_true", help="run (c) only")
    ap.add_argument("--workers", type=int, default=2, help="(c) also with this many gateway worker processes")
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
        cpu: dict[str, list[float]] = {}  # the server's CPU microseconds per request
        errors = 0
        for conc in () if opts.only_invocations else (1, 32):
            for rep in range(opts.reps + 1):  # the first round warms up and is not counted
                runs = [
                    (f"exchange c={conc}", on, _post_form("/oauth/token", exchange_form), opts.requests // 3),
                    (f"functions authz c={conc}", on, _get("/system/functions", token), opts.requests),
                    (f"functions no-authz c={conc}", off, _get("/system/functions", token), opts.requests),
                ]
                if rep % 2:
                    runs[1], runs[2] = runs[2], runs[1]
                for name, srv, req, n in runs:
                    rate, errs, cpu_us = _measured(srv.proc.pid, _load(srv.url, req, n, conc), n)
                    errors += errs
                    if rep:
                        results.setdefault(name, []).append(rate)
                        cpu.setdefault(name, []).append(cpu_us)
        for name, rates in results.items() if not opts.only_invocations else ():
            print(
                f"{name:32s} {statistics.median(rates):8.0f} req/s   (min {min(rates):.0f}, max {max(rates):.0f})"
                f"   server CPU {statistics.median(cpu[name]):6.0f} us/request"
            )
        for conc in () if opts.only_invocations else (1, 32):
            on_rates, off_rates = results[f"functions authz c={conc}"], results[f"functions no-authz c={conc}"]
            a, b = statistics.median(on_rates), statistics.median(off_rates)
            # each repetition measures both servers back to back: the ratio within a repetition is
            # less exposed to the load of other jobs than the ratio of the two medians
            paired = statistics.median(x / y for x, y in zip(on_rates, off_rates, strict=True))
            print(
                f"authorisation cost at c={conc}: {100 * (1 - paired):.1f}% of throughput (median of the "
                f"{len(on_rates)} paired authz/no-authz ratios = {paired:.3f}; ratio of the medians = {a / b:.3f})"
            )
            on_cpu = statistics.median(cpu[f"functions authz c={conc}"])
            off_cpu = statistics.median(cpu[f"functions no-authz c={conc}"])
            print(
                f"authorisation cost at c={conc} in server CPU: {on_cpu - off_cpu:+.0f} us/request "
                f"({100 * (on_cpu / off_cpu - 1):+.1f}%)"
            )
        errors += _invocations(opts, iam, key, d, token)
        print(f"errors: {errors}")
    fake.close()
    if errors:
        sys.exit(1)


Variant = tuple[str, list[str], dict[str, str]]  # name, extra serve arguments, extra environment


def _invocations(
    opts: argparse.Namespace, iam: Path, key: Path, d: Path, token: str, extra_variants: Sequence[Variant] = ()
) -> int:
    """(c): the same invocation through the gateway (upstream mode, 1 and ``--workers`` worker
    processes, and any ``extra_variants``) and directly; returns errors."""
    import httpx

    from tests.support.upstream import upstream

    errors = 0
    with upstream("admin:bench-pass") as up, contextlib.ExitStack() as stack:
        (d / "auth").write_text("admin:bench-pass\n")
        targets: list[tuple[str, str, bytes, int]] = []
        via = _post("/function/echo", b'{"hello":"world"}')
        variants: list[Variant] = [("gateway w=1", [], {})]
        if opts.workers > 1:
            variants.append((f"gateway w={opts.workers}", ["--workers", str(opts.workers)], {}))
        variants += extra_variants
        for i, (name, extra, env) in enumerate(variants):
            args = [*serve_args(iam, key, d / f"state-up-{i}", "http://gateway.bench"), "--upstream", up.url]
            gw = stack.enter_context(running([*args, "--upstream-auth-file", str(d / "auth"), *extra], env))
            fn = {"service": "echo", "image": "ghcr.io/acme/echo:1"}
            if i == 0:  # the upstream's registry is shared: deploy once
                r = httpx.post(gw.url + "/system/functions", json=fn, headers={"Authorization": f"Bearer {token}"})
                assert r.status_code == 202, r.text
            targets.append((name, gw.url, via, gw.proc.pid))
        direct = _post("/function/echo.openfaas-fn", b'{"hello":"world"}')
        targets.append(("direct", up.url, direct, up.proc.pid))
        lat: dict[str, list[float]] = {t[0]: [] for t in targets}
        rate: dict[str, list[float]] = {t[0]: [] for t in targets}
        cpu: dict[str, list[float]] = {t[0]: [] for t in targets}  # the server's CPU us per request at c=32
        for rep in range(opts.reps + 1):
            for name, url, req, pid in targets if rep % 2 else targets[::-1]:
                median, errs = asyncio.run(_latency(url, req, opts.invocations // 2))
                throughput, errs2, cpu_us = _measured(pid, _load(url, req, opts.invocations, 32), opts.invocations)
                errors += errs + errs2
                if rep:
                    lat[name].append(median)
                    rate[name].append(throughput)
                    cpu[name].append(cpu_us)
    for name, *_ in targets:
        ms = 1000 * statistics.median(lat[name])
        rates = rate[name]
        print(
            f"invoke {name:20s} c=1 median {ms:6.3f} ms   c=32 {statistics.median(rates):8.0f} req/s"
            f"   (min {min(rates):.0f}, max {max(rates):.0f})   server CPU {statistics.median(cpu[name]):5.0f} us/call"
        )
    for name, *_ in targets[:-1]:
        added = 1000 * (statistics.median(lat[name]) - statistics.median(lat["direct"]))
        ratio = statistics.median(rate[name]) / statistics.median(rate["direct"])
        # paired: within each repetition, this gateway against the direct run next to it
        paired_added = 1000 * statistics.median(g - t for g, t in zip(lat[name], lat["direct"], strict=True))
        paired = statistics.median(g / t for g, t in zip(rate[name], rate["direct"], strict=True))
        print(
            f"{name}: added latency at c=1 {added:.3f} ms, paired {paired_added:.3f} ms (goal <= 1 ms); "
            f"c=32 ratio {ratio:.3f}, paired {paired:.3f} (goal >= 0.5)"
        )
    return errors


if __name__ == "__main__":
    main()
