"""A gateway stand-in for the CLI's gateway commands (namespaces, list, token, status, logout): a
``FakeHTTP`` that answers the OpenFaaS API for the bearer tokens in ``valid_tokens`` and records
``(path, Authorization)`` of every request. The ``gateway`` / ``gw`` fixtures (tests/conftest.py)
give one per module, cleared for each test. The end-to-end runs use the real ``faas-pro serve``."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from faas_pro.storage.secrets import FileSecretStore
from tests.support.fakehttp import Answer, FakeHTTP, Req, json_answer, text_answer
from tests.support.tokens import compact

DATA = Path(__file__).resolve().parents[1] / "data" / "formats"


class FakeGateway:
    def __init__(self) -> None:
        self.requests: list[tuple[str, str | None]] = []
        self.valid_tokens: set[str] = set()
        self.http = FakeHTTP(self._api)
        self.url = self.http.url

    def token_ok(self, token: str) -> bool:
        return token in self.valid_tokens

    def _api(self, req: Req) -> Answer:
        auth = req.headers.get("authorization")
        self.requests.append((req.path, auth))
        if not auth or not auth.startswith("Bearer ") or self.token_ok(auth[7:]) is False:
            return text_answer("unauthorized", 401)
        if req.path == "/system/namespaces":
            return json_answer(["openfaas-fn", "staging"])
        if req.path == "/system/functions?namespace=staging":
            return json_answer((DATA / "functions.json").read_bytes())
        if req.path.startswith("/system/functions"):
            return json_answer(b"Forbidden", 403)
        return text_answer("not found", 404)

    def close(self) -> None:
        self.http.close()


def openfaas_token(exp_in: float = 3600, **claims: Any) -> str:
    """A gateway-token-shaped JWT (never verified by the CLI commands; the signature is filler)."""
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
    return compact({"alg": "ES256", "typ": "at+jwt", "kid": "k"}, payload, b"\x01" * 64)


def save(isolated_env: Path, gateway: str, **entry: str) -> None:
    """Save a token entry for ``gateway`` through the real file store."""
    FileSecretStore(isolated_env / "data").put(gateway, entry)


# the fixtures (imported by tests/cli/conftest.py and tests/unit/conftest.py)


@pytest.fixture(scope="module")
def gateway() -> Iterator[FakeGateway]:
    """One ``FakeGateway`` per module."""
    gw = FakeGateway()
    yield gw
    gw.close()


@pytest.fixture
def gw(gateway: FakeGateway) -> FakeGateway:
    """The module's ``FakeGateway``, its record and its valid tokens cleared."""
    gateway.requests.clear()
    gateway.valid_tokens.clear()
    return gateway
