"""The gateway's REST API and its edges: function CRUD with faas-cli payloads, namespaces, info,
413/404/405/409, issuer trouble (down, slow, garbage, wrong issuer, oversized) isolated per issuer,
reload of --iam edits, and the serve command's own behaviour (keygen, ready line, SIGTERM)."""

from __future__ import annotations

import concurrent.futures
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import jwt
import pytest

from tests.support.gateway import (
    Server,
    issuer_yaml,
    keygen,
    policy_yaml,
    role_yaml,
    running,
    serve_args,
    start_gateway,
    write_iam,
)
from tests.support.inproc import run_cli
from tests.support.issuer import FakeIssuer, bearer, exchange
from tests.support.listener import Listener

GATEWAY = "http://gateway.test"
# the whole issuer broken, or only its JWKS (discovery fine; "jwks-refused": nothing listens there)
BROKEN = ("down", "slow", "garbage", "wrong-issuer", "big", "jwks-down", "jwks-slow", "jwks-garbage", "jwks-refused")


def closed_port_url(path: str) -> str:
    """An http URL on a loopback port where nothing listens (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"


@dataclass
class World:
    server: Server
    good: FakeIssuer
    broken: dict[str, FakeIssuer]
    iam: Path

    def token(self, sub: str) -> str:
        r = exchange(self.server.url, self.good.mint(self.good.claims(sub=sub)))
        assert r.status_code == 200, r.text
        return str(r.json()["access_token"])


ROLES = (
    role_yaml("admin", ["admin"], principal=["root"])
    + role_yaml("dev", ["dev"], principal=["dev"])
    + role_yaml("nothing", ["ns-list-none"], principal=["nobody"])
)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, gateway_key: Path) -> Iterator[World]:
    good = FakeIssuer()
    broken = {m: FakeIssuer() for m in BROKEN}
    for m, f in broken.items():
        f.mode = m
    broken["jwks-refused"].mode = "ok"
    broken["jwks-refused"].jwks_uri = closed_port_url("/jwks")
    d = tmp_path_factory.mktemp("api")
    objects = {
        "issuers.yaml": issuer_yaml("good", good.iss, ["fake-aud"])
        + "".join(issuer_yaml(m, f.iss, ["fake-aud"]) for m, f in broken.items()),
        "policies.yaml": policy_yaml("admin", ["*"], ["*"])
        + policy_yaml("dev", ["Function:*", "Namespace:List"], ["dev:*"])
        + policy_yaml("ns-list-none", ["Function:Get"], ["nowhere:fn"]),
        "roles.yaml": ROLES,
    }
    with start_gateway(d, objects, "--namespace", "dev", issuer_url=GATEWAY, key=gateway_key) as s:
        yield World(s, good, broken, d / "iam")
    for f in (good, *broken.values()):
        f.close()


def test_function_lifecycle(world: World) -> None:
    h = bearer(world.token("dev"))
    url = world.server.url
    payload = {
        "service": "echo",
        "image": "ghcr.io/acme/echo:1",
        "namespace": "dev",
        "envProcess": "cat",
        "envVars": {"A": "1"},
        "labels": {"com.openfaas.scale.min": "2"},
        "annotations": {"note": "x"},
        "secrets": [],
    }
    assert httpx.put(url + "/system/functions", json=payload, headers=h).status_code == 404  # faas-cli: PUT, then POST
    assert httpx.post(url + "/system/functions", json=payload, headers=h).status_code == 202
    assert httpx.post(url + "/system/functions", json=payload, headers=h).status_code == 409
    got = httpx.get(url + "/system/function/echo", params={"namespace": "dev"}, headers=h).json()
    assert got["name"] == "echo" and got["image"] == "ghcr.io/acme/echo:1" and got["namespace"] == "dev"
    assert got["labels"] == {"com.openfaas.scale.min": "2"} and got["annotations"] == {"note": "x"}
    assert got["envProcess"] == "cat" and got["envVars"] == {"A": "1"}
    assert got["invocationCount"] == 0 and got["replicas"] == 2 and got["availableReplicas"] == 2
    created = got["createdAt"]
    assert created.endswith("Z") and "T" in created
    assert (
        httpx.put(url + "/system/functions", json={**payload, "image": "ghcr.io/acme/echo:2"}, headers=h).status_code
        == 202
    )
    got2 = httpx.get(url + "/system/function/echo?namespace=dev", headers=h).json()
    assert got2["image"] == "ghcr.io/acme/echo:2" and got2["createdAt"] == created
    rm = httpx.request(
        "DELETE", url + "/system/functions", json={"functionName": "echo", "namespace": "dev"}, headers=h
    )
    assert rm.status_code == 202
    assert httpx.get(url + "/system/functions?namespace=dev", headers=h).json() == []
    # dev may not touch openfaas-fn, even by putting it in the body
    bad = httpx.post(url + "/system/functions", json={**payload, "namespace": "openfaas-fn"}, headers=h)
    assert bad.status_code == 403 and bad.text.strip() == "Unauthorized"


def test_namespaces_create_and_conflict(world: World) -> None:
    root = bearer(world.token("root"))
    url = world.server.url
    assert httpx.post(url + "/system/namespace/", json={"name": "team-a"}, headers=root).status_code == 201
    assert httpx.post(url + "/system/namespace/", json={"name": "team-a"}, headers=root).status_code == 409
    assert httpx.post(url + "/system/namespace/", json={"name": "Bad_Name"}, headers=root).status_code == 400
    assert "team-a" in httpx.get(url + "/system/namespaces", headers=root).json()
    dev = bearer(world.token("dev"))
    assert httpx.post(url + "/system/namespace/", json={"name": "team-b"}, headers=dev).status_code == 403
    assert httpx.get(url + "/system/namespaces", headers=dev).json() == ["dev"]
    assert httpx.get(url + "/system/namespaces", headers=bearer(world.token("nobody"))).json() == []


def test_info_needs_system_info(world: World) -> None:
    url = world.server.url
    r = httpx.get(url + "/system/info", headers=bearer(world.token("root")))
    assert r.status_code == 200 and r.json()["provider"]["provider"] == "faas-pro"
    assert httpx.get(url + "/system/info", headers=bearer(world.token("dev"))).status_code == 403


def test_discovery_document(world: World) -> None:
    d = httpx.get(world.server.url + "/.well-known/openid-configuration").json()
    assert d["issuer"] == GATEWAY and d["jwks_uri"] == GATEWAY + "/.well-known/jwks.json"
    assert d["token_endpoint"] == GATEWAY + "/oauth/token"
    keys = httpx.get(world.server.url + "/.well-known/jwks.json").json()["keys"]
    assert len(keys) == 1 and keys[0]["kty"] == "EC" and keys[0]["alg"] == "ES256" and "d" not in keys[0]


def test_sizes_routes_and_methods(world: World) -> None:
    url = world.server.url
    h = bearer(world.token("root"))
    big = b'{"service":"x","image":"' + b"a" * (1024 * 1024 + 10) + b'"}'
    r = httpx.post(url + "/system/functions", content=big, headers={**h, "Content-Type": "application/json"})
    assert r.status_code == 413
    r2 = httpx.post(
        url + "/oauth/token",
        content=b"subject_token=" + b"a" * 70_000,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r2.status_code == 413 and r2.json()["error"] == "invalid_request"
    assert httpx.get(url + "/nope", headers=h).status_code == 404
    assert httpx.get(url + "/system/functionz", headers=h).status_code == 404
    assert httpx.patch(url + "/system/functions", headers=h).status_code == 405
    assert httpx.get(url + "/oauth/token").status_code == 405
    assert httpx.delete(url + "/system/namespaces", headers=h).status_code == 405


@pytest.mark.parametrize(
    ("body", "ctype", "expect"),
    [
        (b"not json", "application/json", 400),
        (b"[]", "application/json", 400),
        (b'{"service":"x","service":"y","image":"i"}', "application/json", 400),
        (b'{"service":"../etc","image":"i"}', "application/json", 400),
        (b'{"service":"ok","image":""}', "application/json", 400),
        (b'{"service":"ok","image":"i","labels":{"a":1}}', "application/json", 400),
        (b'{"service":"ok","image":"i","namespace":123}', "application/json", 400),
    ],
)
def test_bad_bodies_are_400_never_500(world: World, body: bytes, ctype: str, expect: int) -> None:
    r = httpx.post(
        world.server.url + "/system/functions",
        content=body,
        headers={**bearer(world.token("root")), "Content-Type": ctype},
    )
    assert r.status_code == expect, r.text


@pytest.mark.parametrize(
    "data",
    [
        "grant_type=password&username=a",
        "grant_type=urn:ietf:params:oauth:grant-type:token-exchange",
        "grant_type=urn:ietf:params:oauth:grant-type:token-exchange&subject_token=abc&subject_token_type=urn:ietf:params:oauth:token-type:id_token",
        "grant_type=urn:ietf:params:oauth:grant-type:token-exchange&subject_token=a&subject_token=b",
        "%ff%fe=1",
        "a=b&&&===",
    ],
)
def test_bad_exchange_requests_are_400(world: World, data: str) -> None:
    r = httpx.post(
        world.server.url + "/oauth/token",
        content=data.encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 400, r.text
    assert r.json()["error"] in ("invalid_request", "unsupported_grant_type")


def test_broken_issuers_fail_alone(world: World) -> None:
    """Down, slow, garbage, wrong discovery issuer, oversized; and a JWKS endpoint down, slow,
    garbage or refusing connections behind a good discovery document: a clear 400 each; the good
    issuer keeps working while the slow ones hang."""
    expected = {
        "down": "the discovery document answered HTTP 503",
        "slow": "timed out",
        "garbage": "the discovery document is not valid JSON",
        "wrong-issuer": "issuer does not match",
        "big": "larger than",
        "jwks-down": "the JWKS answered HTTP 503",
        "jwks-slow": "timed out after 1s fetching the issuer's keys",
        "jwks-garbage": "the JWKS is not valid JSON",
        "jwks-refused": "cannot fetch the JWKS: ConnectError",
    }
    with concurrent.futures.ThreadPoolExecutor(len(BROKEN)) as pool:
        futures = {m: pool.submit(exchange, world.server.url, f.mint()) for m, f in world.broken.items()}
        time.sleep(0.2)
        ok = exchange(world.server.url, world.good.mint(world.good.claims(sub="root")))
        assert ok.status_code == 200  # while the slow issuer is still hanging
        for m, fut in futures.items():
            r = fut.result()
            assert r.status_code == 400, (m, r.text)
            assert r.json()["error"] == "invalid_request", (m, r.text)
            description = r.json()["error_description"]
            assert description.startswith(f"cannot get the keys of issuer {world.broken[m].iss}: "), (m, r.text)
            assert expected[m] in description, (m, r.text)
    for m, f in world.broken.items():
        if m.startswith("jwks-"):  # the discovery document was read; the failure is the JWKS's alone
            assert "/.well-known/openid-configuration" in f.requests, (m, f.requests)
            assert ("/jwks" in f.requests) == (m != "jwks-refused"), (m, f.requests)
    ok_again = exchange(world.server.url, world.good.mint(world.good.claims(sub="dev")))
    assert ok_again.status_code == 200, ok_again.text


def test_iss_internal_fetches_keys_from_the_internal_address(tmp_path: Path, gateway_key: Path) -> None:
    """A JwtIssuer whose public ``iss`` is not reachable and whose ``issInternal`` is the real key
    server: discovery and JWKS come from the internal address (the JWKS URL under the public
    ``iss`` rewritten), the public address is never contacted, and the exchange succeeds."""
    internal = FakeIssuer()
    public = Listener("")  # the public iss: counts connections, serves nothing
    try:
        internal_url = internal.iss
        internal.iss = public.url  # tokens, discovery issuer and jwks_uri all name the public address
        objects = {
            "issuers.yaml": issuer_yaml("pub", public.url, ["fake-aud"], internal=internal_url),
            "policies.yaml": policy_yaml("admin", ["*"], ["*"]),
            "roles.yaml": role_yaml("robot", ["admin"], principal=["robot-1"]),
        }
        with start_gateway(tmp_path, objects, issuer_url=GATEWAY, key=gateway_key) as s:
            r = exchange(s.url, internal.mint())
            assert r.status_code == 200, r.text
            token = r.json()["access_token"]
            claims = jwt.decode(token, options={"verify_signature": False})
            assert claims["sub"] == "fed:robot-1" and claims["fed:iss"] == public.url
            assert httpx.get(s.url + "/system/namespaces", headers=bearer(token)).status_code == 200
            assert "exchange ok: sub=fed:robot-1" in s.stderr()
        assert internal.requests == ["/.well-known/openid-configuration", "/jwks"]
        assert public.connections == 0
    finally:
        internal.close()
        public.close()


def test_reload_on_edit_and_bad_edit_keeps_last_good(world: World) -> None:
    url = world.server.url
    dev = bearer(world.token("dev"))  # the token carries the policy NAME: edits apply at once
    assert httpx.get(url + "/system/functions?namespace=openfaas-fn", headers=dev).status_code == 403
    policies = world.iam / "policies.yaml"
    original = policies.read_text()
    try:
        policies.write_text(original.replace('["dev:*"]', '["dev:*", "openfaas-fn:*"]'))
        _eventually(lambda: httpx.get(url + "/system/functions?namespace=openfaas-fn", headers=dev).status_code == 200)
        policies.write_text(original + "\n---\nkind: Policy\nthis is: [not valid\n")
        world.server.wait_log("iam reload: rejected")
        # the last good set (with openfaas-fn) stays in force
        assert httpx.get(url + "/system/functions?namespace=openfaas-fn", headers=dev).status_code == 200
    finally:
        policies.write_text(original)
    _eventually(lambda: httpx.get(url + "/system/functions?namespace=openfaas-fn", headers=dev).status_code == 403)


def _eventually(check: object, attempts: int = 60) -> None:
    for _ in range(attempts):
        if check():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError("condition not reached")


# ---------------------------------------------------------------------- the command itself


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return run_cli("serve", *args, timeout=60)


def test_keygen_refuses_to_overwrite(tmp_path: Path) -> None:
    key = tmp_path / "k.pem"
    r = _cli("keygen", str(key))
    assert r.returncode == 0 and (key.stat().st_mode & 0o777) == 0o600
    assert b"PRIVATE KEY" in key.read_bytes()
    r2 = _cli("keygen", str(key))
    assert r2.returncode == 1 and "refusing to overwrite" in r2.stderr and "Traceback" not in r2.stderr


def test_bad_inputs_are_one_line_errors(tmp_path: Path, gateway_key: Path) -> None:
    r = _cli("--issuer-url", GATEWAY)
    assert r.returncode == 2 and "missing --iam" in r.stderr
    (tmp_path / "iam").mkdir()
    (tmp_path / "iam" / "x.yaml").write_text("kind: Role\n")
    notkey = tmp_path / "notkey.pem"
    notkey.write_text("hello")
    r2 = _cli(*serve_args(tmp_path / "iam", notkey, tmp_path / "s", GATEWAY))
    assert r2.returncode == 1 and "not an unencrypted PEM private key" in r2.stderr and "Traceback" not in r2.stderr
    r3 = _cli(*serve_args(tmp_path / "iam", gateway_key, tmp_path / "s", GATEWAY))
    assert r3.returncode == 1 and "x.yaml" in r3.stderr and "Traceback" not in r3.stderr
    r4 = _cli(*serve_args(tmp_path / "iam", gateway_key, tmp_path / "s", GATEWAY), "--bench-insecure-no-authz")
    assert r4.returncode == 2 and "FAAS_PRO_BENCH_NO_AUTHZ" in r4.stderr


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_ready_line_and_clean_stop(tmp_path: Path, gateway_key: Path, sig: int) -> None:
    with start_gateway(tmp_path, policy_yaml("p", ["*"], ["*"]), issuer_url=GATEWAY, key=gateway_key) as s:
        assert s.url.startswith("http://127.0.0.1:") and not s.url.endswith(":0")
        assert httpx.get(s.url + "/healthz").status_code == 200
        code = s.stop(sig)
    assert code == 0, s.stderr()
    assert "stopped" in s.stderr() and "Traceback" not in s.stderr()


def test_key_rotation_overlap(tmp_path: Path, gateway_key: Path) -> None:
    from faas_pro.server.signing import Signer, load_key

    new_key = keygen(tmp_path / "new.pem")
    old = Signer(load_key(gateway_key))
    iam = write_iam(tmp_path, policy_yaml("admin", ["*"], ["*"]))
    now = int(time.time())
    claims = {"iss": GATEWAY, "aud": GATEWAY, "sub": "fed:x", "policy": ["admin"], "iat": now, "exp": now + 600}
    old_token = old.sign(claims)
    args = serve_args(iam, new_key, tmp_path / "s", GATEWAY, "--previous-issuer-key", str(gateway_key))
    with running(args) as s:
        kids = [k["kid"] for k in httpx.get(s.url + "/.well-known/jwks.json").json()["keys"]]
        assert kids == [load_key(new_key).kid, old.current.kid]
        assert httpx.get(s.url + "/system/namespaces", headers=bearer(old_token)).status_code == 200
    with running(serve_args(iam, new_key, tmp_path / "s", GATEWAY)) as s2:
        assert httpx.get(s2.url + "/system/namespaces", headers=bearer(old_token)).status_code == 401
