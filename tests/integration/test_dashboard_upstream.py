"""The dashboard in upstream mode: real headless Chromium, the real test IdP, a running
``faas-pro serve --upstream`` in front of the recording OpenFaaS stand-in (tests/support/upstream.py).

alice (staging only) logs in and sees ``staging`` alone; she invokes a protected function (the
dashboard exchanges her session's token for a function token server-side) and sees its answer,
and the upstream received exactly that call; she scales one (the upstream received the scale);
the logs page shows lines and follows new ones. bob (no Role) sees "Not authorised"; carol (admin)
deletes a function after confirming (the upstream received the delete). A tampered or forged
cookie and cross-site POSTs are refused; the cookie's flags, an XSS label rendered as text and
logout at the IdP are checked. Screenshots go to a pytest tmp dir (``DASHBOARD_SHOTS=DIR`` copies
them, e.g. to docs/img).
"""

from __future__ import annotations

import json
import re
import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.chromium import WebDriver, chromium_session, free_port
from tests.support.dashboard import COOKIE, DashboardBrowser, keep_shots
from tests.support.gateway import Server, issuer_yaml, keygen, policy_yaml, role_yaml, running, write_iam
from tests.support.idp import IdP, start_idp
from tests.support.issuer import bearer, exchange, user_token
from tests.support.upstream import Upstream

pytestmark = [pytest.mark.chromium, pytest.mark.slow]

XSS = "<script>alert(1)</script>"
CREDS = "admin:upstream-pass-sentinel"
ALICE = ["Namespace:List", "Function:List", "Function:Get", "Function:Invoke", "Function:Logs", "Function:Scale"]


class Env(DashboardBrowser):
    def __init__(self, gw: Server, idp: IdP, up: Upstream, shots: Path, d: WebDriver) -> None:
        self.gw, self.idp, self.up, self.shots, self.d = gw, idp, up, shots, d
        self.url = gw.url

    def fill(self, css: str, text: str) -> None:
        self.d.cmd("POST", f"/element/{self.d.find(css)}/clear", {})
        self.d.type(css, text)

    def calls(self, method: str, prefix: str) -> list[dict[str, Any]]:
        return [c for c in self.up.calls() if c["method"] == method and c["path"].startswith(prefix)]


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    root = tmp_path_factory.mktemp("dash-up")
    shots = tmp_path_factory.mktemp("dashboard-upstream-shots")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    (root / "up-auth").write_text(CREDS + "\n")
    with (
        Upstream(CREDS) as up,
        start_idp(IDP_DASHBOARD_REDIRECT_URIS=f"{url}/ui/auth/callback", IDP_SKIP_CONSENT="1") as idp,
    ):
        objects = {
            "issuer.yaml": issuer_yaml("test-idp", idp.issuer, ["faas-gateway", "faas-dashboard"], "30m"),
            "policies.yaml": policy_yaml("admin", ["*"], ["*"]) + policy_yaml("staging-dev", ALICE, ["staging:*"]),
            "roles.yaml": role_yaml("alice", ["staging-dev"], principal=["user-alice"])
            + role_yaml("carol", ["admin"], principal=["user-carol"]),
        }
        iam = write_iam(root, objects)
        (root / "dash-secret").write_text("faas-dashboard-secret\n")
        args = [
            "--iam", str(iam), "--issuer-url", url, "--issuer-key", str(keygen(root / "gw.pem")),
            "--state", str(root / "state"), "--listen", f"127.0.0.1:{port}",
            "--upstream", up.url, "--upstream-auth-file", str(root / "up-auth"),
            "--dashboard-client-id", "faas-dashboard",
            "--dashboard-client-secret-file", str(root / "dash-secret"),
            "--dashboard-session-key-file", str(root / "session.key"),
        ]  # fmt: skip
        with running(args) as gw:
            admin = exchange(gw.url, user_token(idp, "carol")).json()["access_token"]
            for ns in ("staging", "prod"):
                r = httpx.post(gw.url + "/system/namespace/", headers=bearer(admin), json={"name": ns})
                assert r.status_code == 201, r.text
            for ns, name, labels, env_vars in (
                ("staging", "hello", {"team": XSS}, {"jwt_auth": "true", "GREETING": "top-secret-value"}),
                ("staging", "figlet", {"team": "fun"}, {}),
                ("prod", "billing", {}, {}),
            ):
                body = {
                    "service": name,
                    "image": f"ghcr.io/example/{name}:1.0",
                    "namespace": ns,
                    "labels": labels,
                    "annotations": {"note": XSS},
                    "envVars": env_vars,
                }
                r = httpx.post(gw.url + "/system/functions", headers=bearer(admin), json=body)
                assert r.status_code == 202, r.text
            with chromium_session() as d:
                d.cmd("POST", "/window/rect", {"width": 1200, "height": 820})
                yield Env(gw, idp, up, shots, d)
            assert CREDS.split(":")[1] not in gw.stderr() and "Traceback" not in gw.stderr()
        keep_shots(shots)


def test_alice_sees_staging_only_invokes_scales_and_reads_logs(env: Env) -> None:
    d = env.d
    env.reset()
    d.go(env.url + "/ui/")
    d.find("#login")
    env.shot("login")
    ms = env.login_times("alice", 5)
    print(f"\nlogin → namespaces (upstream mode): median {statistics.median(ms):.0f} ms of {ms}")
    assert env.all("#namespaces a.ns") == ["staging"]  # the upstream has openfaas-fn, prod and staging
    env.shot("namespaces")

    c = env.session_cookie()
    assert c["httpOnly"] is True and c["sameSite"] == "Lax" and c["path"] == "/"
    assert c["secure"] is False  # http on loopback: no Secure, so no __Host- prefix either
    assert abs(c["expiry"] - (time.time() + 1800)) < 120  # expires with the 30 min OpenFaaS token

    d.click("#namespaces a.ns")
    d.find("#functions")
    assert sorted(env.all("#functions a.fn")) == ["figlet", "hello"]
    env.shot("functions")

    # a protected function (jwt_auth): the dashboard gets a function token server-side
    d.go(env.url + "/ui/ns/staging/fn/hello")
    assert XSS in d.text("#fn-labels") and XSS in d.text("#fn-annotations")  # shown as text ...
    assert env.js("return document.querySelectorAll('script:not([src])').length") == 0  # ... never run
    assert d.text("#fn-env") == "GREETING jwt_auth" and "top-secret-value" not in env.js(
        "return document.body.innerHTML"
    )
    assert env.all("#invoke-button") and env.all("#logs-link") and env.all("#scale-button")
    assert not env.all("#delete-link")
    env.shot("function")
    env.up.clear()
    env.fill("#content-type", "application/json")
    d.type("#invoke-body", '{"greet": "<b>world</b>"}')
    d.click("#invoke-button")
    assert d.text("#result-status") == "200"
    assert d.text("#result-body") == '{"greet": "<b>world</b>"}'  # the echo, as text
    headers = d.text("#result-headers")
    assert "x-echo-path: /function/hello.staging" in headers and "x-echo-method: POST" in headers
    assert d.text("#result-auth").startswith("Called with a function token for staging:hello")
    env.shot("invoke")
    sent = env.calls("POST", "/function/")
    assert len(sent) == 1 and sent[0]["path"] == "/function/hello.staging"
    assert sent[0]["body"] == b'{"greet": "<b>world</b>"}'
    assert sent[0]["header"]["content-type"] == "application/json" and "authorization" not in sent[0]["header"]
    assert "POST /function/hello.staging 200 fed:user-alice" in env.gw.stderr()

    # an unprotected one answers too
    d.go(env.url + "/ui/ns/staging/fn/figlet")
    d.type("#invoke-body", "hi there")
    d.click("#invoke-button")
    assert d.text("#result-status") == "200" and d.text("#result-body") == "hi there"

    # scale: the upstream receives the scale request
    env.up.clear()
    env.fill("#replicas", "3")
    d.click("#scale-button")
    assert "3 replicas" in d.text("#notice") and d.text("#fn-replicas").startswith("3")
    scaled = env.calls("POST", "/system/scale-function/")
    assert len(scaled) == 1 and scaled[0]["path"] == "/system/scale-function/figlet"
    assert json.loads(scaled[0]["body"]) == {"serviceName": "figlet", "namespace": "staging", "replicas": 3}
    assert scaled[0]["header"]["authorization"].startswith("Basic ")
    assert "POST /system/scale-function/figlet 202 fed:user-alice" in env.gw.stderr()

    # logs: the lines, then new ones as they come
    d.go(env.url + "/ui/ns/staging/fn/figlet")
    d.click("#logs-link")
    d.find("#logs")
    assert "line 0" in d.text("#logs") and "pod-1" in d.text("#logs")
    assert env.js("return document.querySelectorAll('script:not([src])').length") == 0
    deadline = time.monotonic() + 20
    while "line 8" not in d.text("#logs") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert "line 8" in d.text("#logs")  # followed: the stand-in sends a line every 50 ms
    assert d.text("#logs").count("line 1\n") == 1  # the lines already shown are not repeated
    env.shot("logs")
    d.go(env.url + "/ui/me")  # leaving the page ends the follow stream
    asked = env.calls("GET", "/system/logs")
    assert asked and all("name=figlet" in a["query"] and "namespace=staging" in a["query"] for a in asked)

    # the server refuses what the page does not offer (same API, same authorisation)
    cookie = {COOKIE: c["value"]}
    csrf = env.js("return document.querySelector('input[name=csrf]').value")
    env.up.clear()
    with httpx.Client(base_url=env.url, cookies=cookie, headers={"Origin": env.url}) as h:
        r = h.post("/ui/ns/prod/fn/billing/delete", data={"csrf": csrf, "confirm": "billing"})
        assert r.status_code == 403 and "Not allowed" in r.text
        r = h.post("/ui/ns/prod/fn/billing/invoke", data={"csrf": csrf, "body": "x"})
        assert r.status_code == 403 and "Not allowed" in r.text  # not protected, yet not hers to call here
    assert env.calls("DELETE", "/") == [] and env.calls("POST", "/function/") == []
    assert "DELETE /system/functions 403 fed:user-alice" in env.gw.stderr()


def test_forged_tampered_cookie_and_cross_site_posts_are_refused(env: Env) -> None:
    env.reset()
    env.login("alice")
    c = env.session_cookie()["value"]
    csrf = env.js("return document.querySelector('input[name=csrf]').value")
    tampered = c[:20] + ("A" if c[20] != "A" else "B") + c[21:]
    for value in (tampered, "Zm9yZ2Vk" * 10, c[:-4]):
        r = httpx.get(env.url + "/ui/", cookies={COOKIE: value})
        assert r.status_code == 303 and r.headers["location"].startswith("/ui/login"), value
    ok = httpx.get(env.url + "/ui/", cookies={COOKIE: c})
    assert ok.status_code == 200 and "staging" in ok.text
    csp = ok.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "default-src 'none'" in csp

    form = {"csrf": csrf, "body": "x", "content_type": "text/plain"}
    path = "/ui/ns/staging/fn/figlet/invoke"
    env.up.clear()
    with httpx.Client(base_url=env.url, cookies={COOKIE: c}) as h:
        assert h.post(path, data=form, headers={"Origin": "http://evil.example"}).status_code == 403
        assert h.post(path, data=form).status_code == 403  # no Origin at all
        r = h.post(path, data={**form, "csrf": "wrong"}, headers={"Origin": env.url})
        assert r.status_code == 403 and "CSRF" in r.text
        scale = {"csrf": csrf, "replicas": "9"}
        assert (
            h.post("/ui/ns/staging/fn/figlet/scale", data=scale, headers={"Origin": "http://evil.example"}).status_code
            == 403
        )
        assert env.calls("POST", "/") == []  # none of them reached the upstream
        r = h.post(path, data=form, headers={"Origin": env.url})
        assert r.status_code == 200 and 'id="result-status">200<' in r.text
    weights = {}
    pages = [
        "/ui/login",
        "/ui/",
        "/ui/ns/staging",
        "/ui/ns/staging/fn/hello",
        "/ui/ns/staging/fn/hello/logs",
        "/ui/me",
    ]
    for page in pages:
        r = httpx.get(env.url + page, cookies={COOKIE: c} if page != "/ui/login" else {})
        assert r.status_code == 200, (page, r.status_code)
        weights[page] = len(r.content)
    r = httpx.post(env.url + path, data=form, cookies={COOKIE: c}, headers={"Origin": env.url})
    weights["POST /ui/ns/staging/fn/figlet/invoke"] = len(r.content)
    for asset in ("/ui/static/dashboard.css", "/ui/static/logs.js"):
        r = httpx.get(env.url + asset)
        assert r.status_code == 200
        weights[asset] = len(r.content)
    print(f"\npage weights (bytes, upstream mode): {weights}")
    assert all(w < 20_000 for w in weights.values())
    # the session ended in the middle of a form: nothing done, the input is kept
    env.up.clear()
    r = httpx.post(env.url + path, data={**form, "body": "keep me"}, headers={"Origin": env.url})
    assert r.status_code == 401 and "keep me" in r.text and 'id="login-again"' in r.text
    assert env.calls("POST", "/") == []
    # a callback that belongs to no login attempt
    r = httpx.get(env.url + "/ui/auth/callback", params={"state": "x", "code": "y"})
    assert r.status_code == 400 and 'id="retry"' in r.text
    # the follow stream needs a session too
    r = httpx.get(env.url + "/ui/ns/staging/fn/figlet/logs/stream")
    assert r.status_code == 401 and env.calls("GET", "/system/logs") == []
    # ... and the API's decision: alice may not read prod's logs
    r = httpx.get(env.url + "/ui/ns/prod/fn/billing/logs/stream", cookies={COOKIE: c})
    assert r.status_code == 403 and env.calls("GET", "/system/logs") == []


def test_bob_is_not_authorised(env: Env) -> None:
    env.reset()
    env.login("bob", expect="#not-authorised")
    assert env.d.text("#not-authorised") == "Not authorised: no policies found for subject user-bob"
    assert not [c for c in env.d.cmd("GET", "/cookie") if c["name"] == COOKIE]
    env.shot("not-authorised")


def test_admin_deletes_after_confirming_and_logout_ends_the_idp_session(env: Env) -> None:
    d = env.d
    env.reset()
    env.login("carol")
    assert env.all("#namespaces a.ns") == ["openfaas-fn", "prod", "staging"]
    d.go(env.url + "/ui/ns/prod/fn/billing")
    assert env.all("#scale-button") and env.all("#delete-link")
    env.up.clear()
    d.click("#delete-link")
    d.find("#delete-button")
    env.shot("delete")
    d.click("#delete-button")  # without typing the name: refused, nothing deleted
    assert d.text("#error-title") == "Not deleted"
    assert env.calls("DELETE", "/") == []
    d.go(env.url + "/ui/ns/prod/fn/billing/delete")
    d.type("#confirm", "billing")
    d.click("#delete-button")
    d.find("#functions, #no-functions")
    assert re.search(r"/ui/ns/prod\?deleted=billing$", d.url())
    assert env.all("#functions a.fn") == []
    deleted = env.calls("DELETE", "/system/functions")
    assert len(deleted) == 1 and json.loads(deleted[0]["body"]) == {"functionName": "billing", "namespace": "prod"}
    assert "DELETE /system/functions 202 fed:user-carol" in env.gw.stderr()

    d.click("#logout")
    d.click("button[name=logout][value=yes]")  # the IdP's end-session confirmation
    d.find("#login")
    assert not [c for c in d.cmd("GET", "/cookie") if c["name"] == COOKIE]
    d.click("#login")
    d.find("#username")  # the IdP asks again: its session ended too
