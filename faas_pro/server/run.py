"""Start the gateway: check every input first (one clear error each), then serve with uvicorn.

The socket is bound here (so ``--listen 127.0.0.1:0`` works and the ready line carries the real
port), the ready line goes to stdout once uvicorn accepts connections, and SIGTERM/SIGINT stop the
server cleanly (exit 0) instead of uvicorn's default of re-raising the signal.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from faas_pro.errors import FaasProError, UsageError

if TYPE_CHECKING:  # pragma: no cover
    from faas_pro.deps import Deps


@dataclass(frozen=True)
class ServeConfig:
    iam_paths: tuple[Path, ...]
    issuer_url: str
    issuer_key: Path
    listen: str = "127.0.0.1:8080"
    state_dir: Path | None = None
    namespaces: tuple[str, ...] = ()
    previous_keys: tuple[Path, ...] = ()
    upstream: str | None = None
    upstream_auth_file: Path | None = None
    audit_webhook: str | None = None
    audit_secret_file: Path | None = None
    audit_verbs: frozenset[str] = field(default_factory=lambda: frozenset({"PUT", "POST", "DELETE"}))
    fetch_timeout: float = 5.0
    no_authz: bool = False
    invoke_auth: str = "protected"  # or "all"
    invoke_max_body: int = 32 * 1024 * 1024
    invoke_timeout: float = 300.0


def parse_listen(listen: str) -> tuple[str, int]:
    host, sep, port = listen.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535 or not host:
        raise UsageError(f"--listen must be HOST:PORT, got {listen!r}")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, int(port)


def parse_verbs(value: str) -> frozenset[str]:
    verbs = frozenset(v.strip().upper() for v in value.split(",") if v.strip())
    bad = verbs - {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"}
    if bad:
        raise UsageError(f"--audit-verbs: unknown method(s) {', '.join(sorted(bad))}")
    return verbs


def _read_secret(path: Path, what: str) -> bytes:
    try:
        data = path.read_bytes().strip()
    except OSError as e:
        raise FaasProError(f"cannot read the {what} {path}: {e.strerror}") from None
    if not data:
        raise FaasProError(f"the {what} {path} is empty")
    return data


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto IPPROTO_TCP (not 0): asyncio sets TCP_NODELAY on accepted sockets only when it sees it,
    # and without it every keep-alive response waits ~40 ms for the client's delayed ACK
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as e:
        sock.close()
        raise FaasProError(f"cannot listen on {host}:{port}: {e.strerror}") from None
    sock.setblocking(False)
    return sock


def _logger(stream: TextIO) -> Any:
    lock = threading.Lock()

    def log(message: str) -> None:
        with lock, contextlib.suppress(OSError, ValueError):
            print(f"faas-pro serve: {message}", file=stream, flush=True)

    return log


def build_gateway(cfg: ServeConfig, deps: Deps) -> Any:
    """Check every input, then build every collaborator; raise FaasProError for the first bad input.

    Nothing that holds a resource (database, HTTP client) is opened before all inputs were checked,
    and what was opened is closed again when a later step fails.
    """
    import httpx

    from faas_pro.iam import load_iam
    from faas_pro.server.app import Gateway
    from faas_pro.server.backends import SqliteRegistry, UpstreamBackend, read_upstream_auth
    from faas_pro.server.enforce import AllowAllForBenchmark, Authenticator, IamAuthoriser
    from faas_pro.server.exchange import Exchanger
    from faas_pro.server.issuers import IssuerKeys
    from faas_pro.server.reload import IamHolder
    from faas_pro.server.schema import is_name
    from faas_pro.server.signing import Signer, load_key
    from faas_pro.tokens import jwks_lookup
    from faas_pro.urls import normalise_gateway

    _negative_import_cache("sniffio")
    log = _logger(deps.stderr)
    issuer_url = normalise_gateway(cfg.issuer_url)
    if issuer_url != cfg.issuer_url.rstrip("/"):
        log(f"using the normalised issuer URL {issuer_url}")
    signer = Signer(load_key(cfg.issuer_key), tuple(load_key(p) for p in cfg.previous_keys))
    if not cfg.iam_paths:
        raise UsageError("--iam DIR is required")
    iam = load_iam(list(cfg.iam_paths))
    holder = IamHolder(list(cfg.iam_paths), iam, deps.clock, log)
    for ns in cfg.namespaces:
        if not is_name(ns):
            raise UsageError(f"--namespace {ns!r} is not a DNS-1123 label")
    if cfg.invoke_auth not in ("protected", "all"):
        raise UsageError("--invoke-auth must be protected or all")
    if cfg.invoke_max_body < 0 or cfg.invoke_timeout <= 0:
        raise UsageError("--invoke-max-body must be >= 0 and --invoke-timeout > 0")
    state = cfg.state_dir or (deps.data_dir / "server")
    upstream_creds = None
    if cfg.upstream:
        if not cfg.upstream_auth_file:
            raise UsageError("--upstream needs --upstream-auth-file FILE")
        upstream = normalise_gateway(cfg.upstream)
        upstream_creds = read_upstream_auth(cfg.upstream_auth_file, upstream)
    secret = None
    if cfg.audit_webhook:
        if not cfg.audit_webhook.startswith(("http://", "https://")):
            raise UsageError("--audit-webhook must be an http(s) URL")
        if not cfg.audit_secret_file:
            raise UsageError("--audit-webhook needs --audit-secret-file FILE (the HMAC secret)")
        secret = _read_secret(cfg.audit_secret_file, "audit secret file")
    if cfg.no_authz:
        log("WARNING: authorisation is OFF (benchmark setting); every request is allowed")
    # every input is good: open what holds resources, closing it again if a later step fails
    with contextlib.ExitStack() as undo:
        backend: Any
        if upstream_creds is not None:
            backend = UpstreamBackend(upstream, *upstream_creds, invoke_timeout=cfg.invoke_timeout)
            undo.callback(_close_async, backend.close)
        else:
            backend = SqliteRegistry(state / "registry.db", cfg.namespaces)
            undo.callback(_close_async, backend.close)
        outbox = deliverer = None
        closers: list[Any] = []
        if cfg.audit_webhook and secret is not None:
            from faas_pro.server.audit import Deliverer, Outbox

            outbox = Outbox(state / "audit.db")
            undo.callback(outbox.close)
            audit_client = httpx.AsyncClient(follow_redirects=False, trust_env=False, timeout=5.0)
            closers.append(audit_client.aclose)
            deliverer = Deliverer(outbox, audit_client, cfg.audit_webhook, secret, log)
        fetch_client = httpx.AsyncClient(follow_redirects=False, trust_env=False, timeout=cfg.fetch_timeout)
        closers.append(fetch_client.aclose)
        keys = IssuerKeys(fetch_client, deps.clock, jwks_lookup, timeout=cfg.fetch_timeout)
        authn = Authenticator(issuer_url, signer, deps.clock)
        exchanger = Exchanger(issuer_url, signer, holder.get, keys, deps.clock, log, authn)
        gw = Gateway(
            issuer_url=issuer_url,
            signer=signer,
            iam=holder,
            backend=backend,
            authn=authn,
            authz=AllowAllForBenchmark() if cfg.no_authz else IamAuthoriser(holder.get),
            exchanger=exchanger,
            clock=deps.clock,
            log=log,
            audit_verbs=cfg.audit_verbs,
            outbox=outbox,
            deliverer=deliverer,
            invoke_auth_all=cfg.invoke_auth == "all",
            invoke_max_body=cfg.invoke_max_body,
            closers=closers,
        )
        undo.pop_all()
    return gw


def _negative_import_cache(name: str) -> None:
    """Remember that an optional module is absent. httpcore tries ``import sniffio`` on every
    request and, without it installed, pays a full (failing) module search each time: about a
    fifth of an invocation's cost. A ``None`` entry in ``sys.modules`` makes that import fail at once."""
    import importlib.util
    import sys

    if name not in sys.modules and importlib.util.find_spec(name) is None:
        sys.modules[name] = None  # type: ignore[assignment]


def _close_async(close: Any) -> None:
    import asyncio

    asyncio.run(close())


def serve(cfg: ServeConfig, deps: Deps) -> int:
    try:
        import starlette  # noqa: F401
        import uvicorn
    except ImportError:
        raise FaasProError(
            "faas-pro serve needs the server extra", "install it with: pip install 'faas-pro[server]'"
        ) from None
    import asyncio

    from faas_pro.server.app import build_app

    host, port = parse_listen(cfg.listen)
    gw = build_gateway(cfg, deps)
    try:
        sock = _bind(host, port)
    except BaseException:
        asyncio.run(gw.aclose())
        raise
    real_port = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host

    class _Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            if threading.current_thread() is not threading.main_thread():
                yield
                return
            originals = {s: signal.signal(s, self.handle_exit) for s in (signal.SIGINT, signal.SIGTERM)}
            try:
                yield
            finally:
                for s, h in originals.items():
                    signal.signal(s, h)

    config = uvicorn.Config(
        build_app(gw),
        log_config=None,
        access_log=False,
        lifespan="on",
        server_header=False,
        proxy_headers=False,  # the caller's X-Forwarded-* are not trusted: the peer address is the client
        date_header=False,
        timeout_graceful_shutdown=5,
    )
    server = _Server(config)

    async def main() -> None:
        async def announce() -> None:
            while not server.started and not server.should_exit:
                await asyncio.sleep(0.01)
            if server.started:
                print(f"faas-pro serve: listening on http://{shown}:{real_port}", file=deps.stdout, flush=True)

        watcher = asyncio.create_task(announce())
        try:
            await server.serve(sockets=[sock])
        finally:
            watcher.cancel()

    try:
        asyncio.run(main())
    finally:
        sock.close()
        if not server.started:  # the lifespan never ran (or failed): close what it would have
            asyncio.run(gw.aclose())
    gw.log("stopped")
    return 0 if server.started else 1


__all__ = ["ServeConfig", "build_gateway", "parse_listen", "parse_verbs", "serve"]
