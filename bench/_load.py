"""What the gateway benchmarks share (bench/gateway_bench.py, bench/server_bench.py,
bench/profile_gateway.py): a minimal asyncio HTTP/1.1 keep-alive load generator, a server's CPU time
from /proc, raw request builders, and the IAM and functions the gateway benchmarks set up.

The load generator keeps one connection per concurrent worker and sends a bounded number of requests
on it, so that the client costs as little CPU as possible next to the server on the same machine;
any non-200 answer counts as an error. The scripts put the repository root on ``sys.path`` before
importing this module (``tests.support`` is imported from there).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlencode, urlsplit

from tests.support.gateway import issuer_yaml, keygen, policy_yaml, role_yaml, write_iam
from tests.support.issuer import FakeIssuer

# ---------------------------------------------------------------------- the load generator


async def worker(
    host: str, port: int, request: bytes, count: int, errors: list[int], times: list[float] | None = None
) -> None:
    """One keep-alive connection that sends ``request`` ``count`` times, one after the other, and
    reads each answer in full: the status of each non-200 answer goes to ``errors``, and, with
    ``times``, the seconds of each request, from its write to its last byte read. (asyncio sets
    TCP_NODELAY on its TCP connections.)"""
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


async def load(url: str, request: bytes, total: int, concurrency: int) -> tuple[float, int]:
    """Requests/s of ``total`` requests over ``concurrency`` connections at once (wall clock from
    the first connect to the last answer), and the error count."""
    u = urlsplit(url)
    errors: list[int] = []
    per = total // concurrency
    t0 = time.perf_counter()
    await asyncio.gather(*[worker(u.hostname or "", u.port or 80, request, per, errors) for _ in range(concurrency)])
    elapsed = time.perf_counter() - t0
    return per * concurrency / elapsed, len(errors)


async def latency(url: str, request: bytes, total: int) -> tuple[float, int]:
    """Median seconds per request at concurrency 1, and the error count."""
    u = urlsplit(url)
    errors: list[int] = []
    times: list[float] = []
    await worker(u.hostname or "", u.port or 80, request, total, errors, times)
    return statistics.median(times), len(errors)


# ---------------------------------------------------------------------- the server's CPU time


def cpu_seconds(pid: int) -> float:
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


def measured(pid: int, run: Coroutine[Any, Any, tuple[float, int]], n: int) -> tuple[float, int, float]:
    """Runs ``run`` (``load`` or ``latency``): (its result, its errors, the CPU microseconds per
    request that the server ``pid`` and its workers used during it, over ``n`` requests)."""
    before = cpu_seconds(pid)
    value, errs = asyncio.run(run)
    return value, errs, 1e6 * (cpu_seconds(pid) - before) / n


# ---------------------------------------------------------------------- raw requests


def raw_get(path: str, token: str | None = None) -> bytes:
    """The bytes of ``GET path``, with a bearer token when one is given."""
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    return f"GET {path} HTTP/1.1\r\nHost: bench\r\n{auth}\r\n".encode()


def raw_post(path: str, body: bytes) -> bytes:
    """The bytes of ``POST path`` with a text/plain ``body``."""
    head = f"POST {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: text/plain\r\nContent-Length: {len(body)}\r\n\r\n"
    return head.encode() + body


def raw_post_form(path: str, form: dict[str, str]) -> bytes:
    """The bytes of ``POST path`` with ``form`` url-encoded as its body."""
    body = urlencode(form).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


# ---------------------------------------------------------------------- the gateway set-up


class GatewaySetup(NamedTuple):
    """What gateway_bench.py and profile_gateway.py serve from: see ``gateway_setup``."""

    fake: FakeIssuer
    d: Path
    key: Path
    iam: Path
    form: dict[str, str]


def gateway_setup(prefix: str) -> GatewaySetup:
    """The set-up of gateway_bench.py and profile_gateway.py: a fake IdP, a new temporary folder
    (``prefix``), a gateway signing key, and the IAM: the fake IdP as the issuer, a read-write policy
    on functions, 50 other policies for the authoriser to pass over, and the role ``robot`` for the
    principal ``robot-1`` (the fake IdP's default subject). ``form`` is the token-exchange form for
    ``POST /oauth/token``, with an ID token of the fake IdP valid for an hour."""
    fake = FakeIssuer()
    d = Path(tempfile.mkdtemp(prefix=prefix))
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
    return GatewaySetup(fake, d, key, iam, form)


def deploy(url: str, token: str, fn: dict[str, Any], query: str = "") -> None:
    """Deploys ``fn`` through the gateway at ``url`` (``POST /system/functions``); asserts a 202."""
    import httpx

    r = httpx.post(url + "/system/functions" + query, json=fn, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 202, r.text


def deploy_functions(url: str, token: str, count: int, query: str = "", labels: dict[str, str] | None = None) -> None:
    """Deploys ``fn-000``, ``fn-001``, … (``count`` functions, with ``labels`` when given)."""
    for i in range(count):
        fn: dict[str, Any] = {"service": f"fn-{i:03d}", "image": f"ghcr.io/acme/fn-{i}:1"}
        if labels is not None:
            fn["labels"] = labels
        deploy(url, token, fn, query)
