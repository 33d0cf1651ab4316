"""Issue 5 end to end: the seed's walkthrough with real processes (test IdP, `faas-pro serve`, the CLI).

alice's Role grants ``staging-rw``; bob has no Role; ``gw_short`` issues tokens that live 11 s.
"""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from faas_pro.errors import EXIT_AUTH, EXIT_DENIED, EXIT_ERROR, EXIT_OK
from tests.support.authcli import HTTP_BROWSER, wait_for_file
from tests.support.e2e import (
    GW_ISSUER,
    SHORT_ISSUER,
    Login,
    auth_args,
    restore,
    settled_calls,
    unverified_claims,
    verify_gateway_token,
)
from tests.support.gateway import Server
from tests.support.http_browser import browse
from tests.support.idp import IdP
from tests.support.inproc import run_cli, run_inproc, start_cli
from tests.support.issuer import bearer

DATA = Path(__file__).resolve().parents[1] / "data" / "e2e"


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _go_time(rfc3339: str) -> str:
    """Go's time.Time.String() of a UTC RFC 3339 value (an implementation independent of faas_pro.formats)."""
    dt = datetime.fromisoformat(rfc3339.replace("Z", "+00:00"))
    assert dt.utcoffset() is not None and dt.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    frac = f".{dt.microsecond:06d}".rstrip("0") if dt.microsecond else ""
    return dt.strftime("%Y-%m-%d %H:%M:%S") + frac.rstrip(".") + " +0000 UTC"


def _expected(name: str, created: dict[str, str], go: bool) -> str:
    text = (DATA / name).read_text(encoding="utf-8")
    for fn, value in created.items():
        text = text.replace(f"@CREATED:{fn}@", _go_time(value) if go else value)
    assert "@CREATED:" not in text
    return text


def _files() -> tuple[Path, Path]:
    return Path(os.environ["FAAS_PRO_CONFIG_DIR"]) / "settings.json", Path(
        os.environ["FAAS_PRO_DATA_DIR"]
    ) / "tokens.json"


def _saved_token(gateway: str) -> str:
    return str(json.loads(_files()[1].read_text())[gateway]["openfaas_token"])


def _one_line(stderr: str) -> str:
    assert "Traceback" not in stderr
    assert stderr.endswith("\n") and stderr.count("\n") == 1, stderr
    return stderr[:-1]


# ---------------------------------------------------------------------- 1. the walkthrough


def test_auth_reports_who_which_policies_and_until_when(idp: IdP, gw: Server, alice: Login) -> None:
    r = alice.result
    assert r.returncode == EXIT_OK, r.stderr
    token = r.stdout.strip()
    assert r.stdout == token + "\n"  # --print-token: the OpenFaaS token and nothing else
    claims = verify_gateway_token(gw, token, GW_ISSUER)
    assert claims["sub"] == "fed:user-alice" and claims["fed:iss"] == idp.issuer
    assert claims["policy"] == ["staging-rw"]
    assert claims["exp"] - claims["iat"] == 30 * 60
    assert f"Logged in as alice ({idp.issuer}); exchanged for an OpenFaaS token for {gw.url}" in r.stderr
    # issue 5, deliverable 1: the policies granted and when the token expires are reported too
    assert "staging-rw" in r.stderr, r.stderr
    assert _iso(claims["exp"]) in r.stderr, r.stderr
    assert token not in r.stderr
    gw.wait_log("exchange ok: sub=fed:user-alice")


def test_walkthrough(idp: IdP, gw: Server, alice: Login) -> None:
    restore(alice)
    seen = len(settled_calls(gw))
    token = _saved_token(gw.url)
    direct = httpx.get(gw.url + "/system/functions", params={"namespace": "staging"}, headers=bearer(token))
    created = {f["name"]: f["createdAt"] for f in direct.json()}
    assert sorted(created) == ["alpha", "mid", "zeta-resizer"]

    ns = run_cli("namespaces", "-g", gw.url)
    assert (ns.returncode, ns.stdout, ns.stderr) == (EXIT_OK, "Namespaces:\n - staging\n", "")
    assert ns.stdout == (DATA / "namespaces.txt").read_text()

    cases: list[tuple[list[str], str, bool]] = [
        ([], "list.txt", False),
        (["--sort", "name"], "list.txt", False),
        (["--sort", "invocations"], "list.txt", False),  # all 0: the gateway's (name) order is kept
        (["--sort", "creation"], "list-sort-creation.txt", False),
        (["-v"], "list-verbose.txt", True),
        (["-q"], "list-quiet.txt", False),
        (["-q", "--sort", "creation"], "list-quiet-sort-creation.txt", False),
        (["--json"], "list.json", False),
        (["-j"], "list.json", False),
    ]
    for extra, expected, go in cases:
        r = run_cli("list", "-g", gw.url, "-n", "staging", *extra)
        assert (r.returncode, r.stderr) == (EXIT_OK, ""), (extra, r)
        assert r.stdout == _expected(expected, created, go), extra
    ls = run_cli("ls", "-g", gw.url, "--namespace", "staging")
    assert ls.stdout == (DATA / "list.txt").read_text()

    raw = httpx.get(gw.url + "/system/functions", params={"namespace": "openfaas-fn"}, headers=bearer(token))
    assert (raw.status_code, raw.text) == (403, "Unauthorized\n")
    denied = run_cli("list", "-g", gw.url, "-n", "openfaas-fn")
    assert denied.returncode == EXIT_DENIED and denied.stdout == ""
    assert denied.stderr == "Server returned unexpected status code: 403 - Unauthorized\n"

    tok = run_cli("token", "-g", gw.url)
    assert tok.returncode == EXIT_OK and tok.stdout == token + "\n" and tok.stderr == ""
    claims = verify_gateway_token(gw, tok.stdout.strip(), GW_ISSUER)
    assert claims["sub"] == "fed:user-alice" and claims["policy"] == ["staging-rw"]
    pretty = run_cli("token", "-g", gw.url, "--pretty")
    assert json.loads(pretty.stdout)["payload"] == unverified_claims(token) and "UNVERIFIED" in pretty.stderr

    st = run_cli("status", "-g", gw.url, "--json")
    assert st.returncode == EXIT_OK, st.stderr
    doc = json.loads(st.stdout)
    assert st.stdout == json.dumps(doc, indent=2, sort_keys=True) + "\n"
    assert 0 < doc.pop("expires_in") <= 30 * 60
    assert doc == {
        "version": 1,
        "gateway": gw.url,
        "logged_in": True,
        "subject": "fed:user-alice",
        "issuer": idp.issuer,
        "idp_issuer": idp.issuer,
        "policies": ["staging-rw"],
        "expires_at": _iso(claims["exp"]),
        "expired": False,
        "refresh_token": False,
        "store": f"file ({_files()[1]})",
    }

    out = run_cli("logout", "-g", gw.url)
    assert out.returncode == EXIT_OK and out.stderr == f"Logged out of {gw.url}\n"
    after = run_cli("list", "-g", gw.url, "-n", "staging")
    assert after.returncode == EXIT_AUTH and after.stdout == ""
    assert _one_line(after.stderr) == f"not logged in to {gw.url}; run faas-pro auth -g {gw.url}"
    assert run_cli("status", "-g", gw.url).returncode == EXIT_AUTH
    settings = json.loads(_files()[0].read_text())
    assert settings["gateways"][gw.url]["authority"] == idp.issuer  # logout keeps the settings

    # what reached the gateway, in order: token, status, logout and the last list sent nothing
    calls = [(c.method, c.path, c.status, c.sub) for c in settled_calls(gw)[seen:]]
    get = ("GET", "/system/functions", 200, "fed:user-alice")
    assert calls == [
        get,  # the direct request above
        ("GET", "/system/namespaces", 200, "fed:user-alice"),
        *[get] * (len(cases) + 1),
        ("GET", "/system/functions", 403, "fed:user-alice"),
        ("GET", "/system/functions", 403, "fed:user-alice"),
    ]


# ---------------------------------------------------------------------- 2. no Role: refused


def test_user_without_a_role_is_refused_and_nothing_is_saved(idp: IdP, gw: Server) -> None:
    r = run_cli(*auth_args(idp.issuer, gw.url, "--print-token"), env={"TEST_BROWSER_USER": "bob"})
    assert r.returncode == EXIT_ERROR and r.stdout == ""
    assert "Traceback" not in r.stderr
    assert r.stderr.splitlines()[-1] == (
        f"the gateway {gw.url} refused the token exchange (HTTP 400): No policies found for subject: user-bob"
    )
    gw.wait_log("exchange refused: No policies found for subject: user-bob")
    st = run_cli("status", "-g", gw.url)
    assert st.returncode == EXIT_AUTH and "none saved" in st.stdout
    settings, tokens = _files()
    assert not settings.exists() or gw.url not in json.loads(settings.read_text())["gateways"]
    assert not tokens.exists() or gw.url not in json.loads(tokens.read_text())


def test_refused_login_keeps_the_previous_login(idp: IdP, gw: Server, alice: Login) -> None:
    restore(alice)
    settings, tokens = _files()
    before = settings.read_bytes(), tokens.read_bytes()
    r = run_cli(
        *auth_args(idp.issuer, gw.url, "--scope", "openid", "--scope", "groups"), env={"TEST_BROWSER_USER": "bob"}
    )
    assert r.returncode == EXIT_ERROR and "No policies found for subject: user-bob" in r.stderr
    assert (settings.read_bytes(), tokens.read_bytes()) == before
    st = run_cli("status", "-g", gw.url, "--json")
    assert st.returncode == EXIT_OK and json.loads(st.stdout)["subject"] == "fed:user-alice"


# ---------------------------------------------------------------------- 3. expiry from tokenExpiry


def test_expired_token_is_caught_before_the_request_then_reauth_works(idp: IdP, gw_short: Server) -> None:
    first = run_cli(*auth_args(idp.issuer, gw_short.url))
    assert first.returncode == EXIT_OK, first.stderr
    old = unverified_claims(_saved_token(gw_short.url))
    assert old["exp"] - old["iat"] == 11
    time.sleep(max(0.0, old["exp"] - 10 - time.time() + 0.05))  # < 1.1 s: the CLI counts from exp - 10 s
    seen = len(settled_calls(gw_short))

    hint = f"run faas-pro auth -g {gw_short.url}"
    for args in (["list", "-n", "staging"], ["namespaces"], ["token"]):
        r = run_cli(*args, "-g", gw_short.url)
        assert r.returncode == EXIT_AUTH and r.stdout == "", (args, r)
        assert _one_line(r.stderr) == f"the token for {gw_short.url} expired at {_iso(old['exp'])}; {hint}"
    st = run_cli("status", "-g", gw_short.url, "--json")
    assert st.returncode == EXIT_AUTH and json.loads(st.stdout)["expired"] is True
    assert len(settled_calls(gw_short)) == seen  # nothing reached the gateway

    # re-auth with only -g: the saved settings (authority, client, port) are used again
    again = run_cli("auth", "-g", gw_short.url, "--pretty", env={"BROWSER": HTTP_BROWSER})
    assert again.returncode == EXIT_OK, again.stderr
    new_token = _saved_token(gw_short.url)
    new = verify_gateway_token(gw_short, new_token, SHORT_ISSUER)
    assert json.loads(again.stdout)["payload"] == new and new["policy"] == [
        "staging-rw"
    ]  # --pretty: the OpenFaaS token
    assert new["jti"] != old["jti"] and new["iat"] >= old["iat"]
    listed = run_inproc("list", "-g", gw_short.url, "-n", "staging", "-q", clock=lambda: float(new["iat"]))
    assert (listed.code, listed.stdout, listed.stderr) == (EXIT_OK, "", "")
    last = settled_calls(gw_short)[-1]
    assert (last.path, last.status, last.sub) == ("/system/functions", 200, "fed:user-alice")


# ---------------------------------------------------------------------- 4. two logins at once


def test_concurrent_logins_for_one_gateway_are_serialised(idp: IdP, gw: Server, tmp_path: Path) -> None:
    rec1, rec3 = tmp_path / "url1", tmp_path / "url3"
    first = start_cli(*auth_args(idp.issuer, gw.url, "--print-token"), env={"TEST_BROWSER_RECORD": str(rec1)})
    procs = [first]
    try:
        url1 = wait_for_file(rec1)  # the first login holds the lock while it waits for its callback
        impatient = start_cli(*auth_args(idp.issuer, gw.url, timeout="2s"), env={"TEST_BROWSER_RECORD": str(rec3)})
        patient = start_cli(*auth_args(idp.issuer, gw.url, "--print-token"), env={"TEST_BROWSER_RECORD": str(rec3)})
        procs += [impatient, patient]
        out2, err2 = impatient.communicate(timeout=60)
        assert impatient.returncode == EXIT_ERROR and out2 == "", err2
        assert _one_line(err2) == (
            f"another faas-pro is logging in to {gw.url}; waited 2s; try again when it has finished"
        )
        assert not rec3.exists() and patient.poll() is None  # the patient one is still waiting too

        assert browse(url1).status_code == 200
        out1, err1 = first.communicate(timeout=60)
        assert first.returncode == EXIT_OK, err1
        assert browse(wait_for_file(rec3)).status_code == 200
        out3, err3 = patient.communicate(timeout=60)
        assert patient.returncode == EXIT_OK, err3
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
            p.communicate()
    token1, token3 = out1.strip(), out3.strip()
    assert token1 != token3
    settings, tokens = _files()
    saved: dict[str, Any] = json.loads(tokens.read_text())
    assert list(saved) == [gw.url] and saved[gw.url]["openfaas_token"] == token3  # the last login, whole
    assert verify_gateway_token(gw, token3, GW_ISSUER)["sub"] == "fed:user-alice"
    assert list(json.loads(settings.read_text())["gateways"]) == [gw.url]
    files = {p.name for d in (settings.parent, tokens.parent) for p in d.iterdir() if p.is_file()}
    assert {f for f in files if not f.endswith(".lock")} == {"settings.json", "tokens.json"}  # no temp files left


# ---------------------------------------------------------------------- 5. one token, one gateway


def test_a_token_is_never_sent_to_another_gateway(gw: Server, gw_short: Server, alice: Login) -> None:
    restore(alice)
    seen_a, seen_b = len(settled_calls(gw)), len(settled_calls(gw_short))
    other = gw_short.url
    host_alias = gw.url.replace("127.0.0.1", "localhost")  # the same server, another origin
    for args, env in (
        (["list", "-g", other], {}),
        (["namespaces", "-g", other], {}),
        (["list"], {"OPENFAAS_URL": other}),
        (["list", "-g", host_alias], {}),
    ):
        r = run_cli(*args, env=env)
        target = env.get("OPENFAAS_URL") or args[-1]
        assert r.returncode == EXIT_AUTH, (args, r)
        assert _one_line(r.stderr) == f"not logged in to {target}; run faas-pro auth -g {target}"
    assert len(settled_calls(gw_short)) == seen_b and len(settled_calls(gw)) == seen_a
    # the same gateway written differently is the same key
    same = run_cli("namespaces", "-g", gw.url.upper().replace("HTTP://", "http://") + "/")
    assert (same.returncode, same.stdout) == (EXIT_OK, "Namespaces:\n - staging\n")
