"""Real headless Chromium over plain W3C WebDriver HTTP (chromedriver; no selenium).

``ensure_chromium()`` installs Debian's ``chromium`` and ``chromium-driver`` when missing
(the suite runs as root in CI); ``chromium_session()`` yields a ``WebDriver`` on a free port.
"""

from __future__ import annotations

import base64
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from filelock import FileLock

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-dev-shm-usage",
]


def _which() -> tuple[str | None, str | None]:
    return (
        os.environ.get("CHROMIUM") or shutil.which("chromium"),
        os.environ.get("CHROMEDRIVER") or shutil.which("chromedriver"),
    )


def ensure_chromium() -> tuple[str, str]:
    """Return (chromium, chromedriver), installing the Debian packages first if needed."""
    with FileLock(os.path.join(tempfile.gettempdir(), "faas-pro-apt.lock")):
        browser, driver = _which()
        if browser and driver:
            return browser, driver
        if os.geteuid() != 0:
            raise RuntimeError("chromium/chromedriver missing: apt-get install chromium chromium-driver (as root)")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, capture_output=True, timeout=600)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium", "chromium-driver"],
            check=True,
            env=env,
            capture_output=True,
            timeout=900,
        )
        browser, driver = _which()
        if not (browser and driver):
            raise RuntimeError("chromium installed but not found on PATH")
        return browser, driver


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class WebDriver:
    def __init__(self, base: str, browser: str, user_data_dir: str) -> None:
        self.c = httpx.Client(base_url=base, timeout=60)
        caps = {
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "chrome",
                    "goog:chromeOptions": {"binary": browser, "args": [*FLAGS, f"--user-data-dir={user_data_dir}"]},
                }
            }
        }
        try:
            r = self.c.post("/session", json=caps).json()["value"]
            if "sessionId" not in r:
                raise RuntimeError(f"chromedriver refused the session: {r}")
        except BaseException:
            self.c.close()  # an unclosed client's sockets are ResourceWarnings in whatever test runs the GC
            raise
        self.sid = r["sessionId"]

    def cmd(self, method: str, path: str, payload: dict[str, Any] | None = None) -> Any:
        r = self.c.request(method, f"/session/{self.sid}{path}", json=payload)
        v = r.json()["value"]
        if r.status_code != 200:
            raise RuntimeError(f"{path}: {v}")
        return v

    def go(self, url: str) -> None:
        self.cmd("POST", "/url", {"url": url})

    def find(self, css: str, timeout: float = 30.0) -> str:  # generous: CI machines are shared and busy
        end = time.time() + timeout
        while True:
            try:
                el = self.cmd("POST", "/element", {"using": "css selector", "value": css})
                return str(next(iter(el.values())))
            except RuntimeError:
                if time.time() > end:
                    raise
                time.sleep(0.05)

    def type(self, css: str, text: str) -> None:
        self.cmd("POST", f"/element/{self.find(css)}/value", {"text": text})

    def click(self, css: str) -> None:
        self.cmd("POST", f"/element/{self.find(css)}/click", {})

    def text(self, css: str) -> str:
        return str(self.cmd("GET", f"/element/{self.find(css)}/text"))

    def url(self) -> str:
        return str(self.cmd("GET", "/url"))

    def screenshot(self, path: Path) -> None:
        path.write_bytes(base64.b64decode(self.cmd("GET", "/screenshot")))

    def quit(self) -> None:
        try:
            self.c.delete(f"/session/{self.sid}")
        finally:
            self.c.close()


@contextmanager
def chromium_session() -> Iterator[WebDriver]:
    browser, driver = ensure_chromium()
    port = free_port()
    profile = tempfile.mkdtemp(prefix="faas-pro-chromium-")
    proc = subprocess.Popen([driver, f"--port={port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/status", timeout=2).json()["value"]["ready"]:
                    break
            except (httpx.TransportError, ValueError, KeyError):
                time.sleep(0.05)
        d = WebDriver(f"http://127.0.0.1:{port}", browser, profile)
        try:
            yield d
        finally:
            d.quit()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()  # a Popen never waited for is a ResourceWarning when it is collected, much later
        shutil.rmtree(profile, ignore_errors=True)
