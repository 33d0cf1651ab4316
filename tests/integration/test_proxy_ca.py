"""Corporate networks with real parts: a real forward proxy process (Debian's tinyproxy, its log
read back to see what went through it) and a private CA from the environment (SSL_CERT_FILE,
REQUESTS_CA_BUNDLE) for an https gateway and IdP. Loopback never goes through the proxy; a proxy
that refuses and a CA file that does not parse are one line naming them."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from faas_pro.errors import EXIT_ERROR, EXIT_OK, EXIT_UNREACHABLE
from tests.support.chromium import free_port
from tests.support.fakehttp import FakeHTTP, json_answer
from tests.support.hostile import client_credentials_argv, fake_idp, run_cli_inproc, sentinel_jwt
from tests.support.idp import IdP
from tests.support.inproc import run_cli
from tests.support.tls import self_signed_cert

TINYPROXY = shutil.which("tinyproxy") or "/usr/bin/tinyproxy"
# scripts/test installs Debian's tinyproxy: a missing one fails here rather than hiding the install step


@dataclass
class Proxy:
    url: str
    log: Path

    def requests(self) -> list[str]:
        """The request lines tinyproxy logged (``GET http://…``, ``CONNECT host:443``)."""
        text = self.log.read_text() if self.log.exists() else ""
        return [ln.split("): ", 1)[1] for ln in text.splitlines() if "Request (file descriptor" in ln]


@pytest.fixture
def proxy(tmp_path: Path) -> Iterator[Proxy]:
    port = free_port()
    log = tmp_path / "tinyproxy.log"
    conf = tmp_path / "tinyproxy.conf"
    conf.write_text(
        f'Port {port}\nListen 127.0.0.1\nTimeout 10\nLogFile "{log}"\nLogLevel Info\nMaxClients 20\nAllow 127.0.0.1\n'
    )
    proc = subprocess.Popen([TINYPROXY, "-d", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        end = time.monotonic() + 10
        while "Accepting connections" not in (log.read_text() if log.exists() else ""):
            assert proc.poll() is None and time.monotonic() < end, "tinyproxy did not start"
            time.sleep(0.05)
        yield Proxy(f"http://127.0.0.1:{port}", log)
    finally:
        proc.terminate()
        proc.wait(10)


def proxy_env(url: str, *, lower: bool = False) -> dict[str, str]:
    names = ("https_proxy", "http_proxy") if lower else ("HTTPS_PROXY", "HTTP_PROXY")
    return {names[0]: url, names[1]: url, "NO_PROXY": "", "no_proxy": ""}


def test_a_loopback_idp_and_gateway_bypass_the_proxy(idp: IdP, proxy: Proxy, tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("faas-svc-secret")
    argv = ["auth", "--authority", idp.issuer, "--client-id", "faas-svc", "--client-secret-file", str(secret)]
    r = run_cli(*argv, "--grant", "client_credentials", "--no-exchange", "--print-token", env=proxy_env(proxy.url))
    assert r.returncode == EXIT_OK, r.stderr
    gw = FakeHTTP(lambda req: json_answer(["staging"]))
    try:
        for host in ("127.0.0.1", "localhost"):
            url = gw.url.replace("127.0.0.1", host)
            r2 = run_cli_inproc("namespaces", "-g", url, "-k", sentinel_jwt(), env=proxy_env(proxy.url))
            assert r2.code == EXIT_OK, (host, r2)
        # all of 127.0.0.0/8 is loopback (nobody listens on 127.0.0.2 here: a direct refusal)
        r3 = run_cli_inproc("namespaces", "-g", gw.url.replace("127.0.0.1", "127.0.0.2"), "-k", sentinel_jwt(),
                            env=proxy_env(proxy.url))  # fmt: skip
        assert r3.code == EXIT_UNREACHABLE and "proxy" not in r3.stderr
    finally:
        gw.close()
    assert proxy.requests() == []  # discovery, keys, token and the gateway: all direct


@pytest.mark.parametrize("lower", [False, True])
def test_a_remote_gateway_goes_through_the_proxy(proxy: Proxy, lower: bool) -> None:
    env = proxy_env(proxy.url, lower=lower)
    r = run_cli_inproc("namespaces", "-g", "https://gateway.invalid", "-k", sentinel_jwt(), env=env)
    assert proxy.requests() == ["CONNECT gateway.invalid:443 HTTP/1.1"]
    assert r.code == EXIT_UNREACHABLE and r.stdout == ""
    line = r.stderr.strip()
    assert "\n" not in line and "https://gateway.invalid" in line
    var = "https_proxy" if lower else "HTTPS_PROXY"
    assert f"through the proxy {proxy.url} (from {var})" in line


def test_no_proxy_sends_a_remote_host_directly(proxy: Proxy) -> None:
    env = {**proxy_env(proxy.url), "NO_PROXY": "localhost,.invalid"}
    r = run_cli_inproc("namespaces", "-g", "https://gateway.invalid", "-k", sentinel_jwt(), env=env)
    assert r.code == EXIT_UNREACHABLE
    assert proxy.requests() == [] and "proxy" not in r.stderr


def test_a_proxy_that_refuses_is_named() -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    r = run_cli_inproc("namespaces", "-g", "https://gateway.invalid", "-k", sentinel_jwt(), env=proxy_env(dead))
    assert r.code == EXIT_UNREACHABLE
    assert f"through the proxy {dead} (from HTTPS_PROXY)" in r.stderr and r.stderr.count("\n") == 1
    assert "Traceback" not in r.stderr and "SENTINEL" not in r.stderr


def test_proxy_credentials_are_not_shown(proxy: Proxy) -> None:
    with_creds = proxy.url.replace("http://", "http://user:pa55word@")
    r = run_cli_inproc("namespaces", "-g", "https://gateway.invalid", "-k", sentinel_jwt(), env=proxy_env(with_creds))
    assert r.code == EXIT_UNREACHABLE and f"through the proxy {proxy.url} " in r.stderr
    assert "pa55word" not in r.stderr


# --------------------------------------------------------------------------- private CA from the environment


def only(var: str, value: str) -> dict[str, str]:
    """``var`` set, the CA settings that come before it unset (the machine may set them all)."""
    return {"SSL_CERT_FILE": "", "REQUESTS_CA_BUNDLE": "", var: value}


@pytest.fixture(scope="module")
def private_ca(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return self_signed_cert(tmp_path_factory.mktemp("ca"))


@pytest.fixture(scope="module")
def https_gateway(private_ca: tuple[Path, Path]) -> Iterator[FakeHTTP]:
    f = FakeHTTP(lambda req: json_answer(["staging"]), tls=private_ca)
    yield f
    f.close()


@pytest.mark.parametrize("var", ["SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"])
def test_private_ca_from_the_environment_for_the_gateway(
    https_gateway: FakeHTTP, private_ca: tuple[Path, Path], var: str
) -> None:
    token = sentinel_jwt()
    r = run_cli_inproc("namespaces", "-g", https_gateway.url, "-k", token, env=only(var, ""))
    assert r.code == EXIT_UNREACHABLE and "not trusted" in r.stderr, r
    r = run_cli_inproc("namespaces", "-g", https_gateway.url, "-k", token, env=only(var, str(private_ca[0])))
    assert (r.code, r.stdout) == (EXIT_OK, "Namespaces:\n - staging\n"), r


def test_private_ca_from_the_environment_for_the_idp(private_ca: tuple[Path, Path], tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("s3cret-value")
    idp = fake_idp(tls=private_ca)
    try:
        r = run_cli_inproc(*client_credentials_argv(idp.url, secret), env={"SSL_CERT_FILE": str(private_ca[0])})
        assert r.code == EXIT_ERROR and "invalid_client" in r.stderr, r  # TLS accepted, then the IdP's answer
        assert [q.path for q in idp.requests] == ["/.well-known/openid-configuration", "/token"]
    finally:
        idp.close()


@pytest.mark.parametrize("var", ["SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"])
def test_a_ca_file_that_does_not_parse_is_named(https_gateway: FakeHTTP, tmp_path: Path, var: str) -> None:
    bad = tmp_path / "corp-ca.pem"
    bad.write_text("-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n")
    before = len(https_gateway.requests)
    r = run_cli_inproc("namespaces", "-g", https_gateway.url, "-k", sentinel_jwt(), env=only(var, str(bad)))
    assert r.code == EXIT_ERROR and r.stderr == (
        f"the CA file {bad} (from {var}) cannot be read as PEM certificates; point {var} at a PEM bundle, or unset it\n"
    )
    assert len(https_gateway.requests) == before  # nothing was sent


def test_a_remote_plain_http_gateway_goes_through_the_proxy(proxy: Proxy) -> None:
    env = {**proxy_env(proxy.url), "FAAS_PRO_INSECURE_HTTP": "1"}
    r = run_cli_inproc("namespaces", "-g", "http://gateway.invalid", "-k", sentinel_jwt(), env=env)
    assert proxy.requests() == ["GET http://gateway.invalid/system/namespaces HTTP/1.1"]
    assert r.code != EXIT_OK and "http://gateway.invalid" in r.stderr.splitlines()[-1]
