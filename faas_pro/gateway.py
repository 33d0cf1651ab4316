"""The OpenFaaS gateway REST client (docs/server.md): bearer token, typed errors, bounded bodies.

Status mapping: 401 → AuthRequired naming ``faas-pro auth -g <gw>``; 403 → PermissionDenied with
faas-cli's exact line; connection errors and timeouts → Unreachable; anything else that is not a
200 with the expected JSON (HTML, empty, invalid JSON, 3xx, 5xx) → one FaasProError line naming
the gateway and the status. Requests only ever go to ``gateway + path`` and redirects are not
followed, so the token is never sent to another origin.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from faas_pro.errors import AuthRequired, FaasProError, PermissionDenied, Unreachable

if TYPE_CHECKING:  # pragma: no cover
    import httpx

MAX_BODY_BYTES = 32 * 1024 * 1024
_MAX_SHOWN = 500


def _one_line(text: str, secret: str | None = None) -> str:
    """Remote text for an error line: the caller's own token (a gateway may echo it) replaced by ``***``."""
    if secret:
        text = text.replace(secret, "***")
    flat = " ".join(text.split())
    return flat if len(flat) <= _MAX_SHOWN else flat[:_MAX_SHOWN] + "…"


def _tls_hint(e: BaseException) -> str | None:
    """A hint when a connection failed because the gateway's TLS certificate is not trusted."""
    import ssl

    seen: BaseException | None = e
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in str(seen):
            return "its TLS certificate is not trusted: pass --ca-file FILE with the CA that signed it"
        seen = seen.__cause__ or seen.__context__
    if str(e).startswith("through the proxy "):  # faas_pro.http_client names the proxy it went through
        return f"tried {e}; check the proxy, or list the host in NO_PROXY"
    return None


class GatewayClient:
    def __init__(self, http: httpx.Client, gateway: str, token: str | None) -> None:
        self.http = http
        self.gateway = gateway.rstrip("/")
        self._token = token

    def _get_json(self, path: str, params: dict[str, str] | None = None) -> Any:
        import httpx

        headers = {"Accept": "application/json"}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        url = self.gateway + path
        try:
            with self.http.stream("GET", url, params=params, headers=headers, follow_redirects=False) as resp:
                body = bytearray()
                for chunk in resp.iter_bytes():
                    body += chunk
                    if len(body) > MAX_BODY_BYTES:
                        raise FaasProError(f"{self.gateway} sent more than {MAX_BODY_BYTES} bytes for {path}")
                status, ctype = resp.status_code, resp.headers.get("content-type", "")
        except httpx.TransportError as e:
            raise Unreachable(f"Cannot connect to OpenFaaS on URL: {self.gateway}", _tls_hint(e)) from e
        except httpx.DecodingError:  # e.g. Content-Encoding: gzip over a body that is not gzip
            raise FaasProError(f"{self.gateway} answered {path} with a body that cannot be decoded") from None
        text = body.decode("utf-8", errors="replace")
        if status == 401:
            raise AuthRequired(
                f"{self.gateway} did not accept the token (401 Unauthorized)",
                f"run faas-pro auth -g {self.gateway}",
            )
        if status == 403:
            raise PermissionDenied(f"Server returned unexpected status code: 403 - {_one_line(text, self._token)}")
        if status != 200:
            detail = f": {_one_line(text, self._token)}" if text.strip() and "html" not in ctype.lower() else ""
            raise FaasProError(f"{self.gateway} answered {path} with status {status}{detail}")
        if "html" in ctype.lower() or text.lstrip().startswith("<"):
            raise FaasProError(f"{self.gateway} answered {path} with HTML (status 200), not JSON: is it OpenFaaS?")
        if not text.strip():
            raise FaasProError(f"{self.gateway} answered {path} with an empty body (status 200)")
        try:
            return json.loads(text)
        except ValueError:
            raise FaasProError(f"{self.gateway} answered {path} with invalid JSON (status 200)") from None

    def list_namespaces(self) -> list[str]:
        data = self._get_json("/system/namespaces")
        if not isinstance(data, list) or not all(isinstance(n, str) for n in data):
            raise FaasProError(
                f"{self.gateway} answered /system/namespaces (status 200) with something other than a list of names"
            )
        return data

    def list_functions(self, namespace: str | None = None) -> list[dict[str, Any]]:
        params = {"namespace": namespace} if namespace else None
        data = self._get_json("/system/functions", params)
        if not isinstance(data, list) or not all(isinstance(f, dict) and isinstance(f.get("name"), str) for f in data):
            raise FaasProError(
                f"{self.gateway} answered /system/functions (status 200) with something other than a function list"
            )
        return data
