"""Starting the real gateway for tests and benchmarks.

- ``start_gateway(root, objects, ...)``: write IAM objects under ``root/iam``, make a signing key
  (unless one is given) and run ``faas-pro serve`` with its state in ``root/state``; stopped on exit.
- ``start_server(args)`` / ``running(args)``: the real ``python -m faas_pro serve`` as a subprocess
  on ``127.0.0.1:0``; the URL comes from its ready line; stderr is drained and kept.
- ``issuer_yaml`` / ``policy_yaml`` / ``role_yaml``: IAM objects as YAML text; ``keygen``.
"""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.inproc import run_cli, start_cli

REPO = Path(__file__).resolve().parents[2]
READY_PREFIX = "faas-pro serve: listening on "


@dataclass
class Server:
    url: str
    proc: subprocess.Popen[str]
    stderr_lines: list[str] = field(default_factory=list)
    threads: list[threading.Thread] = field(default_factory=list)

    def stderr(self) -> str:
        return "".join(self.stderr_lines)

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for t in self.threads:
            t.join(timeout=5)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()
        return self.proc.returncode

    def wait_log(self, text: str, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.stderr():
                return
            time.sleep(0.05)
        raise AssertionError(f"{text!r} not logged; stderr:\n{self.stderr()}")


def serve_args(iam: Path, key: Path, state: Path, issuer_url: str = "http://gateway.test", *extra: str) -> list[str]:
    return [
        "--iam",
        str(iam),
        "--issuer-url",
        issuer_url,
        "--issuer-key",
        str(key),
        "--state",
        str(state),
        "--listen",
        "127.0.0.1:0",
        "--issuer-fetch-timeout",
        "1",
        *extra,
    ]


def start_server(
    args: list[str], env: dict[str, str] | None = None, preexec_fn: Callable[[], None] | None = None
) -> Server:
    """Start ``faas-pro serve ARGS`` and wait (bounded) for the ready line; ``preexec_fn`` runs in
    the child before the exec (e.g. to set its open-file limit)."""
    proc = start_cli("serve", *args, env=env, preexec_fn=preexec_fn)
    assert proc.stdout is not None and proc.stderr is not None
    server = Server(url="", proc=proc)
    err, out = proc.stderr, proc.stdout

    def drain() -> None:
        for ln in err:
            server.stderr_lines.append(ln)

    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        for ln in out:
            lines.put(ln)

    server.threads = [threading.Thread(target=drain, daemon=True), threading.Thread(target=pump, daemon=True)]
    for t in server.threads:
        t.start()
    try:
        line = lines.get(timeout=20)
    except queue.Empty:
        server.stop(signal.SIGKILL)
        raise AssertionError(f"gateway did not start; stderr:\n{server.stderr()}") from None
    if not line.startswith(READY_PREFIX):
        server.stop()
        raise AssertionError(f"unexpected first line {line!r}; stderr:\n{server.stderr()}")
    server.url = line[len(READY_PREFIX) :].strip()
    return server


@contextmanager
def running(
    args: list[str], env: dict[str, str] | None = None, preexec_fn: Callable[[], None] | None = None
) -> Iterator[Server]:
    s = start_server(args, env, preexec_fn)
    try:
        yield s
    finally:
        s.stop()


def keygen(path: Path) -> Path:
    r = run_cli("serve", "keygen", str(path))
    assert r.returncode == 0, r.stderr
    return path


# ---------------------------------------------------------------------- IAM objects


def issuer_yaml(name: str, iss: str, aud: list[str], expiry: str = "1h", internal: str | None = None) -> str:
    extra = f"\n  issInternal: {json.dumps(internal)}" if internal else ""
    return f"""---
apiVersion: iam.openfaas.com/v1
kind: JwtIssuer
metadata:
  name: {name}
  namespace: openfaas
spec:
  iss: {json.dumps(iss)}
  aud: {json.dumps(aud)}
  tokenExpiry: {expiry}{extra}
"""


def policy_yaml(name: str, actions: list[str], resources: list[str], effect: str = "Allow") -> str:
    return f"""---
apiVersion: iam.openfaas.com/v1
kind: Policy
metadata:
  name: {name}
  namespace: openfaas
spec:
  statement:
  - sid: {name}-1
    effect: {effect}
    action: {json.dumps(actions)}
    resource: {json.dumps(resources)}
"""


def role_yaml(name: str, policies: list[str], principal: list[str] | None = None, condition: Any = None) -> str:
    spec: dict[str, Any] = {"policy": policies}
    if principal is not None:
        spec["principal"] = {"jwt:sub": principal}
    if condition is not None:
        spec["condition"] = condition
    return f"""---
apiVersion: iam.openfaas.com/v1
kind: Role
metadata:
  name: {name}
  namespace: openfaas
spec: {json.dumps(spec)}
"""


def write_iam(root: Path, objects: str | Mapping[str, str]) -> Path:
    """``root/iam`` holding the IAM objects: one text (as ``iam.yaml``) or ``{file name: text}``."""
    iam = root / "iam"
    iam.mkdir()
    for name, text in ({"iam.yaml": objects} if isinstance(objects, str) else objects).items():
        (iam / name).write_text(text)
    return iam


@contextmanager
def start_gateway(
    root: Path,
    objects: str | Mapping[str, str],
    *extra: str,
    issuer_url: str = "http://gateway.test",
    key: Path | None = None,
    env: dict[str, str] | None = None,
) -> Iterator[Server]:
    """``faas-pro serve`` for ``objects`` (see ``write_iam``), state in ``root/state``, signing with
    ``key`` or a fresh ``root/gateway.pem``; ``extra`` are more serve options."""
    iam = write_iam(root, objects)
    key = key or keygen(root / "gateway.pem")
    with running(serve_args(iam, key, root / "state", issuer_url, *extra), env) as s:
        yield s
