"""Where authorised requests go: one interface, two backends.

- ``SqliteRegistry``: the embedded function registry (``--state``/registry.db). It records what was
  deployed and answers the OpenFaaS API with it; it runs nothing. Survives restarts.
- ``UpstreamBackend``: forwards to an existing OpenFaaS gateway (e.g. Community Edition) with that
  gateway's basic-auth credentials. The caller's bearer token is never forwarded.

Both are called only after the request was authorised, with the namespace that was authorised:
the app rewrites ``namespace`` in forwarded payloads so what is executed is what was checked.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from faas_pro.errors import FaasProError

if TYPE_CHECKING:  # pragma: no cover
    pass

DEFAULT_NAMESPACE = "openfaas-fn"
NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
MAX_UPSTREAM_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class Reply:
    """A backend's answer: JSON-able ``body`` (or ``str`` for text/plain, ``bytes`` as is)."""

    status: int
    body: Any = None
    content_type: str | None = None


class BackendError(Exception):
    """The backend cannot answer (upstream down, garbage); ``reason`` is safe to show."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Backend(Protocol):
    name: str

    async def namespaces(self) -> list[str]: ...
    async def create_namespace(self, name: str) -> Reply: ...
    async def list_functions(self, namespace: str) -> Reply: ...
    async def get_function(self, namespace: str, name: str) -> Reply: ...
    async def deploy(self, payload: dict[str, Any], namespace: str, *, update: bool) -> Reply: ...
    async def delete_function(self, namespace: str, name: str) -> Reply: ...
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
    """A FunctionStatus (DESIGN §3) from a faas-cli deploy payload; ValueError names a bad field."""
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


class SqliteRegistry:
    """The embedded registry. One connection, serialised by a lock; statements are tiny."""

    name = "embedded registry"

    def __init__(self, path: Path, namespaces: tuple[str, ...] = ()) -> None:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("CREATE TABLE IF NOT EXISTS namespaces (name TEXT PRIMARY KEY, created_at TEXT NOT NULL)")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS functions (namespace TEXT NOT NULL, name TEXT NOT NULL,"
                " status TEXT NOT NULL, PRIMARY KEY (namespace, name))"
            )
        except sqlite3.Error as e:
            raise FaasProError(f"cannot open the registry database {path}: {e}") from None
        self._lock = threading.Lock()
        for ns in (DEFAULT_NAMESPACE, *namespaces):
            self._ensure_namespace(ns)

    def _ensure_namespace(self, name: str) -> bool:
        with self._lock:
            cur = self._db.execute(
                "INSERT OR IGNORE INTO namespaces (name, created_at) VALUES (?, ?)", (name, _now_rfc3339())
            )
            return cur.rowcount == 1

    def _has_namespace(self, name: str) -> bool:
        with self._lock:
            return self._db.execute("SELECT 1 FROM namespaces WHERE name = ?", (name,)).fetchone() is not None

    async def namespaces(self) -> list[str]:
        with self._lock:
            return [r[0] for r in self._db.execute("SELECT name FROM namespaces ORDER BY name")]

    async def create_namespace(self, name: str) -> Reply:
        if not self._ensure_namespace(name):
            return Reply(409, f"namespace {name} already exists")
        return Reply(201, {"name": name})

    async def list_functions(self, namespace: str) -> Reply:
        if not self._has_namespace(namespace):
            return Reply(404, f"namespace {namespace} not found")
        with self._lock:
            rows = self._db.execute("SELECT status FROM functions WHERE namespace = ? ORDER BY name", (namespace,))
            return Reply(200, [json.loads(r[0]) for r in rows])

    async def get_function(self, namespace: str, name: str) -> Reply:
        with self._lock:
            row = self._db.execute(
                "SELECT status FROM functions WHERE namespace = ? AND name = ?", (namespace, name)
            ).fetchone()
        if row is None:
            return Reply(404, f"function {name} not found in namespace {namespace}")
        return Reply(200, json.loads(row[0]))

    async def deploy(self, payload: dict[str, Any], namespace: str, *, update: bool) -> Reply:
        if not self._has_namespace(namespace):
            return Reply(404, f"namespace {namespace} not found")
        name = payload["service"]
        with self._lock:
            row = self._db.execute(
                "SELECT status FROM functions WHERE namespace = ? AND name = ?", (namespace, name)
            ).fetchone()
            if update and row is None:
                return Reply(404, f"function {name} not found in namespace {namespace}")
            if not update and row is not None:
                return Reply(409, f"function {name} already exists in namespace {namespace}")
            created = json.loads(row[0])["createdAt"] if row is not None else _now_rfc3339()
            try:
                status = function_status(payload, namespace, created)
            except ValueError as e:
                return Reply(400, str(e))
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

    async def info(self) -> Reply:
        from faas_pro import __version__

        return Reply(
            200,
            {
                "provider": {"provider": "faas-pro", "orchestration": "registry", "version": {"release": __version__}},
                "version": {"release": __version__},
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
    """Forwards authorised calls to an OpenFaaS gateway with basic auth."""

    name = "upstream"

    def __init__(self, url: str, user: str, password: str, *, timeout: float = 30.0) -> None:
        import httpx

        self.url = url.rstrip("/")
        import base64

        basic = base64.b64encode(f"{user}:{password}".encode()).decode()
        # what an upstream (or a proxy before it) might echo back; never passed on to the caller
        self._hidden = tuple(s.encode() for s in (basic, password) if len(s) >= 4)
        self._client = httpx.AsyncClient(
            base_url=self.url,
            auth=(user, password),
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            follow_redirects=False,
            trust_env=False,
        )

    async def _call(self, method: str, path: str, *, params: dict[str, str] | None = None, body: Any = None) -> Reply:
        import httpx

        content = json.dumps(body).encode() if body is not None else None
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
        except httpx.HTTPError as e:
            raise BackendError(f"cannot reach the upstream gateway: {type(e).__name__}") from None
        if status in (401, 403):
            # the upstream refused OUR credentials: an operator problem, not the caller's
            raise BackendError(f"the upstream gateway refused the configured credentials ({status})")
        body = bytes(buf)
        for hidden in self._hidden:
            body = body.replace(hidden, b"***")
        return Reply(status, body, ctype)

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

    async def create_namespace(self, name: str) -> Reply:
        return await self._call("POST", "/system/namespace/", body={"name": name})

    async def list_functions(self, namespace: str) -> Reply:
        return await self._call("GET", "/system/functions", params={"namespace": namespace})

    async def get_function(self, namespace: str, name: str) -> Reply:
        return await self._call("GET", f"/system/function/{name}", params={"namespace": namespace})

    async def deploy(self, payload: dict[str, Any], namespace: str, *, update: bool) -> Reply:
        return await self._call("PUT" if update else "POST", "/system/functions", body=payload)

    async def delete_function(self, namespace: str, name: str) -> Reply:
        return await self._call("DELETE", "/system/functions", body={"functionName": name, "namespace": namespace})

    async def info(self) -> Reply:
        return await self._call("GET", "/system/info")

    async def close(self) -> None:
        await self._client.aclose()
