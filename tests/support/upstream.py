"""A recording OpenFaaS gateway, run as its own process: ``python -m tests.support.upstream USER:PASS``.

It keeps namespaces, functions and secrets in memory, answers the OpenFaaS REST API with the
faas-provider shapes (basic auth required on ``/system/*``), streams logs (``follow=true`` keeps
the stream open, one line every 50 ms), and echoes invocations (``/function/…`` answers with the
request's body and ``X-Echo-*`` headers; ``/async-function/…`` answers 202 with ``X-Call-Id``;
a function whose name starts with ``slow`` takes 2 s).
Every request it receives is recorded, raw: method, path, query, headers and body (base64). A
stand-in by necessity (no OpenFaaS here), and a real HTTP server in another process.

``GET /__calls`` (no auth) returns the record; ``DELETE /__calls`` clears it. ``Upstream`` starts
and stops the process for tests.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

REPO = Path(__file__).resolve().parents[2]


def serve(creds: str) -> None:
    want = "Basic " + base64.b64encode(creds.encode()).decode()
    lock = threading.Lock()
    calls: list[dict[str, Any]] = []
    namespaces: dict[str, dict[str, Any]] = {"openfaas-fn": {"name": "openfaas-fn", "labels": {}, "annotations": {}}}
    functions: dict[tuple[str, str], dict[str, Any]] = {}
    secrets: dict[tuple[str, str], str] = {}

    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body are separate writes: no delayed-ACK waits

        def log_message(self, *a: Any) -> None:
            pass

        def _send(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
            raw = body if isinstance(body, bytes) else (json.dumps(body).encode() if body is not None else b"")
            self.send_response(status)
            if body is not None and not isinstance(body, bytes):
                self.send_header("Content-Type", "application/json")
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(raw)

        def _handle(self) -> None:
            u = urlsplit(self.path)
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n) if n else b""
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                body = self._chunked()
            if u.path == "/__calls":
                if self.command == "DELETE":
                    with lock:
                        calls.clear()
                    return self._send(204)
                with lock:
                    return self._send(200, calls)
            with lock:
                calls.append(
                    {
                        "method": self.command,
                        "path": u.path,
                        "raw_path": self.path.split("?")[0],
                        "query": u.query,
                        "headers": [[k, v] for k, v in self.headers.items()],
                        "body": base64.b64encode(body).decode(),
                    }
                )
            if u.path.startswith(("/function/", "/async-function/")):
                return self._invoke(u.path, u.query, body)
            if self.headers.get("Authorization") != want:
                return self._send(401, b"unauthorized\n")
            q = {k: v[0] for k, v in parse_qs(u.query).items()}
            ns = q.get("namespace", "openfaas-fn")
            doc: Any = json.loads(body) if body else None
            p, m = u.path, self.command
            with lock:
                if p == "/system/namespaces" and m == "GET":
                    return self._send(200, sorted(namespaces))
                if p == "/system/namespace/" and m == "POST":
                    if doc["name"] in namespaces:
                        return self._send(409, b"exists\n")
                    namespaces[doc["name"]] = {"labels": {}, "annotations": {}, **doc}
                    return self._send(201)
                if p.startswith("/system/namespace/"):
                    name = p.rsplit("/", 1)[1]
                    if name not in namespaces:
                        return self._send(404, b"namespace not found\n")
                    if m == "GET":
                        return self._send(200, namespaces[name])
                    if m == "PUT":
                        namespaces[name] = {"labels": {}, "annotations": {}, **doc}
                        return self._send(202)
                    if m == "DELETE":
                        del namespaces[name]
                        return self._send(202)
                if p == "/system/functions":
                    if m == "GET":
                        return self._send(200, [f for (fns, _), f in sorted(functions.items()) if fns == ns])
                    fns = (doc or {}).get("namespace") or "openfaas-fn"
                    if m == "DELETE":
                        if functions.pop((fns, doc["functionName"]), None) is None:
                            return self._send(404, b"not found\n")
                        return self._send(202)
                    key = (fns, doc["service"])
                    if m == "PUT" and key not in functions:
                        return self._send(404, b"not found\n")
                    functions[key] = {
                        **doc,
                        "name": doc["service"],
                        "namespace": fns,
                        "replicas": 1,
                        "availableReplicas": 1,
                        "invocationCount": 0,
                    }
                    return self._send(202)
                if p.startswith("/system/function/") and m == "GET":
                    f = functions.get((ns, p.rsplit("/", 1)[1]))
                    if f is None:
                        return self._send(404, b"not found\n")
                    return self._send(
                        200, {**f, **({"usage": {"cpu": 1.5, "totalMemoryBytes": 1024}} if "usage" in q else {})}
                    )
                if p.startswith("/system/scale-function/") and m == "POST":
                    f = functions.get((ns, p.rsplit("/", 1)[1]))
                    if f is None:
                        return self._send(404, b"not found\n")
                    f["replicas"] = doc["replicas"]
                    return self._send(202)
                if p == "/system/secrets":
                    if m == "GET":
                        return self._send(
                            200, [{"name": s, "namespace": sns} for (sns, s) in sorted(secrets) if sns == ns]
                        )
                    key = (doc.get("namespace") or "openfaas-fn", doc["name"])
                    if m == "DELETE":
                        return self._send(202 if secrets.pop(key, None) is not None else 404)
                    secrets[key] = doc.get("value") or doc.get("rawValue") or ""
                    return self._send(201 if m == "POST" else 202)
                if p == "/system/info" and m == "GET":
                    return self._send(
                        200,
                        {
                            "provider": {
                                "provider": "faas-netes-ce",
                                "orchestration": "kubernetes",
                                "version": {"release": "0.18", "sha": "abc"},
                            },
                            "version": {"release": "0.27", "sha": "def"},
                            "arch": "x86_64",
                        },
                    )
            if p == "/system/logs" and m == "GET":
                return self._logs(q)
            return self._send(404, b"not found\n")

        def _chunked(self) -> bytes:
            out = b""
            while True:
                size = int(self.rfile.readline().strip(), 16)
                if size == 0:
                    self.rfile.readline()
                    return out
                out += self.rfile.read(size)
                self.rfile.readline()

        def _logs(self, q: dict[str, str]) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/x-ndjson")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            count = 0
            with suppress(OSError):
                while True:
                    line = {
                        "name": q.get("name"),
                        "namespace": q.get("namespace"),
                        "instance": "pod-1",
                        "timestamp": "2024-05-01T10:20:30Z",
                        "text": f"line {count}",
                    }
                    raw = json.dumps(line).encode() + b"\n"
                    self.wfile.write(f"{len(raw):x}\r\n".encode() + raw + b"\r\n")
                    self.wfile.flush()
                    count += 1
                    if q.get("follow") != "true" and count >= 3:
                        break
                    time.sleep(0.05)
                self.wfile.write(b"0\r\n\r\n")

        def _invoke(self, path: str, query: str, body: bytes) -> None:
            if path.startswith("/function/slow"):
                time.sleep(2.0)  # longer than the gateway's --invoke-timeout in the tests
            if path.startswith("/async-function/"):
                return self._send(202, b"", {"X-Call-Id": str(uuid.uuid4())})
            headers = {"X-Echo-Method": self.command, "X-Echo-Path": path, "X-Echo-Query": query}
            return self._send(200, body, {"Content-Type": "application/octet-stream", **headers})

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _handle

    class Server(ThreadingHTTPServer):
        request_queue_size = 256  # the benchmark opens 32 connections at once

    httpd = Server(("127.0.0.1", 0), H)
    httpd.daemon_threads = True
    print(f"http://127.0.0.1:{httpd.server_address[1]}", flush=True)
    with suppress(KeyboardInterrupt):
        httpd.serve_forever()


class Upstream:
    """The recording upstream in its own process."""

    def __init__(self, creds: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.support.upstream", creds], cwd=REPO, stdout=subprocess.PIPE, text=True
        )
        assert self.proc.stdout is not None
        self.url = self.proc.stdout.readline().strip()
        assert self.url.startswith("http://"), "the upstream did not start"

    def calls(self) -> list[dict[str, Any]]:
        import httpx

        out: list[dict[str, Any]] = httpx.get(self.url + "/__calls").json()
        for c in out:
            c["body"] = base64.b64decode(c["body"])
            c["header"] = {k.lower(): v for k, v in c["headers"]}
        return out

    def clear(self) -> None:
        import httpx

        httpx.delete(self.url + "/__calls")

    def __enter__(self) -> Upstream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


@contextmanager
def upstream(creds: str) -> Iterator[Upstream]:
    u = Upstream(creds)
    try:
        yield u
    finally:
        u.close()


if __name__ == "__main__":
    serve(sys.argv[1])
