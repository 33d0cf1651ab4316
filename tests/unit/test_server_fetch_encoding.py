"""The gateway's own outgoing fetches (issuer keys, the upstream gateway) read what was sent.

httpx asks for ``Accept-Encoding: gzip, deflate`` by default, so an IdP or an upstream (or a proxy
in front of them) may well answer compressed: the body must be decoded before it is parsed or passed on.
"""

from __future__ import annotations

import asyncio
import gzip
import json

import httpx

from faas_pro.iam.model import JwtIssuer
from faas_pro.server.backends import UpstreamBackend
from faas_pro.server.issuers import IssuerKeys

ISS = "https://idp.test"
JWKS = {"keys": [{"kty": "EC", "crv": "P-256", "kid": "k1", "x": "x", "y": "y"}]}


class _Body(httpx.AsyncByteStream):
    """Bytes read lazily, as from a socket (``content=`` would be read, and decoded, up front)."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    async def __aiter__(self):
        yield self._data


def _gzipped(status: int, doc: object) -> httpx.Response:
    return httpx.Response(
        status,
        headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
        stream=_Body(gzip.compress(json.dumps(doc).encode())),
    )


def test_issuer_keys_are_read_from_a_gzip_answer() -> None:
    def idp(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/.well-known/openid-configuration":
            return _gzipped(200, {"issuer": ISS, "jwks_uri": f"{ISS}/jwks"})
        return _gzipped(200, JWKS)

    async def run() -> object:
        async with httpx.AsyncClient(transport=httpx.MockTransport(idp)) as client:
            keys = IssuerKeys(client, lambda: 1000.0, lambda jwks: jwks)
            return await keys.lookup_for(JwtIssuer(name="idp", iss=ISS, aud=("gw",), token_expiry=3600), "k1")

    assert asyncio.run(run()) == JWKS


def test_the_upstream_answer_is_passed_on_decoded() -> None:
    def upstream(request: httpx.Request) -> httpx.Response:
        return _gzipped(200, [{"name": "fn"}])

    async def run() -> bytes:
        backend = UpstreamBackend("http://upstream.test", "admin", "pass")
        await backend.close()
        backend._client = httpx.AsyncClient(base_url=backend.url, transport=httpx.MockTransport(upstream))
        try:
            reply = await backend.list_functions("openfaas-fn")
        finally:
            await backend.close()
        assert isinstance(reply.body, bytes)
        return reply.body

    assert json.loads(asyncio.run(run())) == [{"name": "fn"}]
