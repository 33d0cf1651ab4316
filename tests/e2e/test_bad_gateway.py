"""Issue 5, bad input: a "gateway" that answers HTML, an empty body, invalid JSON, 500 or 502.

No real gateway produces these, so a ``FakeHTTP`` (a real HTTP server on a loopback port) plays one
(a fake by necessity). Every answer gives one line on stderr naming the gateway and the status, a non-zero
exit and no traceback; the token is never echoed and never follows a redirect to another origin.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from faas_pro import __version__
from faas_pro.errors import EXIT_AUTH, EXIT_OK, EXIT_UNREACHABLE
from tests.support.chromium import free_port
from tests.support.e2e import auth_args
from tests.support.fakehttp import Answer, FakeHTTP, Req, json_answer
from tests.support.idp import IdP
from tests.support.inproc import run_cli

TOKEN = "SENTINEL.gateway-token.4711"
NGINX_502 = b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n"  # noqa: E501

# mode -> (status, content type, body)
MODES: dict[str, tuple[int, str, bytes]] = {
    "html-200": (200, "text/html; charset=utf-8", b"<!doctype html><html><body>Welcome to nginx!</body></html>"),
    "html-200-as-json": (200, "application/json", b"<html><body>login</body></html>"),
    "empty-200": (200, "application/json", b""),
    "invalid-json-200": (200, "application/json", b'{"name": "half'),
    "wrong-shape-200": (200, "application/json", b'{"items": []}'),
    "text-500": (500, "text/plain", b"internal error: upstream\nprovider crashed\n"),
    "empty-500": (500, "text/plain", b""),
    "html-502": (502, "text/html", NGINX_502),
    "json-503": (503, "application/json", b'{"message": "try later"}'),
    "redirect-302": (302, "text/plain", b""),
}


class BadGateway:
    """Answers every request as ``MODES[mode]`` says; records (method, path, Authorization) and User-Agent."""

    def __init__(self, elsewhere: str) -> None:
        self.elsewhere = elsewhere
        self.mode = "html-200"
        self.requests: list[tuple[str, str, str | None]] = []
        self.agents: list[str | None] = []
        self.http = FakeHTTP(self._answer)
        self.url = self.http.url

    def _answer(self, req: Req) -> Answer:
        self.requests.append((req.method, req.path, req.headers.get("authorization")))
        self.agents.append(req.headers.get("user-agent"))
        status, ctype, body = MODES[self.mode]
        headers = {"Content-Type": ctype}
        if status == 302:
            headers["Location"] = self.elsewhere + req.path
        return status, headers, body


@pytest.fixture(scope="module")
def elsewhere() -> Iterator[FakeHTTP]:
    """Another origin that records whatever reaches it (the target of the redirect)."""
    with FakeHTTP(lambda req: json_answer(["stolen"])) as f:
        yield f


@pytest.fixture(scope="module")
def fake(elsewhere: FakeHTTP) -> Iterator[BadGateway]:
    gw = BadGateway(elsewhere.url)
    yield gw
    gw.http.close()


def _check_one_line(r: Any, gateway: str, status: int | None) -> str:
    assert r.returncode not in (EXIT_OK, EXIT_AUTH), r
    assert r.stdout == ""
    assert "Traceback" not in r.stderr and TOKEN not in r.stderr
    assert r.stderr.endswith("\n") and r.stderr.count("\n") == 1, r.stderr
    line = str(r.stderr[:-1])
    assert gateway in line, line
    if status is not None:
        assert str(status) in line, line
    return line


@pytest.mark.parametrize("mode", sorted(MODES))
@pytest.mark.parametrize("command", [["namespaces"], ["list", "-n", "staging", "-v"]])
def test_gateway_commands_fail_in_one_line(
    fake: BadGateway, elsewhere: FakeHTTP, mode: str, command: list[str]
) -> None:
    fake.mode = mode
    fake.requests.clear()
    r = run_cli(*command, "-g", fake.url, env={"FAAS_PRO_TOKEN": TOKEN})
    _check_one_line(r, fake.url, MODES[mode][0])
    assert [(m, auth) for m, _, auth in fake.requests] == [("GET", f"Bearer {TOKEN}")]
    assert fake.agents[-1] == f"faas-pro/{__version__}"
    assert elsewhere.requests == []  # a redirect is not followed: the token stays with its gateway


def test_the_lines_say_what_was_wrong(fake: BadGateway) -> None:
    lines = {}
    for mode in ("html-200", "empty-200", "invalid-json-200", "text-500", "html-502", "redirect-302"):
        fake.mode = mode
        r = run_cli("list", "-g", fake.url, env={"FAAS_PRO_TOKEN": TOKEN})
        lines[mode] = _check_one_line(r, fake.url, MODES[mode][0])
    assert "HTML" in lines["html-200"] and "empty" in lines["empty-200"] and "invalid JSON" in lines["invalid-json-200"]
    assert lines["text-500"].endswith("internal error: upstream provider crashed")  # the body, flattened
    assert "<" not in lines["html-502"]  # an HTML error page is not pasted into the line


@pytest.mark.parametrize("mode", ["html-502", "empty-500", "invalid-json-200", "html-200", "redirect-302"])
def test_auth_exchange_against_a_broken_gateway(idp: IdP, fake: BadGateway, elsewhere: FakeHTTP, mode: str) -> None:
    fake.mode = mode
    fake.requests.clear()
    r = run_cli(*auth_args(idp.issuer, fake.url))
    assert "Traceback" not in r.stderr
    last = r.stderr.splitlines()[-1]
    status = MODES[mode][0]
    assert r.returncode not in (EXIT_OK, EXIT_AUTH) and r.stdout == "", r
    assert fake.url in last and (status == 200 or str(status) in last), last
    assert [(m, p) for m, p, _ in fake.requests] == [("POST", "/oauth/token")]
    assert elsewhere.requests == []  # the IdP token is never sent to another origin
    st = run_cli("status", "-g", fake.url)
    assert st.returncode == EXIT_AUTH  # nothing saved


def test_unreachable_gateway() -> None:
    gw = f"http://127.0.0.1:{free_port()}"
    r = run_cli("list", "-g", gw, env={"FAAS_PRO_TOKEN": TOKEN})
    assert (r.returncode, r.stdout, r.stderr) == (EXIT_UNREACHABLE, "", f"Cannot connect to OpenFaaS on URL: {gw}\n")
