"""The GitHub Actions path end to end: a local endpoint that behaves like the Actions token service
(checks the bearer request token and ``audience``) hands out tokens minted by a SECOND test IdP
acting as the CI issuer (its client_credentials token with ``resource=<gateway>``, so ``aud`` is
the gateway); the token is exchanged at a real ``faas-pro serve``. The library functions are tested
directly, and ``faas-pro auth --ci github|auto`` as a subprocess."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from faas_pro.errors import EXIT_OK, FaasProError
from faas_pro.oauth.federation import github_actions_token, read_subject_token
from faas_pro.tokens import VerifyOptions, decode_unverified, jwks_lookup, verify
from tests.support.authcli import saved_tokens, verify_jwt
from tests.support.fakehttp import Answer, FakeHTTP, Req, json_answer
from tests.support.gateway import Server, issuer_yaml, policy_yaml, role_yaml, start_gateway
from tests.support.idp import IdP, start_idp
from tests.support.inproc import run_cli
from tests.support.issuer import exchange

GATEWAY = "http://gateway.test"  # the gateway's public URL: the audience CI tokens must carry
REQUEST_TOKEN = "actions-request-token-SENTINEL"


@pytest.fixture(scope="module")
def ci_idp() -> Iterator[IdP]:
    """The CI platform's OIDC issuer (a second, independent provider)."""
    with start_idp() as p:
        yield p


@pytest.fixture(scope="module")
def gateway(ci_idp: IdP, gateway_key: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    objects = (
        issuer_yaml("ci", ci_idp.issuer, [GATEWAY], "30m")
        + policy_yaml("ci-deployer", ["Function:List", "Namespace:List"], ["staging:*"])
        + role_yaml("ci-job", ["ci-deployer"], principal=["faas-svc"])
    )
    with start_gateway(tmp_path_factory.mktemp("gw"), objects, issuer_url=GATEWAY, key=gateway_key) as s:
        yield s


def actions_service(server: FakeHTTP, ci_idp: IdP) -> dict[str, str]:
    """Behave like the Actions token service; return the job's environment pointing at it."""

    def answer(req: Req) -> Answer:
        if req.headers.get("authorization") != f"Bearer {REQUEST_TOKEN}":
            return json_answer({"message": "Bad credentials"}, 401)
        if req.query.get("api-version") != ["2.0"] or len(req.query.get("audience", [])) != 1:
            return json_answer({"message": "audience and api-version required"}, 400)
        return json_answer({"count": 1, "value": ci_idp.client_credentials_token(resource=req.query["audience"][0])})

    server.on("/_apis/distributedtask/token", answer)
    return {
        "GITHUB_ACTIONS": "true",
        "ACTIONS_ID_TOKEN_REQUEST_URL": f"{server.url}/_apis/distributedtask/token?api-version=2.0",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN": REQUEST_TOKEN,
    }


def test_github_token_has_the_gateway_audience_and_is_exchanged(server: FakeHTTP, ci_idp: IdP, gateway: Server) -> None:
    env = actions_service(server, ci_idp)
    with httpx.Client(timeout=10) as http:
        token = github_actions_token(http, env, GATEWAY)
    claims = verify(
        token, jwks_lookup(ci_idp.jwks()), VerifyOptions(issuer=ci_idp.issuer, audiences=(GATEWAY,)), time.time()
    )
    assert claims["aud"] == GATEWAY and claims["sub"] == "faas-svc"

    r = exchange(gateway.url, token)
    assert r.status_code == 200, r.text
    _, gw_claims = decode_unverified(r.json()["access_token"])
    assert gw_claims["sub"] == "fed:faas-svc"
    assert gw_claims["fed:iss"] == ci_idp.issuer
    assert gw_claims["policy"] == ["ci-deployer"]


def test_a_token_for_another_audience_is_refused_by_the_gateway(server: FakeHTTP, ci_idp: IdP, gateway: Server) -> None:
    env = actions_service(server, ci_idp)
    with httpx.Client(timeout=10) as http:
        token = github_actions_token(http, env, "https://other-gateway.example")
    assert decode_unverified(token)[1]["aud"] == "https://other-gateway.example"
    r = exchange(gateway.url, token)
    assert r.status_code == 400
    assert r.json() == {"error": "invalid_request", "error_description": "audience not accepted"}


def test_a_saved_ci_token_goes_through_read_subject_token(
    server: FakeHTTP, ci_idp: IdP, gateway: Server, tmp_path: Path
) -> None:
    env = actions_service(server, ci_idp)
    with httpx.Client(timeout=10) as http:
        f = tmp_path / "ci.jwt"
        f.write_text(github_actions_token(http, env, GATEWAY) + "\n")
    token = read_subject_token(token=None, token_file=str(f), token_env=None, env={}, now=time.time())
    assert exchange(gateway.url, token).status_code == 200
    with pytest.raises(FaasProError, match="expired"):
        read_subject_token(token=None, token_file=str(f), token_env=None, env={}, now=time.time() + 3600)


def test_wrong_request_token_names_the_service_and_hides_the_token(server: FakeHTTP, ci_idp: IdP) -> None:
    env = {**actions_service(server, ci_idp), "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "stale-token-SENTINEL"}
    with httpx.Client(timeout=10) as http, pytest.raises(FaasProError) as e:
        github_actions_token(http, env, GATEWAY)
    line = e.value.line()
    assert "(ACTIONS_ID_TOKEN_REQUEST_URL) answered HTTP 401: Bad credentials" in line
    assert "id-token: write" in line
    assert "SENTINEL" not in line


def gateway_claims(gateway: Server, token: str) -> dict[str, Any]:
    jwks = httpx.get(gateway.url + "/.well-known/jwks.json", timeout=10).json()
    return verify_jwt(token, jwks, issuer=GATEWAY, audience=GATEWAY, alg="ES256")


@pytest.mark.parametrize("ci", ["github", "auto"])
def test_auth_ci_through_the_cli_saves_the_gateway_token(
    ci: str, server: FakeHTTP, ci_idp: IdP, gateway: Server
) -> None:
    env = actions_service(server, ci_idp)
    if ci == "github":
        del env["GITHUB_ACTIONS"]  # --ci github needs only the two ACTIONS_ID_TOKEN_REQUEST_ variables
    r = run_cli("auth", "-g", gateway.url, "--ci", ci, "--audience", GATEWAY, "--faas-cli-config", env=env)
    assert r.returncode == EXIT_OK, r.stderr
    assert r.stdout == ""  # no --print-token
    assert REQUEST_TOKEN not in r.stderr
    hits = server.hits("/_apis/distributedtask/token")
    assert [h.query["audience"] for h in hits] == [[GATEWAY]]
    assert hits[0].headers["authorization"] == f"Bearer {REQUEST_TOKEN}"

    saved = saved_tokens()[gateway.url]
    assert set(saved) == {"openfaas_token"}  # nothing of the CI job's own token is kept
    claims = gateway_claims(gateway, saved["openfaas_token"])
    assert claims["sub"] == "fed:faas-svc" and claims["fed:iss"] == ci_idp.issuer
    assert claims["policy"] == ["ci-deployer"]
    assert "OpenFaaS token for fed:faas-svc: policies ci-deployer; expires " in r.stderr

    # OPENFAAS_CONFIG is unset: faas-cli's default ~/.openfaas/config.yml (HOME is the test's own)
    path = Path.home() / ".openfaas" / "config.yml"
    assert f"into faas-cli's config {path}" in r.stderr
    doc = yaml.safe_load(path.read_text())
    assert doc == {"auths": [{"gateway": gateway.url, "auth": "oauth2", "token": saved["openfaas_token"]}]}
