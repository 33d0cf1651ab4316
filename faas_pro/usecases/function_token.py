"""``faas-pro token --function NS:NAME``: a function token for one function (docs/server.md).

The saved (or given) OpenFaaS API token is exchanged at the gateway's ``/oauth/token`` with
``scope=function`` and ``audience=NS:NAME`` (RFC 8693), as faas-cli does for ``invoke --auth``.
The answer is valid only for that function, and never longer than the API token.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from faas_pro.errors import AuthRequired, FaasProError, UsageError

if TYPE_CHECKING:  # pragma: no cover
    from faas_pro.deps import Deps

_LABEL = re.compile(r"[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?")


def parse_target(value: str) -> tuple[str, str]:
    """``NS:NAME`` (both DNS-1123 labels); ``NAME`` alone means the ``openfaas-fn`` namespace."""
    ns, colon, name = value.partition(":")
    if not colon:
        ns, name = "openfaas-fn", value
    if not _LABEL.fullmatch(ns) or not _LABEL.fullmatch(name):
        raise UsageError(f"--function must be NAMESPACE:NAME (DNS-1123 labels), got {value!r}")
    return ns, name


def function_token(deps: Deps, gateway: str, target: str, api_token: str) -> str:
    """Exchange ``api_token`` for a function token for ``target`` at ``gateway``."""
    from faas_pro import tokens
    from faas_pro.oauth.exchange import GRANT_TYPE, ID_TOKEN_TYPE, token_url
    from faas_pro.oauth.fetch import one_line, request_json
    from faas_pro.oauth.token_endpoint import redact

    ns, name = parse_target(target)
    data = {
        "grant_type": GRANT_TYPE,
        "subject_token": api_token,
        "subject_token_type": ID_TOKEN_TYPE,
        "scope": "function",
        "audience": f"{ns}:{name}",
    }
    r = request_json(deps.http(only_url=gateway), "POST", token_url(gateway), what="the gateway", data=data)
    body = r.body if isinstance(r.body, dict) else {}
    if r.status != 200:
        desc = body.get("error_description") or body.get("error") or ""
        detail = one_line(redact(desc, [api_token])) if isinstance(desc, str) and desc else ""
        msg = f"the gateway {gateway} refused a function token for {ns}:{name} (HTTP {r.status})"
        if "invalid subject token" in detail or "expired" in detail:
            raise AuthRequired(f"{msg}: {detail}", f"run faas-pro auth -g {gateway}")
        raise FaasProError(f"{msg}: {detail}" if detail else msg)
    token = body.get("access_token")
    if not isinstance(token, str) or not token:
        raise FaasProError(f"the gateway {gateway} answered without an access_token")
    try:
        tokens.decode_unverified(token)
    except tokens.TokenError as e:
        raise FaasProError(f"the gateway {gateway} returned a token that is not a JWT: {e.reason}") from None
    return token
