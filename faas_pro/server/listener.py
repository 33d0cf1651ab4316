"""Serving the gateway's ASGI app on a pre-bound socket, with limits slow or greedy clients cannot
get round (docs/server-limits.md), and ``--workers N`` processes sharing that socket.

- ``Limits``: connection cap, in-flight request cap, header / body / keep-alive deadlines.
- ``run_server(app, sock, limits, log, on_started)``: uvicorn (h11) on ``sock`` with those limits.
  A connection that has not sent its complete request headers within ``header_timeout`` is
  closed (408 if it sent part of them), a request body not received within ``body_timeout``
  likewise; idle keep-alive connections are closed after ``keep_alive_timeout``. At the connection
  cap the oldest connection that is not in a request (idle, or still sending its headers) is closed
  to make room; if every connection is in a request, the new one gets a 503 and is closed. Beyond
  ``max_requests_in_flight`` requests are answered 503 at once. Running out of file descriptors
  (EMFILE) makes the accept loop back off and is logged as one rate-limited line, as is every other
  repeated server complaint: no traceback floods on stderr.
- ``run_workers(build, sock, limits, workers, log, on_started)``: fork ``workers`` processes after
  the bind, each building its own app (``build(i)``: its own SQLite connections and audit outbox);
  the parent supervises (restarts a worker that dies, 1 s later) and forwards SIGTERM/SIGINT.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from faas_pro.errors import FaasProError, UsageError

Log = Callable[[str], None]

# the listen backlog; asyncio also accepts up to this many sockets in one go, before their protocols
# start (and are counted against the connection cap)
ACCEPT_BATCH = 128
# file descriptors kept free for everything that is not a counted client connection: IAM files,
# SQLite, outgoing HTTPS to issuers, webhook and upstream (64), and two accept bursts (sockets not
# counted yet, and idle ones closed to make room for them but not released yet)
FD_RESERVE = 64 + 2 * ACCEPT_BATCH
_FD_ERRNOS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})


@dataclass(frozen=True)
class Limits:
    max_connections: int = 1024
    max_requests_in_flight: int = 256
    header_timeout: float = 10.0
    body_timeout: float = 30.0
    keep_alive_timeout: float = 5.0

    def check(self) -> None:
        for flag, value in (
            ("--max-connections", self.max_connections),
            ("--max-requests-in-flight", self.max_requests_in_flight),
        ):
            if value < 1:
                raise UsageError(f"{flag} must be at least 1, got {value}")
        for flag, seconds in (
            ("--header-timeout", self.header_timeout),
            ("--body-timeout", self.body_timeout),
            ("--keep-alive-timeout", self.keep_alive_timeout),
        ):
            if not 0 < seconds <= 3600:
                raise UsageError(f"{flag} must be between 0 and 3600 seconds, got {seconds}")


def fit_to_fd_limit(max_connections: int, log: Log) -> int:
    """Raise the soft RLIMIT_NOFILE towards what ``max_connections`` needs (within the hard limit)
    and return the connection cap that fits in it, so accepting never runs out of descriptors."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = max_connections + FD_RESERVE
    if soft != resource.RLIM_INFINITY and soft < want:
        new = want if hard == resource.RLIM_INFINITY else min(want, hard)
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
            soft = new
    if soft == resource.RLIM_INFINITY or soft >= want:
        return max_connections
    fitted = max(1, soft - FD_RESERVE)
    log(f"--max-connections {max_connections} lowered to {fitted} (open-file limit {soft})")
    return fitted


class RateLog:
    """One line per kind of complaint at most every ``interval`` seconds, with the count of the
    ones left out since the last line."""

    def __init__(self, log: Log, interval: float = 10.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._log = log
        self._interval = interval
        self._clock = clock
        self._last: dict[str, float] = {}
        self._skipped: dict[str, int] = {}
        self._lock = threading.Lock()

    def __call__(self, kind: str, message: str) -> None:
        now = self._clock()
        with self._lock:
            last = self._last.get(kind)
            if last is not None and now - last < self._interval:
                self._skipped[kind] = self._skipped.get(kind, 0) + 1
                return
            skipped = self._skipped.pop(kind, 0)
            self._last[kind] = now
        more = f" (and {skipped} more like it in the last {now - last:.0f} s)" if skipped and last is not None else ""
        self._log(message + more)


def _raw_response(status: int, reason: str, body: bytes, extra: str = "") -> bytes:
    return (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n"
        f"connection: close\r\n{extra}\r\n"
    ).encode() + body


_BUSY_BODY = b'{"message":"the gateway is busy; retry later"}'
_BUSY = _raw_response(503, "Service Unavailable", _BUSY_BODY, "retry-after: 1\r\n")
_TIMEOUT = _raw_response(408, "Request Timeout", b'{"message":"request headers not received in time"}')


class InFlightCap:
    """ASGI middleware: at most ``cap`` HTTP requests in the app at once; the rest get 503 at once."""

    def __init__(self, app: Any, cap: int, on_reject: Callable[[], None]) -> None:
        self.app = app
        self.cap = cap
        self.in_flight = 0
        self._on_reject = on_reject

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.cap:
            self._on_reject()
            headers = [(b"content-type", b"application/json"), (b"retry-after", b"1"), (b"connection", b"close")]
            await send({"type": "http.response.start", "status": 503, "headers": headers})
            await send({"type": "http.response.body", "body": _BUSY_BODY})
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1


class _UvicornLogHandler:
    """Route uvicorn's own log records through the rate-limited log, one line each."""

    def __init__(self, rate: RateLog) -> None:
        import logging

        rate_log = rate

        class Handler(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                text = record.getMessage()
                if record.exc_info and record.exc_info[1] is not None:
                    exc = record.exc_info[1]
                    text = f"{text} {type(exc).__name__}: {exc}"
                rate_log(f"uvicorn:{record.getMessage()}", text)

        self.handler = Handler(level=logging.WARNING)

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        import logging

        logger = logging.getLogger("uvicorn.error")
        saved = logger.propagate
        logger.addHandler(self.handler)
        logger.propagate = False
        try:
            yield
        finally:
            logger.removeHandler(self.handler)
            logger.propagate = saved


def run_server(app: Any, sock: socket.socket, limits: Limits, log: Log, on_started: Callable[[], None]) -> bool:
    """Serve ``app`` on the listening ``sock`` until SIGTERM/SIGINT; True if it ever started."""
    import asyncio

    import h11
    import uvicorn
    from uvicorn.protocols.http.h11_impl import H11Protocol

    rate = RateLog(log)
    max_connections = fit_to_fd_limit(limits.max_connections, log)
    table: dict[Any, None] = {}  # open connections, oldest first

    def evict_one() -> bool:
        for proto in table:
            if proto.phase in ("header", "idle") and not proto.transport.is_closing():
                proto.expire("evicted")
                return True
        return False

    class LimitedH11(H11Protocol):
        """uvicorn's h11 protocol with a deadline for each request's headers and body."""

        phase = "header"  # header | body | busy (in the app) | idle (keep-alive)
        rejected = False
        partial = False
        timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            assert isinstance(transport, asyncio.Transport)
            if len(table) >= max_connections and not evict_one():
                self.transport = transport
                self.rejected = True
                rate("conn-cap", f"connection cap ({max_connections}) reached with every connection in a request: 503")
                transport.write(_BUSY)
                transport.close()
                return
            if len(table) >= max_connections:
                rate("evict", f"connection cap ({max_connections}) reached: closing idle connections to make room")
            super().connection_made(transport)
            table[self] = None
            self.arm(limits.header_timeout, "header")

        def connection_lost(self, exc: Exception | None) -> None:
            self.disarm()
            if self.rejected:
                return
            table.pop(self, None)
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            if self.rejected:
                return
            if self.phase == "idle":
                self.arm(limits.header_timeout, "header")
            if self.phase == "header":
                self.partial = True
            before = self.cycle
            super().data_received(data)
            self.advance(before)

        def on_response_complete(self) -> None:
            before = self.cycle
            super().on_response_complete()
            if self.transport.is_closing():
                self.disarm()
            elif self.cycle is before:
                self.disarm()
                self.phase = "idle"  # uvicorn's keep-alive timer runs from here
                self.partial = False
            else:
                self.advance(before)

        def advance(self, before: Any) -> None:
            cycle = self.cycle
            if cycle is not before and cycle is not None:  # a request's headers are complete
                self.disarm()
                self.partial = False
                if cycle.more_body:
                    self.arm(limits.body_timeout, "body")
                else:
                    self.phase = "busy"
            elif self.phase == "body" and cycle is not None and not cycle.more_body:
                self.disarm()
                self.phase = "busy"

        def arm(self, seconds: float, phase: str) -> None:
            self.disarm()
            self.phase = phase
            self.timer = self.loop.call_later(seconds, self.expire, phase)

        def disarm(self) -> None:
            if self.timer is not None:
                self.timer.cancel()
                self.timer = None

        def expire(self, why: str) -> None:
            self.disarm()
            if self.transport.is_closing():
                return
            if why == "header":
                rate(
                    "header",
                    f"closed connections that sent no complete request headers within {limits.header_timeout:g} s",
                )
            elif why == "body":
                rate("body", f"closed connections that sent no complete request body within {limits.body_timeout:g} s")
            if self.partial and self.conn.their_state is h11.IDLE:
                self.transport.write(_TIMEOUT)
            self.transport.close()

    def busy() -> None:
        rate("in-flight", f"{limits.max_requests_in_flight} requests in flight (--max-requests-in-flight): 503")

    config = uvicorn.Config(
        InFlightCap(app, limits.max_requests_in_flight, busy),
        http=LimitedH11,
        log_config=None,
        access_log=False,
        lifespan="on",
        server_header=False,
        proxy_headers=False,  # the caller's X-Forwarded-* are not trusted: the peer address is the client
        date_header=False,
        timeout_graceful_shutdown=5,
        backlog=ACCEPT_BATCH,
        timeout_keep_alive=limits.keep_alive_timeout,  # type: ignore[arg-type]  # a float works
    )

    class Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            # stop cleanly (exit 0) on SIGTERM/SIGINT instead of uvicorn's re-raising the signal
            if threading.current_thread() is not threading.main_thread():
                yield
                return
            originals = {s: signal.signal(s, self.handle_exit) for s in (signal.SIGINT, signal.SIGTERM)}
            try:
                yield
            finally:
                for s, h in originals.items():
                    signal.signal(s, h)

    server = Server(config)

    def on_loop_error(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        if isinstance(exc, OSError) and exc.errno in _FD_ERRNOS:
            # asyncio's accept loop already pauses accepting for a second; free a descriptor too
            evict_one()
            rate("emfile", f"out of file descriptors ({exc.strerror}): accepting paused; idle connections closed")
            return
        what = f" {type(exc).__name__}: {exc}" if exc is not None else ""
        rate(f"loop:{context.get('message')}", f"{context.get('message')}{what}")

    async def main() -> None:
        asyncio.get_running_loop().set_exception_handler(on_loop_error)

        async def announce() -> None:
            while not server.started and not server.should_exit:
                await asyncio.sleep(0.01)
            if server.started:
                on_started()

        watcher = asyncio.create_task(announce())
        try:
            await server.serve(sockets=[sock])
        finally:
            watcher.cancel()

    with _UvicornLogHandler(rate).installed():
        asyncio.run(main())
    return bool(server.started)


# ---------------------------------------------------------------------- --workers N


def worker_outbox_name(worker: int) -> str:
    """Each worker process keeps its own audit outbox file in the state directory."""
    return "audit.db" if worker == 0 else f"audit-{worker}.db"


def stray_outboxes(state: Path, workers: int) -> list[str]:
    """Audit outbox files of workers that will not run (left by an earlier, larger --workers)."""
    names = []
    for f in sorted(state.glob("audit-*.db")):
        number = f.name[len("audit-") : -len(".db")]
        if number.isdigit() and int(number) >= workers:
            names.append(f.name)
    return names


def _die_with_parent() -> None:
    """Linux: this process gets SIGTERM when its parent dies (even by SIGKILL)."""
    with contextlib.suppress(Exception):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _write(fd: int, data: bytes) -> None:
    with contextlib.suppress(OSError):
        os.write(fd, data)


def _child(worker: int, build: Callable[[int], Any], sock: socket.socket, limits: Limits, log: Log, ready: int) -> None:
    code = 1
    try:
        for s in (signal.SIGTERM, signal.SIGINT):
            signal.signal(s, signal.SIG_DFL)
        _die_with_parent()
        app = build(worker)
        started = run_server(app, sock, limits, log, lambda: _write(ready, b"R"))
        code = 0 if started else 1
    except FaasProError as e:
        with contextlib.suppress(OSError):
            os.write(ready, b"E" + json.dumps({"message": e.message, "hint": e.hint, "code": e.exit_code}).encode())
        code = e.exit_code
    except KeyboardInterrupt:
        code = 0
    except BaseException as e:
        log(f"worker {worker} failed: {type(e).__name__}: {e}")
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(code)


class _Stopped(Exception):
    pass


def run_workers(
    build: Callable[[int], Any],
    sock: socket.socket,
    limits: Limits,
    workers: int,
    log: Log,
    on_started: Callable[[], None],
) -> int:
    """Fork ``workers`` processes serving ``sock``; return when SIGTERM/SIGINT stopped them all.

    Worker 0 starts first: its configuration error is raised here (as the FaasProError it was),
    and the ready line (``on_started``) comes once it accepts connections.
    """
    stopping = False
    starting = True

    def stop(signum: int, frame: Any) -> None:
        nonlocal stopping
        stopping = True
        if starting:  # waiting for worker 0: give up now (the finally below stops it)
            raise _Stopped

    originals = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}
    children: dict[int, int] = {}  # pid -> worker

    def spawn(worker: int) -> tuple[int, int]:
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child never returns
            os.close(r)
            _child(worker, build, sock, limits, log, w)
        os.close(w)
        children[pid] = worker
        return pid, r

    def reap(pid: int) -> int:
        _, status = os.waitpid(pid, 0)
        children.pop(pid, None)
        return os.waitstatus_to_exitcode(status)

    try:
        pid, r = spawn(0)
        with os.fdopen(r, "rb") as pipe:
            first = pipe.read(1)
            rest = pipe.read() if first == b"E" else b""
        if first != b"R":
            code = reap(pid)
            if first == b"E":
                err = json.loads(rest)
                raise FaasProError(err["message"], err["hint"], exit_code=int(err["code"]))
            return code if code > 0 else 1
        starting = False
        on_started()
        for worker in range(1, workers):
            os.close(spawn(worker)[1])
        log(f"{workers} worker processes (pids {', '.join(str(p) for p in children)})")
        restarts: list[tuple[float, int]] = []
        while not stopping:
            time.sleep(0.1)
            for p in list(children):
                with contextlib.suppress(ChildProcessError):
                    done, status = os.waitpid(p, os.WNOHANG)
                    if done:
                        worker = children.pop(p)
                        if not stopping:
                            code = os.waitstatus_to_exitcode(status)
                            log(f"worker {worker} (pid {p}) exited ({code}); restarting it in 1 s")
                            restarts.append((time.monotonic() + 1.0, worker))
            for due, worker in [x for x in restarts if x[0] <= time.monotonic()]:
                restarts.remove((due, worker))
                if not stopping:
                    os.close(spawn(worker)[1])
        return 0
    except _Stopped:
        return 0
    finally:
        for p in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(p, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while children and time.monotonic() < deadline:
            for p in list(children):
                with contextlib.suppress(ChildProcessError):
                    if os.waitpid(p, os.WNOHANG)[0]:
                        children.pop(p)
            time.sleep(0.05)
        for p in list(children):
            with contextlib.suppress(ProcessLookupError, ChildProcessError):
                os.kill(p, signal.SIGKILL)
                os.waitpid(p, 0)
        for s, h in originals.items():
            signal.signal(s, h)


__all__ = [
    "FD_RESERVE",
    "InFlightCap",
    "Limits",
    "RateLog",
    "fit_to_fd_limit",
    "run_server",
    "run_workers",
    "stray_outboxes",
    "worker_outbox_name",
]
