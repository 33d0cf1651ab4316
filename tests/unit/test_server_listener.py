"""The listener's pure parts: flag checks, the rate-limited log, the in-flight cap, the fit of the
connection cap to the open-file limit (run in a child process with its own limit)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from faas_pro.errors import UsageError
from faas_pro.server.listener import FD_RESERVE, InFlightCap, Limits, RateLog, stray_outboxes


@pytest.mark.parametrize(
    ("limits", "flag"),
    [
        (Limits(max_connections=0), "--max-connections"),
        (Limits(max_requests_in_flight=0), "--max-requests-in-flight"),
        (Limits(header_timeout=0), "--header-timeout"),
        (Limits(body_timeout=-1), "--body-timeout"),
        (Limits(keep_alive_timeout=7200), "--keep-alive-timeout"),
    ],
)
def test_bad_limits_name_their_flag(limits: Limits, flag: str) -> None:
    with pytest.raises(UsageError) as e:
        limits.check()
    assert flag in e.value.line()


def test_rate_log_one_line_per_kind_per_interval_with_the_count_left_out() -> None:
    now = [0.0]
    lines: list[str] = []
    rate = RateLog(lines.append, interval=10, clock=lambda: now[0])
    for _ in range(500):
        rate("emfile", "out of descriptors")
        now[0] += 0.01
    rate("header", "slow headers")
    assert lines == ["out of descriptors", "slow headers"]
    now[0] = 12
    rate("emfile", "out of descriptors")
    assert len(lines) == 3 and "499 more" in lines[2]


def test_in_flight_cap_answers_503_beyond_the_cap() -> None:
    release = asyncio.Event()
    rejected: list[int] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    cap = InFlightCap(app, 2, lambda: rejected.append(1))

    async def call() -> int:
        sent: list[dict[str, Any]] = []

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await cap({"type": "http"}, None, send)
        return int(sent[0]["status"])

    async def main() -> list[int]:
        held = [asyncio.create_task(call()) for _ in range(2)]
        await asyncio.sleep(0)
        third = await call()
        release.set()
        return [third, *(await asyncio.gather(*held))]

    assert asyncio.run(main()) == [503, 200, 200]
    assert rejected == [1] and cap.in_flight == 0


def test_connection_cap_fits_the_open_file_limit() -> None:
    code = (
        "import resource\n"
        "resource.setrlimit(resource.RLIMIT_NOFILE, (1000, 1000))\n"
        "from faas_pro.server.listener import fit_to_fd_limit\n"
        "lines = []\n"
        "print(fit_to_fd_limit(1024, lines.append), fit_to_fd_limit(100, lines.append), len(lines))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == [str(1000 - FD_RESERVE), "100", "1"]


def test_stray_outboxes_are_those_of_workers_that_will_not_run(tmp_path: Path) -> None:
    for name in ("audit.db", "audit-1.db", "audit-2.db", "audit-10.db", "audit-x.db", "registry.db"):
        (tmp_path / name).write_bytes(b"")
    assert stray_outboxes(tmp_path, 2) == ["audit-10.db", "audit-2.db"]
    assert stray_outboxes(tmp_path, 11) == []
    assert stray_outboxes(tmp_path / "missing", 1) == []
