"""The real test OpenID provider (oidc-provider 9.x, pinned in tests/support/idp/) for the suite.

``start_idp()`` installs the npm packages on first use (``npm ci``), starts ``node idp.mjs`` on a
free loopback port and waits for its ``IDP_READY`` line. ``drive_login()`` walks the provider's
login and consent pages over HTTP the way a browser without JavaScript would.
See tests/support/idp/README.md for the provider's behaviour and quirks.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import urllib.parse as up
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import IO, Any

import httpx
from filelock import FileLock

IDP_DIR = Path(__file__).resolve().parent / "idp"
USERS = {"alice": "alice-password", "bob": "bob-password", "carol": "carol-password"}


def ensure_node_modules() -> None:
    """``npm ci`` once (the lock file pins every package); a no-op when already installed."""
    marker = IDP_DIR / "node_modules" / "oidc-provider" / "package.json"
    with FileLock(str(IDP_DIR / ".npm.lock")):
        if marker.exists():
            return
        r = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=IDP_DIR,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if r.returncode != 0:
            raise RuntimeError(f"npm ci failed in {IDP_DIR}:\n{r.stdout}\n{r.stderr}")


@dataclass
class IdP:
    issuer: str
    port: int
    info: dict[str, Any]
    proc: subprocess.Popen[str]
    stderr_lines: list[str] = field(default_factory=list)

    @property
    def discovery(self) -> dict[str, Any]:
        return httpx.get(self.issuer + "/.well-known/openid-configuration", timeout=10).json()  # type: ignore[no-any-return]

    def jwks(self) -> dict[str, Any]:
        return httpx.get(self.discovery["jwks_uri"], timeout=10).json()  # type: ignore[no-any-return]

    def client_credentials_token(self, scope: str = "faas:invoke", resource: str | None = None) -> str:
        data = {"grant_type": "client_credentials", "scope": scope}
        if resource:
            data["resource"] = resource
        r = httpx.post(self.discovery["token_endpoint"], auth=("faas-svc", "faas-svc-secret"), data=data, timeout=10)
        r.raise_for_status()
        return r.json()["access_token"]  # type: ignore[no-any-return]


START_TIMEOUT = 60.0  # a start takes about half a second
START_ATTEMPTS = 3


def _first_line(stream: IO[str], into: queue.Queue[str]) -> None:
    into.put(stream.readline())


def _launch(env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    """``node idp.mjs`` and its ready line. Bounded: Node 20 was once seen to stop for good before
    listening (main thread in a futex wait, 0.3 s of CPU); such a start is killed and made again."""
    for attempt in range(1, START_ATTEMPTS + 1):
        proc = subprocess.Popen(
            ["node", "idp.mjs"], cwd=IDP_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        assert proc.stdout is not None and proc.stderr is not None
        first: queue.Queue[str] = queue.Queue()
        reader = threading.Thread(target=_first_line, args=(proc.stdout, first), daemon=True)
        reader.start()
        try:
            line = first.get(timeout=START_TIMEOUT)
        except queue.Empty:
            proc.kill()
            proc.wait()
            reader.join(5)  # the kill ends its read
            for pipe in (proc.stdout, proc.stderr):
                pipe.close()
            print(f"tests: the test IdP did not start within {START_TIMEOUT:.0f} s (attempt {attempt}); again",
                  file=sys.stderr)  # fmt: skip
            continue
        if not line.startswith("IDP_READY "):
            proc.kill()
            _, err_text = proc.communicate()  # waits, and closes both pipes
            raise RuntimeError(f"test IdP did not start: {line!r} {err_text}")
        return proc, line
    raise RuntimeError(f"test IdP did not start in {START_ATTEMPTS} attempts of {START_TIMEOUT:.0f} s")


@contextmanager
def start_idp(**env: str) -> Iterator[IdP]:
    """Start a provider on a free port (``IDP_PORT=0``); extra ``IDP_*`` settings as keyword args."""
    ensure_node_modules()
    full_env = {**os.environ, "IDP_PORT": "0", "IDP_DEVICE_INTERVAL": "1", **env}
    proc, line = _launch(full_env)
    assert proc.stdout is not None and proc.stderr is not None
    info = json.loads(line.split(" ", 1)[1])
    idp = IdP(issuer=info["issuer"], port=info["port"], info=info, proc=proc)
    err = proc.stderr

    def drain() -> None:  # keep the pipe from filling up; keep the lines for debugging
        for ln in err:
            idp.stderr_lines.append(ln)

    drainer = threading.Thread(target=drain, daemon=True)
    drainer.start()
    try:
        yield idp
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        drainer.join(timeout=5)
        proc.stdout.close()  # unclosed pipes are ResourceWarnings, i.e. errors under filterwarnings=error
        err.close()


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []
        self._cur: dict[str, Any] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self._cur = {
                "id": a.get("id"),
                "action": a.get("action") or "",
                "method": (a.get("method") or "get").lower(),
                "fields": {},
            }
            self.forms.append(self._cur)
        elif tag == "input" and self._cur is not None and a.get("name"):
            self._cur["fields"][a["name"]] = a.get("value") or ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._cur = None


def parse_form(html: str, form_id: str | None = None) -> dict[str, Any]:
    p = _Forms()
    p.feed(html)
    for f in p.forms:
        if form_id is None or f["id"] == form_id:
            return f
    raise AssertionError(f"form {form_id!r} not found in page:\n{html[:800]}")


def drive_login(
    client: httpx.Client,
    issuer: str,
    start_url: str,
    user: str = "alice",
    password: str | None = None,
    approve: bool = True,
) -> httpx.Response:
    """Walk from ``start_url`` through login and consent like a browser without JavaScript.

    Follows redirects that stay on the issuer, fills ``#login-form``, presses Allow (or Deny when
    ``approve`` is false) on ``#consent-form``, submits device-flow forms. Returns the first
    response that leaves the issuer (a redirect to the client's redirect_uri, not followed) or a
    page with none of these forms (e.g. a form_post page or an error page).
    """
    password = USERS.get(user, "") if password is None else password
    r = client.get(start_url)
    denied = False
    for _ in range(25):
        if r.status_code in (302, 303):
            loc = up.urljoin(issuer + "/", r.headers["location"])
            if not loc.startswith(issuer + "/"):
                return r
            r = client.get(loc)
            continue
        html = r.text if r.status_code == 200 else ""
        if denied:  # after Deny the device flow shows its code form again: that page is the answer
            return r
        if 'id="login-form"' in html:
            f = parse_form(html, "login-form")
            data: dict[str, str] = {"username": user, "password": password}
        elif 'id="consent-form"' in html:
            if approve:
                f, data = parse_form(html, "consent-form"), {}
            else:
                f, data = parse_form(html, "abort-form"), {}
                denied = True
        elif 'name="xsrf"' in html:
            f = parse_form(html)
            data = f["fields"]
        else:
            return r
        r = client.post(up.urljoin(issuer + "/", f["action"]), data=data)
    raise AssertionError("too many steps in the IdP's pages")
