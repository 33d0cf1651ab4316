"""What one `faas-pro auth` will do, worked out from the flags, the saved settings and the environment.

Pure: no file, network or terminal. Flags win over the saved settings, which win over the defaults;
a bad combination is a ``UsageError`` here, before anything touches the network. What the plan
cannot know without I/O (the client secret, read from a file or the environment) is added by the
orchestrator with ``with_secret``, which also refuses client credentials without one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from faas_pro.errors import UsageError
from faas_pro.usecases.plugin import faas_cli_config_default

if TYPE_CHECKING:  # pragma: no cover
    from faas_pro.storage.settings import GatewaySettings

DEFAULT_TIMEOUT = "5m"
RESPONSE_MODE_ENV = "FAAS_PRO_RESPONSE_MODE"  # implicit grants: form_post | fragment (default: from discovery)
OFFLINE_ACCESS = "offline_access"
PAR_CHOICES = ("never", "auto", "always")


@dataclass
class LoginInput:
    """Flags as given (None = not given: fall back to the saved settings, then the defaults)."""

    gateway: str | None = None
    authority: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    client_secret_file: Path | None = None
    grant: str | None = None
    audience: str | None = None
    scopes: tuple[str, ...] | None = None
    redirect_host: str | None = None
    port: int | None = None
    no_exchange: bool = False
    print_token: bool = False
    pretty: bool = False
    no_browser: bool = False
    browser_command: str | None = None
    timeout: str | None = None
    ca_file: Path | None = None
    tls_no_verify: bool = False
    token: str | None = None
    token_file: Path | None = None
    token_env: str | None = None
    ci: str | None = None
    refresh: bool | None = None
    faas_cli_config: bool | None = None
    par: str | None = None  # never | auto | always (RFC 9126); None = the saved choice, else auto
    insecure_http: bool = False  # allow credentials over plain http to a non-loopback host (guards.py)

    def federated(self) -> bool:
        """A token to exchange was given (``--token*``/``--ci``): the CI path, no IdP login."""
        return any(v is not None for v in (self.token, self.token_file, self.token_env, self.ci))


@dataclass(frozen=True)
class Plan:
    """A login with an identity provider, fully decided (``to_save``: the settings saved on success)."""

    gateway: str
    authority: str
    client_id: str
    grant: str
    scopes: tuple[str, ...]
    audience: str | None
    redirect_host: str | None
    port: int
    timeout: float
    response_mode: str | None
    refresh: bool | None
    faas_cli_config: bool
    to_save: GatewaySettings
    client_secret: str | None = field(default=None, repr=False)  # never in a repr or a log
    par: str = "auto"  # pushed authorization requests (RFC 9126): never | auto | always

    def with_secret(self, secret: str | None) -> Plan:
        if self.grant == "client_credentials" and not secret:
            from faas_pro.oauth.client_credentials import SECRET_ENV

            raise UsageError(
                "--grant client_credentials needs a client secret",
                f"use --client-secret-file FILE or set {SECRET_ENV}",
            )
        return dataclasses.replace(self, client_secret=secret)

    def scopes_for(self, idp_offers_offline_access: bool) -> tuple[str, ...]:
        """Add ``offline_access`` when a refresh token is wanted: ``--refresh``, or by default when the
        IdP lists the scope (``scopes_supported``); never with ``--no-refresh`` or client credentials."""
        if self.grant == "client_credentials" or self.refresh is False or OFFLINE_ACCESS in self.scopes:
            return self.scopes
        if self.refresh or idp_offers_offline_access:
            return (*self.scopes, OFFLINE_ACCESS)
        return self.scopes

    def may_refresh(self) -> bool:
        """The grant is one a person logged in with, and ``--no-refresh`` was not given."""
        from faas_pro.oauth.flows import REFRESHABLE_GRANTS

        return self.grant in REFRESHABLE_GRANTS and self.refresh is not False


def split_scopes(scopes: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(s for part in scopes for s in part.split()))  # "a b" and repeats, de-duplicated


def parse_timeout(value: str | None) -> float:
    from faas_pro.oauth.duration import parse_duration

    return parse_duration(value or DEFAULT_TIMEOUT)


def make_plan(inp: LoginInput, gateway: str, saved: GatewaySettings | None, env: Mapping[str, str]) -> Plan:
    """The plan for ``gateway`` (already resolved), given what is saved for it (None: nothing)."""
    from faas_pro.oauth.flows import DEFAULT_SCOPES, GRANTS
    from faas_pro.oauth.loopback import DEFAULT_PORT, parse_redirect_host
    from faas_pro.storage.settings import GatewaySettings

    base = saved or GatewaySettings()
    authority = inp.authority or base.authority
    client_id = inp.client_id or base.client_id
    if not authority or not client_id:
        missing = " and ".join(n for n, v in (("--authority", authority), ("--client-id", client_id)) if not v)
        raise UsageError(
            f"{missing} required: nothing is saved for {gateway}",
            "pass them once (later runs reuse them), or exchange a token you have with --token-file/--ci",
        )
    grant = inp.grant or base.grant or "code"
    if grant not in GRANTS:
        raise UsageError(f"--grant must be one of {', '.join(GRANTS)}: {grant!r}")
    given = tuple(inp.scopes) if inp.scopes else tuple(base.scopes or ())
    if grant == "client_credentials":
        scopes = split_scopes(given)  # a machine identity: only the scopes asked for
    else:
        scopes = split_scopes(given or DEFAULT_SCOPES)
        if "openid" not in scopes:
            scopes = ("openid", *scopes)  # OpenID Connect needs it; the ID token is what we verify
    port = inp.port if inp.port is not None else base.port if base.port is not None else DEFAULT_PORT
    if not 0 <= port <= 65535:
        raise UsageError(f"--port must be between 0 and 65535: {port}")
    redirect_host = inp.redirect_host or base.redirect_host
    parse_redirect_host(redirect_host)  # validate early (usage error before any network)
    saved_par = base.extra.get("par")  # a hand-edited value that is not a choice counts as unset
    par = inp.par or (saved_par if saved_par in PAR_CHOICES else None) or "auto"
    if par not in PAR_CHOICES:
        raise UsageError(f"--par must be one of {', '.join(PAR_CHOICES)}, not {par!r}")
    response_mode = env.get(RESPONSE_MODE_ENV) or None
    if response_mode not in (None, "form_post", "fragment"):
        raise UsageError(f"{RESPONSE_MODE_ENV} must be form_post or fragment: {response_mode!r}")
    extra = dict(base.extra)
    refresh = inp.refresh if inp.refresh is not None else extra.get("refresh")
    faas_cli = inp.faas_cli_config if inp.faas_cli_config is not None else extra.get("faas_cli_config")
    for key, value in (("refresh", inp.refresh), ("faas_cli_config", inp.faas_cli_config), ("par", inp.par)):
        if value is not None:
            extra[key] = value
    to_save = GatewaySettings(
        authority=authority,
        client_id=client_id,
        grant=grant,
        scopes=list(inp.scopes) if inp.scopes else base.scopes,
        audience=inp.audience or base.audience,
        redirect_host=redirect_host,
        port=port if (inp.port is not None or base.port is not None) else None,
        extra=extra,
    )
    return Plan(
        gateway=gateway,
        authority=authority,
        client_id=client_id,
        grant=grant,
        scopes=scopes,
        audience=to_save.audience,
        redirect_host=redirect_host,
        port=port,
        timeout=parse_timeout(inp.timeout),
        response_mode=response_mode,
        refresh=refresh if isinstance(refresh, bool) else None,
        faas_cli_config=faas_cli_config_default(faas_cli, env),
        to_save=to_save,
        par=par,
    )
