"""Driving the dashboard (faas_pro/server/dashboard) in headless Chromium: what both dashboard test
modules (registry and upstream mode) do the same way."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any

from tests.support.chromium import WebDriver
from tests.support.gateway import Server
from tests.support.idp import USERS, IdP

COOKIE = "faas-pro-session"


def keep_shots(shots: Path) -> None:
    """Copy the run's screenshots to ``$DASHBOARD_SHOTS`` when set (how docs/img/ is refreshed)."""
    target = os.environ.get("DASHBOARD_SHOTS")
    if target:
        for p in shots.glob("*.png"):
            shutil.copy(p, Path(target) / p.name)


class DashboardBrowser:
    """A browser session on the dashboard of ``gw``, logging in at ``idp``; screenshots go to ``shots``."""

    def __init__(self, gw: Server, idp: IdP, shots: Path, d: WebDriver) -> None:
        self.gw, self.idp, self.shots, self.d = gw, idp, shots, d
        self.url = gw.url

    def shot(self, name: str) -> Path:
        path = self.shots / f"dashboard-{name}.png"
        self.d.screenshot(path)
        return path

    def reset(self) -> None:
        self.d.cmd("DELETE", "/cookie")
        self.d.go(self.idp.issuer + "/.well-known/openid-configuration")
        self.d.cmd("DELETE", "/cookie")

    def login(self, user: str, *, expect: str = "#namespaces, #no-namespaces") -> float:
        """From the login page: click Log in, sign in at the IdP; seconds until ``expect`` shows."""
        self.d.go(self.url + "/ui/")
        self.d.find("#login")
        t0 = time.perf_counter()
        self.d.click("#login")
        self.d.type("#username", user)
        self.d.type("#password", USERS[user])
        self.d.click("#sign-in")
        self.d.find(expect)
        return time.perf_counter() - t0

    def login_times(self, user: str, n: int) -> list[int]:
        """Log in ``n`` times from a clean browser, then once more to stay logged in: milliseconds
        from clicking "Log in" to the namespaces page, one per run."""
        times = []
        for _ in range(n):
            times.append(round(self.login(user) * 1000))
            self.reset()
        self.login(user)
        return times

    def all(self, css: str) -> list[str]:
        els = self.d.cmd("POST", "/elements", {"using": "css selector", "value": css})
        return [str(self.d.cmd("GET", f"/element/{next(iter(e.values()))}/text")) for e in els]

    def js(self, script: str) -> Any:
        return self.d.cmd("POST", "/execute/sync", {"script": script, "args": []})

    def session_cookie(self) -> dict[str, Any]:
        cookies = self.d.cmd("GET", "/cookie")
        found = [c for c in cookies if c["name"] == COOKIE]
        assert found, cookies
        return found[0]  # type: ignore[no-any-return]
