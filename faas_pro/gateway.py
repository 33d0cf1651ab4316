"""The OpenFaaS gateway REST client (docs/server.md): bearer token, typed errors, bounded bodies.

Status mapping: 401 → AuthRequired naming ``faas-pro auth -g <gw>``; 403 → PermissionDenied with
faas-cli's exact line; connection errors and timeouts → Unreachable; anything else that is not a
200 with the expected JSON (HTML, empty, invalid JSON, 3xx, 5xx) → one FaasProError line naming
the gateway and the status. Requests only ever go to ``gateway + path`` and redirects are not
followed, so the token is never sent to another origin. The mapping is :func:`parse_answer`, the same
whichever client fetched the answer (httpx, or the standard library's for the fast path:
faas_pro/direct_http.py).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Protocol

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


def unreachable(gateway: str, e: BaseException) -> Unreachable:
    """The line for a gateway that could not be reached (connection refused, timeout, TLS failure)."""
    return Unreachable(f"Cannot connect to OpenFaaS on URL: {gateway}", _tls_hint(e))


def undecodable(gateway: str, path: str) -> FaasProError:
    """The line for a body whose ``Content-Encoding`` does not decode."""
    return FaasProError(f"{gateway} answered {path} with a body that cannot be decoded")


def parse_answer(gateway: str, path: str, status: int, ctype: str, body: bytes, token: str | None) -> Any:
    """The one status/body → result-or-error mapping, whichever HTTP client fetched the answer.

    ``body`` is what was read, at most ``MAX_BODY_BYTES + 1`` bytes (more is refused here).
    """
    if len(body) > MAX_BODY_BYTES:
        raise FaasProError(f"{gateway} sent more than {MAX_BODY_BYTES} bytes for {path}")
    text = body.decode("utf-8", errors="replace")
    if status == 401:
        raise AuthRequired(
            f"{gateway} did not accept the token (401 Unauthorized)",
            f"run faas-pro auth -g {gateway}",
        )
    if status == 403:
        raise PermissionDenied(f"Server returned unexpected status code: 403 - {_one_line(text, token)}")
    if status != 200:
        detail = f": {_one_line(text, token)}" if text.strip() and "html" not in ctype.lower() else ""
        raise FaasProError(f"{gateway} answered {path} with status {status}{detail}")
    if "html" in ctype.lower() or text.lstrip().startswith("<"):
        raise FaasProError(f"{gateway} answered {path} with HTML (status 200), not JSON: is it OpenFaaS?")
    if not text.strip():
        raise FaasProError(f"{gateway} answered {path} with an empty body (status 200)")
    try:
        return json.loads(text)
    except ValueError:
        raise FaasProError(f"{gateway} answered {path} with invalid JSON (status 200)") from None


class DirectGet(Protocol):
    """A client that is not httpx (faas_pro/direct_http.py): one GET, the answer read whole.

    ``direct_get`` returns (status, content type, body of at most ``max_bytes + 1`` bytes); it raises
    ``OSError`` when the gateway cannot be reached and ``ValueError`` when the body does not decode.
    """

    def direct_get(
        self, url: str, params: dict[str, str] | None, headers: dict[str, str], max_bytes: int
    ) -> tuple[int, str, bytes]: ...

    def close(self) -> None: ...


class GatewayClient:
    def __init__(self, http: httpx.Client | DirectGet, gateway: str, token: str | None) -> None:
        self.http = http
        self.gateway = gateway.rstrip("/")
        self._token = token

    def _fetch(self, path: str, params: dict[str, str] | None, headers: dict[str, str]) -> tuple[int, str, bytes]:
        url = self.gateway + path
        direct = getattr(self.http, "direct_get", None)
        if direct is not None:
            try:
                return direct(url, params, headers, MAX_BODY_BYTES)  # type: ignore[no-any-return]
            except OSError as e:
                raise unreachable(self.gateway, e) from e
            except ValueError:
                raise undecodable(self.gateway, path) from None
        import httpx

        assert isinstance(self.http, httpx.Client)
        try:
            with self.http.stream("GET", url, params=params, headers=headers, follow_redirects=False) as resp:
                body = bytearray()
                for chunk in resp.iter_bytes():
                    body += chunk
                    if len(body) > MAX_BODY_BYTES:
                        break
                return resp.status_code, resp.headers.get("content-type", ""), bytes(body)
        except httpx.TransportError as e:
            raise unreachable(self.gateway, e) from e
        except httpx.DecodingError:  # e.g. Content-Encoding: gzip over a body that is not gzip
            raise undecodable(self.gateway, path) from None

    def _get_json(self, path: str, params: dict[str, str] | None = None) -> Any:
        headers = {"Accept": "application/json"}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        status, ctype, body = self._fetch(path, params, headers)
        return parse_answer(self.gateway, path, status, ctype, body, self._token)

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
