"""Start the gateway: check every input first (one clear error each), then serve with uvicorn.

The socket is bound here (so ``--listen 127.0.0.1:0`` works and the ready line carries the real
port), the ready line goes to stdout once uvicorn accepts connections, and SIGTERM/SIGINT stop the
server cleanly (exit 0) instead of uvicorn's default of re-raising the signal.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from faas_pro.errors import FaasProError, UsageError
from faas_pro.server.listener import Limits
from faas_pro.storage._files import read_secret_file

if TYPE_CHECKING:  # pragma: no cover
    from faas_pro.deps import Deps


MAX_ISSUER_LEEWAY = 300  # seconds: more is a broken clock, not skew


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
    issuer_leeway: int = 60  # seconds of clock skew allowed for other issuers' tokens
    no_authz: bool = False
    audit_max_events: int = 100_000
    audit_max_bytes: int = 64 * 1024 * 1024
    audit_strict: bool = False
    dashboard_client_id: str | None = None
    dashboard_issuer: str | None = None
    dashboard_client_secret_file: Path | None = None
    dashboard_session_key_file: Path | None = None
    limits: Limits = field(default_factory=Limits)
    workers: int = 1
    audit_outbox_name: str = "audit.db"
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
    if not 0 <= cfg.issuer_leeway <= MAX_ISSUER_LEEWAY:
        raise UsageError(f"--issuer-leeway must be between 0 and {MAX_ISSUER_LEEWAY} seconds, got {cfg.issuer_leeway}")
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
        secret = read_secret_file(cfg.audit_secret_file, "audit secret file")
    dashboard = None
    if cfg.dashboard_client_id:
        from faas_pro.server.dashboard import make_config

        dashboard = make_config(
            iam,
            issuer_url,
            cfg.dashboard_client_id,
            log,
            issuer=cfg.dashboard_issuer,
            client_secret_file=cfg.dashboard_client_secret_file,
            session_key_file=cfg.dashboard_session_key_file,
        )
    elif cfg.dashboard_issuer or cfg.dashboard_client_secret_file or cfg.dashboard_session_key_file:
        raise UsageError("the --dashboard-* options need --dashboard-client-id")
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

            if cfg.audit_max_events < 1 or cfg.audit_max_bytes < 1:
                raise UsageError("--audit-max-events and --audit-max-bytes must be positive")
            outbox = Outbox(
                state / cfg.audit_outbox_name,
                cfg.audit_max_events,
                max_bytes=cfg.audit_max_bytes,
                strict=cfg.audit_strict,
                log=log,
            )
            undo.callback(outbox.close)
            audit_client = httpx.AsyncClient(follow_redirects=False, trust_env=False, timeout=5.0)
            closers.append(audit_client.aclose)
            deliverer = Deliverer(outbox, audit_client, cfg.audit_webhook, secret, log)
        fetch_client = httpx.AsyncClient(follow_redirects=False, trust_env=False, timeout=cfg.fetch_timeout)
        closers.append(fetch_client.aclose)
        keys = IssuerKeys(fetch_client, deps.clock, jwks_lookup, timeout=cfg.fetch_timeout)
        authn = Authenticator(issuer_url, signer, deps.clock)
        exchanger = Exchanger(issuer_url, signer, holder.get, keys, deps.clock, log, authn, cfg.issuer_leeway)
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
            keys=keys,
            fetch_timeout=cfg.fetch_timeout,
            dashboard=dashboard,
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
        import uvicorn  # noqa: F401
    except ImportError:
        raise FaasProError(
            "faas-pro serve needs the server extra", "install it with: pip install 'faas-pro[server]'"
        ) from None
    import asyncio
    from dataclasses import replace

    from faas_pro.server.app import build_app
    from faas_pro.server.listener import run_server, run_workers, stray_outboxes, worker_outbox_name

    host, port = parse_listen(cfg.listen)
    cfg.limits.check()
    if not 1 <= cfg.workers <= 64:
        raise UsageError(f"--workers must be between 1 and 64, got {cfg.workers}")
    shown = f"[{host}]" if ":" in host else host
    stray = stray_outboxes(cfg.state_dir or (deps.data_dir / "server"), cfg.workers) if cfg.audit_webhook else []
    if stray:
        _logger(deps.stderr)(
            f"WARNING: the audit events in {', '.join(stray)} are not delivered with --workers {cfg.workers}; "
            "start once with more workers to deliver them"
        )

    def announce(real_port: int) -> None:
        print(f"faas-pro serve: listening on http://{shown}:{real_port}", file=deps.stdout, flush=True)

    if cfg.workers > 1:
        # each worker builds its own gateway after the fork (SQLite connections, audit outbox file)
        def build(worker: int) -> Any:
            return build_app(build_gateway(replace(cfg, audit_outbox_name=worker_outbox_name(worker)), deps))

        log = _logger(deps.stderr)
        sock = _bind(host, port)
        real_port = sock.getsockname()[1]
        try:
            code = run_workers(build, sock, cfg.limits, cfg.workers, log, lambda: announce(real_port))
        finally:
            sock.close()
        log("stopped")
        return code

    gw = build_gateway(cfg, deps)
    try:
        sock = _bind(host, port)
    except BaseException:
        asyncio.run(gw.aclose())
        raise
    real_port = sock.getsockname()[1]
    started = False
    try:
        started = run_server(build_app(gw), sock, cfg.limits, gw.log, lambda: announce(real_port))
    finally:
        sock.close()
        if not started:  # the lifespan never ran (or failed): close what it would have
            asyncio.run(gw.aclose())
    gw.log("stopped")
    return 0 if started else 1


__all__ = ["ServeConfig", "build_gateway", "parse_listen", "parse_verbs", "serve"]
