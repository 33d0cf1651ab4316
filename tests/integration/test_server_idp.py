"""The gateway against the real test OpenID provider: exchanges for several users and the service
client, Roles by principal, by condition and by group list, and the seed walkthrough."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from tests.support.gateway import Server, issuer_yaml, policy_yaml, role_yaml, start_gateway
from tests.support.idp import IdP
from tests.support.issuer import bearer, exchange, user_token

GATEWAY = "http://gateway.test"
OTHER_AUD = "https://other.example/api"


@pytest.fixture(scope="module")
def gw(idp: IdP, tmp_path_factory: pytest.TempPathFactory, gateway_key: Path) -> Iterator[Server]:
    d = tmp_path_factory.mktemp("idp-gw")
    objects = {
        "issuer.yaml": issuer_yaml("test-idp", idp.issuer, ["faas-gateway", OTHER_AUD], "30m"),
        "policies.yaml": policy_yaml("admin", ["*"], ["*"])
        + policy_yaml("fn-read", ["Function:List", "Function:Get", "Namespace:List"], ["openfaas-fn:*"])
        + policy_yaml("staging-rw", ["Function:*", "Namespace:List"], ["staging:*"]),
        "roles.yaml": role_yaml(
            "admins", ["admin"], condition={"ForAnyValue:StringEqual": {"jwt:groups": ["faas-admins"]}}
        )
        + role_yaml("bob-by-email", ["fn-read"], condition={"StringEqual": {"jwt:email": ["bob@example.test"]}})
        + role_yaml("carol", ["staging-rw"], principal=["user-carol"])
        + role_yaml(
            "svc", ["fn-read"], principal=["faas-svc"], condition={"StringEqual": {"jwt:aud": ["faas-gateway"]}}
        ),
    }
    with start_gateway(d, objects, "--namespace", "staging", issuer_url=GATEWAY, key=gateway_key) as s:
        yield s


@pytest.fixture(scope="module")
def tokens(idp: IdP) -> dict[str, str]:
    return {u: user_token(idp, u) for u in ("alice", "bob", "carol")}


def _ok(gw: Server, subject: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    r = exchange(gw.url, subject)
    assert r.status_code == 200, r.text
    body = r.json()
    token = body["access_token"]
    jwks = httpx.get(gw.url + "/.well-known/jwks.json").json()
    header = jwt.get_unverified_header(token)
    key = jwt.PyJWKSet.from_dict(jwks)[header["kid"]]
    claims = jwt.decode(token, key.key, algorithms=["ES256"], audience=GATEWAY, issuer=GATEWAY)
    return body, {**claims, "_header": header}, token


@pytest.mark.parametrize(
    ("user", "policies"),
    [("alice", ["admin"]), ("bob", ["fn-read"]), ("carol", ["staging-rw"])],
    ids=["alice-by-group", "bob-by-condition", "carol-by-principal"],
)
def test_exchange_for_users(gw: Server, idp: IdP, tokens: dict[str, str], user: str, policies: list[str]) -> None:
    body, claims, _ = _ok(gw, tokens[user])
    assert body["issued_token_type"] == "urn:ietf:params:oauth:token-type:id_token"
    assert body["token_type"] == "Bearer" and body["expires_in"] == 1800
    assert claims["_header"]["typ"] == "at+jwt" and claims["_header"]["alg"] == "ES256"
    assert claims["sub"] == f"fed:user-{user}" and claims["fed:iss"] == idp.issuer
    assert claims["iss"] == claims["aud"] == GATEWAY
    assert claims["policy"] == policies
    assert claims["exp"] - claims["iat"] == 1800 and abs(claims["iat"] - time.time()) < 30
    assert claims["email"] == f"{user}@example.test"  # upstream claims are kept


def test_service_client_and_unique_jti(gw: Server, idp: IdP) -> None:
    subject = idp.client_credentials_token()
    _, c1, _ = _ok(gw, subject)
    _, c2, _ = _ok(gw, subject)
    assert c1["sub"] == "fed:faas-svc" and c1["policy"] == ["fn-read"]
    assert c1["jti"] != c2["jti"]


def test_no_role_matches(gw: Server, idp: IdP) -> None:
    subject = idp.client_credentials_token(resource=OTHER_AUD)  # accepted audience, but no Role matches it
    r = exchange(gw.url, subject)
    assert r.status_code == 400
    assert r.json() == {"error": "invalid_request", "error_description": "No policies found for subject: faas-svc"}


def test_audience_not_accepted(gw: Server, idp: IdP) -> None:
    r = exchange(gw.url, idp.client_credentials_token(resource="https://not-ours.example"))
    assert r.status_code == 400 and r.json()["error_description"] == "audience not accepted"


def test_parameters_in_the_query_string(gw: Server, tokens: dict[str, str]) -> None:
    params = {
        "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
        "subject_token": tokens["bob"],
        "subject_token_type": "urn:ietf:params:oauth:token-type:access_token",
    }
    r = httpx.post(gw.url + "/oauth/token", params=params)  # a token there ends up in access logs
    assert r.status_code == 400 and "access_token" not in r.json()
    assert "form body only" in r.json()["error_description"]


def test_gateway_tokens_are_not_exchanged_and_idp_tokens_not_accepted(gw: Server, tokens: dict[str, str]) -> None:
    _, _, ours = _ok(gw, tokens["alice"])
    r = exchange(gw.url, ours)
    assert r.status_code == 400 and "gateway tokens cannot be exchanged" in r.json()["error_description"]
    r2 = httpx.get(gw.url + "/system/namespaces", headers=bearer(tokens["alice"]))
    assert r2.status_code == 401 and r2.headers["www-authenticate"].startswith("Bearer")
    r3 = httpx.get(gw.url + "/system/namespaces")
    assert r3.status_code == 401 and r3.headers["www-authenticate"] == "Bearer"


def test_seed_walkthrough(gw: Server, tokens: dict[str, str]) -> None:
    """staging-rw + a Role for carol: namespaces shows only staging, staging lists, openfaas-fn is 403."""
    _, _, carol = _ok(gw, tokens["carol"])
    h = bearer(carol)
    assert httpx.get(gw.url + "/system/namespaces", headers=h).json() == ["staging"]
    deploy = {"service": "hello", "image": "ghcr.io/acme/hello:1", "namespace": "staging", "labels": {"team": "a"}}
    assert httpx.post(gw.url + "/system/functions", json=deploy, headers=h).status_code == 202
    listed = httpx.get(gw.url + "/system/functions", params={"namespace": "staging"}, headers=h)
    assert listed.status_code == 200
    assert [(f["name"], f["namespace"], f["image"]) for f in listed.json()] == [
        ("hello", "staging", "ghcr.io/acme/hello:1")
    ]
    denied = httpx.get(gw.url + "/system/functions", params={"namespace": "openfaas-fn"}, headers=h)
    assert denied.status_code == 403 and denied.text.strip() == "Unauthorized"
    # alice (admin) sees both namespaces; bob (fn-read) only openfaas-fn
    _, _, alice = _ok(gw, tokens["alice"])
    assert httpx.get(gw.url + "/system/namespaces", headers=bearer(alice)).json() == ["openfaas-fn", "staging"]
    _, _, bob = _ok(gw, tokens["bob"])
    assert httpx.get(gw.url + "/system/namespaces", headers=bearer(bob)).json() == ["openfaas-fn"]
    assert httpx.post(gw.url + "/system/functions", json=deploy, headers=bearer(bob)).status_code == 403


def test_exchanges_logged_without_tokens(gw: Server, tokens: dict[str, str]) -> None:
    _ok(gw, tokens["bob"])
    gw.wait_log("exchange ok: sub=fed:user-bob")
    err = gw.stderr()
    for t in tokens.values():
        assert t not in err and t.split(".")[2] not in err
