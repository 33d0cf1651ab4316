"""Where authorised requests go: one interface, two backends.

- ``SqliteRegistry``: the embedded function registry (``--state``/registry.db). It records
  namespaces (with labels and annotations), functions and secret *names* (a secret's value is
  never stored: the registry runs nothing that could read it); it runs no function. Survives
  restarts. One connection, owned by the registry and closed by ``close()``.
- ``UpstreamBackend``: forwards to an existing OpenFaaS gateway (e.g. Community Edition) with that
  gateway's basic-auth credentials. Every request is rebuilt from decided values: canonical bodies
  (``faas_pro.server.schema``), rebuilt query strings, no caller credentials.

Both are called only after the request was authorised, with the names that were authorised.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from faas_pro.errors import FaasProError
from faas_pro.server.schema import DEFAULT_NAMESPACE, NAME_RE

if TYPE_CHECKING:  # pragma: no cover
    import httpx

__all__ = ["DEFAULT_NAMESPACE", "NAME_RE"]
MAX_UPSTREAM_BYTES = 16 * 1024 * 1024
PROTECTED_TTL = 5.0
NO_RUNTIME = "no function runtime in registry mode (use --upstream)"


@dataclass(frozen=True)
class Reply:
    """A backend's answer: JSON-able ``body`` (or ``str`` for text/plain, ``bytes`` as is)."""

    status: int
    body: Any = None
    content_type: str | None = None


@dataclass(frozen=True)
class Streamed:
    """A streamed answer: status, headers, the body's chunks and what to call when done."""

    status: int
    headers: list[tuple[str, str]]
    chunks: AsyncIterator[bytes]
    close: Callable[[], Awaitable[None]]


class BackendError(Exception):
    """The backend cannot answer (upstream down, garbage); ``reason`` is safe to show."""

    def __init__(self, reason: str, status: int = 502) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


@dataclass(frozen=True)
class Forward:
    """One invocation to pass on: everything already decided and filtered by the app."""

    method: str
    path: str  # /function/<name>.<ns><rest> or /async-function/…
    query: bytes
    headers: list[tuple[str, str]]
    body: AsyncIterator[bytes] | None


class Backend(Protocol):
    name: str

    async def namespaces(self) -> list[str]: ...
    async def create_namespace(self, body: dict[str, Any]) -> Reply: ...
    async def get_namespace(self, namespace: str) -> Reply: ...
    async def update_namespace(self, namespace: str, body: dict[str, Any]) -> Reply: ...
    async def delete_namespace(self, namespace: str) -> Reply: ...
    async def list_functions(self, namespace: str) -> Reply: ...
    async def get_function(self, namespace: str, name: str, usage: bool = False) -> Reply: ...
    async def deploy(self, payload: dict[str, Any], namespace: str, *, update: bool) -> Reply: ...
    async def delete_function(self, namespace: str, name: str) -> Reply: ...
    async def scale(self, namespace: str, name: str, replicas: int) -> Reply: ...
    async def list_secrets(self, namespace: str) -> Reply: ...
    async def write_secret(self, body: dict[str, Any], *, update: bool) -> Reply: ...
    async def delete_secret(self, namespace: str, name: str) -> Reply: ...
    async def logs(self, query: dict[str, str], follow: bool) -> Streamed: ...
    async def protected(self, namespace: str, name: str) -> bool: ...
    async def invoke(self, call: Forward) -> Streamed: ...
    async def info(self) -> Reply: ...
    async def close(self) -> None: ...


def _now_rfc3339() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _str_map(payload: dict[str, Any], key: str) -> dict[str, str] | None:
    v = payload.get(key)
    if v is None:
        return None
    if not isinstance(v, dict) or not all(isinstance(k, str) and isinstance(x, str) for k, x in v.items()):
        raise ValueError(f"{key} must be an object of strings")
    return v


def _str_list(payload: dict[str, Any], key: str) -> list[str] | None:
    v = payload.get(key)
    if v is None:
        return None
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise ValueError(f"{key} must be a list of strings")
    return v


def function_status(payload: dict[str, Any], namespace: str, created_at: str) -> dict[str, Any]:
    """A FunctionStatus (docs/server.md) from a faas-cli deploy payload; ValueError names a bad field."""
    image = payload.get("image")
    if not isinstance(image, str) or not image.strip():
        raise ValueError("image is required")
    env_process = payload.get("envProcess")
    if env_process is not None and not isinstance(env_process, str):
        raise ValueError("envProcess must be a string")
    status: dict[str, Any] = {
        "name": payload["service"],
        "image": image,
        "namespace": namespace,
        "invocationCount": 0,
        "replicas": 1,
        "availableReplicas": 1,
        "createdAt": created_at,
    }
    for key in ("envVars", "labels", "annotations"):
        m = _str_map(payload, key)
        if m is not None:
            status[key] = m
    for key in ("secrets", "constraints"):
        lst = _str_list(payload, key)
        if lst is not None:
            status[key] = lst
    if env_process:
        status["envProcess"] = env_process
    for key in ("limits", "requests"):
        v = payload.get(key)
        if v is not None:
            status[key] = _str_map(payload, key)
    if isinstance(payload.get("readOnlyRootFilesystem"), bool):
        status["readOnlyRootFilesystem"] = payload["readOnlyRootFilesystem"]
    labels = status.get("labels") or {}
    scale_min = labels.get("com.openfaas.scale.min", "")
    if scale_min.isdigit() and 0 < int(scale_min) <= 1000:
        status["replicas"] = status["availableReplicas"] = int(scale_min)
    return status


def _is_protected(status: dict[str, Any]) -> bool:
    env = status.get("envVars")
    return isinstance(env, dict) and env.get("jwt_auth") == "true"


SETUP_WAIT = 10.0  # seconds a starting worker waits while another one sets the registry file up


def _busy(e: sqlite3.Error) -> bool:
    """SQLite said the database is busy or locked (another connection holds the lock it needs)."""
    code = getattr(e, "sqlite_errorcode", None)
    return isinstance(code, int) and code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def _set_up(db: sqlite3.Connection) -> None:
    """WAL mode and the schema, an older file's upgrade included. `--workers N` start together on
    one file: switching to WAL can be refused at once while another connection holds a lock (the
    caller retries), and the schema changes run in one transaction, so an upgrade happens once."""
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("BEGIN IMMEDIATE")
    db.execute("CREATE TABLE IF NOT EXISTS namespaces (name TEXT PRIMARY KEY, created_at TEXT NOT NULL)")
    columns = {r[1] for r in db.execute("PRAGMA table_info(namespaces)")}
    for column in ("labels", "annotations"):
        if column not in columns:
            db.execute(f"ALTER TABLE namespaces ADD COLUMN {column} TEXT NOT NULL DEFAULT '{{}}'")
    db.execute(
        "CREATE TABLE IF NOT EXISTS functions (namespace TEXT NOT NULL, name TEXT NOT NULL,"
        " status TEXT NOT NULL, PRIMARY KEY (namespace, name))"
    )
    db.execute(
        "CREATE TABLE IF NOT EXISTS secrets (namespace TEXT NOT NULL, name TEXT NOT NULL,"
        " PRIMARY KEY (namespace, name))"
    )
    db.execute("COMMIT")


class SqliteRegistry:
    """The embedded registry. One connection, serialised by a lock; statements are tiny."""

    name = "embedded registry"

    def __init__(self, path: Path, namespaces: tuple[str, ...] = ()) -> None:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        except sqlite3.Error as e:
            raise FaasProError(f"cannot open the registry database {path}: {e}") from None
        deadline = time.monotonic() + SETUP_WAIT
        while True:
            try:
                _set_up(db)
                break
            except sqlite3.Error as e:
                if _busy(e) and time.monotonic() < deadline:
                    with contextlib.suppress(sqlite3.Error):
                        if db.in_transaction:
                            db.execute("ROLLBACK")
                    time.sleep(0.02)  # another worker is setting the file up right now
                    continue
                db.close()  # an open transaction is rolled back with the connection
                raise FaasProError(f"cannot open the registry database {path}: {e}") from None
        self._db = db
        self._lock = threading.Lock()
        for ns in (DEFAULT_NAMESPACE, *namespaces):
            self._ensure_namespace({"name": ns})

    def _ensure_namespace(self, body: dict[str, Any]) -> bool:
        with self._lock:
            cur = self._db.execute(
                "INSERT OR IGNORE INTO namespaces (name, created_at, labels, annotations) VALUES (?, ?, ?, ?)",
                (
                    body["name"],
                    _now_rfc3339(),
                    json.dumps(body.get("labels") or {}, sort_keys=True),
                    json.dumps(body.get("annotations") or {}, sort_keys=True),
                ),
            )
            return cur.rowcount == 1

    def _has_namespace(self, name: str) -> bool:
        with self._lock:
            return self._db.execute("SELECT 1 FROM namespaces WHERE name = ?", (name,)).fetchone() is not None

    def _status(self, namespace: str, name: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute(
                "SELECT status FROM functions WHERE namespace = ? AND name = ?", (namespace, name)
            ).fetchone()
        return json.loads(row[0]) if row is not None else None

    async def namespaces(self) -> list[str]:
        with self._lock:
            return [r[0] for r in self._db.execute("SELECT name FROM namespaces ORDER BY name")]

    async def create_namespace(self, body: dict[str, Any]) -> Reply:
        if not self._ensure_namespace(body):
            return Reply(409, f"namespace {body['name']} already exists")
        return Reply(201, None)

    async def get_namespace(self, namespace: str) -> Reply:
        with self._lock:
            row = self._db.execute("SELECT labels, annotations FROM namespaces WHERE name = ?", (namespace,)).fetchone()
        if row is None:
            return Reply(404, f"namespace {namespace} not found")
        return Reply(200, {"name": namespace, "labels": json.loads(row[0]), "annotations": json.loads(row[1])})

    async def update_namespace(self, namespace: str, body: dict[str, Any]) -> Reply:
        with self._lock:
            cur = self._db.execute(
                "UPDATE namespaces SET labels = ?, annotations = ? WHERE name = ?",
                (
                    json.dumps(body.get("labels") or {}, sort_keys=True),
                    json.dumps(body.get("annotations") or {}, sort_keys=True),
                    namespace,
                ),
            )
        if cur.rowcount == 0:
            return Reply(404, f"namespace {namespace} not found")
        return Reply(202, None)

    async def delete_namespace(self, namespace: str) -> Reply:
        with self._lock:
            cur = self._db.execute("DELETE FROM namespaces WHERE name = ?", (namespace,))
            if cur.rowcount:
                self._db.execute("DELETE FROM functions WHERE namespace = ?", (namespace,))
                self._db.execute("DELETE FROM secrets WHERE namespace = ?", (namespace,))
        if cur.rowcount == 0:
            return Reply(404, f"namespace {namespace} not found")
        return Reply(202, None)

    async def list_functions(self, namespace: str) -> Reply:
        if not self._has_namespace(namespace):
            return Reply(404, f"namespace {namespace} not found")
        with self._lock:
            rows = self._db.execute("SELECT status FROM functions WHERE namespace = ? ORDER BY name", (namespace,))
            return Reply(200, [json.loads(r[0]) for r in rows])

    async def get_function(self, namespace: str, name: str, usage: bool = False) -> Reply:
        status = self._status(namespace, name)
        if status is None:
            return Reply(404, f"function {name} not found in namespace {namespace}")
        if usage:
            status["usage"] = {"cpu": 0, "totalMemoryBytes": 0}
        return Reply(200, status)

    async def deploy(self, payload: dict[str, Any], namespace: str, *, update: bool) -> Reply:
        if not self._has_namespace(namespace):
            return Reply(404, f"namespace {namespace} not found")
        name = payload["service"]
        old = self._status(namespace, name)
        if update and old is None:
            return Reply(404, f"function {name} not found in namespace {namespace}")
        if not update and old is not None:
            return Reply(409, f"function {name} already exists in namespace {namespace}")
        try:
            status = function_status(payload, namespace, old["createdAt"] if old else _now_rfc3339())
        except ValueError as e:
            return Reply(400, str(e))
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO functions (namespace, name, status) VALUES (?, ?, ?)",
                (namespace, name, json.dumps(status, sort_keys=True)),
            )
        return Reply(202, None)

    async def delete_function(self, namespace: str, name: str) -> Reply:
        with self._lock:
            cur = self._db.execute("DELETE FROM functions WHERE namespace = ? AND name = ?", (namespace, name))
        if cur.rowcount == 0:
            return Reply(404, f"function {name} not found in namespace {namespace}")
        return Reply(202, None)

    async def scale(self, namespace: str, name: str, replicas: int) -> Reply:
        status = self._status(namespace, name)
        if status is None:
            return Reply(404, f"function {name} not found in namespace {namespace}")
        status["replicas"] = status["availableReplicas"] = replicas
        with self._lock:
            self._db.execute(
                "UPDATE functions SET status = ? WHERE namespace = ? AND name = ?",
                (json.dumps(status, sort_keys=True), namespace, name),
            )
        return Reply(202, None)

    async def list_secrets(self, namespace: str) -> Reply:
        if not self._has_namespace(namespace):
            return Reply(404, f"namespace {namespace} not found")
        with self._lock:
            rows = self._db.execute("SELECT name FROM secrets WHERE namespace = ? ORDER BY name", (namespace,))
            return Reply(200, [{"name": r[0], "namespace": namespace} for r in rows])

    async def write_secret(self, body: dict[str, Any], *, update: bool) -> Reply:
        ns, name = body["namespace"], body["name"]
        if not self._has_namespace(ns):
            return Reply(404, f"namespace {ns} not found")
        with self._lock:
            exists = self._db.execute("SELECT 1 FROM secrets WHERE namespace = ? AND name = ?", (ns, name)).fetchone()
            if update and exists is None:
                return Reply(404, f"secret {name} not found in namespace {ns}")
            if not update and exists is not None:
                return Reply(409, f"secret {name} already exists in namespace {ns}")
            self._db.execute("INSERT OR IGNORE INTO secrets (namespace, name) VALUES (?, ?)", (ns, name))
        return Reply(202 if update else 201, None)

    async def delete_secret(self, namespace: str, name: str) -> Reply:
        with self._lock:
            cur = self._db.execute("DELETE FROM secrets WHERE namespace = ? AND name = ?", (namespace, name))
        if cur.rowcount == 0:
            return Reply(404, f"secret {name} not found in namespace {namespace}")
        return Reply(202, None)

    async def logs(self, query: dict[str, str], follow: bool) -> Streamed:
        import asyncio

        async def nothing() -> AsyncIterator[bytes]:
            while follow:  # an empty stream that stays open until the caller goes away
                await asyncio.sleep(3600)
            return
            yield b""  # pragma: no cover

        async def done() -> None:
            return None

        return Streamed(200, [("content-type", "application/x-ndjson")], nothing(), done)

    async def protected(self, namespace: str, name: str) -> bool:
        status = self._status(namespace, name)
        return status is not None and _is_protected(status)

    async def invoke(self, call: Forward) -> Streamed:
        raise BackendError(NO_RUNTIME)

    async def info(self) -> Reply:
        from faas_pro import __version__

        return Reply(
            200,
            {
                "provider": {
                    "provider": "faas-pro",
                    "orchestration": "registry",
                    "version": {"release": __version__, "sha": ""},
                },
                "version": {"release": __version__, "sha": ""},
                "arch": "",
            },
        )

    async def close(self) -> None:
        with self._lock:
            self._db.close()


def read_upstream_auth(path: Path, upstream: str) -> tuple[str, str]:
    """Credentials for the upstream gateway.

    Accepted formats: one line ``user:password``; or faas-cli's ``config.yml``
    (``auths: [{gateway, auth: basic, token: base64(user:password)}]``), picking the entry whose
    gateway equals ``upstream``.
    """
    import base64

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise FaasProError(f"cannot read the upstream auth file {path}: {e}") from None
    stripped = text.strip()
    if "auths:" in stripped:
        import yaml

        from faas_pro.urls import normalise_gateway

        try:
            doc = yaml.safe_load(stripped)
            want = normalise_gateway(upstream)
            for entry in doc.get("auths") or []:
                if entry.get("auth") == "basic" and normalise_gateway(str(entry.get("gateway", ""))) == want:
                    stripped = base64.b64decode(entry["token"], validate=True).decode("utf-8")
                    break
            else:
                raise FaasProError(f"{path} has no basic auth entry for {upstream}")
        except FaasProError:
            raise
        except Exception:
            raise FaasProError(f"{path} is not a faas-cli config with a basic auth entry") from None
    user, sep, password = stripped.partition(":")
    if not sep or not user or not password or "\n" in stripped:
        raise FaasProError(f"{path} must contain one line user:password (or a faas-cli config.yml)")
    return user, password


class UpstreamBackend:
    """Forwards authorised calls to an OpenFaaS gateway: the API with basic auth, invocations without."""

    name = "upstream"

    def __init__(
        self, url: str, user: str, password: str, *, timeout: float = 30.0, invoke_timeout: float = 300.0
    ) -> None:
        import base64

        import httpx

        self.url = url.rstrip("/")
        basic = base64.b64encode(f"{user}:{password}".encode()).decode()
        # what an upstream (or a proxy before it) might echo back; never passed on to the caller
        self._hidden = tuple(s.encode() for s in (basic, password) if len(s) >= 4)
        import socket

        common: dict[str, Any] = {"base_url": self.url, "follow_redirects": False, "trust_env": False}
        # httpcore writes headers and body separately: without TCP_NODELAY every request with a body
        # waits for the upstream's delayed ACK (~40 ms)
        nodelay = [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]
        self._client = httpx.AsyncClient(
            auth=(user, password),
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            transport=httpx.AsyncHTTPTransport(socket_options=nodelay),
            **common,
        )
        # invocations never carry the upstream's credentials (the function would see them)
        from faas_pro.server.forward import Forwarder

        self._forwarder = Forwarder(self.url, timeout=invoke_timeout)
        self._protected: dict[tuple[str, str], tuple[bool, float]] = {}

    async def _call(self, method: str, path: str, *, params: dict[str, str] | None = None, body: Any = None) -> Reply:
        import httpx

        content = json.dumps(body, separators=(",", ":")).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if content is not None else {}
        try:
            async with self._client.stream(method, path, params=params, content=content, headers=headers) as r:
                buf = bytearray()
                async for chunk in r.aiter_bytes():  # decoded: the cap also stops decompression bombs
                    buf += chunk
                    if len(buf) > MAX_UPSTREAM_BYTES:
                        raise BackendError("the upstream gateway's answer is too large")
                ctype = r.headers.get("content-type")
                status = r.status_code
        except httpx.TimeoutException:
            raise BackendError("the upstream gateway did not answer in time", 504) from None
        except httpx.HTTPError as e:
            raise BackendError(f"cannot reach the upstream gateway: {type(e).__name__}") from None
        if status in (401, 403):
            # the upstream refused OUR credentials: an operator problem, not the caller's
            raise BackendError(f"the upstream gateway refused the configured credentials ({status})")
        data = bytes(buf)
        for hidden in self._hidden:
            data = data.replace(hidden, b"***")
        return Reply(status, data, ctype)

    async def namespaces(self) -> list[str]:
        r = await self._call("GET", "/system/namespaces")
        if r.status != 200:
            raise BackendError(f"the upstream gateway answered {r.status} for namespaces")
        try:
            names = json.loads(r.body)
        except ValueError:
            raise BackendError("the upstream gateway's namespace list is not JSON") from None
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise BackendError("the upstream gateway's namespace list is not a list of strings")
        return names

    async def create_namespace(self, body: dict[str, Any]) -> Reply:
        return await self._call("POST", "/system/namespace/", body=body)

    async def get_namespace(self, namespace: str) -> Reply:
        return await self._call("GET", f"/system/namespace/{namespace}")

    async def update_namespace(self, namespace: str, body: dict[str, Any]) -> Reply:
        return await self._call("PUT", f"/system/namespace/{namespace}", body=body)

    async def delete_namespace(self, namespace: str) -> Reply:
        return await self._call("DELETE", f"/system/namespace/{namespace}")

    async def list_functions(self, namespace: str) -> Reply:
        return await self._call("GET", "/system/functions", params={"namespace": namespace})

    async def get_function(self, namespace: str, name: str, usage: bool = False) -> Reply:
        params = {"namespace": namespace, **({"usage": "1"} if usage else {})}
        return await self._call("GET", f"/system/function/{name}", params=params)

    async def deploy(self, payload: dict[str, Any], namespace: str, *, update: bool) -> Reply:
        self._protected.pop((namespace, payload["service"]), None)
        return await self._call("PUT" if update else "POST", "/system/functions", body=payload)

    async def delete_function(self, namespace: str, name: str) -> Reply:
        self._protected.pop((namespace, name), None)
        return await self._call("DELETE", "/system/functions", body={"functionName": name, "namespace": namespace})

    async def scale(self, namespace: str, name: str, replicas: int) -> Reply:
        body = {"serviceName": name, "namespace": namespace, "replicas": replicas}
        return await self._call("POST", f"/system/scale-function/{name}", params={"namespace": namespace}, body=body)

    async def list_secrets(self, namespace: str) -> Reply:
        return await self._call("GET", "/system/secrets", params={"namespace": namespace})

    async def write_secret(self, body: dict[str, Any], *, update: bool) -> Reply:
        return await self._call("PUT" if update else "POST", "/system/secrets", body=body)

    async def delete_secret(self, namespace: str, name: str) -> Reply:
        return await self._call("DELETE", "/system/secrets", body={"name": name, "namespace": namespace})

    async def _stream(self, client: httpx.AsyncClient, request: httpx.Request) -> Streamed:
        import httpx

        try:
            r = await client.send(request, stream=True)
        except httpx.TimeoutException:
            raise BackendError("the upstream gateway did not answer in time", 504) from None
        except httpx.HTTPError as e:
            raise BackendError(f"cannot reach the upstream gateway: {type(e).__name__}") from None
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in r.headers.raw]

        async def chunks() -> AsyncIterator[bytes]:
            try:
                async for chunk in r.aiter_raw():
                    yield chunk
            except httpx.HTTPError:
                return  # the upstream went away mid-answer: end the stream

        return Streamed(r.status_code, headers, chunks(), r.aclose)

    async def logs(self, query: dict[str, str], follow: bool) -> Streamed:
        import httpx

        timeout = httpx.Timeout(None, connect=10.0) if follow else self._client.timeout
        request = self._client.build_request("GET", "/system/logs", params=query, timeout=timeout)
        s = await self._stream(self._client, request)
        if s.status in (401, 403):
            await s.close()
            raise BackendError(f"the upstream gateway refused the configured credentials ({s.status})")
        return s

    async def protected(self, namespace: str, name: str) -> bool:
        now = time.monotonic()
        hit = self._protected.get((namespace, name))
        if hit is not None and now < hit[1]:
            return hit[0]
        r = await self.get_function(namespace, name)
        result = False
        if r.status == 200:
            try:
                status = json.loads(r.body)
            except ValueError:
                raise BackendError("the upstream gateway's function status is not JSON") from None
            result = isinstance(status, dict) and _is_protected(status)
        if len(self._protected) > 10_000:
            self._protected.clear()
        self._protected[(namespace, name)] = (result, now + PROTECTED_TTL)
        return result

    async def invoke(self, call: Forward) -> Streamed:
        from urllib.parse import quote

        length: int | None = None
        headers = []
        for k, v in call.headers:
            if k.lower() == "content-length":
                length = int(v)
            else:
                headers.append((k, v))
        path = quote(call.path, safe="/%:@!$&'()*+,;=-._~")
        return await self._forwarder.request(call.method, path, call.query, headers, call.body, length)

    async def info(self) -> Reply:
        return await self._call("GET", "/system/info")

    async def close(self) -> None:
        await self._client.aclose()
        await self._forwarder.aclose()
