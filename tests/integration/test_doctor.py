"""`faas-pro auth doctor` end to end: the CLI as a subprocess, the real test IdP, real gateways.

A good set-up (all checks pass after a real login as alice) and each broken one: a wrong issuer,
an unknown client id, an unregistered redirect URI, a busy callback port, a gateway without a
JwtIssuer for the IdP, no Role for the subject (bob), a gateway whose clock is far off (a small
real server answering like the gateway with a shifted ``Date``), a CA file that does not parse and
a TLS gateway whose self-signed certificate is not trusted.
"""

from __future__ import annotations

import json
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from faas_pro.errors import EXIT_ERROR, EXIT_OK
from tests.support.authcli import auth_argv
from tests.support.fakehttp import Answer, FakeHTTP, Req, json_answer
from tests.support.gateway import Server, issuer_yaml, policy_yaml, role_yaml, start_gateway
from tests.support.idp import IdP
from tests.support.inproc import ROOT, CliRunner, run_cli
from tests.support.tls import self_signed_cert

GW_ISSUER = "http://gateway.test"


@pytest.fixture(scope="module")
def gw(idp: IdP, gateway_key: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Trusts the test IdP; alice (not bob) has a Role."""
    objects = (
        issuer_yaml("idp", idp.issuer, ["faas-gateway"], "30m")
        + policy_yaml("staging-rw", ["Function:*", "Namespace:List"], ["staging:*"])
        + role_yaml("people", ["staging-rw"], principal=["user-alice"])
    )
    with start_gateway(tmp_path_factory.mktemp("gw"), objects, issuer_url=GW_ISSUER, key=gateway_key) as s:
        yield s


@pytest.fixture(scope="module")
def gw_untrusted(gateway_key: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Trusts another issuer only: no JwtIssuer for the test IdP."""
    objects = issuer_yaml("other", "https://idp.other.test", ["faas-gateway"]) + policy_yaml(
        "p", ["Namespace:List"], ["*"]
    )
    with start_gateway(tmp_path_factory.mktemp("gwu"), objects, issuer_url=GW_ISSUER, key=gateway_key) as s:
        yield s


def doctor(*args: str, env: dict[str, str] | None = None) -> tuple[int, list[str]]:
    r = run_cli("auth", "doctor", *args, env=env)
    assert "Traceback" not in r.stderr, r.stderr
    return r.returncode, r.stdout.splitlines()


def line_of(lines: list[str], name: str) -> str:
    """The report line of check ``name`` (``✓ name: …``)."""
    found = [ln for ln in lines if ln[2:].startswith(name + ":")]
    assert len(found) == 1, lines
    return found[0]


# the environment of the runs the docs quote: no CA or proxy variables
DOC_ENV = {"SSL_CERT_FILE": "", "REQUESTS_CA_BUNDLE": "", "NO_PROXY": ""}
DOCS = (ROOT / "docs" / "auth.md", ROOT / "docs" / "troubleshooting.md")


def _normal(text: str) -> str:
    """Ports, times, counts and durations vary from run to run: compare the rest."""
    return re.sub(r"\d+", "N", re.sub(r"\(in [^)]*\)", "(in …)", text))


def assert_docs_quote(kind: str, printed: list[str]) -> None:
    """Every ``<!-- doctor output: KIND -->`` block of the docs is what doctor printed, line for line."""
    found = 0
    block_re = re.compile(rf"<!-- doctor output: {kind} -->\n```text\n\$ [^\n]*\n(.*?)```", re.S)
    for doc in DOCS:
        for block in block_re.findall(doc.read_text(encoding="utf-8")):
            found += 1
            assert [_normal(ln) for ln in block.splitlines()] == [_normal(ln) for ln in printed], doc
    assert found, f"no '{kind}' doctor output in the docs"


def login(idp: IdP, gw: Server, *extra: str, user: str = "alice") -> None:
    r = run_cli(*auth_argv(idp.issuer, "-g", gw.url, *extra), env={"TEST_BROWSER_USER": user})
    assert r.returncode == EXIT_OK, r.stderr


# --------------------------------------------------------------------------- a good set-up


def test_good_setup_passes_every_check_after_a_real_login(idp: IdP, gw: Server) -> None:
    login(idp, gw)
    code, lines = doctor("-g", gw.url, env=DOC_ENV)
    assert code == EXIT_OK, lines
    assert_docs_quote("good", lines)
    assert not [ln for ln in lines if ln.startswith("✗")], lines
    assert lines[-1] == f"{gw.url}: all checks passed"
    assert line_of(lines, "IdP discovery").startswith("✓")
    assert line_of(lines, "client id") == (
        "✓ client id: 'faas-cli' with redirect URI " + line_of(lines, "client id").split("redirect URI ")[1]
    )
    assert "accepted (PAR)" in line_of(lines, "client id")
    for name in ("PKCE S256", "PAR endpoint", "revocation endpoint", "device endpoint", "IdP keys", "gateway keys"):
        assert line_of(lines, name).startswith("✓"), lines
    assert line_of(lines, "gateway trusts IdP") == f"✓ gateway trusts IdP: {gw.url} has a JwtIssuer for {idp.issuer}"
    assert line_of(lines, "exchange dry run").startswith(
        "✓ exchange dry run: a Role matches fed:user-alice: policies staging-rw (token not kept)"
    )
    assert line_of(lines, "saved IdP token").startswith(f"✓ saved IdP token: alice, iss {idp.issuer}, aud faas-gateway")
    assert line_of(lines, "saved OpenFaaS token").endswith("GET /system/namespaces accepts it")
    assert line_of(lines, "IdP clock") == (
        "✓ IdP clock: the IdP's clock agrees with this machine's (Date header, within 3 s)"
    )
    assert line_of(lines, "gateway clock") == (
        "✓ gateway clock: the gateway's clock agrees with this machine's (exchanged token's iat, within 3 s)"
    )
    assert line_of(lines, "proxy").startswith("· proxy: gateway direct (loopback); IdP direct (loopback)")

    r = run_cli("auth", "doctor", "-g", gw.url, "--json")
    doc = json.loads(r.stdout)
    assert r.returncode == EXIT_OK and doc["version"] == 1 and doc["ok"] is True
    assert {c["status"] for c in doc["checks"]} <= {"ok", "info"}
    assert all(set(c) == {"name", "status", "ok", "detail", "fix"} for c in doc["checks"])


# --------------------------------------------------------------------------- the IdP side


@pytest.mark.parametrize("alias", ["trailing slash", "localhost"])
def test_wrong_issuer_fails_with_the_exact_issuer_to_use(idp: IdP, gw: Server, alias: str) -> None:
    authority = idp.issuer + "/" if alias == "trailing slash" else idp.issuer.replace("127.0.0.1", "localhost")
    code, lines = doctor("-g", gw.url, "--authority", authority, "--client-id", "faas-cli")
    assert code == EXIT_ERROR
    assert line_of(lines, "IdP discovery").endswith(
        f"names issuer {idp.issuer!r}, not {authority!r} (must match byte for byte) — use --authority {idp.issuer}"
    )


def test_unknown_client_id_fails(idp: IdP, gw: Server) -> None:
    code, lines = doctor("-g", gw.url, "--authority", idp.issuer, "--client-id", "no-such-client", "--port", "0")
    assert code == EXIT_ERROR
    assert line_of(lines, "client id").startswith("✗ client id: the IdP does not know client 'no-such-client'")


def test_unregistered_redirect_uri_fails(idp: IdP, gw: Server) -> None:
    with socket.socket(socket.AF_INET6) as s:  # the IdP registers 127.0.0.1 and localhost only
        try:
            s.bind(("::1", 0))
        except OSError:
            pytest.skip("no IPv6 loopback here")
    code, lines = doctor(
        "-g",
        gw.url,
        "--authority",
        idp.issuer,
        "--client-id",
        "faas-cli",
        "--port",
        "0",
        "--redirect-host",
        "http://[::1]",
    )
    assert code == EXIT_ERROR
    got = line_of(lines, "client id")
    assert got.startswith("✗ client id: the IdP refuses redirect URI http://[::1]:") and "register http://[::1]" in got


def test_busy_port_fails(idp: IdP, gw: Server) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        code, lines = doctor("-g", gw.url, "--authority", idp.issuer, "--client-id", "faas-cli", "--port", str(port))
    assert code == EXIT_ERROR
    assert line_of(lines, "callback port").startswith(f"✗ callback port: cannot listen on 127.0.0.1:{port}")
    assert line_of(lines, "client id") == "- client id: no free callback port to build the redirect URI; cannot tell"


# --------------------------------------------------------------------------- the gateway side


def test_gateway_without_a_jwt_issuer_for_the_idp(idp: IdP, gw_untrusted: Server) -> None:
    code, lines = doctor("-g", gw_untrusted.url, "--authority", idp.issuer, "--client-id", "faas-cli")
    assert code == EXIT_ERROR
    assert line_of(lines, "gateway trusts IdP") == (
        f"✗ gateway trusts IdP: {gw_untrusted.url} has no JwtIssuer for {idp.issuer}"
        f" (untrusted issuer: {idp.issuer})"
        f" — add a JwtIssuer with spec.iss: {idp.issuer} to the gateway's --iam (docs/iam.md)"
    )
    assert line_of(lines, "saved IdP token").startswith("- saved IdP token: no saved IdP token")


def test_no_role_for_the_subject(idp: IdP, gw: Server) -> None:
    login(idp, gw, "--no-exchange", user="bob")  # the exchange would refuse bob: keep the IdP token only
    code, lines = doctor("-g", gw.url, env=DOC_ENV)
    assert code == EXIT_ERROR
    assert_docs_quote("no role", lines)
    assert line_of(lines, "gateway trusts IdP").startswith("✓")
    assert line_of(lines, "saved IdP token").startswith(f"✓ saved IdP token: bob, iss {idp.issuer}")
    assert line_of(lines, "exchange dry run") == (
        "✗ exchange dry run: the gateway refused the saved token (HTTP 400): No policies found for subject: user-bob"
        " — add a Role whose principal (jwt:sub) or condition matches this subject to the gateway's --iam"
    )
    assert line_of(lines, "saved OpenFaaS token").startswith("- saved OpenFaaS token: no saved OpenFaaS token")


def _gateway_answers(req: Req) -> Answer:
    """The gateway's discovery and keys (the keys are never used: doctor only fetches them)."""
    if req.path.startswith("/.well-known/openid"):
        return json_answer({"issuer": GW_ISSUER})
    return json_answer({"keys": [{"kty": "EC"}]})


def test_a_gateway_clock_far_off_fails(idp: IdP) -> None:
    with FakeHTTP(_gateway_answers, clock_shift=7200.0) as gw:  # a Date two hours ahead
        code, lines = doctor("-g", gw.url, "--authority", idp.issuer, "--client-id", "faas-cli")
    assert code == EXIT_ERROR
    got = line_of(lines, "gateway clock")
    assert got.startswith("✗ gateway clock: the gateway's clock is ") and "s ahead of this machine's" in got
    seconds = int(got.split("clock is ")[1].split(" s")[0])
    assert 7190 <= seconds <= 7210
    assert line_of(lines, "IdP clock").startswith("✓")


# --------------------------------------------------------------------------- CA and TLS


def test_a_ca_file_that_does_not_parse(idp: IdP, gw: Server, tmp_path: Path) -> None:
    bad = tmp_path / "ca.pem"
    bad.write_text("-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n")
    code, lines = doctor("-g", gw.url, "--authority", idp.issuer, "--client-id", "faas-cli", "--ca-file", str(bad))
    assert code == EXIT_ERROR
    assert line_of(lines, "CA") == (
        f"✗ CA: --ca-file {bad} cannot be read as PEM certificates"
        " — point --ca-file at a PEM file holding the CA certificate(s)"
    )
    assert line_of(lines, "network checks") == "- network checks: not run: the CA file does not parse"


@pytest.fixture
def tls_gateway(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A TLS server answering like the gateway, with a self-signed certificate (its own CA file)."""
    cert, key = self_signed_cert(tmp_path)
    with FakeHTTP(_gateway_answers, tls=(cert, key)) as gw:
        yield gw.url, cert


def test_a_tls_gateway_with_an_untrusted_certificate(tls_gateway: tuple[str, Path]) -> None:
    url, cert = tls_gateway
    code, lines = doctor("-g", url)
    assert code == EXIT_ERROR
    assert line_of(lines, "gateway discovery") == (
        f"✗ gateway discovery: the TLS certificate of {url}/.well-known/openid-configuration is not trusted"
        " — pass --ca-file FILE with the CA that signed it (or set SSL_CERT_FILE)"
    )
    _, lines = doctor("-g", url, "--ca-file", str(cert))
    assert line_of(lines, "gateway discovery") == (
        f"✓ gateway discovery: {url}/.well-known/openid-configuration: issuer {GW_ISSUER}"
    )
    assert line_of(lines, "CA") == f"✓ CA: --ca-file {cert} (parses)" or line_of(lines, "CA").startswith(
        f"✓ CA: --ca-file {cert} (parses); also set:"
    )


def test_this_machines_clock_far_off_fails_against_the_idp(idp: IdP, gw: Server, cli: CliRunner) -> None:
    """Time is a parameter: a clock an hour slow here shows as the IdP's clock an hour ahead."""
    r = cli(
        "auth", "doctor", "-g", gw.url, "--authority", idp.issuer, "--client-id", "faas-cli",
        clock=lambda: time.time() - 3600,
    )  # fmt: skip
    assert r.code == EXIT_ERROR
    lines = r.stdout.splitlines()
    got = line_of(lines, "IdP clock")
    assert got.startswith("✗ IdP clock: the IdP's clock is ") and " s ahead of this machine's (Date header)" in got
    assert 3590 <= int(got.split("clock is ")[1].split(" s")[0]) <= 3610
    assert got.endswith("— sync the clocks (NTP): tokens are refused as expired or not yet valid")
