"""Several gateways: `faas-pro use URL` sets the default (resolution: -g → OPENFAAS_URL → the `use`
default → http://127.0.0.1:8080), `faas-pro use` prints it, `status --all` lists every gateway."""

from __future__ import annotations

import json
from pathlib import Path

from faas_pro.errors import EXIT_AUTH, EXIT_OK
from faas_pro.storage.settings import GatewaySettings, SettingsStore
from tests.support.fakegateway import FakeGateway, openfaas_token, save

STAGING, PROD = "https://staging.example", "https://prod.example"


def test_use_sets_the_default_and_flags_and_env_still_win(cli, isolated_env: Path, gw: FakeGateway) -> None:
    r = cli("use")
    assert (r.code, r.stdout) == (EXIT_OK, "http://127.0.0.1:8080\n")
    assert "built-in default" in r.stderr
    r = cli("use", STAGING)
    hint = f"No login is saved for it yet: run faas-pro auth -g {STAGING}"
    assert (r.code, r.stderr) == (EXIT_OK, f"Default gateway: {STAGING}\n{hint}\n")
    tok = openfaas_token()
    gw.valid_tokens.add(tok)
    save(isolated_env, gw.url, openfaas_token=tok)
    r = cli("use", gw.url + "/")
    assert (r.code, r.stderr) == (EXIT_OK, f"Default gateway: {gw.url}\n")
    assert SettingsStore(isolated_env / "config").default_gateway() == gw.url
    assert cli("use").stdout == gw.url + "\n"
    r = cli("namespaces")  # no -g, no OPENFAAS_URL: the default
    assert r.code == EXIT_OK and gw.requests[-1][0] == "/system/namespaces"
    n = len(gw.requests)
    r = cli("namespaces", env={"OPENFAAS_URL": "http://127.0.0.1:9"})  # the environment wins
    assert r.code != EXIT_OK and len(gw.requests) == n and "127.0.0.1:9" in r.stderr
    r = cli("status", "-g", STAGING)  # and -g wins over both
    assert r.code == EXIT_AUTH and STAGING in r.stdout
    r = cli("use", env={"OPENFAAS_URL": STAGING})
    assert r.stdout == STAGING + "\n" and "OPENFAAS_URL" in r.stderr
    r = cli("use", "--clear")
    assert r.code == EXIT_OK and SettingsStore(isolated_env / "config").default_gateway() is None


def test_use_keeps_the_other_settings(cli, isolated_env: Path) -> None:
    settings = SettingsStore(isolated_env / "config")
    settings.put(PROD, GatewaySettings(client_id="faas-cli", authority="https://idp.example"))
    assert cli("use", PROD).code == EXIT_OK
    assert settings.get(PROD) == GatewaySettings(client_id="faas-cli", authority="https://idp.example")
    doc = json.loads((isolated_env / "config" / "settings.json").read_text())
    assert doc["default_gateway"] == PROD and doc["version"] == 1
    assert cli("logout", "-g", PROD, "--forget").code == EXIT_OK  # forgetting it forgets the default
    assert settings.default_gateway() is None


def test_status_all_lists_every_gateway_one_line_each(cli, isolated_env: Path) -> None:
    save(isolated_env, STAGING, openfaas_token=openfaas_token(exp_in=3600))
    save(isolated_env, PROD, openfaas_token=openfaas_token(exp_in=-60, sub="fed:bob"))
    SettingsStore(isolated_env / "config").put("http://dev.example:8080", GatewaySettings(client_id="x"))
    cli("use", STAGING)
    r = cli("status", "--all")
    assert r.code == EXIT_OK, r
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["GATEWAY", "IDENTITY", "ISSUER", "EXPIRES", "STORE"]
    store = f"file ({isolated_env / 'data' / 'tokens.json'})"
    dev, prod, staging = lines[1:]
    assert dev.split()[:2] == ["http://dev.example:8080", "(not"] and dev.endswith(store)
    assert prod.split()[:4] == [PROD, "fed:bob", "https://idp.example", prod.split()[3]]
    assert "(expired)" in prod
    assert staging.startswith("*  " + STAGING) and "fed:alice" in staging and "(in 59m" in staging
    doc = json.loads(cli("status", "--all", "--json").stdout)
    assert doc["version"] == 1 and doc["default_gateway"] == STAGING
    assert [g["gateway"] for g in doc["gateways"]] == ["http://dev.example:8080", PROD, STAGING]
    assert doc["gateways"][1]["expired"] is True and doc["gateways"][2]["subject"] == "fed:alice"
    assert all(g["store"] == store for g in doc["gateways"])
    assert openfaas_token() not in r.stdout


def test_status_all_with_nothing_saved(cli) -> None:
    r = cli("status", "--all")
    assert (r.code, r.stdout) == (EXIT_OK, "")
    assert "No gateway saved yet" in r.stderr
