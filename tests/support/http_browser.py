"""A browser for `faas-pro auth --browser-command`, over plain HTTP (httpx, no JavaScript engine).

Usage: ``python tests/support/http_browser.py URL`` (the CLI appends the authorization URL).
It logs in at the test IdP with ``tests.support.idp.drive_login`` (login and consent pages), then
delivers the IdP's answer to the CLI's loopback exactly as a browser would:

- a redirect to the callback with a query: GET it;
- a redirect with a fragment: GET the callback without the fragment (browsers never send it), then
  do what the relay page's script does: POST the fragment's fields to the relay form's action;
- a ``response_mode=form_post`` page: POST its form's fields to its action.

Environment knobs (all optional): ``TEST_BROWSER_USER`` (default alice), ``TEST_BROWSER_DENY=1``
(press Deny on the consent page), ``TEST_BROWSER_RECORD=FILE`` (only write the URL to FILE and do
nothing else: tests then play the browser themselves), ``TEST_BROWSER_LOG=FILE`` (append one JSON
line per step; the last line has ``"done": true``).
"""

from __future__ import annotations

import os
import sys
import urllib.parse as up
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from tests.support.browser_log import log_step  # noqa: E402
from tests.support.idp import drive_login, parse_form  # noqa: E402


def relay_action(page: str) -> str:
    """The relay page's form action (what its script submits to)."""
    return str(parse_form(page, "faas-pro-relay-form")["action"])


def deliver(client: httpx.Client, r: httpx.Response, base_url: str) -> httpx.Response:
    """Take the IdP's last response to the loopback server as a browser would."""
    if r.status_code in (302, 303):
        target = up.urljoin(base_url, r.headers["location"])
        without_fragment, fragment = up.urldefrag(target)
        page = client.get(without_fragment)
        log_step(step="callback", status=page.status_code, fragment=bool(fragment))
        if not fragment:
            return page
        action = up.urljoin(without_fragment, relay_action(page.text))
        return client.post(action, data=dict(up.parse_qsl(fragment, keep_blank_values=True)))
    if "<form" in r.text:  # response_mode=form_post (errors come as the same page with status 400)
        form = parse_form(r.text)
        log_step(step="form_post", action=form["action"])
        return client.post(form["action"], data=form["fields"])
    raise SystemExit(f"http_browser: unexpected IdP answer {r.status_code}: {r.text[:300]}")


def browse(url: str) -> httpx.Response:
    parts = up.urlsplit(url)
    issuer = f"{parts.scheme}://{parts.netloc}"
    with httpx.Client(follow_redirects=False, timeout=30) as client:
        r = drive_login(
            client,
            issuer,
            url,
            user=os.environ.get("TEST_BROWSER_USER", "alice"),
            approve=os.environ.get("TEST_BROWSER_DENY") != "1",
        )
        final = deliver(client, r, issuer + "/")
        log_step(step="final", status=final.status_code, body=final.text[:2000], done=True)
        return final


def main(argv: list[str]) -> int:
    url = argv[-1]
    record = os.environ.get("TEST_BROWSER_RECORD")
    if record:
        tmp = record + ".tmp"
        Path(tmp).write_text(url, encoding="utf-8")
        os.replace(tmp, record)
        return 0
    try:
        browse(url)
    except BaseException as e:  # the log is how tests learn what went wrong
        log_step(step="error", error=repr(e), done=True)
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
