"""SECURITY rule 9 (HTTP client discipline), CLI side.

TLS is verified by default (a self-signed https IdP or gateway is refused without ``--ca-file`` and
accepted with it; ``--tls-no-verify`` warns loudly); token POSTs never follow a redirect (307/308 would
re-send the secret or the subject token to another origin); only http(s) URLs are ever opened in a
browser, and a login served over https is never downgraded to an http page.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from faas_pro.errors import EXIT_ERROR, EXIT_OK, EXIT_UNREACHABLE
from tests.support.authcli import wait_for_file
from tests.support.fakehttp import Answer, FakeHTTP, Req, json_answer
from tests.support.hostile import (
    SECRET,
    client_credentials_argv,
    fake_idp,
    recorder_command,
    run_cli_inproc,
    sentinel_jwt,
)
from tests.support.inproc import Captured, run_cli


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    p = tmp_path / "secret"
    p.write_text(SECRET)
    return p


# --------------------------------------------------------------------------- TLS


@pytest.fixture(scope="module")
def tls_gateway(tls_files: tuple[Path, Path]) -> Iterator[FakeHTTP]:
    f = FakeHTTP(lambda req: json_answer(["staging"]), tls=tls_files)
    yield f
    f.close()


def test_self_signed_gateway_refused_without_ca_file_accepted_with_it(
    tls_gateway: FakeHTTP, tls_files: tuple[Path, Path]
) -> None:
    token = sentinel_jwt()
    r = run_cli_inproc("namespaces", "-g", tls_gateway.url, "-k", token)
    assert r.code == EXIT_UNREACHABLE and r.stdout == "", r
    assert "TLS certificate is not trusted" in r.stderr and "--ca-file" in r.stderr, r.stderr
    assert tls_gateway.requests == []  # the handshake failed: the token was never sent
    r = run_cli_inproc("namespaces", "-g", tls_gateway.url, "-k", token, "--ca-file", str(tls_files[0]))
    assert (r.code, r.stdout) == (EXIT_OK, "Namespaces:\n - staging\n"), r
    assert "WARNING" not in r.stderr
    r = run_cli_inproc("namespaces", "-g", tls_gateway.url, "-k", token, "--tls-no-verify")
    assert r.code == EXIT_OK, r
    assert "WARNING: TLS verification is off" in r.stderr


def test_self_signed_idp_refused_without_ca_file_accepted_with_it(
    tls_files: tuple[Path, Path], secret_file: Path
) -> None:
    idp = fake_idp(tls=tls_files)
    try:
        r = run_cli_inproc(*client_credentials_argv(idp.url, secret_file))
        assert r.code == EXIT_UNREACHABLE, r
        assert "CERTIFICATE_VERIFY_FAILED" in r.stderr or "certificate verify failed" in r.stderr, r.stderr
        assert idp.requests == []
        for extra in (["--ca-file", str(tls_files[0])], ["--tls-no-verify"]):
            r = run_cli_inproc(*client_credentials_argv(idp.url, secret_file, *extra))
            # TLS accepted: discovery was read and the token endpoint's OAuth error came back
            assert r.code == EXIT_ERROR and "invalid_client" in r.stderr, (extra, r)
            assert ("WARNING: --tls-no-verify" in r.stderr) == (extra == ["--tls-no-verify"]), r.stderr
        assert [q.path for q in idp.requests] == ["/.well-known/openid-configuration", "/token"] * 2
    finally:
        idp.close()


# --------------------------------------------------------------------------- no redirects on token POSTs


@pytest.mark.parametrize("status", [302, 307, 308])
def test_idp_token_post_redirect_is_not_followed(elsewhere: FakeHTTP, secret_file: Path, status: int) -> None:
    idp = fake_idp(token=lambda req, base: (status, {"Location": elsewhere.url + "/token"}, b""))
    try:
        r = run_cli_inproc(*client_credentials_argv(idp.url, secret_file))
        assert r.code == EXIT_ERROR and str(status) in r.stderr, r
        assert elsewhere.requests == []  # the client secret never went to the other origin
        assert [q.path for q in idp.requests][-1] == "/token"
    finally:
        idp.close()


@pytest.mark.parametrize("status", [307, 308])
def test_exchange_post_redirect_is_not_followed(elsewhere: FakeHTTP, tmp_path: Path, status: int) -> None:
    gw = FakeHTTP(lambda req: (status, {"Location": elsewhere.url + "/oauth/token"}, b""))
    try:
        f = tmp_path / "tok"
        f.write_text(sentinel_jwt())
        r = run_cli_inproc("auth", "-g", gw.url, "--token-file", str(f))
        assert r.code == EXIT_ERROR and "never followed" in r.stderr, r
        assert elsewhere.requests == []  # the subject token stayed with its gateway
        assert [q.path for q in gw.requests] == ["/oauth/token"]
    finally:
        gw.close()


# --------------------------------------------------------------------------- what may be opened in a browser


def _device(uri: str, complete: str | None = None) -> Callable[[Req, str], Answer]:
    def answer(req: Req, base: str) -> Answer:
        body = {"device_code": "dc", "user_code": "ABCD-EFGH", "verification_uri": uri, "interval": 1}
        if complete is not None:
            body["verification_uri_complete"] = complete
        return json_answer(body)

    return answer


def _denied(req: Req, base: str) -> Answer:
    return json_answer({"error": "access_denied", "error_description": "denied by the test"}, 400)


def _device_login(idp: FakeHTTP, record: Path, *extra: str, subprocess: bool = False) -> Captured:
    args = [
        "auth", "-g", "http://127.0.0.1:9", "--authority", idp.url, "--client-id", "c", "--grant", "device_code",
        "--no-exchange", "--browser-command", recorder_command(record, then="nothing"), *extra,
    ]  # fmt: skip
    if not subprocess:
        return run_cli_inproc(*args)
    p = run_cli(*args)
    return Captured(p.returncode, p.stdout, p.stderr)


@pytest.mark.parametrize("uri", ["file:///etc/passwd", "javascript:alert(1)", "data:text/html,<b>x</b>", "//evil/x"])
def test_device_verification_uri_that_is_not_http_is_never_opened(tmp_path: Path, uri: str) -> None:
    idp = fake_idp(device=_device(uri), token=_denied)
    record = tmp_path / "argv.json"
    try:
        r = _device_login(idp, record)
        assert r.code == EXIT_ERROR and "not an http(s) URL" in r.stderr, r
        assert uri not in r.stderr
        assert not record.exists()  # no browser was started
        assert "/token" not in idp.paths()
    finally:
        idp.close()


def test_a_non_http_complete_uri_is_dropped_and_the_plain_one_opened(tmp_path: Path) -> None:
    good = "http://127.0.0.1:9/activate"
    idp = fake_idp(device=_device(good, "javascript:alert(document.cookie)"), token=_denied)
    record = tmp_path / "argv.json"
    try:
        r = _device_login(idp, record, subprocess=True)  # a browser starts: it must outlive a subprocess
        assert r.code == EXIT_ERROR and "access_denied" in r.stderr, r
        assert json.loads(wait_for_file(record))[-1] == good
        assert "javascript:" not in r.stderr
    finally:
        idp.close()


def test_authorization_endpoint_that_is_not_http_is_never_opened(tmp_path: Path) -> None:
    def discovery(req: Req, base: str) -> Answer:
        return json_answer(
            {"issuer": base, "authorization_endpoint": "javascript:alert(1)//", "token_endpoint": base + "/token",
             "jwks_uri": base + "/jwks"}
        )  # fmt: skip

    idp = fake_idp({".well-known/openid-configuration": discovery})
    record = tmp_path / "argv.json"
    try:
        r = run_cli_inproc(
            "auth", "-g", "http://127.0.0.1:9", "--authority", idp.url, "--client-id", "c", "--port", "0",
            "--no-exchange", "--browser-command", recorder_command(record),
        )  # fmt: skip
        assert r.code == EXIT_ERROR and "authorization_endpoint" in r.stderr, r
        assert not record.exists()
    finally:
        idp.close()


def test_https_login_is_never_downgraded_to_an_http_verification_page(
    tls_files: tuple[Path, Path], tmp_path: Path
) -> None:
    """An https IdP whose device flow names an http:// verification page: refused, not opened
    (rule 9: https-only for server-supplied URLs; http is only for an http, i.e. loopback/dev, IdP).
    The fix belongs in faas_pro/oauth/device.py (parse_prompt: refuse http when the issuer is https,
    as discovery.check_endpoint already does for the discovery endpoints)."""
    idp = fake_idp(tls=tls_files, device=_device("http://phish.example/activate"), token=_denied)
    record = tmp_path / "argv.json"
    try:
        r = _device_login(idp, record, "--ca-file", str(tls_files[0]), subprocess=True)
        assert r.code == EXIT_ERROR, r
        assert "/token" not in idp.paths(), "polling started: the http page was accepted"
        assert not record.exists()
    finally:
        idp.close()
