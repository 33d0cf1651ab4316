"""``faas-pro logout``: logged out means logged out (RFC 7009 revocation, faas-cli's config cleaned).

For each gateway logged out of, in this order:

1. **Revoke** the identity provider's refresh token (RFC 7009) when one is saved and the issuer's
   discovery document lists ``revocation_endpoint`` (``--no-revoke`` skips it). The client
   authenticates as the login did: a public client sends ``client_id``, a confidential one its
   secret from ``FAAS_PRO_CLIENT_SECRET``. A revocation that fails (IdP down, an error answer) is a
   warning: the local logout still happens.
2. **faas-cli's config.yml** (``OPENFAAS_CONFIG``, else ``~/.openfaas``): the ``auth: oauth2``
   entry for the gateway (compared after the normalisation faas-cli applies: lower-cased scheme and
   host, no trailing ``/``) is removed; every other entry (faas-cli's own ``basic`` ones included)
   and every other key are kept; the write is atomic, 0600. A config that is corrupt or not
   faas-cli's format is left untouched and named in a one-line warning.
3. **Tokens** are deleted from whichever store holds them; with ``--forget`` the settings too.

``--all`` does this for every gateway the settings and the token stores know. Nothing of another
gateway is ever touched.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from faas_pro.errors import FaasProError

if TYPE_CHECKING:  # pragma: no cover
    from pathlib import Path

    import httpx

    from faas_pro.deps import Deps
    from faas_pro.storage.entry import TokenEntry


@dataclass(frozen=True)
class LogoutInput:
    gateway: str
    all: bool = False
    forget: bool = False
    revoke: bool = True
    ca_file: str | None = None
    insecure_http: bool = False


@dataclass
class LogoutResult:
    gateway: str
    had_token: bool = False
    revoked: bool = False  # the IdP confirmed the revocation (HTTP 200)
    faas_cli_config: str | None = None  # the config.yml an entry was removed from
    warnings: list[str] = field(default_factory=list)


def targets(deps: Deps, inp: LogoutInput) -> list[str]:
    """The gateway, or with ``--all`` every gateway the settings or a token store knows."""
    if not inp.all:
        return [inp.gateway]
    return sorted(set(deps.settings().gateways()) | set(deps.secrets().gateways()) | {inp.gateway})


def _entry(deps: Deps, gateway: str, res: LogoutResult) -> TokenEntry | None:
    from faas_pro.storage.entry import TokenEntry

    raw = deps.secrets().get(gateway)
    res.had_token = raw is not None
    try:
        return TokenEntry.from_dict(raw or {}, gateway)
    except FaasProError as e:  # an unknown format: nothing to revoke with, still removed below
        res.warnings.append(f"{e.message}: not revoked")
        return None


def revoke_refresh_token(http: httpx.Client, entry: TokenEntry, secret: str | None) -> bool:
    """RFC 7009 for the entry's refresh token; True when the IdP accepted it, False when it offers
    no revocation. Raises FaasProError (one line, no token in it) when the revocation failed."""
    from faas_pro.oauth.discovery import fetch_discovery
    from faas_pro.oauth.fetch import request_json
    from faas_pro.oauth.token_endpoint import client_auth, endpoint, oauth_error

    assert entry.idp_issuer and entry.idp_refresh_token and entry.idp_client_id
    disc = fetch_discovery(http, entry.idp_issuer)
    if not disc.raw.get("revocation_endpoint"):
        return False
    url = endpoint(disc.raw, "revocation_endpoint")
    fields, auth = client_auth(disc.raw, entry.idp_client_id, secret)
    data = {**fields, "token": entry.idp_refresh_token, "token_type_hint": "refresh_token"}
    what = "the identity provider's revocation endpoint"
    r = request_json(http, "POST", url, what=what, data=data, auth=auth)
    if r.status != 200:  # RFC 7009 §2.2: 200 also for a token that was already invalid
        raise oauth_error(r.status, r.body, what=what, url=url, secrets=[entry.idp_refresh_token, secret])
    return True


def remove_faas_cli_entry(deps: Deps, gateway: str) -> Path | None:
    """Remove faas-pro's ``auth: oauth2`` entry for ``gateway``; the file changed, or None."""
    from faas_pro.oauth.faas_cli_config import remove_token

    return remove_token(deps.env, gateway)


def logout_one(deps: Deps, gateway: str, inp: LogoutInput) -> LogoutResult:
    res = LogoutResult(gateway)
    entry = _entry(deps, gateway, res)
    if inp.revoke and entry is not None and entry.idp_refresh_token and entry.idp_issuer and entry.idp_client_id:
        from faas_pro.guards import insecure_allowed, require_secure_transport
        from faas_pro.oauth.client_credentials import SECRET_ENV

        try:
            allowed = insecure_allowed(inp.insecure_http, deps.env)
            require_secure_transport(entry.idp_issuer, "the refresh token", allowed=allowed, warn=deps.warn)
            http = deps.http(ca_file=inp.ca_file)
            if revoke_refresh_token(http, entry, deps.env.get(SECRET_ENV) or None):
                res.revoked = True
        except FaasProError as e:
            res.warnings.append(
                f"WARNING: the refresh token for {gateway} was not revoked ({e.line()}); logging out locally"
            )
    try:
        path = remove_faas_cli_entry(deps, gateway)
        res.faas_cli_config = str(path) if path is not None else None
    except FaasProError as e:
        res.warnings.append(f"WARNING: {e.line()}")
    res.had_token = deps.secrets().delete(gateway) or res.had_token
    if inp.forget:
        deps.settings().remove(gateway)
    return res


def logout(deps: Deps, inp: LogoutInput) -> list[LogoutResult]:
    return [logout_one(deps, gw, inp) for gw in targets(deps, inp)]
