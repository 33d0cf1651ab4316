"""`faas-pro auth` end to end for every way in that needs no browser on this machine: device code,
client credentials, a saved refresh token (alone and in two concurrent runs), a token the caller
already has (--token-file/--token/--ci), with the exchange at a real `faas-pro serve`, the OpenFaaS
token verified against its keys, and --faas-cli-config.

The CLI runs as a subprocess with stdout/stderr on pipes, so nothing of the terminal-only progress
line may appear (asserted in ``assert_plain``).
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from faas_pro.errors import EXIT_AUTH, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE
from faas_pro.storage.lock import gateway_lock
from tests.support.authcli import (
    HTTP_BROWSER,
    auth_argv,
    data_dir,
    saved_settings,
    saved_tokens,
    verify_jwt,
    wait_for_file,
)
from tests.support.fakehttp import Answer, FakeHTTP, Req, Route, json_answer
from tests.support.gateway import Server, issuer_yaml, policy_yaml, role_yaml, start_gateway
from tests.support.idp import IdP, drive_login
from tests.support.inproc import run_cli, start_cli, stop_cli
from tests.support.issuer import FakeIssuer

GW_ISSUER = "http://gateway.test"


@pytest.fixture(scope="module")
def gw(idp_skip_consent: IdP, gateway_key: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A gateway trusting the refresh-issuing IdP: alice and the faas-svc client get staging-rw."""
    objects = (
        issuer_yaml("idp", idp_skip_consent.issuer, ["faas-gateway"], "30m")
        + policy_yaml("staging-rw", ["Function:*", "Namespace:List"], ["staging:*"])
        + role_yaml("people", ["staging-rw"], principal=["user-alice", "faas-svc"])
    )
    with start_gateway(tmp_path_factory.mktemp("gw"), objects, issuer_url=GW_ISSUER, key=gateway_key) as s:
        yield s


def gateway_claims(gw: Server, token: str) -> dict[str, Any]:
    jwks = httpx.get(gw.url + "/.well-known/jwks.json", timeout=10).json()
    return verify_jwt(token, jwks, issuer=GW_ISSUER, audience=GW_ISSUER, alg="ES256")


def assert_plain(stderr: str) -> None:
    """On a pipe: no terminal control sequences and no progress line, no traceback."""
    assert "\x1b[" not in stderr and " left" not in stderr and "Traceback" not in stderr, stderr


def first_login(idp: IdP, gw: Server, *extra: str) -> subprocess.CompletedProcess[str]:
    r = run_cli(*auth_argv(idp.issuer, "-g", gw.url, "--print-token", *extra))
    assert r.returncode == EXIT_OK, r.stderr
    assert ("idp_refresh_token" in saved_tokens()[gw.url]) is ("--no-refresh" not in extra)
    return r


# --------------------------------------------------------------------------- refresh


def test_refresh_renews_without_a_browser_and_updates_faas_cli_config(
    idp_skip_consent: IdP, gw: Server, tmp_path: Path
) -> None:
    idp = idp_skip_consent
    cfg_dir = tmp_path / "openfaas"
    cfg_dir.mkdir()
    other = {"gateway": "http://other.example:8080", "auth": "basic", "token": "b3RoZXI6cGFzcw=="}
    (cfg_dir / "config.yml").write_text(yaml.safe_dump({"auths": [other]}))
    env = {"OPENFAAS_CONFIG": str(cfg_dir)}

    first = run_cli(*auth_argv(idp.issuer, "-g", gw.url, "--print-token", "--faas-cli-config"), env=env)
    assert first.returncode == EXIT_OK, first.stderr
    assert "offline_access" in first.stderr  # asked for by default: discovery lists it
    saved = saved_tokens()[gw.url]
    rt1 = saved["idp_refresh_token"]
    claims = gateway_claims(gw, first.stdout.strip())
    assert claims["sub"] == "fed:user-alice" and claims["policy"] == ["staging-rw"]
    exp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(claims["exp"]))
    assert f"OpenFaaS token for fed:user-alice: policies staging-rw; expires {exp} (in 29m" in first.stderr
    assert saved_settings()["gateways"][gw.url]["faas_cli_config"] is True

    # again with only -g: no browser is available (none configured, no display), none is needed
    second = run_cli("auth", "-g", gw.url, "--print-token", "--timeout", "5s", env=env)
    assert second.returncode == EXIT_OK, second.stderr
    assert "Renewed the login with the saved refresh token (no browser needed)." in second.stderr
    assert "Open this URL" not in second.stderr and "Not opening a browser" not in second.stderr
    assert_plain(second.stderr)
    token2 = second.stdout.strip()
    assert token2 != first.stdout.strip() and gateway_claims(gw, token2)["sub"] == "fed:user-alice"
    saved = saved_tokens()[gw.url]
    assert saved["openfaas_token"] == token2 and saved["idp_refresh_token"] != rt1  # rotated and kept

    path = cfg_dir / "config.yml"
    doc = yaml.safe_load(path.read_text())
    assert doc["auths"] == [other, {"gateway": gw.url, "auth": "oauth2", "token": token2}]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert f"into faas-cli's config {path}" in second.stderr
    assert [p.name for p in cfg_dir.iterdir()] == ["config.yml"]  # no temp file left


def test_two_concurrent_runs_never_spend_one_refresh_token_twice(idp_skip_consent: IdP, gw: Server) -> None:
    first_login(idp_skip_consent, gw)
    argv = ("-V", "auth", "-g", gw.url, "--print-token", "--timeout", "30s")
    procs: list[subprocess.Popen[str]] = []
    lines: dict[int, list[str]] = {}
    readers: list[threading.Thread] = []
    try:
        with gateway_lock(data_dir(), gw.url):  # both start while another run holds the lock
            for i in range(2):
                p = start_cli(*argv)
                procs.append(p)
                lines[i] = []
                assert p.stderr is not None
                readers.append(threading.Thread(target=lambda f, out: out.extend(f), args=(p.stderr, lines[i])))
                readers[-1].start()
            end = time.monotonic() + 30
            while not all(any("waiting for another faas-pro run" in ln for ln in lines[i]) for i in range(2)):
                assert time.monotonic() < end and all(p.poll() is None for p in procs), lines
                time.sleep(0.02)
        outs = [p.stdout.read() if p.stdout else "" for p in procs]  # not communicate(): it would read stderr too
        for p in procs:
            p.wait(60)
        for t in readers:
            t.join(10)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
            p.wait()
        for t in readers:
            t.join(10)
        for p in procs:
            for f in (p.stdout, p.stderr):
                if f is not None:
                    f.close()
    errs = ["".join(lines[i]) for i in range(2)]
    assert [p.returncode for p in procs] == [EXIT_OK, EXIT_OK], errs
    renewed = [e for e in errs if "Renewed the login with the saved refresh token" in e]
    reused = [e for e in errs if "Another faas-pro run renewed this login while this one waited" in e]
    assert len(renewed) == 1 and len(reused) == 1, errs
    assert outs[0] == outs[1]  # the second one printed the token the first one saved
    saved = saved_tokens()[gw.url]
    assert saved["openfaas_token"] == outs[0].strip()
    # the saved refresh token is the live one: the IdP accepts it (a spent one is invalid_grant)
    with httpx.Client(timeout=10) as c:
        r = c.post(
            idp_skip_consent.discovery["token_endpoint"],
            data={"grant_type": "refresh_token", "refresh_token": saved["idp_refresh_token"], "client_id": "faas-cli"},
        )
    assert r.status_code == 200, r.text


def spend_refresh_token(gw: Server) -> bytes:
    """Replace the saved refresh token by one the IdP refuses (invalid_grant); the file's bytes after."""
    tokens_file = data_dir() / "tokens.json"
    doc = json.loads(tokens_file.read_text())
    doc[gw.url]["idp_refresh_token"] = "spent-or-revoked-SENTINEL"
    tokens_file.write_text(json.dumps(doc))
    return tokens_file.read_bytes()


REFUSED = "the identity provider no longer accepts the saved refresh token (invalid_grant"


def test_refused_refresh_token_without_a_terminal_logs_in_again_with_the_browser(
    idp_skip_consent: IdP, gw: Server
) -> None:
    first = first_login(idp_skip_consent, gw)
    spend_refresh_token(gw)

    # stdin is not a terminal (a pipe), CI unset, BROWSER set: DESIGN §6 allows the browser login
    r = run_cli("auth", "-g", gw.url, "--print-token", "--timeout", "60s", env={"BROWSER": HTTP_BROWSER})
    assert r.returncode == EXIT_OK, r.stderr
    lines = r.stderr.splitlines()
    assert lines[0].startswith(REFUSED) and lines[0].endswith("; logging in again"), lines
    assert "Opened a browser to log in." in r.stderr and "cannot log in again" not in r.stderr
    assert_plain(r.stderr)
    token = r.stdout.strip()
    assert token != first.stdout.strip() and gateway_claims(gw, token)["sub"] == "fed:user-alice"
    saved = saved_tokens()[gw.url]
    assert saved["openfaas_token"] == token
    assert saved["idp_refresh_token"] != "spent-or-revoked-SENTINEL"  # the new login's


def test_refused_refresh_token_with_ci_set_exits_3_in_one_line_and_keeps_the_login(
    idp_skip_consent: IdP, gw: Server
) -> None:
    first_login(idp_skip_consent, gw)
    before = spend_refresh_token(gw)

    # even with a browser command: CI means nothing interactive
    r = run_cli("auth", "-g", gw.url, "--timeout", "5s", env={"CI": "true", "BROWSER": HTTP_BROWSER})
    assert r.returncode == EXIT_AUTH, r.stderr
    assert r.stderr.splitlines() == [r.stderr.strip()]  # one line, no "logging in again" before it
    line = r.stderr.strip()
    assert line.startswith(REFUSED), line
    assert line.endswith(
        f"; cannot log in again here: CI is set; run faas-pro auth -g {gw.url} outside CI"
        " (in CI, use --ci or --token-file)"
    ), line
    assert "SENTINEL" not in r.stderr and (data_dir() / "tokens.json").read_bytes() == before


def test_refused_refresh_token_without_a_terminal_or_a_browser_exits_3_and_says_why(
    idp_skip_consent: IdP, gw: Server
) -> None:
    first_login(idp_skip_consent, gw)
    before = spend_refresh_token(gw)

    r = run_cli("auth", "-g", gw.url, "--timeout", "5s")  # no BROWSER, no display, stdin a pipe
    assert r.returncode == EXIT_AUTH, r.stderr
    assert r.stderr.splitlines() == [r.stderr.strip()]
    assert r.stderr.strip().endswith(
        "; cannot log in again here: no terminal and no browser (there is no display (DISPLAY/WAYLAND_DISPLAY"
        f" unset)); run faas-pro auth -g {gw.url} in a terminal, or give --browser-command"
    ), r.stderr
    assert "SENTINEL" not in r.stderr and (data_dir() / "tokens.json").read_bytes() == before


def test_no_refresh_asks_for_no_offline_access_and_keeps_no_refresh_token(idp_skip_consent: IdP, gw: Server) -> None:
    r = run_cli(*auth_argv(idp_skip_consent.issuer, "-g", gw.url, "--no-refresh"))
    assert r.returncode == EXIT_OK, r.stderr
    assert "offline_access" not in r.stderr  # IDP_REFRESH=always issues one anyway: it is dropped
    assert "idp_refresh_token" not in saved_tokens()[gw.url]
    assert saved_settings()["gateways"][gw.url]["refresh"] is False


# --------------------------------------------------------------------------- device code, client credentials


def approve_device(idp: IdP, record: Path) -> httpx.Response:
    url = wait_for_file(record)
    with httpx.Client(timeout=10, follow_redirects=False) as c:
        return drive_login(c, idp.issuer, url)


def test_device_code_login_is_exchanged(idp_skip_consent: IdP, gw: Server, tmp_path: Path) -> None:
    record = tmp_path / "device-url"
    argv = (*auth_argv(idp_skip_consent.issuer, "-g", gw.url, "--grant", "device_code", "--print-token"),)
    p = start_cli(*argv, env={"TEST_BROWSER_RECORD": str(record)})
    try:
        page = approve_device(idp_skip_consent, record)
        out, err = p.communicate(timeout=60)
    finally:
        stop_cli(p)
    assert 'id="device-success"' in page.text
    assert p.returncode == EXIT_OK, err
    assert f"To sign in, open {idp_skip_consent.issuer}/device and enter the code" in err
    assert "Opened a browser at that page." in err
    assert_plain(err)
    assert gateway_claims(gw, out.strip())["sub"] == "fed:user-alice"
    assert saved_settings()["gateways"][gw.url]["grant"] == "device_code"
    assert saved_tokens()[gw.url]["idp_refresh_token"]  # offline_access: the device flow needs no consent prompt


def test_client_credentials_login_is_exchanged(idp_skip_consent: IdP, gw: Server, tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("faas-svc-secret\n")
    argv = [
        "auth", "-g", gw.url, "--authority", idp_skip_consent.issuer, "--client-id", "faas-svc",
        "--grant", "client_credentials", "--client-secret-file", str(secret), "--print-token",
    ]  # fmt: skip
    r = run_cli(*argv)
    assert r.returncode == EXIT_OK, r.stderr
    assert f"Logged in as client faas-svc ({idp_skip_consent.issuer}); exchanged" in r.stderr
    assert gateway_claims(gw, r.stdout.strip())["sub"] == "fed:faas-svc"
    entry = saved_tokens()[gw.url]
    assert "idp_id_token" not in entry and "idp_refresh_token" not in entry
    assert "faas-svc-secret" not in json.dumps(saved_settings()) and "faas-svc-secret" not in json.dumps(entry)

    missing = run_cli(*argv[:-3], env={"FAAS_PRO_CLIENT_SECRET": ""})
    assert missing.returncode == EXIT_USAGE
    assert missing.stderr.splitlines()[-1] == (
        "--grant client_credentials needs a client secret; use --client-secret-file FILE or set FAAS_PRO_CLIENT_SECRET"
    )


# --------------------------------------------------------------------------- federation


def test_token_file_and_token_env_are_exchanged(idp_skip_consent: IdP, gw: Server, tmp_path: Path) -> None:
    token = idp_skip_consent.client_credentials_token()
    f = tmp_path / "token"
    f.write_text(token + "\n")
    r = run_cli("auth", "-g", gw.url, "--token-file", str(f), "--print-token")
    assert r.returncode == EXIT_OK, r.stderr
    assert f"Logged in as faas-svc ({idp_skip_consent.issuer}); exchanged" in r.stderr
    assert "OpenFaaS token for fed:faas-svc: policies staging-rw;" in r.stderr
    assert gateway_claims(gw, r.stdout.strip())["sub"] == "fed:faas-svc"
    assert saved_tokens()[gw.url] == {"openfaas_token": r.stdout.strip()}
    assert not (Path(os.environ["FAAS_PRO_CONFIG_DIR"]) / "settings.json").exists()  # nothing to log in with again

    gl = run_cli("auth", "-g", gw.url, "--ci", "gitlab", env={"FAAS_PRO_ID_TOKEN": token})
    assert gl.returncode == EXIT_OK, gl.stderr

    argv_token = run_cli("auth", "-g", gw.url, "--token", token)
    assert argv_token.returncode == EXIT_OK, argv_token.stderr
    assert "--token on the command line is visible to other users" in argv_token.stderr
    assert token not in argv_token.stderr


@pytest.mark.parametrize(
    ("args", "env", "line"),
    [
        (["--ci", "auto"], {}, "--ci auto: this is neither GitHub Actions (GITHUB_ACTIONS=true) nor GitLab CI"),
        (["--ci", "travis"], {}, "--ci must be one of github, gitlab, auto: 'travis'"),
        (["--ci", "github", "--token-env", "X"], {}, "--ci github fetches the job's token itself"),
        (["--token-env", "X", "--authority", "http://idp"], {}, "--authority cannot be combined with --token"),
        (["--token-env", "X", "--no-exchange"], {}, "--no-exchange: with --token, --token-file"),
        (["--ci", "auto"], {"GITLAB_CI": "true"}, "the variable FAAS_PRO_ID_TOKEN is not set or is empty"),
    ],
)
def test_federation_usage_errors_come_before_any_network(args: list[str], env: dict[str, str], line: str) -> None:
    r = run_cli("auth", "-g", "http://127.0.0.1:9", *args, env=env)
    assert r.returncode in (EXIT_USAGE, 1) and line in r.stderr, r.stderr
    assert r.stdout == "" and "Traceback" not in r.stderr


# --------------------------------------------------------------------------- Ctrl-C


@pytest.mark.parametrize("grant", ["code", "device_code"])
def test_ctrl_c_while_waiting_exits_130_and_keeps_the_saved_login(
    idp_skip_consent: IdP, gw: Server, tmp_path: Path, grant: str
) -> None:
    first_login(idp_skip_consent, gw, "--no-refresh")  # a full login follows, not a refresh
    before = (data_dir() / "tokens.json").read_bytes()
    record = tmp_path / "url"
    argv = auth_argv(idp_skip_consent.issuer, "-g", gw.url, "--grant", grant, "--no-refresh")
    p = start_cli(*argv, env={"TEST_BROWSER_RECORD": str(record)})
    try:
        wait_for_file(record)  # the CLI is waiting for the browser / polling for approval
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=30)
    finally:
        stop_cli(p)
    assert p.returncode == EXIT_INTERRUPTED, err
    assert err.splitlines()[-1] == "interrupted: nothing was saved, and what was saved before is unchanged"
    assert out == "" and "Traceback" not in err
    assert (data_dir() / "tokens.json").read_bytes() == before


# --------------------------------------------------------------------------- the OpenFaaS token is checked


def test_a_gateway_token_that_does_not_verify_is_not_saved(idp_skip_consent: IdP, gw: Server) -> None:
    """A gateway that answers the exchange with a token signed by a key it does not publish."""
    forger = FakeIssuer()
    try:
        real_jwks = httpx.get(gw.url + "/.well-known/jwks.json", timeout=10).content

        def forged_exchange(req: Req) -> Answer:
            claims = forger.claims(sub="fed:user-alice", aud=GW_ISSUER, iss=GW_ISSUER)
            return json_answer({"access_token": forger.mint(claims, typ="at+jwt"), "token_type": "Bearer"})

        routes: dict[str, Route] = {
            "GET /.well-known/openid-configuration": json_answer({"issuer": GW_ISSUER}),
            "GET /.well-known/jwks.json": (200, {"Content-Type": "application/json"}, real_jwks),
            "POST /oauth/token": forged_exchange,
        }
        with FakeHTTP(routes) as gateway:
            fake = gateway.url
            r = run_cli(*auth_argv(idp_skip_consent.issuer, "-g", fake, "--print-token"))
    finally:
        forger.close()
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr.splitlines()[-1].startswith(f"the OpenFaaS token from {fake} does not verify against its keys")
    assert not (data_dir() / "tokens.json").exists()


def test_browser_env_is_used_for_reauth_without_refresh(idp_skip_consent: IdP, gw: Server) -> None:
    """--no-refresh saved: the next `auth -g` logs in through the browser again (BROWSER honoured)."""
    first_login_r = run_cli(*auth_argv(idp_skip_consent.issuer, "-g", gw.url, "--no-refresh"))
    assert first_login_r.returncode == EXIT_OK, first_login_r.stderr
    again = run_cli("auth", "-g", gw.url, env={"BROWSER": HTTP_BROWSER})
    assert again.returncode == EXIT_OK, again.stderr
    assert "Opened a browser to log in" in again.stderr and "Renewed" not in again.stderr
