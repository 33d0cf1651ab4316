"""namespaces / list / token / status / logout in-process, against a small real HTTP server on a free
loopback port that answers as a gateway would (tests/support/fakegateway.py; the end-to-end run
against `faas-pro serve` is the lead's). Tokens are saved through the real file store."""

from __future__ import annotations

import json
from pathlib import Path

from faas_pro.errors import EXIT_AUTH, EXIT_DENIED, EXIT_OK, EXIT_UNREACHABLE, EXIT_USAGE
from faas_pro.storage.secrets import FileSecretStore
from faas_pro.storage.settings import GatewaySettings, SettingsStore
from tests.support.fakegateway import FakeGateway, openfaas_token, save

DATA = Path(__file__).resolve().parents[1] / "data" / "formats"
GOOD = "good.token.sig"  # JWT-shaped: -k/FAAS_PRO_TOKEN must look like a JWT


def test_namespaces_with_the_saved_token(cli, gw: FakeGateway, isolated_env: Path) -> None:
    tok = openfaas_token()
    gw.valid_tokens.add(tok)
    save(isolated_env, gw.url, openfaas_token=tok)
    r = cli("namespaces", "-g", gw.url + "/")
    assert (r.code, r.stdout, r.stderr) == (EXIT_OK, (DATA / "namespaces.txt").read_text(), "")
    assert gw.requests == [("/system/namespaces", f"Bearer {tok}")]


def test_list_formats_and_alias(cli, gw: FakeGateway, isolated_env: Path) -> None:
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


def test_forbidden_namespace_prints_the_faas_cli_line(cli, gw: FakeGateway, isolated_env: Path) -> None:
    tok = openfaas_token()
    gw.valid_tokens.add(tok)
    save(isolated_env, gw.url, openfaas_token=tok)
    r = cli("list", "-n", "openfaas-fn", "-g", gw.url)
    assert (r.code, r.stdout) == (EXIT_DENIED, "")
    assert r.stderr == "Server returned unexpected status code: 403 - Forbidden\n"


def test_no_or_expired_token_exits_3_before_any_request(cli, gw: FakeGateway, isolated_env: Path) -> None:
    r = cli("namespaces", "-g", gw.url)
    assert r.code == EXIT_AUTH
    assert r.stderr == f"not logged in to {gw.url}; run faas-pro auth -g {gw.url}\n"
    save(isolated_env, gw.url, openfaas_token=openfaas_token(exp_in=5))  # inside the 10 s skew
    r = cli("list", "-g", gw.url)
    assert r.code == EXIT_AUTH
    assert "expired" in r.stderr and f"faas-pro auth -g {gw.url}" in r.stderr
    assert gw.requests == []


def test_401_names_faas_pro_auth(cli, gw: FakeGateway, isolated_env: Path) -> None:
    save(isolated_env, gw.url, openfaas_token=openfaas_token())  # not accepted by the gateway
    r = cli("namespaces", "-g", gw.url)
    assert r.code == EXIT_AUTH
    assert r.stderr.strip().endswith(f"run faas-pro auth -g {gw.url}")


def test_explicit_token_flag_and_env(cli, gw: FakeGateway) -> None:
    gw.valid_tokens.add(GOOD)
    assert cli("namespaces", "-g", gw.url, "-k", GOOD).code == EXIT_OK
    assert cli("namespaces", "-g", gw.url, env={"FAAS_PRO_TOKEN": GOOD}).code == EXIT_OK
    assert [a for _, a in gw.requests] == [f"Bearer {GOOD}"] * 2


def test_a_token_saved_for_one_gateway_is_never_sent_to_another(cli, gw: FakeGateway, isolated_env: Path) -> None:
    save(isolated_env, "http://other.example:8080", openfaas_token=openfaas_token())
    r = cli("namespaces", "-g", gw.url)
    assert r.code == EXIT_AUTH
    assert gw.requests == []


def test_unreachable_gateway(cli, isolated_env: Path) -> None:
    import socket

    with socket.socket() as s:  # a port that was free a moment ago and has no listener
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}"
    r = cli("namespaces", "-g", url, "-k", GOOD)
    assert (r.code, r.stderr) == (EXIT_UNREACHABLE, f"Cannot connect to OpenFaaS on URL: {url}\n")


def test_bad_sort_is_a_usage_error(cli) -> None:
    r = cli("list", "--sort", "size", "-k", GOOD)
    assert r.code == EXIT_USAGE and "--sort must be one of name, invocations, creation" in r.stderr


def test_token_and_pretty(cli, isolated_env: Path) -> None:
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


def test_status_text_json_and_nothing_saved(cli, isolated_env: Path) -> None:
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


def test_logout_keeps_settings_unless_forget(cli, isolated_env: Path) -> None:
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
