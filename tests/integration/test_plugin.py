"""Issue 15 end to end: faas-pro as a faas-cli plugin, with the test IdP and a real `faas-pro serve`.

faas-cli is not on this machine, so its side of the contract is played here:

- ``faas-cli pro ARGS`` replaces faas-cli with ``$HOME/.openfaas/plugins/pro`` and passes ARGS and the
  environment on: the installed shim is run as a subprocess with faas-cli's arguments, from another
  directory, with a bare environment (HOME, PATH without the virtualenv, the test's config/data
  directories; ``BROWSER`` plays the user's browser, tests/support/http_browser.py);
- plain ``faas-cli namespaces`` / ``faas-cli list`` read ``$HOME/.openfaas/config.yml``, pick the
  ``auths`` entry whose ``gateway`` equals the gateway URL after faas-cli's normalisation (its
  ``getGatewayURL``: lower-cased, trailing ``/`` trimmed, ``http://`` added when missing), and with
  ``auth: oauth2`` send ``Authorization: Bearer <token>``: done here with httpx.

``--port 0`` is the one argument a user would not type: the callback port is free, so that parallel
runs on one machine do not collide on the default 31111.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from faas_pro.errors import EXIT_OK
from tests.support.authcli import HTTP_BROWSER, saved_settings, saved_tokens
from tests.support.gateway import Server, issuer_yaml, policy_yaml, role_yaml, start_gateway
from tests.support.idp import IdP
from tests.support.inproc import run_inproc
from tests.support.issuer import bearer, exchange

GW_ISSUER = "http://gateway-plugin.test"
FUNCTIONS = [("staging", "hello"), ("staging", "nodeinfo"), ("openfaas-fn", "figlet")]


@pytest.fixture(scope="module")
def gw(idp: IdP, gateway_key: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The seed's gateway: alice gets staging-rw; three functions, two in staging, one in openfaas-fn."""
    objects = (
        issuer_yaml("idp", idp.issuer, ["faas-gateway"], "30m")
        + policy_yaml("staging-rw", ["Function:*", "Namespace:List"], ["staging:*"])
        + policy_yaml("admin", ["*"], ["*"])
        + role_yaml("alice", ["staging-rw"], principal=["user-alice"])
        + role_yaml("svc", ["admin"], principal=["faas-svc"])
    )
    root = tmp_path_factory.mktemp("gw")
    with start_gateway(root, objects, "--namespace", "staging", issuer_url=GW_ISSUER, key=gateway_key) as s:
        r = exchange(s.url, idp.client_credentials_token())
        assert r.status_code == 200, r.text
        admin = bearer(r.json()["access_token"])
        for ns, name in FUNCTIONS:
            body = {"service": name, "image": f"ghcr.io/acme/{name}:1", "namespace": ns}
            created = httpx.post(s.url + "/system/functions", json=body, headers=admin, timeout=10)
            assert created.status_code == 202, created.text
        yield s


def faas_cli_env(**extra: str) -> dict[str, str]:
    """The environment faas-cli passes on from a plain shell (no virtualenv, no PYTHONPATH)."""
    keep = ("HOME", "FAAS_PRO_CONFIG_DIR", "FAAS_PRO_DATA_DIR", "FAAS_PRO_TOKEN_STORE", "NO_PROXY")
    return {"PATH": "/usr/bin:/bin", "BROWSER": HTTP_BROWSER, **{k: os.environ[k] for k in keep}, **extra}


def faas_cli_pro(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``faas-cli pro ARGS``: faas-cli execs the plugin file with ARGS."""
    plugin = Path(os.environ["HOME"]) / ".openfaas" / "plugins" / "pro"
    return subprocess.run(
        [str(plugin), *args], cwd=cwd, env=env or faas_cli_env(), capture_output=True, text=True, timeout=120
    )


def faas_cli_gateway(url: str) -> str:
    """faas-cli's getGatewayURL normalisation."""
    url = url.rstrip("/").lower()
    return url if url.startswith("http") else f"http://{url}"


def faas_cli_auth(gateway: str) -> dict[str, Any]:
    """The config.yml entry faas-cli would use for ``gateway`` (its LookupAuthConfig: an exact match)."""
    path = Path(os.environ["HOME"]) / ".openfaas" / "config.yml"
    doc = yaml.safe_load(path.read_text())
    wanted = faas_cli_gateway(gateway)
    matches = [a for a in doc["auths"] if a["gateway"] == wanted]
    assert len(matches) == 1, doc
    return matches[0]  # type: ignore[no-any-return]


def faas_cli_get(gateway: str, path: str) -> httpx.Response:
    """A request as faas-cli sends it with an ``auth: oauth2`` entry."""
    entry = faas_cli_auth(gateway)
    assert entry["auth"] == "oauth2" and entry["token"], entry
    return httpx.get(faas_cli_gateway(gateway) + path, headers=bearer(entry["token"]), timeout=10)


def test_faas_cli_pro_auth_logs_in_and_plain_faas_cli_uses_the_token(idp: IdP, gw: Server, tmp_path: Path) -> None:
    assert run_inproc("plugin", "install").code == EXIT_OK
    cwd = tmp_path / "project"
    cwd.mkdir()
    typed = gw.url + "/"  # as a user may type it: faas-cli and faas-pro both trim the slash

    login = faas_cli_pro(
        "auth", "--authority", idp.issuer, "--client-id", "faas-cli", "-g", typed, "--port", "0", cwd=cwd
    )
    assert login.returncode == EXIT_OK, login.stderr
    assert "Traceback" not in login.stderr and login.stdout == ""
    config = Path(os.environ["HOME"]) / ".openfaas" / "config.yml"
    assert f"Wrote the token for {gw.url} into faas-cli's config {config}." in login.stderr
    assert "policies staging-rw" in login.stderr
    # plugin mode wrote faas-cli's config without a flag, and did not turn that into a saved choice
    assert "faas_cli_config" not in saved_settings()["gateways"][gw.url]

    token = faas_cli_auth(typed)["token"]
    assert token == saved_tokens()[gw.url]["openfaas_token"]
    # faas-cli namespaces
    ns = faas_cli_get(typed, "/system/namespaces")
    assert ns.status_code == 200 and ns.json() == ["staging"], ns.text
    # faas-cli list --namespace staging
    staging = faas_cli_get(typed, "/system/functions?namespace=staging")
    assert staging.status_code == 200 and sorted(f["name"] for f in staging.json()) == ["hello", "nodeinfo"]
    # faas-cli list --namespace openfaas-fn: alice may not; faas-cli prints
    # "Server returned unexpected status code: 403 - <body>" (docs/quickstart.md shows the line)
    denied = faas_cli_get(typed, "/system/functions?namespace=openfaas-fn")
    assert denied.status_code == 403 and denied.text.rstrip("\n") == "Unauthorized"

    # every faas-pro command works as `faas-cli pro …`
    printed = faas_cli_pro("token", "-g", typed, cwd=cwd)
    assert printed.returncode == EXIT_OK and printed.stdout.strip() == token
    status = faas_cli_pro("status", "-g", typed, cwd=cwd)
    assert status.returncode == EXIT_OK and "fed:user-alice" in status.stdout, status.stderr
    listed = faas_cli_pro("namespaces", "-g", typed, cwd=cwd)
    assert listed.returncode == EXIT_OK and "staging" in listed.stdout, listed.stderr

    # re-authenticating is `faas-cli pro auth` with no other flag (the gateway from OPENFAAS_URL)
    again = faas_cli_pro("auth", cwd=cwd, env=faas_cli_env(OPENFAAS_URL=typed))
    assert again.returncode == EXIT_OK, again.stderr
    renewed = faas_cli_auth(typed)["token"]
    assert renewed != token and renewed == saved_tokens()[gw.url]["openfaas_token"]
    assert faas_cli_get(typed, "/system/namespaces").json() == ["staging"]

    out = faas_cli_pro("logout", "-g", typed, cwd=cwd)
    assert out.returncode == EXIT_OK, out.stderr
    assert gw.url not in saved_tokens()


def test_no_faas_cli_config_still_opts_out_in_plugin_mode(idp: IdP, gw: Server, tmp_path: Path) -> None:
    assert run_inproc("plugin", "install").code == EXIT_OK
    args = ("auth", "--authority", idp.issuer, "--client-id", "faas-cli", "-g", gw.url, "--port", "0")
    login = faas_cli_pro(*args, "--no-faas-cli-config", cwd=tmp_path)
    assert login.returncode == EXIT_OK, login.stderr
    assert "faas-cli's config" not in login.stderr
    assert not (Path(os.environ["HOME"]) / ".openfaas" / "config.yml").exists()
    assert saved_tokens()[gw.url]["openfaas_token"]
