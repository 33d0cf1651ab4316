"""Client credentials against the real test IdP's confidential client faas-svc, and where the
secret comes from (--client-secret / --client-secret-file / FAAS_PRO_CLIENT_SECRET)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from faas_pro.errors import FaasProError, UsageError
from faas_pro.oauth.client_credentials import client_credentials, read_client_secret
from faas_pro.oauth.token_endpoint import TokenEndpointError, client_auth
from faas_pro.tokens import VerifyOptions, jwks_lookup, verify
from tests.support.idp import IdP, start_idp

ODD_SECRET = "s3cret:with+odd%2F/chars and space"


@pytest.fixture(scope="module")
def odd_secret_idp() -> Iterator[IdP]:
    with start_idp(IDP_CLIENT_SECRET=ODD_SECRET) as p:
        yield p


def claims_of(idp: IdP, token: str, audience: str) -> dict[str, Any]:
    return verify(
        token,
        jwks_lookup(idp.jwks()),
        VerifyOptions(issuer=idp.issuer, audiences=(audience,), required=()),
        time.time(),
    )


def cc(idp: IdP, secret: str = "faas-svc-secret", meta: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
    with httpx.Client(timeout=10) as http:
        return client_credentials(
            http, meta or idp.discovery, "faas-svc", secret, kw.pop("scopes", ["faas:invoke"]), **kw
        )


def test_basic_auth_gets_a_gateway_token(idp: IdP) -> None:
    out = cc(idp)
    assert out["token_type"] == "Bearer"
    c = claims_of(idp, out["access_token"], "faas-gateway")
    assert c["client_id"] == "faas-svc"
    assert "faas:invoke" in c["scope"].split()


def test_client_secret_post_when_the_idp_lists_only_post(idp: IdP) -> None:
    meta = {**idp.discovery, "token_endpoint_auth_methods_supported": ["client_secret_post"]}
    assert client_auth(meta, "faas-svc", "x") == ({"client_id": "faas-svc", "client_secret": "x"}, None)
    out = cc(idp, meta=meta)
    assert claims_of(idp, out["access_token"], "faas-gateway")["client_id"] == "faas-svc"


def test_audience_is_sent_as_resource(idp: IdP) -> None:
    out = cc(idp, audience="https://gw.example.com")
    assert claims_of(idp, out["access_token"], "https://gw.example.com")["aud"] == "https://gw.example.com"


def test_wrong_secret_is_a_clear_error_without_the_secret(idp: IdP) -> None:
    wrong = "wrong-secret-SENTINEL"
    with pytest.raises(TokenEndpointError) as e:
        cc(idp, secret=wrong)
    assert e.value.error == "invalid_client"
    line = e.value.line()
    assert line.startswith("the identity provider did not accept the credentials of client 'faas-svc' (invalid_client")
    assert "--client-secret-file" in line
    assert wrong not in line and "SENTINEL" not in repr(e.value.__dict__)


def test_secret_with_reserved_characters_is_form_encoded_for_basic(odd_secret_idp: IdP) -> None:
    out = cc(odd_secret_idp, secret=ODD_SECRET)
    assert claims_of(odd_secret_idp, out["access_token"], "faas-gateway")["client_id"] == "faas-svc"


def test_empty_secret_is_a_usage_error_before_any_request() -> None:
    with pytest.raises(UsageError, match="needs a client secret"):
        client_credentials(None, {}, "faas-svc", "", [])  # type: ignore[arg-type]


# --------------------------------------------------------------------------- where the secret comes from


def test_secret_file_is_read_and_stripped(tmp_path: Path) -> None:
    f = tmp_path / "secret"
    f.write_text("faas-svc-secret\n")
    assert read_client_secret(None, str(f), {}) == "faas-svc-secret"


def test_empty_secret_file_is_named(tmp_path: Path) -> None:
    f = tmp_path / "secret"
    f.write_text("\n")
    with pytest.raises(FaasProError) as e:
        read_client_secret(None, str(f), {"FAAS_PRO_CLIENT_SECRET": "from-env"})
    assert e.value.line() == f"the client secret file {f} is empty"


def test_missing_secret_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"--client-secret-file: the client secret file .*/nope does not exist"):
        read_client_secret(None, str(tmp_path / "nope"), {})


def test_secret_sources_order() -> None:
    env = {"FAAS_PRO_CLIENT_SECRET": "from-env"}
    assert read_client_secret("from-flag", None, env) == "from-flag"
    assert read_client_secret(None, None, env) == "from-env"
    assert read_client_secret(None, None, {"FAAS_PRO_CLIENT_SECRET": ""}) is None
    assert read_client_secret(None, None, {}) is None
    with pytest.raises(UsageError, match="not both"):
        read_client_secret("a", "b", {})
