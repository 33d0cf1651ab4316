"""namespaces / list / token / status / logout in-process, against a small real HTTP server on a free
loopback port that answers as a gateway would (the end-to-end run against `faas-pro serve` is the
lead's). Tokens are saved through the real file store."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from faas_pro.errors import EXIT_AUTH, EXIT_DENIED, EXIT_OK, EXIT_UNREACHABLE, EXIT_USAGE
from faas_pro.storage.secrets import FileSecretStore
from faas_pro.storage.settings import GatewaySettings, SettingsStore
from tests.unit.test_tokens_appendix_a import mint

DATA = Path(__file__).resolve().parents[1] / "data" / "formats"
GOOD = "good.token.sig"  # JWT-shaped: -k/FAAS_PRO_TOKEN must look like a JWT


class FakeGateway:
    def __init__(self) -> None:
        self.requests: list[tuple[str, str | None]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                auth = self.headers.get("Authorization")
                outer.requests.append((self.path, auth))
                if not auth or not auth.startswith("Bearer ") or outer.token_ok(auth[7:]) is False:
                    return self._send(401, b"unauthorized", "text/plain")
                if self.path == "/system/namespaces":
                    return self._send(200, b'["openfaas-fn","staging"]')
                if self.path == "/system/functions?namespace=staging":
                    return self._send(200, (DATA / "functions.json").read_bytes())
                if self.path.startswith("/system/functions"):
                    return self._send(403, b"Forbidden")
                return self._send(404, b"not found", "text/plain")

            def _send(self, code: int, body: bytes, ctype: str = "application/json") -> None:
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.valid_tokens: set[str] = set()
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def token_ok(self, token: str) -> bool:
        return token in self.valid_tokens


@pytest.fixture(scope="module")
def gateway() -> Iterator[FakeGateway]:
    gw = FakeGateway()
    yield gw
    gw.server.shutdown()
    gw.server.server_close()


@pytest.fixture
def gw(gateway: FakeGateway) -> FakeGateway:
    gateway.requests.clear()
    gateway.valid_tokens.clear()
    return gateway


def openfaas_token(exp_in: float = 3600, **claims: Any) -> str:
    now = int(time.time())
    payload = {
        "iss": "http://gw",
        "aud": "http://gw",
        "sub": "fed:alice",
        "fed:iss": "https://idp.example",
        "policy": ["staging-rw"],
        "iat": now,
        "exp": now + exp_in,
        **claims,
    }
    return mint({"alg": "ES256", "typ": "at+jwt", "kid": "k"}, payload, signature=b"\x01" * 64)


def save(isolated_env: Path, gateway: str, **entry: str) -> None:
    FileSecretStore(isolated_env / "data").put(gateway, entry)


def test_namespaces_with_the_saved_token(cli, gw: FakeGateway, isolated_env: Path) -> None:  # type: ignore[no-untyped-def]
    tok = openfaas_token()
    gw.valid_tokens.add(tok)
    save(isolated_env, gw.url, openfaas_token=tok)
    r = cli("namespaces", "-g", gw.url + "/")
    assert (r.code, r.stdout, r.stderr) == (EXIT_OK, (DATA / "namespaces.txt").read_text(), "")
    assert gw.requests == [("/system/namespaces", f"Bearer {tok}")]


def test_list_formats_and_alias(cli, gw: FakeGateway, isolated_env: Path) -> None:  # type: ignore[no-untyped-def]
    tok = openfaas_token()
    gw.valid_tokens.add(tok)
    save(isolated_env, gw.url, openfaas_token=tok)
    for args, file in [
        (("list", "-n", "staging"), "list.txt"),
        (("ls", "-n", "staging", "-v"), "list-verbose.txt"),
        (("list", "-n", "staging", "-q", "--sort", "creation"), "list-creation-quiet.txt"),
        (("list", "-n", "staging", "--sort", "invocations"), "list-invocations.txt"),
        (("list", "-n", "staging", "--json"), "list.json"),
    ]:
        r = cli(*args, "-g", gw.url)
        assert r.code == EXIT_OK, r
        assert r.stdout == (DATA / file).read_text(encoding="utf-8"), args


def test_forbidden_namespace_prints_the_faas_cli_line(cli, gw: FakeGateway, isolated_env: Path) -> None:  # type: ignore[no-untyped-def]
    tok = openfaas_token()
    gw.valid_tokens.add(tok)
    save(isolated_env, gw.url, openfaas_token=tok)
    r = cli("list", "-n", "openfaas-fn", "-g", gw.url)
    assert (r.code, r.stdout) == (EXIT_DENIED, "")
    assert r.stderr == "Server returned unexpected status code: 403 - Forbidden\n"


def test_no_or_expired_token_exits_3_before_any_request(cli, gw: FakeGateway, isolated_env: Path) -> None:  # type: ignore[no-untyped-def]
    r = cli("namespaces", "-g", gw.url)
    assert r.code == EXIT_AUTH
    assert r.stderr == f"not logged in to {gw.url}; run faas-pro auth -g {gw.url}\n"
    save(isolated_env, gw.url, openfaas_token=openfaas_token(exp_in=5))  # inside the 10 s skew
    r = cli("list", "-g", gw.url)
    assert r.code == EXIT_AUTH
    assert "expired" in r.stderr and f"faas-pro auth -g {gw.url}" in r.stderr
    assert gw.requests == []


def test_401_names_faas_pro_auth(cli, gw: FakeGateway, isolated_env: Path) -> None:  # type: ignore[no-untyped-def]
    save(isolated_env, gw.url, openfaas_token=openfaas_token())  # not accepted by the gateway
    r = cli("namespaces", "-g", gw.url)
    assert r.code == EXIT_AUTH
    assert r.stderr.strip().endswith(f"run faas-pro auth -g {gw.url}")


def test_explicit_token_flag_and_env(cli, gw: FakeGateway) -> None:  # type: ignore[no-untyped-def]
    gw.valid_tokens.add(GOOD)
    assert cli("namespaces", "-g", gw.url, "-k", GOOD).code == EXIT_OK
    assert cli("namespaces", "-g", gw.url, env={"FAAS_PRO_TOKEN": GOOD}).code == EXIT_OK
    assert [a for _, a in gw.requests] == [f"Bearer {GOOD}"] * 2


def test_a_token_saved_for_one_gateway_is_never_sent_to_another(cli, gw: FakeGateway, isolated_env: Path) -> None:  # type: ignore[no-untyped-def]
    save(isolated_env, "http://other.example:8080", openfaas_token=openfaas_token())
    r = cli("namespaces", "-g", gw.url)
    assert r.code == EXIT_AUTH
    assert gw.requests == []


def test_unreachable_gateway(cli, isolated_env: Path) -> None:  # type: ignore[no-untyped-def]
    import socket

    with socket.socket() as s:  # a port that was free a moment ago and has no listener
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}"
    r = cli("namespaces", "-g", url, "-k", GOOD)
    assert (r.code, r.stderr) == (EXIT_UNREACHABLE, f"Cannot connect to OpenFaaS on URL: {url}\n")


def test_bad_sort_is_a_usage_error(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("list", "--sort", "size", "-k", GOOD)
    assert r.code == EXIT_USAGE and "--sort must be one of name, invocations, creation" in r.stderr


def test_token_and_pretty(cli, isolated_env: Path) -> None:  # type: ignore[no-untyped-def]
    gw = "http://gw.example.com"
    tok = openfaas_token()
    save(isolated_env, gw, openfaas_token=tok)
    r = cli("token", "-g", gw)
    assert (r.code, r.stdout, r.stderr) == (EXIT_OK, tok + "\n", "")
    r = cli("token", "-g", gw, "--pretty")
    assert r.code == EXIT_OK and "UNVERIFIED" in r.stderr
    decoded = json.loads(r.stdout)
    assert decoded["header"]["typ"] == "at+jwt" and decoded["payload"]["sub"] == "fed:alice"
    assert cli("token", "-g", "http://nothing-saved").code == EXIT_AUTH


def test_status_text_json_and_nothing_saved(cli, isolated_env: Path) -> None:  # type: ignore[no-untyped-def]
    gw = "http://gw.example.com"
    r = cli("status", "-g", gw)
    assert r.code == EXIT_AUTH and "none saved" in r.stdout and "faas-pro auth -g http://gw.example.com" in r.stderr
    r = cli("status", "-g", gw, "--json")
    assert r.code == EXIT_AUTH and json.loads(r.stdout)["logged_in"] is False
    save(isolated_env, gw, openfaas_token=openfaas_token(), idp_refresh_token="r", idp_issuer="https://idp.example")
    r = cli("status", "-g", gw)
    assert r.code == EXIT_OK, r
    assert "Subject:  fed:alice\n" in r.stdout and "Policies: staging-rw\n" in r.stdout
    assert f"Store:    file ({isolated_env / 'data' / 'tokens.json'})\n" in r.stdout
    data = json.loads(cli("status", "-g", gw, "--json").stdout)
    assert set(data) == {
        "version",
        "gateway",
        "store",
        "logged_in",
        "subject",
        "issuer",
        "idp_issuer",
        "policies",
        "expires_at",
        "expires_in",
        "expired",
        "refresh_token",
    }
    assert (data["version"], data["subject"], data["issuer"], data["policies"], data["expired"]) == (
        1,
        "fed:alice",
        "https://idp.example",
        ["staging-rw"],
        False,
    )
    assert "r" not in data.values() and openfaas_token() not in r.stdout


def test_logout_keeps_settings_unless_forget(cli, isolated_env: Path) -> None:  # type: ignore[no-untyped-def]
    a, b = "http://a.example", "http://b.example"
    settings = SettingsStore(isolated_env / "config")
    for gw in (a, b):
        save(isolated_env, gw, openfaas_token=openfaas_token())
        settings.put(gw, GatewaySettings(client_id="faas-cli"))
    r = cli("logout", "-g", a)
    assert (r.code, r.stderr) == (EXIT_OK, f"Logged out of {a}\n")
    assert FileSecretStore(isolated_env / "data").get(a) is None
    assert settings.get(a) is not None
    r = cli("logout", "-g", a)
    assert r.stderr == f"No token saved for {a}\n"
    r = cli("logout", "--all", "--forget", "-g", a)
    assert r.code == EXIT_OK and f"Logged out of {b}\n" in r.stderr
    assert FileSecretStore(isolated_env / "data").gateways() == []
    assert settings.gateways() == []
