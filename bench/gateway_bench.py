"""Gateway benchmark: (a) token exchanges/s; (b) authorised GET /system/functions req/s against
the same server with authorisation switched off (benchmark-only: --bench-insecure-no-authz plus
FAAS_PRO_BENCH_NO_AUTHZ=1), at concurrency 1 and 32, from a loopback load generator.

(c) function invocations through the gateway in upstream mode against the same upstream called
directly (the recording OpenFaaS stand-in of tests/support/upstream.py, its own process): the
median added latency at concurrency 1 and the throughput ratio at 32.

Run:  python bench/gateway_bench.py [--reps 5] [--requests 3000] [--invocations 2000] [--workers 2]

The load generator (bench/_load.py) is a minimal asyncio HTTP/1.1 keep-alive client (one
connection per worker, bounded loop of requests), so that the client costs as little CPU as possible
next to the server on the same machine. Both servers run at once; repetitions alternate between them; medians are
reported. Any non-200 answer counts as an error. Both servers receive the same request bytes (the
bearer token too; the no-authz server ignores it), so the difference is the cost of verifying the
token and deciding, not of carrying the header.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shutil
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._load import (
    deploy,
    deploy_functions,
    gateway_setup,
    latency,
    load,
    measured,
    raw_get,
    raw_post,
    raw_post_form,
)
from tests.support.gateway import running, serve_args


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

    fake, d, key, iam, form = gateway_setup("gateway-bench-")
    authz = serve_args(iam, key, d / "state-on", "http://gateway.bench")
    no_authz = [*serve_args(iam, key, d / "state-off", "http://gateway.bench"), "--bench-insecure-no-authz"]
    with running(authz) as on, running(no_authz, {"FAAS_PRO_BENCH_NO_AUTHZ": "1"}) as off:
        token = httpx.post(on.url + "/oauth/token", data=form).json()["access_token"]
        for srv in (on, off):
            deploy_functions(srv.url, token, opts.functions, labels={"team": "a"})
        print(f"python {sys.version.split()[0]}, {opts.reps} reps, {opts.requests} requests each, medians")
        results: dict[str, list[float]] = {}
        cpu: dict[str, list[float]] = {}  # the server's CPU microseconds per request
        errors = 0
        for conc in () if opts.only_invocations else (1, 32):
            for rep in range(opts.reps + 1):  # the first round warms up and is not counted
                runs = [
                    (f"exchange c={conc}", on, raw_post_form("/oauth/token", form), opts.requests // 3),
                    (f"functions authz c={conc}", on, raw_get("/system/functions", token), opts.requests),
                    (f"functions no-authz c={conc}", off, raw_get("/system/functions", token), opts.requests),
                ]
                if rep % 2:
                    runs[1], runs[2] = runs[2], runs[1]
                for name, srv, req, n in runs:
                    rate, errs, cpu_us = measured(srv.proc.pid, load(srv.url, req, n, conc), n)
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
    shutil.rmtree(d, ignore_errors=True)  # keys, IAM, state: nothing to keep
    if errors:
        sys.exit(1)


Variant = tuple[str, list[str], dict[str, str]]  # name, extra serve arguments, extra environment


def _invocations(
    opts: argparse.Namespace, iam: Path, key: Path, d: Path, token: str, extra_variants: Sequence[Variant] = ()
) -> int:
    """(c): the same invocation through the gateway (upstream mode, 1 and ``--workers`` worker
    processes, and any ``extra_variants``) and directly; returns errors."""
    from tests.support.upstream import upstream

    errors = 0
    with upstream("admin:bench-pass") as up, contextlib.ExitStack() as stack:
        (d / "auth").write_text("admin:bench-pass\n")
        targets: list[tuple[str, str, bytes, int]] = []
        via = raw_post("/function/echo", b'{"hello":"world"}')
        variants: list[Variant] = [("gateway w=1", [], {})]
        if opts.workers > 1:
            variants.append((f"gateway w={opts.workers}", ["--workers", str(opts.workers)], {}))
        variants += extra_variants
        for i, (name, extra, env) in enumerate(variants):
            args = [*serve_args(iam, key, d / f"state-up-{i}", "http://gateway.bench"), "--upstream", up.url]
            gw = stack.enter_context(running([*args, "--upstream-auth-file", str(d / "auth"), *extra], env))
            if i == 0:  # the upstream's registry is shared: deploy once
                deploy(gw.url, token, {"service": "echo", "image": "ghcr.io/acme/echo:1"})
            targets.append((name, gw.url, via, gw.proc.pid))
        direct = raw_post("/function/echo.openfaas-fn", b'{"hello":"world"}')
        targets.append(("direct", up.url, direct, up.proc.pid))
        lat: dict[str, list[float]] = {t[0]: [] for t in targets}
        rate: dict[str, list[float]] = {t[0]: [] for t in targets}
        cpu: dict[str, list[float]] = {t[0]: [] for t in targets}  # the server's CPU us per request at c=32
        for rep in range(opts.reps + 1):
            for name, url, req, pid in targets if rep % 2 else targets[::-1]:
                median, errs = asyncio.run(latency(url, req, opts.invocations // 2))
                throughput, errs2, cpu_us = measured(pid, load(url, req, opts.invocations, 32), opts.invocations)
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
