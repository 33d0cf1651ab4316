"""The dashboard in registry mode (no function runtime), in real headless Chromium against the real
test IdP and a running ``faas-pro serve``.

alice (staging only) logs in and sees ``staging`` alone, her invocation answers a readable status
(registry mode runs no function), "What can I do?" explains her access, the server refuses what
the page does not offer, and the pages fit a phone; login errors and an upstream that is down are
readable pages. Cookies, CSRF, deletion and logout are checked in upstream mode
(tests/integration/test_dashboard_upstream.py). Screenshots go to a pytest tmp dir
(``DASHBOARD_SHOTS=DIR`` copies them).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.chromium import chromium_session, free_port
from tests.support.dashboard import COOKIE, DashboardBrowser, keep_shots
from tests.support.gateway import issuer_yaml, keygen, policy_yaml, role_yaml, running, write_iam
from tests.support.idp import start_idp
from tests.support.issuer import bearer, exchange, user_token

pytestmark = [pytest.mark.chromium, pytest.mark.slow]

XSS = "<script>alert(1)</script>"


class Env(DashboardBrowser):
    """The registry-mode dashboard session."""


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    root = tmp_path_factory.mktemp("dash")
    shots = tmp_path_factory.mktemp("dashboard-shots")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with start_idp(IDP_DASHBOARD_REDIRECT_URIS=f"{url}/ui/auth/callback", IDP_SKIP_CONSENT="1") as idp:
        objects = {
            "issuer.yaml": issuer_yaml("test-idp", idp.issuer, ["faas-gateway", "faas-dashboard"], "30m"),
            "policies.yaml": policy_yaml("admin", ["*"], ["*"])
            + policy_yaml(
                "staging-dev",
                ["Namespace:List", "Function:List", "Function:Get", "Function:Invoke", "Function:Logs"],
                ["staging:*"],
            ),
            "roles.yaml": role_yaml("alice", ["staging-dev"], principal=["user-alice"])
            + role_yaml("carol", ["admin"], principal=["user-carol"]),
        }
        iam = write_iam(root, objects)
        (root / "dash-secret").write_text("faas-dashboard-secret\n")
        args = [
            "--iam", str(iam), "--issuer-url", url, "--issuer-key", str(keygen(root / "gw.pem")),
            "--state", str(root / "state"), "--listen", f"127.0.0.1:{port}",
            "--namespace", "staging", "--namespace", "prod",
            "--dashboard-client-id", "faas-dashboard",
            "--dashboard-client-secret-file", str(root / "dash-secret"),
            "--dashboard-session-key-file", str(root / "session.key"),
        ]  # fmt: skip
        with running(args) as gw:
            admin = exchange(gw.url, user_token(idp, "carol")).json()["access_token"]
            for ns, name, labels in (
                ("staging", "hello", {"team": XSS}),
                ("staging", "figlet", {"team": "fun"}),
                ("prod", "billing", {}),
            ):
                r = httpx.post(
                    gw.url + "/system/functions",
                    headers=bearer(admin),
                    json={
                        "service": name,
                        "image": f"ghcr.io/example/{name}:1.0",
                        "namespace": ns,
                        "labels": labels,
                        "annotations": {"note": XSS},
                        "envVars": {"GREETING": "top-secret-value"},
                    },
                )
                assert r.status_code == 202, r.text
            with chromium_session() as d:
                d.cmd("POST", "/window/rect", {"width": 1200, "height": 820})
                yield Env(gw, idp, shots, d)
        keep_shots(shots)


def test_alice_sees_staging_only_and_what_she_may_do(env: Env) -> None:
    d = env.d
    env.reset()
    d.go(env.url + "/ui/")
    d.find("#login")
    env.shot("login")
    ms = env.login_times("alice", 3)
    print(f"\nlogin → namespaces: median {statistics.median(ms):.0f} ms of {ms}")
    assert env.all("#namespaces a.ns") == ["staging"]
    env.shot("namespaces")

    c = env.session_cookie()
    assert c["httpOnly"] is True and c["sameSite"] == "Lax" and c["path"] == "/"
    assert c["secure"] is False  # http on loopback: no Secure, so no __Host- prefix either
    assert abs(c["expiry"] - (time.time() + 1800)) < 120  # expires with the 30 min OpenFaaS token
    assert len(c["value"]) < 4000  # one cookie is enough for the whole session

    d.click("#namespaces a.ns")
    d.find("#functions")
    assert sorted(env.all("#functions a.fn")) == ["figlet", "hello"]
    assert env.js("return document.querySelector('svg.chart') !== null") is True
    env.shot("functions")

    d.go(env.url + "/ui/ns/staging/fn/hello")
    labels = d.text("#fn-labels")
    assert XSS in labels and XSS in d.text("#fn-annotations")  # shown as text ...
    assert env.js("return document.querySelectorAll('script').length") == 0  # ... never run as a script
    assert d.text("#fn-env") == "GREETING" and "top-secret-value" not in env.js("return document.body.innerHTML")
    # buttons only for what alice's policy allows
    assert env.all("#invoke-button") and env.all("#logs-link")
    assert not env.all("#delete-link") and not env.all("#scale-button")
    d.type("#invoke-body", "hi there")
    d.click("#invoke-button")
    status = d.text("#result-status")
    assert status.isdigit() and int(status) >= 400  # registry mode has no runtime: a readable status
    assert d.text("#fn-name") == "hello" and "hi there" in env.js("return document.getElementById('invoke-body').value")
    env.shot("function")

    d.go(env.url + "/ui/me")
    assert d.text("#me-sub") == "fed:user-alice"
    assert d.text("#me-iss") == env.idp.issuer
    assert "staging-dev" in d.text("#me-statements") and "staging" in d.text("#me-access")
    env.shot("me")

    # the server refuses what the page does not offer (same API, same authorisation)
    cookie = {COOKIE: c["value"]}
    csrf = env.js("return document.querySelector('input[name=csrf]').value")
    with httpx.Client(base_url=env.url, cookies=cookie, headers={"Origin": env.url}) as h:
        r = h.post("/ui/ns/prod/fn/billing/delete", data={"csrf": csrf, "confirm": "billing"})
        assert r.status_code == 403 and "Not allowed" in r.text
    assert "DELETE /system/functions 403 fed:user-alice" in env.gw.stderr()

    d.cmd("POST", "/window/rect", {"width": 390, "height": 844})
    d.go(env.url + "/ui/ns/staging")
    d.find("#functions")
    env.shot("phone-functions")
    d.cmd("POST", "/window/rect", {"width": 1200, "height": 820})


def test_login_errors_are_readable_pages(env: Env) -> None:
    d = env.d
    env.reset()
    r = httpx.get(env.url + "/ui")
    assert r.status_code == 308 and r.headers["location"] == "/ui/"
    # the person cancels at the provider: its error comes back as a page with a way to retry
    d.go(env.url + "/ui/")
    d.click("#login")
    d.click("#cancel")
    assert d.text("#error-title") == "The identity provider refused"
    assert "access_denied" in d.text("#error-message") and env.all("#retry")
    env.shot("idp-error")
    # a callback whose state is not the one of this browser's login attempt
    with httpx.Client(base_url=env.url) as h:
        start = h.get("/ui/auth/login")
        assert start.status_code == 303 and start.headers["location"].startswith(env.idp.issuer)
        assert "request_uri=" in start.headers["location"]  # the test IdP offers PAR: the request was pushed
        bad = h.get("/ui/auth/callback", params={"state": "not-this-one", "code": "x", "iss": env.idp.issuer})
        assert bad.status_code == 400 and "state does not match" in bad.text


def test_an_upstream_that_is_down_is_a_readable_page(env: Env, tmp_path: Path) -> None:
    """A second gateway in upstream mode whose upstream is not listening. The test owns the session
    key file, so it can seal a session for a real OpenFaaS token without a browser login."""
    from faas_pro.server.dashboard import session_key
    from faas_pro.server.dashboard.session import Sealer

    (tmp_path / "up-auth").write_text("admin:password\n")
    (tmp_path / "dash-secret").write_text("faas-dashboard-secret\n")
    key_file = tmp_path / "session.key"
    args = [
        "--iam", str(write_iam(tmp_path, {
            "issuer.yaml": issuer_yaml("test-idp", env.idp.issuer, ["faas-gateway"], "30m"),
            "p.yaml": policy_yaml("admin", ["*"], ["*"]),
            "r.yaml": role_yaml("carol", ["admin"], principal=["user-carol"]),
        })),
        "--issuer-url", "http://127.0.0.1:1", "--issuer-key", str(keygen(tmp_path / "gw.pem")),
        "--listen", "127.0.0.1:0", "--state", str(tmp_path / "state"),
        "--upstream", f"http://127.0.0.1:{free_port()}", "--upstream-auth-file", str(tmp_path / "up-auth"),
        "--dashboard-client-id", "faas-dashboard", "--dashboard-session-key-file", str(key_file),
    ]  # fmt: skip
    with running(args) as gw:
        assert "does not list 'faas-dashboard' in aud" in gw.stderr()  # the operator is told at start
        token = exchange(gw.url, user_token(env.idp, "carol")).json()["access_token"]
        sealed = Sealer(session_key(key_file, print)).seal(COOKIE, {"t": token, "csrf": "c", "exp": time.time() + 600})
        r = httpx.get(gw.url + "/ui/", cookies={COOKIE: sealed})
        assert r.status_code == 502 and "Upstream error" in r.text and "Try again later" in r.text
        assert "Content-Security-Policy" in r.headers
