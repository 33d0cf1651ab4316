"""Token rules of the exchange and the API (docs/security.md rules 1 and 10; issue 11): parameters from
the form body only, no gateway token the API would refuse, a configurable skew for identity providers'
tokens and only 5 s for the gateway's own."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from faas_pro.server.signing import Signer, load_key
from tests.support.gateway import issuer_yaml, policy_yaml, role_yaml, start_gateway
from tests.support.inproc import run_cli
from tests.support.issuer import FakeIssuer, bearer, exchange

GATEWAY = "http://127.0.0.1:1"  # the issuer URL; the tests talk to the real address
LEEWAY = 10


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, gateway_key: Path) -> Iterator[tuple[str, FakeIssuer, Path]]:
    idp = FakeIssuer()
    objects = issuer_yaml("idp", idp.iss, ["fake-aud"]) + policy_yaml("all", ["*"], ["*"])
    objects += role_yaml("robot", ["all"], principal=["robot-1"])
    d = tmp_path_factory.mktemp("rules")
    with start_gateway(d, objects, "--issuer-leeway", str(LEEWAY), issuer_url=GATEWAY, key=gateway_key) as s:
        yield s.url, idp, gateway_key
    idp.close()


def test_subject_token_in_the_query_string_is_refused(world: tuple[str, FakeIssuer, Path]) -> None:
    url, idp, _ = world
    params = {
        "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
        "subject_token": idp.mint(),
        "subject_token_type": "urn:ietf:params:oauth:token-type:access_token",
    }
    r = httpx.post(url + "/oauth/token", params=params)
    assert r.status_code == 400 and "access_token" not in r.text
    assert r.json()["error_description"].startswith("the token endpoint takes its parameters from the form body")
    assert exchange(url, idp.mint()).status_code == 200  # the same token in the body is fine


def test_a_claim_too_big_for_the_api_is_refused_at_the_exchange_naming_it(world: tuple[str, FakeIssuer, Path]) -> None:
    url, idp, _ = world
    # the largest subject token the gateway takes (16384 bytes), which our claims then make longer
    big = next(t for n in range(11_900, 12_400) if 16_330 <= len(t := idp.mint(idp.claims(blob="x" * n))) <= 16_384)
    r = exchange(url, big)
    assert r.status_code == 400, r.status_code
    description = r.json()["error_description"]
    assert "claim blob alone is" in description and "more than the API accepts (16384)" in description


def test_identity_provider_tokens_get_the_configured_skew(world: tuple[str, FakeIssuer, Path]) -> None:
    url, idp, _ = world
    now = int(time.time())
    within = idp.claims(exp=now - LEEWAY // 2, iat=now - 100)
    beyond = idp.claims(exp=now - LEEWAY - 5, iat=now - 100)
    assert exchange(url, idp.mint(within)).status_code == 200
    r = exchange(url, idp.mint(beyond))
    assert r.status_code == 400 and r.json()["error_description"] == "token expired"


def test_the_gateway_gives_its_own_tokens_five_seconds(world: tuple[str, FakeIssuer, Path]) -> None:
    url, _, key = world
    signer = Signer(load_key(key))
    now = int(time.time())

    def token(exp: int) -> str:
        return signer.sign(
            {"iss": GATEWAY, "aud": GATEWAY, "sub": "fed:robot-1", "policy": ["all"], "iat": now - 60, "exp": exp}
        )

    assert httpx.get(url + "/system/namespaces", headers=bearer(token(now - 2))).status_code == 200
    r = httpx.get(url + "/system/namespaces", headers=bearer(token(now - 8)))  # 60 s used to pass
    assert r.status_code == 401 and "expired" in r.text


@pytest.mark.parametrize("value", ["-1", "301"])
def test_an_issuer_leeway_out_of_range_is_a_usage_error(tmp_path: Path, value: str) -> None:
    (tmp_path / "iam").mkdir()
    r = run_cli(
        "serve", "--iam", str(tmp_path / "iam"), "--issuer-url", GATEWAY,
        "--issuer-key", str(tmp_path / "none.pem"), "--issuer-leeway", value, timeout=60,
    )  # fmt: skip
    assert r.returncode == 2, r.stderr
    assert r.stderr.strip().splitlines()[-1].startswith("--issuer-leeway must be between 0 and 300 seconds")
