"""The whole OpenFaaS API through `faas-pro serve`, in registry mode and in upstream mode (in front of
a recording OpenFaaS stand-in in its own process), acting as faas-cli and the go-sdk do: the JSON
bodies below are the bytes they send (Go's json.Marshal of the faas-provider types).

deploy → describe → invoke (sync, async, protected: 401 with the realm, exchange with
scope=function, then the call) → logs (follow, cancel) → scale → secrets → namespaces → remove."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support.gateway import Server, issuer_yaml, policy_yaml, role_yaml, start_gateway
from tests.support.issuer import FakeIssuer, bearer, exchange
from tests.support.upstream import Upstream

GATEWAY = "http://gateway.test"
CREDS = "admin:upstream-pass-sentinel"
SECRET_VALUE = "s3cr3t-value-sentinel"
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ID_TOKEN = "urn:ietf:params:oauth:token-type:id_token"
NO_RUNTIME = "no function runtime in registry mode (use --upstream)"

# faas-cli's bytes (json.Marshal of types.FunctionDeployment, omitempty fields left out)
DEPLOY_ECHO = (
    b'{"service":"echo","image":"ghcr.io/acme/echo:1","namespace":"dev","envProcess":"cat",'
    b'"envVars":{"jwt_auth":"true"},"labels":{"com.openfaas.scale.min":"1"},"annotations":{"a":"b"},'
    b'"limits":{"memory":"128Mi"},"readOnlyRootFilesystem":true}'
)
DEPLOY_OPEN = b'{"service":"open","image":"ghcr.io/acme/open:1","namespace":"dev"}'
NAMESPACE_DEV = b'{"name":"dev","annotations":{"owner":"team-a"},"labels":{"env":"dev"}}'
SCALE_ECHO = b'{"serviceName":"echo","replicas":2,"namespace":"dev"}'
SECRET_DB = b'{"name":"db","namespace":"dev","value":"' + SECRET_VALUE.encode() + b'"}'
JSON = {"Content-Type": "application/json"}


@dataclass
class Env:
    mode: str
    gw: Server
    token: str  # admin API token
    idp: FakeIssuer
    up: Upstream | None

    @property
    def url(self) -> str:
        return self.gw.url

    def h(self, token: str | None = None) -> dict[str, str]:
        return {**JSON, **bearer(token or self.token)}


@pytest.fixture(scope="module", params=["registry", "upstream"])
def env(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, gateway_key: Path) -> Iterator[Env]:
    idp = FakeIssuer()
    up = Upstream(CREDS) if request.param == "upstream" else None
    d = tmp_path_factory.mktemp(request.param)
    objects = (
        issuer_yaml("fake", idp.iss, ["fake-aud"])
        + policy_yaml("admin", ["*"], ["*"])
        + role_yaml("admin", ["admin"], principal=["robot-1"])
        + policy_yaml("dev-invoke-echo", ["Function:Invoke", "Function:Get"], ["dev:echo"])
        + role_yaml("dev", ["dev-invoke-echo"], principal=["dev"])
    )
    extra: tuple[str, ...] = ()
    if up is not None:
        (d / "auth").write_text(CREDS + "\n")
        extra = ("--upstream", up.url, "--upstream-auth-file", str(d / "auth"))
    with start_gateway(d, objects, *extra, issuer_url=GATEWAY, key=gateway_key) as gw:
        token = exchange(gw.url, idp.mint()).json()["access_token"]
        yield Env(request.param, gw, token, idp, up)
        assert SECRET_VALUE not in gw.stderr() and CREDS.split(":")[1] not in gw.stderr()
    idp.close()
    if up is not None:
        up.close()


def function_token(env: Env, subject: str, *audience: str) -> httpx.Response:
    form: list[tuple[str, str | int | float | bool | None]] = [
        ("grant_type", TOKEN_EXCHANGE),
        ("subject_token", subject),
        ("subject_token_type", ID_TOKEN),
    ]
    form += [("scope", "function"), *[("audience", a) for a in audience]]
    return httpx.post(
        env.url + "/oauth/token",
        content=httpx.QueryParams(form).__str__().encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )


def test_the_daily_openfaas_loop(env: Env) -> None:
    url, h = env.url, env.h()
    # namespaces: create with labels and annotations, get, update
    assert httpx.post(url + "/system/namespace/", content=NAMESPACE_DEV, headers=h).status_code == 201
    assert httpx.post(url + "/system/namespace/", content=NAMESPACE_DEV, headers=h).status_code == 409
    got = httpx.get(url + "/system/namespace/dev", headers=h).json()
    assert got["labels"] == {"env": "dev"} and got["annotations"] == {"owner": "team-a"}
    update = b'{"name":"dev","annotations":{"owner":"team-b"},"labels":{"env":"dev"}}'
    assert httpx.put(url + "/system/namespace/dev", content=update, headers=h).status_code == 202
    assert httpx.get(url + "/system/namespace/dev", headers=h).json()["annotations"] == {"owner": "team-b"}
    assert "dev" in httpx.get(url + "/system/namespaces", headers=h).json()

    # deploy as faas-cli: PUT first, 404, then POST
    assert httpx.put(url + "/system/functions", content=DEPLOY_ECHO, headers=h).status_code == 404
    assert httpx.post(url + "/system/functions", content=DEPLOY_ECHO, headers=h).status_code == 202
    assert httpx.post(url + "/system/functions", content=DEPLOY_OPEN, headers=h).status_code == 202
    if env.up:
        sent = [c for c in env.up.calls() if c["method"] == "POST" and c["path"] == "/system/functions"]
        assert json.loads(sent[0]["body"]) == json.loads(DEPLOY_ECHO)
        assert sent[0]["header"]["authorization"].startswith("Basic ")

    # describe, with usage
    r = httpx.get(url + "/system/function/echo?namespace=dev&usage=1", headers=h)
    assert r.status_code == 200 and r.json()["name"] == "echo" and r.json()["envVars"] == {"jwt_auth": "true"}
    assert "usage" in r.json()
    names = [f["name"] for f in httpx.get(url + "/system/functions?namespace=dev", headers=h).json()]
    assert names == ["echo", "open"]
    if env.up:
        assert env.up.calls()[-1]["query"] == "namespace=dev"

    # invoke an unprotected function: sync (sub-path, query, body both ways) and async
    r = httpx.post(url + "/function/open.dev/a/b?x=1&y=2", content=b"hello", headers={"Authorization": "Bearer x"})
    if env.up:
        assert r.status_code == 200 and r.content == b"hello"
        assert r.headers["x-echo-path"] == "/function/open.dev/a/b" and r.headers["x-echo-query"] == "x=1&y=2"
        got_headers = env.up.calls()[-1]["header"]
        assert "authorization" not in got_headers and got_headers["x-forwarded-for"] == "127.0.0.1"
        assert got_headers["x-forwarded-proto"] == "http"
        r = httpx.post(url + "/async-function/open.dev", content=b"later")
        assert r.status_code == 202 and r.headers["x-call-id"]
    else:
        assert r.status_code == 502 and r.text.strip() == NO_RUNTIME

    # a protected function: 401 with the realm, the exchange with scope=function, then the call
    r = httpx.post(url + "/function/echo.dev", content=b"hi")
    assert r.status_code == 401
    assert r.headers["www-authenticate"].split(", ")[0] == 'Bearer realm="IAM function invoke"'
    r = httpx.post(url + "/function/echo.dev", content=b"hi", headers=bearer(env.token))
    assert r.status_code == 401 and "API token" in r.text  # an API token is refused here
    ft = function_token(env, env.token, "dev:echo")  # faas-cli exchanges its saved (API) token
    assert ft.status_code == 200, ft.text
    ftoken = ft.json()["access_token"]
    r = httpx.post(url + "/function/echo.dev", content=b"hi", headers=bearer(ftoken))
    if env.up:
        assert r.status_code == 200 and r.content == b"hi"
        assert "authorization" not in env.up.calls()[-1]["header"]  # the function token stays here
    else:
        assert r.status_code == 502 and r.text.strip() == NO_RUNTIME
    assert httpx.get(url + "/system/functions?namespace=dev", headers=bearer(ftoken)).status_code == 401
    other = function_token(env, env.token, "dev:open").json()["access_token"]
    r = httpx.post(url + "/function/echo.dev", content=b"hi", headers=bearer(other))
    assert r.status_code == 401 and "audience" in r.text

    # logs: streamed newline-delimited JSON; follow, then cancel; the gateway keeps serving
    r = httpx.get(url + "/system/logs?name=echo&namespace=dev&tail=5", headers=h)
    assert r.status_code == 200
    lines = [json.loads(x) for x in r.text.splitlines()]
    if env.up:
        assert len(lines) == 3 and lines[0]["name"] == "echo" and set(lines[0]) >= {"instance", "timestamp", "text"}
        assert env.up.calls()[-1]["query"] == "name=echo&namespace=dev&tail=5"
    else:
        assert lines == []
    with httpx.stream("GET", url + "/system/logs?name=echo&namespace=dev&follow=true", headers=h, timeout=5) as s:
        assert s.status_code == 200
        if env.up:
            it = s.iter_lines()
            assert json.loads(next(it))["text"] == "line 0" and json.loads(next(it))["text"] == "line 1"
    assert httpx.get(url + "/healthz").status_code == 200

    # scale
    assert (
        httpx.post(url + "/system/scale-function/echo?namespace=dev", content=SCALE_ECHO, headers=h).status_code == 202
    )
    assert httpx.get(url + "/system/function/echo?namespace=dev", headers=h).json()["replicas"] == 2

    # secrets: values go in, never come out
    r = httpx.post(url + "/system/secrets", content=SECRET_DB, headers=h)
    assert r.status_code == 201 and SECRET_VALUE not in r.text
    listed = httpx.get(url + "/system/secrets?namespace=dev", headers=h)
    assert listed.json() == [{"name": "db", "namespace": "dev"}] and SECRET_VALUE not in listed.text
    assert httpx.put(url + "/system/secrets", content=SECRET_DB, headers=h).status_code == 202
    if env.up:
        assert json.loads(env.up.calls()[-1]["body"])["value"] == SECRET_VALUE
    r = httpx.request("DELETE", url + "/system/secrets", content=b'{"name":"db","namespace":"dev"}', headers=h)
    assert r.status_code == 202
    assert httpx.get(url + "/system/secrets?namespace=dev", headers=h).json() == []

    # info
    info = httpx.get(url + "/system/info", headers=h).json()
    assert set(info) == {"provider", "version", "arch"} and "release" in info["version"]

    # remove
    delete = b'{"functionName":"echo","namespace":"dev"}'
    assert httpx.request("DELETE", url + "/system/functions", content=delete, headers=h).status_code == 202
    assert httpx.get(url + "/system/function/echo?namespace=dev", headers=h).status_code == 404
    assert httpx.request("DELETE", url + "/system/functions", content=delete, headers=h).status_code == 404
    assert httpx.delete(url + "/system/namespace/dev", headers=h).status_code == 202
    assert httpx.get(url + "/system/namespace/dev", headers=h).status_code == 404


def test_function_tokens_from_an_idp_token_carry_the_function_claims(env: Env) -> None:
    import jwt

    r = function_token(env, env.idp.mint(env.idp.claims(sub="dev")), "dev:echo")
    assert r.status_code == 200, r.text
    claims = jwt.decode(r.json()["access_token"], options={"verify_signature": False})
    assert claims["scope"] == "function" and claims["iss"] == claims["aud"] == GATEWAY
    assert claims["function"] == {"permissions": ["dev:echo"], "audience": ["dev:echo"]}
    assert claims["policy"] == ["dev-invoke-echo"] and claims["sub"] == "fed:dev"
    assert claims["exp"] <= env.idp.claims()["exp"] + 1  # never outlives the subject token
    bad = function_token(env, env.idp.mint(), "dev:Echo")
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_target"


def test_a_protected_function_without_the_permission_is_403(env: Env) -> None:
    h = env.h()
    deploy = b'{"service":"guarded","image":"i:1","namespace":"openfaas-fn","envVars":{"jwt_auth":"true"}}'
    assert httpx.post(env.url + "/system/functions", content=deploy, headers=h).status_code == 202
    dev_api = exchange(env.url, env.idp.mint(env.idp.claims(sub="dev"))).json()["access_token"]
    ft = function_token(env, dev_api).json()["access_token"]  # no audience: any function its policies allow
    assert httpx.get(env.url + "/function/guarded", headers=bearer(ft)).status_code == 403
    delete = b'{"functionName":"guarded"}'
    assert httpx.request("DELETE", env.url + "/system/functions", content=delete, headers=h).status_code == 202


def test_faas_pro_token_function_prints_a_token_for_that_function(env: Env, tmp_path: Path) -> None:
    import jwt

    from tests.support.inproc import run_inproc

    dirs = {"FAAS_PRO_CONFIG_DIR": str(tmp_path / "c"), "FAAS_PRO_DATA_DIR": str(tmp_path / "d")}
    r = run_inproc("token", "-g", env.url, "--function", "dev:echo", "-k", env.token, env=dirs)
    assert r.code == 0, r.stderr
    claims = jwt.decode(r.stdout.strip(), options={"verify_signature": False})
    assert claims["scope"] == "function" and claims["function"]["audience"] == ["dev:echo"]
    assert env.token not in r.stderr
    bad = run_inproc("token", "-g", env.url, "--function", "dev:Echo\n", "-k", env.token, env=dirs)
    assert bad.code == 2 and "NAMESPACE:NAME" in bad.stderr
    none = run_inproc("token", "-g", env.url, "--function", "dev:echo", env=dirs)
    assert none.code == 3 and "faas-pro auth" in none.stderr


def test_an_oversized_invocation_body_is_413_and_nothing_is_forwarded(env: Env) -> None:
    if env.up:
        env.up.clear()
    r = httpx.post(env.url + "/function/open.dev", content=b"x" * (32 * 1024 * 1024 + 1))
    assert r.status_code == 413 and "larger than" in r.text
    if env.up:
        assert [c for c in env.up.calls() if c["path"].startswith("/function/")] == []


def test_an_upstream_that_is_down_or_slow_is_502_or_504_and_the_gateway_keeps_serving(
    tmp_path: Path, gateway_key: Path
) -> None:
    import socket

    idp = FakeIssuer()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        down = f"http://127.0.0.1:{s.getsockname()[1]}"
    objects = issuer_yaml("fake", idp.iss, ["fake-aud"]) + policy_yaml("admin", ["*"], ["*"])
    objects += role_yaml("admin", ["admin"], principal=["robot-1"])
    (tmp_path / "auth").write_text(CREDS + "\n")
    (tmp_path / "down").mkdir()
    (tmp_path / "slow").mkdir()
    try:
        with start_gateway(
            tmp_path / "down",
            objects,
            "--upstream",
            down,
            "--upstream-auth-file",
            str(tmp_path / "auth"),
            key=gateway_key,
        ) as gw:
            token = exchange(gw.url, idp.mint()).json()["access_token"]
            r = httpx.get(gw.url + "/system/functions", headers=bearer(token))
            assert r.status_code == 502 and "cannot reach the upstream gateway" in r.text
            r = httpx.post(gw.url + "/function/open", content=b"x")
            assert r.status_code == 502 and "cannot reach" in r.text
            assert httpx.get(gw.url + "/healthz").status_code == 200
        with Upstream(CREDS) as up:
            extra = ("--upstream", up.url, "--upstream-auth-file", str(tmp_path / "auth"), "--invoke-timeout", "0.5")
            with start_gateway(tmp_path / "slow", objects, *extra, key=gateway_key) as gw:
                r = httpx.post(gw.url + "/function/slow-fn", content=b"x", timeout=10)
                assert r.status_code == 504 and "in time" in r.text
                assert httpx.get(gw.url + "/healthz").status_code == 200
                assert "Traceback" not in gw.stderr()
    finally:
        idp.close()
