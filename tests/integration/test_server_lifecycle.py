"""The gateway's start/stop cycle in-process leaves nothing open: every SQLite connection (registry,
audit outbox) and HTTP client has one owner and is closed at shutdown, also when start-up fails.
ResourceWarning is an error here and tracemalloc names where a leaked object was made."""

from __future__ import annotations

import asyncio
import gc
import io
import socket
import sqlite3
import traceback
import tracemalloc
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from faas_pro.errors import FaasProError, UsageError
from tests.support.gateway import issuer_yaml, keygen, policy_yaml, role_yaml


def _is_open(c: sqlite3.Connection) -> bool:
    try:
        c.execute("SELECT 1")
    except sqlite3.ProgrammingError:
        return False
    return True


@pytest.fixture
def strict(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every SQLite connection opened during the test is kept (so the garbage collector cannot close
    it quietly) and must be closed by its owner when the test ends."""
    made: list[tuple[sqlite3.Connection, str]] = []
    real = sqlite3.connect

    def connect(*a: Any, **kw: Any) -> sqlite3.Connection:
        # the audit outbox's connection lives on its own thread: let the check below look at it
        kw["check_same_thread"] = False
        c: sqlite3.Connection = real(*a, **kw)
        made.append((c, "".join(traceback.format_stack(limit=8))))
        return c

    monkeypatch.setattr(sqlite3, "connect", connect)
    tracemalloc.start(25)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", ResourceWarning)
            yield
            gc.collect()
        assert made, "the test opened no connection: it checks nothing"
        leaked = [where for c, where in made if _is_open(c)]
        assert leaked == [], leaked
    finally:
        tracemalloc.stop()
        for c, _ in made:
            c.close()


def _cfg(tmp_path: Path, **extra: Any) -> Any:
    from faas_pro.server.run import ServeConfig

    iam = tmp_path / "iam"
    iam.mkdir(exist_ok=True)
    (iam / "iam.yaml").write_text(
        issuer_yaml("i", "https://idp.example.com", ["a"]) + policy_yaml("p", ["*"], ["*"])
        + role_yaml("r", ["p"], principal=["s"])
    )  # fmt: skip
    (tmp_path / "secret").write_text("hmac")
    key = tmp_path / "k.pem"
    if not key.exists():
        keygen(key)
    base: dict[str, Any] = {
        "iam_paths": (iam,),
        "issuer_url": "http://gw.test",
        "issuer_key": key,
        "state_dir": tmp_path / "state",
        "audit_webhook": "http://127.0.0.1:9/hook",
        "audit_secret_file": tmp_path / "secret",
    }
    return ServeConfig(**{**base, **extra})


def _deps(tmp_path: Path) -> Any:
    from faas_pro.deps import Deps

    return Deps(env={}, stdin=io.StringIO(), stdout=io.StringIO(), stderr=io.StringIO(), data_dir=tmp_path / "d")


def test_start_serve_stop_closes_every_connection(tmp_path: Path, strict: None) -> None:
    from faas_pro.server.app import build_app
    from faas_pro.server.run import build_gateway

    for _ in range(3):
        gw = build_gateway(_cfg(tmp_path), _deps(tmp_path))
        app = build_app(gw)

        async def cycle(app: Any) -> int:
            async with app.router.lifespan_context(app):
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
                    await client.get("/healthz")
                    r = await client.post("/system/functions", json={"service": "fn", "image": "i"})
                    return r.status_code

        assert asyncio.run(cycle(app)) == 401
        with pytest.raises(sqlite3.ProgrammingError):
            gw.backend._db.execute("SELECT 1")  # the registry's one connection is closed
        assert gw.outbox is not None and gw.outbox.closed  # its connection: checked by the fixture
        del gw, app


def test_a_failed_start_closes_what_it_opened(tmp_path: Path, strict: None) -> None:
    from faas_pro.server.run import build_gateway, serve

    with pytest.raises(UsageError):  # checked before anything is opened
        build_gateway(_cfg(tmp_path, audit_webhook="ftp://x"), _deps(tmp_path))
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        with pytest.raises(FaasProError, match=str(port)):
            serve(_cfg(tmp_path, listen=f"127.0.0.1:{port}"), _deps(tmp_path))
