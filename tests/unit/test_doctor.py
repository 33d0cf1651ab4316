"""The checks of `faas-pro auth doctor` one by one: httpx.MockTransport for the HTTP answers, real
sockets for the callback port, and the rendering (plain lines, JSON)."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from faas_pro.cli.doctor import line, render_plain, render_table
from faas_pro.errors import EXIT_ERROR, EXIT_OK
from faas_pro.usecases import doctor as d
from tests.support.inproc import CliRunner
from tests.support.tokens import b64url_decode, compact

AUTH = "https://idp.example"
GW = "http://127.0.0.1:8080"
NOW = 1_700_000_000.0
DATE = "Tue, 14 Nov 2023 22:13:20 GMT"  # NOW


def client(handler: Callable[[httpx.Request], httpx.Response]) -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(handler))


def jwt(claims: dict[str, Any]) -> str:
    return compact({"alg": "ES256"}, claims, "c2ln")


# --------------------------------------------------------------------------- IdP discovery


def test_discovery_issuer_must_match_byte_for_byte() -> None:
    c = client(lambda r: httpx.Response(200, json={"issuer": AUTH}, headers={"Date": DATE}))
    res, doc, date = d.check_discovery(c, AUTH)
    assert res.status == "ok" and doc == {"issuer": AUTH} and date == NOW
    res, doc, _ = d.check_discovery(c, AUTH + "/")
    assert res.status == "fail" and doc is None and res.fix == f"use --authority {AUTH}"


def test_discovery_that_is_not_json_or_unreachable() -> None:
    res, _, _ = d.check_discovery(client(lambda r: httpx.Response(404, text="<html>")), AUTH)
    assert res.status == "fail" and "HTTP 404" in res.detail

    def down(r: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=r)

    res, _, _ = d.check_discovery(client(down), AUTH)
    assert res.status == "fail" and res.detail.startswith("cannot reach the identity provider's discovery document")


def test_authority_that_is_not_a_url() -> None:
    res, _, _ = d.check_discovery(client(lambda r: httpx.Response(500)), "idp.example")
    assert res.status == "fail" and res.fix == "pass --authority with the IdP's issuer URL"


# --------------------------------------------------------------------------- grants and client


def by_name(results: list[d.CheckResult]) -> dict[str, d.CheckResult]:
    return {r.name: r for r in results}


def test_grants_informative_when_absent_failing_when_needed() -> None:
    full = {
        "code_challenge_methods_supported": ["plain", "S256"],
        "device_authorization_endpoint": AUTH + "/device",
        "pushed_authorization_request_endpoint": AUTH + "/par",
        "revocation_endpoint": AUTH + "/revoke",
    }
    assert {r.status for r in d.check_grants(full, "code")} == {"ok"}
    bare = by_name(d.check_grants({}, "code"))
    assert bare["PKCE S256"].status == "info" and bare["PAR endpoint"].status == "info"
    assert bare["revocation endpoint"].detail == "not offered (revocation_endpoint absent)"
    assert by_name(d.check_grants({}, "device_code"))["device endpoint"].status == "fail"
    plain_only = by_name(d.check_grants({"code_challenge_methods_supported": ["plain"]}, "code"))
    assert plain_only["PKCE S256"].status == "fail"


def par_answer(status: int, body: dict[str, Any]) -> tuple[httpx.Client, list[dict[str, str]]]:
    seen: list[dict[str, str]] = []

    def handler(r: httpx.Request) -> httpx.Response:
        seen.append(dict(httpx.QueryParams(r.content.decode())))
        return httpx.Response(status, json=body)

    return client(handler), seen


DOC = {"pushed_authorization_request_endpoint": AUTH + "/par"}
REDIRECT = "http://127.0.0.1:31111/oauth/callback"


def test_client_accepted_by_par_sends_pkce_and_no_secret() -> None:
    c, seen = par_answer(201, {"request_uri": "urn:x", "expires_in": 60})
    res = d.check_client(c, DOC, "faas-cli", "code", REDIRECT)
    assert res.status == "ok"
    assert seen[0]["redirect_uri"] == REDIRECT and seen[0]["code_challenge_method"] == "S256"
    assert "client_secret" not in seen[0]


@pytest.mark.parametrize(
    ("status", "body", "start"),
    [
        (401, {"error": "invalid_client"}, "the IdP does not know client 'x'"),
        (400, {"error": "invalid_redirect_uri"}, "the IdP refuses redirect URI"),
        (400, {"error": "invalid_request", "error_description": "redirect_uri did not match"}, "the IdP refuses"),
    ],
)
def test_client_refused(status: int, body: dict[str, Any], start: str) -> None:
    c, _ = par_answer(status, body)
    res = d.check_client(c, DOC, "x", "code", REDIRECT)
    assert res.status == "fail" and res.detail.startswith(start)


def test_client_cannot_tell() -> None:
    c, seen = par_answer(400, {"error": "invalid_scope"})
    assert d.check_client(c, DOC, "x", "code", REDIRECT).status == "skip"
    assert d.check_client(c, {}, "x", "code", REDIRECT).detail.startswith("cannot tell: the IdP offers no PAR")
    assert d.check_client(c, DOC, "x", "client_credentials", REDIRECT).status == "skip"
    assert len(seen) == 1  # neither of the last two asked the IdP


# --------------------------------------------------------------------------- port, clock, CA, proxy


def test_busy_port_fails_and_a_free_one_passes() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        res, bound = d.check_port("127.0.0.1", socket.AF_INET, port)
        assert res.status == "fail" and bound is None and f"127.0.0.1:{port}" in res.detail
    res, bound = d.check_port("127.0.0.1", socket.AF_INET, 0)
    assert res.status == "ok" and bound and bound > 0


@pytest.mark.parametrize(
    ("offset", "status"), [(0, "ok"), (-29, "ok"), (31, "warn"), (-45, "warn"), (61, "fail"), (-3600, "fail")]
)
def test_skew_thresholds(offset: float, status: str) -> None:
    assert d.check_skew("IdP clock", "the IdP", NOW + offset, NOW).status == status


def test_skew_without_a_date() -> None:
    assert d.check_skew("gateway clock", "the gateway", None, NOW).status == "skip"


def test_ca_files(tmp_path: Path) -> None:
    assert d.check_ca(d.DoctorInput(), {}).status == "info"
    bad = tmp_path / "bad.pem"
    bad.write_text("nope")
    res = d.check_ca(d.DoctorInput(), {"SSL_CERT_FILE": str(bad)})
    assert res.status == "fail" and res.detail == f"SSL_CERT_FILE {bad} cannot be read as PEM certificates"
    res = d.check_ca(d.DoctorInput(ca_file=tmp_path / "missing.pem"), {})
    assert res.status == "fail" and res.fix == "point --ca-file at a PEM file holding the CA certificate(s)"


def test_proxy_in_effect() -> None:
    env = {"HTTPS_PROXY": "http://user:pw@proxy.corp:3128", "NO_PROXY": ".internal.corp"}
    res = d.check_proxy({"gateway": "http://127.0.0.1:8080", "IdP": "https://idp.example"}, env)
    assert res.status == "info"
    assert res.detail.startswith("gateway direct (loopback); IdP via http://***@proxy.corp:3128")
    assert "pw" not in res.detail
    assert "IdP direct" in d.check_proxy({"IdP": "https://sso.internal.corp"}, env).detail
    assert (
        "direct" in d.check_proxy({"IdP": "https://idp.example"}, {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "*"}).detail
    )
    assert d.check_proxy({"IdP": "http://idp.example"}, {"HTTP_PROXY": "ftp://p"}).status == "fail"


# --------------------------------------------------------------------------- gateway trust and tokens


def exchange_answer(status: int, body: dict[str, Any]) -> tuple[httpx.Client, list[str]]:
    sent: list[str] = []

    def handler(r: httpx.Request) -> httpx.Response:
        sent.append(dict(httpx.QueryParams(r.content.decode()))["subject_token"])
        return httpx.Response(status, json=body)

    return client(handler), sent


def test_trust_probe() -> None:
    c, sent = exchange_answer(400, {"error": "invalid_request", "error_description": f"untrusted issuer: {AUTH}"})
    res = d.check_trust(c, GW, AUTH, "faas-cli", NOW)
    assert res.status == "fail" and res.fix.startswith(f"add a JwtIssuer with spec.iss: {AUTH}")
    _header, payload = (json.loads(b64url_decode(p)) for p in sent[0].split(".")[:2])
    assert payload["iss"] == AUTH and payload["sub"] == d.PROBE_SUBJECT and sent[0].endswith(".AAAA")
    c, _ = exchange_answer(400, {"error": "invalid_request", "error_description": "invalid subject token: bad sig"})
    assert d.check_trust(c, GW, AUTH, "faas-cli", NOW).status == "ok"
    c, _ = exchange_answer(404, {})
    assert d.check_trust(c, GW, AUTH, "faas-cli", NOW).status == "fail"
    c, _ = exchange_answer(500, {})
    assert d.check_trust(c, GW, AUTH, "faas-cli", NOW).status == "skip"


def test_saved_idp_token_prefers_a_live_jwt() -> None:
    live = jwt({"iss": AUTH, "sub": "u1", "preferred_username": "alice", "aud": "gw", "exp": NOW + 600})
    dead = jwt({"iss": AUTH, "sub": "u1", "aud": "gw", "exp": NOW - 600})
    res, use = d.check_saved_idp_token({"idp_access_token": "opaque", "idp_id_token": live}, AUTH, GW, NOW)
    assert res.status == "ok" and use == live and res.detail.startswith(f"alice, iss {AUTH}, aud gw, expires ")
    res, use = d.check_saved_idp_token({"idp_access_token": dead, "idp_id_token": live}, AUTH, GW, NOW)
    assert use == live
    res, use = d.check_saved_idp_token({"idp_id_token": dead}, AUTH, GW, NOW)
    assert res.status == "skip" and use is None and "expired" in res.detail
    res, use = d.check_saved_idp_token(None, AUTH, GW, NOW)
    assert res.status == "skip" and res.fix == f"run faas-pro auth -g {GW}"
    res, _ = d.check_saved_idp_token({"idp_id_token": live}, "https://other.example", GW, NOW)
    assert res.status == "fail"


def test_exchange_dry_run() -> None:
    token = jwt({"sub": "fed:u1", "policy": ["b", "a"], "iat": int(NOW) + 5})
    c, _ = exchange_answer(200, {"access_token": token})
    res, signed = d.check_exchange(c, GW, "subject")
    assert res.detail == "a Role matches fed:u1: policies a, b (token not kept)" and signed == NOW + 5
    c, _ = exchange_answer(400, {"error": "invalid_request", "error_description": "No policies found for subject: u1"})
    res, signed = d.check_exchange(c, GW, "subject")
    assert res.status == "fail" and signed is None and res.fix.startswith("add a Role")


def test_openfaas_token_tried_on_namespaces() -> None:
    token = jwt({"iss": "http://gw.test", "sub": "fed:u1", "exp": NOW + 600})
    seen: list[str] = []

    def handler(r: httpx.Request) -> httpx.Response:
        seen.append(r.headers["authorization"])
        return httpx.Response(401 if r.url.path != "/system/namespaces" else 200, json=["staging"])

    res = d.check_openfaas_token(client(handler), {"openfaas_token": token}, GW, "http://gw.test", NOW)
    assert res.status == "ok" and seen == [f"Bearer {token}"]
    res = d.check_openfaas_token(client(handler), {"openfaas_token": token}, GW, "http://other", NOW)
    assert res.status == "fail" and len(seen) == 1  # another issuer's token is never sent
    c = client(lambda r: httpx.Response(401))
    assert d.check_openfaas_token(c, {"openfaas_token": token}, GW, None, NOW).status == "fail"


# --------------------------------------------------------------------------- rendering


def test_plain_lines_and_json() -> None:
    report = d.DoctorReport(
        GW,
        [d.CheckResult("a", "ok", "fine", "never shown"), d.CheckResult("b", "fail", "broken", "do this")],
    )
    assert line(report.checks[0]) == "✓ a: fine"
    assert line(report.checks[1]) == "✗ b: broken — do this"
    assert render_plain(report).splitlines()[-1] == f"{GW}: 1 check(s) failed"
    assert report.exit_code == EXIT_ERROR
    doc = report.to_json()
    assert doc["version"] == 1 and doc["ok"] is False and doc["checks"][1]["ok"] is False
    warn_only = d.DoctorReport(GW, [d.CheckResult("c", "warn", "late", "sync"), d.CheckResult("d", "skip", "n/a")])
    assert warn_only.exit_code == EXIT_OK and line(warn_only.checks[0]) == "! c: late — sync"


def test_no_settings_and_no_gateway(cli: CliRunner, tmp_path: Path) -> None:
    with socket.socket() as s:  # a port where nothing listens
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}"
    r = cli("auth", "doctor", "-g", url)
    assert r.code == EXIT_ERROR
    lines = r.stdout.splitlines()
    assert lines[0] == f"✗ settings: nothing saved for {url} — pass --authority and --client-id"
    assert any(ln.startswith("✗ gateway discovery: cannot reach the gateway's discovery document") for ln in lines)
    assert json.loads(cli("auth", "doctor", "-g", url, "--json").stdout)["ok"] is False


def test_table_shows_remote_text_as_text() -> None:
    import io

    report = d.DoctorReport(GW, [d.CheckResult("proxy", "info", "IdP direct [no proxy variables set]")])
    out = io.StringIO()
    render_table(report, out)
    assert "[no proxy variables set]" in out.getvalue() and "all checks passed" in out.getvalue()


def test_tokens_are_not_sent_to_a_remote_plain_http_gateway(tmp_path: Path) -> None:
    import io

    from faas_pro.deps import Deps
    from faas_pro.storage.secrets import MemorySecretStore

    gw = "http://gw.example.test"
    live = jwt({"iss": AUTH, "sub": "u1", "exp": NOW + 600})
    sent: list[str] = []

    def handler(r: httpx.Request) -> httpx.Response:
        if r.url.path == "/.well-known/openid-configuration" and r.url.host == "gw.example.test":
            return httpx.Response(200, json={"issuer": gw})
        if r.url.path == "/.well-known/jwks.json":
            return httpx.Response(200, json={"keys": [{"kty": "EC"}]})
        sent.append(r.content.decode() + r.headers.get("authorization", ""))
        return httpx.Response(400, json={"error": "invalid_request", "error_description": "invalid subject token"})

    def run(env: dict[str, str]) -> list[d.CheckResult]:
        deps = Deps(env=env, stdin=io.StringIO(), stdout=io.StringIO(), stderr=io.StringIO(),
                    config_dir=tmp_path, data_dir=tmp_path, clock=lambda: NOW)  # fmt: skip
        store = MemorySecretStore()
        store.put(gw, {"idp_id_token": live, "openfaas_token": live})
        deps.secrets = lambda: store  # type: ignore[method-assign]
        return d.doctor(d.DoctorInput(gateway=gw, authority=AUTH, client_id="c", port=0), deps, client(handler)).checks

    checks = by_name(run({}))
    assert checks["saved tokens"].status == "skip" and "saved IdP token" not in checks
    assert not [s for s in sent if live in s]  # only the unsigned probe went out
    checks = by_name(run({d.INSECURE_HTTP_ENV: "1"}))
    assert "saved tokens" not in checks and checks["saved IdP token"].status == "ok"
    assert [s for s in sent if live in s]
