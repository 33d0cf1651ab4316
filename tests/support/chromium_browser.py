"""A browser for `faas-pro auth --browser-command`: real headless Chromium (tests/support/chromium.py).

Usage: ``python tests/support/chromium_browser.py URL``. Opens URL, signs in at the test IdP by CSS
ids (``#username``, ``#password``, ``#sign-in``, ``#approve``) and waits until the CLI's loopback
page shows ``#faas-pro-done`` (or ``#faas-pro-error``); every script on the way (form_post
auto-submit, the fragment relay page) runs in the real browser. ``TEST_BROWSER_USER`` picks the
user; ``TEST_BROWSER_LOG=FILE`` gets one JSON line per step, the last with ``"done": true``.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.support.browser_log import log_step  # noqa: E402
from tests.support.chromium import WebDriver, chromium_session  # noqa: E402
from tests.support.idp import USERS  # noqa: E402


def _result(d: WebDriver, timeout: float = 30.0) -> tuple[str, str]:
    end = time.time() + timeout
    while True:
        for elem in ("#faas-pro-done", "#faas-pro-error"):
            try:
                found = d.find(elem, timeout=0)
            except RuntimeError:
                continue
            return elem, str(d.cmd("GET", f"/element/{found}/text"))
        if time.time() > end:
            raise RuntimeError(f"no faas-pro result page at {d.url()}")
        time.sleep(0.05)


def browse(url: str) -> None:
    user = os.environ.get("TEST_BROWSER_USER", "alice")
    with chromium_session() as d:
        d.go(url)
        d.type("#username", user)
        d.type("#password", USERS[user])
        d.click("#sign-in")
        d.click("#approve")
        log_step(step="approved")
        elem, text = _result(d)
        log_step(step="final", element=elem, text=text, url=d.url(), done=True)


def main(argv: list[str]) -> int:
    try:
        browse(argv[-1])
    except BaseException as e:
        log_step(step="error", error=repr(e), done=True)
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
