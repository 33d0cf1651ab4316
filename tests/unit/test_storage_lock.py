"""gateway_lock between real processes: it serialises, and a waiter that times out gets one line."""

from __future__ import annotations

import multiprocessing
import stat
import time
from pathlib import Path

import pytest

from faas_pro.errors import FaasProError
from faas_pro.storage.lock import gateway_lock, lock_path

GW = "http://gw.example.com:8080"


def _critical(data_dir: str, log: str, name: str, rounds: int) -> None:
    for _ in range(rounds):
        with gateway_lock(Path(data_dir), GW):
            with open(log, "a") as f:
                f.write(f"enter {name}\n")
            time.sleep(0.02)  # widen the window in which an unserialised peer would interleave
            with open(log, "a") as f:
                f.write(f"exit {name}\n")


def _hold(data_dir: str, held: object, release: object) -> None:
    with gateway_lock(Path(data_dir), GW):
        held.set()  # type: ignore[attr-defined]
        release.wait(60)  # type: ignore[attr-defined]


def test_lock_file_is_hashed_under_a_private_dir(tmp_path: Path) -> None:
    p = lock_path(tmp_path, "HTTP://GW.example.com:8080/")
    assert p == lock_path(tmp_path, GW)
    assert p.parent == tmp_path / "locks" and len(p.stem) == 24 and "example" not in p.name
    with gateway_lock(tmp_path, GW):
        assert p.exists()
    assert stat.S_IMODE((tmp_path / "locks").stat().st_mode) == 0o700
    assert lock_path(tmp_path, "http://other") != p


def test_two_processes_are_serialised(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    log = tmp_path / "log"
    procs = [ctx.Process(target=_critical, args=(str(tmp_path), str(log), n, 5)) for n in ("a", "b")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    lines = log.read_text().splitlines()
    assert len(lines) == 20
    for enter, leave in zip(lines[::2], lines[1::2], strict=True):
        assert enter.startswith("enter ") and leave == "exit " + enter.split()[1], lines


def test_waiting_too_long_is_one_clear_error(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    held, release = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold, args=(str(tmp_path), held, release))
    holder.start()
    try:
        assert held.wait(60)
        with pytest.raises(FaasProError) as info, gateway_lock(tmp_path, GW + "/", timeout=0.2):
            pass
        assert info.value.line().startswith(f"another faas-pro is logging in to {GW}; waited 0.2s")
        with gateway_lock(tmp_path, "http://another-gateway", timeout=0.2):
            pass  # other gateways are not blocked
    finally:
        release.set()
        holder.join(60)
    assert holder.exitcode == 0
    with gateway_lock(tmp_path, GW, timeout=5):  # released by the holder
        pass
