"""The dashboard's login at the identity provider: authorization code + PKCE S256 (RFC 7636),
PAR when offered (RFC 9126), ``state``, ``nonce`` and the RFC 9207 ``iss`` response parameter.

Only the configured issuer's discovery document is fetched (its ``issuer`` must match byte for
byte); every fetch has a deadline, a size cap and follows no redirects.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
import urllib.parse as up
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from faas_pro import strictjson

if TYPE_CHECKING:  # pragma: no cover
    import httpx

    from faas_pro.server.dashboard import DashboardConfig

MAX_DOC = 256 * 1024
DISCOVERY_TTL = 300.0


class LoginError(Exception):
    """A login step failed; ``reason`` is safe to show (no token, no secret)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


@dataclass
class Provider:
    cfg: DashboardConfig
    client: httpx.AsyncClient
    _doc: dict[str, Any] | None = None
    _at: float = field(default=0.0)

    async def _json(self, method: str, url: str, **kw: Any) -> tuple[int, Any]:
        import httpx

        try:
            r = await self.client.request(method, url, **kw)
        except httpx.HTTPError as e:
            raise LoginError(f"the identity provider cannot be reached ({type(e).__name__})") from None
        body = r.content[: MAX_DOC + 1]
        if len(body) > MAX_DOC:
            raise LoginError("the identity provider's answer is too large")
        try:
            return r.status_code, strictjson.loads(body)
        except strictjson.StrictJSONError:
            raise LoginError(f"the identity provider answered {r.status_code} without JSON") from None

    async def discovery(self) -> dict[str, Any]:
        if self._doc is not None and time.monotonic() - self._at < DISCOVERY_TTL:
            return self._doc
        base = (self.cfg.discovery_base or self.cfg.issuer).rstrip("/")
        status, doc = await self._json("GET", base + "/.well-known/openid-configuration")
        if status != 200 or not isinstance(doc, dict):
            raise LoginError(f"the identity provider's discovery document answered {status}")
        if doc.get("issuer") != self.cfg.issuer:
            raise LoginError("the identity provider's discovery document names another issuer")
        for key in ("authorization_endpoint", "token_endpoint"):
            if not isinstance(doc.get(key), str) or not doc[key].startswith(("https://", "http://")):
                raise LoginError(f"the identity provider's discovery document has no {key}")
        self._doc, self._at = doc, time.monotonic()
        return doc

    def _auth(self, data: dict[str, str]) -> dict[str, Any]:
        if self.cfg.client_secret is None:
            data["client_id"] = self.cfg.client_id
            return {"data": data}
        return {"data": data, "auth": (self.cfg.client_id, self.cfg.client_secret)}

    async def authorization_url(self, state: str, nonce: str, challenge: str) -> str:
        doc = await self.discovery()
        params = {
            "response_type": "code",
            "client_id": self.cfg.client_id,
            "redirect_uri": self.cfg.redirect_uri,
            "scope": "openid profile email groups",
            "state": state,
            "nonce": nonce,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        par = doc.get("pushed_authorization_request_endpoint")
        if isinstance(par, str) and par.startswith(("https://", "http://")):
            status, answer = await self._json("POST", par, **self._auth(dict(params)))
            uri = answer.get("request_uri") if isinstance(answer, dict) else None
            if status not in (200, 201) or not isinstance(uri, str):
                what = answer.get("error") if isinstance(answer, dict) else None
                raise LoginError(f"the identity provider refused the pushed authorization request ({what or status})")
            params = {"client_id": self.cfg.client_id, "request_uri": uri}
        sep = "&" if "?" in doc["authorization_endpoint"] else "?"
        return str(doc["authorization_endpoint"]) + sep + up.urlencode(params)

    async def redeem(self, code: str, verifier: str) -> dict[str, Any]:
        doc = await self.discovery()
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.cfg.redirect_uri,
            "code_verifier": verifier,
        }
        status, answer = await self._json("POST", doc["token_endpoint"], **self._auth(data))
        if status != 200 or not isinstance(answer, dict):
            err = answer.get("error") if isinstance(answer, dict) else None
            raise LoginError(f"the identity provider refused the authorization code ({err or status})")
        if not isinstance(answer.get("id_token"), str):
            raise LoginError("the identity provider sent no ID token")
        return answer

    async def end_session_url(self, post_logout: str) -> str | None:
        try:
            doc = await self.discovery()
        except LoginError:
            return None
        end = doc.get("end_session_endpoint")
        if not isinstance(end, str) or not end.startswith(("https://", "http://")):
            return None
        sep = "&" if "?" in end else "?"
        return end + sep + up.urlencode({"client_id": self.cfg.client_id, "post_logout_redirect_uri": post_logout})

    async def iss_required(self) -> bool:
        doc = await self.discovery()
        return doc.get("authorization_response_iss_parameter_supported") is True
