"""Use cases behind ``namespaces``, ``list``, ``token`` and ``status`` (``logout``: usecases/logout.py).

Token choice: ``-k/--token`` → ``FAAS_PRO_TOKEN`` → the saved ``openfaas_token`` for the gateway
(the saved entry's format: faas_pro/storage/entry.py).
A saved token is treated as expired from ``exp - 10 s`` and then nothing is sent (exit 3).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from faas_pro.errors import AuthRequired

if TYPE_CHECKING:  # pragma: no cover
    from faas_pro.deps import Deps
    from faas_pro.gateway import GatewayClient
    from faas_pro.storage.entry import TokenEntry

SKEW = 10.0
STATUS_VERSION = 1


def _auth_hint(gateway: str) -> str:
    return f"run faas-pro auth -g {gateway}"


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def saved_entry(deps: Deps, gateway: str) -> TokenEntry:
    """The typed entry saved for ``gateway`` (empty when none is)."""
    from faas_pro.storage.entry import TokenEntry

    return TokenEntry.from_dict(deps.secrets().get(gateway) or {}, gateway)


def saved_token(deps: Deps, gateway: str) -> str:
    """The saved OpenFaaS token, or AuthRequired (none saved, unreadable, or expired)."""
    from faas_pro.tokens import TokenError, decode_unverified, expiry, is_expired

    token = saved_entry(deps, gateway).openfaas_token
    if not token:
        raise AuthRequired(f"not logged in to {gateway}", _auth_hint(gateway))
    try:
        _, claims = decode_unverified(token)
    except TokenError:
        raise AuthRequired(f"the token saved for {gateway} is unreadable", _auth_hint(gateway)) from None
    if is_expired(claims, deps.clock(), SKEW):
        exp = expiry(claims)
        raise AuthRequired(f"the token for {gateway} expired at {_iso(exp or 0)}", _auth_hint(gateway))
    return token


def choose_token(deps: Deps, gateway: str, flag: str | None) -> str:
    """``-k`` → ``FAAS_PRO_TOKEN`` → the saved token; a given one must look like a JWT (guards.py)."""
    from faas_pro.guards import require_jwt_shape

    if flag is not None:
        return require_jwt_shape(flag, "given with -k/--token")
    if deps.env.get("FAAS_PRO_TOKEN"):
        return require_jwt_shape(deps.env["FAAS_PRO_TOKEN"], "in FAAS_PRO_TOKEN")
    return saved_token(deps, gateway)


@dataclass(frozen=True)
class ClientInput:
    gateway: str
    token: str | None = None
    ca_file: str | None = None
    tls_no_verify: bool = False
    insecure_http: bool = False


def _client(deps: Deps, inp: ClientInput) -> GatewayClient:
    from faas_pro.gateway import GatewayClient
    from faas_pro.guards import insecure_allowed, require_secure_transport

    token = choose_token(deps, inp.gateway, inp.token)
    allowed = insecure_allowed(inp.insecure_http, deps.env)
    require_secure_transport(inp.gateway, "the OpenFaaS token", allowed=allowed, warn=deps.warn)
    if inp.tls_no_verify:
        deps.warn("WARNING: TLS verification is off (--tls-no-verify): the connection can be intercepted")
    return GatewayClient(
        deps.http(ca_file=inp.ca_file, verify=not inp.tls_no_verify, only_url=inp.gateway), inp.gateway, token
    )


def namespaces(deps: Deps, inp: ClientInput) -> list[str]:
    return _client(deps, inp).list_namespaces()


@dataclass(frozen=True)
class ListInput(ClientInput):
    namespace: str | None = None
    sort: str = "name"


def list_functions(deps: Deps, inp: ListInput) -> list[Any]:
    from faas_pro.formats import sort_functions

    return sort_functions(_client(deps, inp).list_functions(inp.namespace), inp.sort)


@dataclass
class Status:
    gateway: str
    store: str
    logged_in: bool = False
    subject: str | None = None
    issuer: str | None = None
    idp_issuer: str | None = None
    policies: list[str] = field(default_factory=list)
    expires_at: str | None = None
    expires_in: int | None = None
    expired: bool = False
    refresh_token: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"version": STATUS_VERSION, **self.__dict__}


def status(deps: Deps, gateway: str) -> Status:
    """What is saved for ``gateway``; the claims are read UNVERIFIED (they are only displayed)."""
    from faas_pro.tokens import TokenError, decode_unverified, expiry, is_expired

    entry = saved_entry(deps, gateway)
    st = Status(gateway=gateway, store=deps.secrets().backend_of(gateway))  # the file's entry: no keyring probe
    token = entry.openfaas_token
    st.refresh_token = bool(entry.idp_refresh_token)
    st.idp_issuer = entry.idp_issuer
    if not token:
        return st
    st.logged_in = True
    try:
        _, claims = decode_unverified(token)
    except TokenError:
        st.expired = True
        return st
    sub, iss = claims.get("sub"), claims.get("fed:iss") or claims.get("iss")
    st.subject = sub if isinstance(sub, str) else None
    st.issuer = iss if isinstance(iss, str) else None
    pol = claims.get("policy")
    st.policies = sorted(p for p in pol if isinstance(p, str)) if isinstance(pol, list) else []
    exp = expiry(claims)
    now = deps.clock()
    if exp is not None:
        st.expires_at = _iso(exp)
        st.expires_in = int(exp - now)
    st.expired = is_expired(claims, now, SKEW)
    return st


def _duration(seconds: int) -> str:
    if seconds <= 0:
        return "expired"
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"in {h}h{m:02d}m" if h else f"in {m}m{s:02d}s"


def expiry_text(exp: float, now: float) -> str:
    """``2024-05-01T10:20:30Z (in 29m57s)``, or ``… (expired)`` from ``exp - 10 s`` on: one wording for
    ``status`` and for ``auth``'s report."""
    return f"{_iso(exp)} ({'expired' if now >= exp - SKEW else _duration(int(exp - now))})"


def render_status(st: Status) -> str:
    rows = [("Gateway", st.gateway)]
    if st.logged_in:
        rows += [
            ("Subject", st.subject or "(unknown)"),
            ("Issuer", st.issuer or "(unknown)"),
            ("Policies", ", ".join(st.policies) or "(none)"),
            (
                "Expires",
                f"{st.expires_at} ({'expired' if st.expired else _duration(st.expires_in or 0)})"
                if st.expires_at
                else "(unknown)",
            ),  # the same wording as expiry_text(), from the values status() already worked out
            ("Refresh", "yes" if st.refresh_token else "no"),
        ]
    else:
        rows.append(("Token", "none saved"))
    rows.append(("Store", st.store))
    return "".join(f"{k + ':':<10}{v}\n" for k, v in rows)


STATUS_ALL_VERSION = 1


@dataclass
class StatusAll:
    default_gateway: str | None
    gateways: list[Status]
    problems: list[str] = field(default_factory=list)  # gateways whose entry could not be read

    def to_json(self) -> dict[str, Any]:
        rows = [{k: v for k, v in st.to_json().items() if k != "version"} for st in self.gateways]
        return {"version": STATUS_ALL_VERSION, "default_gateway": self.default_gateway, "gateways": rows}


def status_all(deps: Deps) -> StatusAll:
    """Every gateway the settings or a token store knows (claims UNVERIFIED, as in ``status``)."""
    from faas_pro.errors import FaasProError

    settings = deps.settings()
    names = sorted(set(settings.gateways()) | set(deps.secrets().gateways()))
    out = StatusAll(settings.default_gateway(), [])
    for gw in names:
        try:
            out.gateways.append(status(deps, gw))
        except FaasProError as e:
            out.problems.append(e.line())
    return out


def render_status_all(all_: StatusAll) -> str:
    """One line per gateway (``*`` marks the default): identity, issuer, expiry, store."""
    head = ("", "GATEWAY", "IDENTITY", "ISSUER", "EXPIRES", "STORE")
    rows = [head]
    for st in all_.gateways:
        if not st.logged_in:
            ident, expires = "(not logged in)", "-"
        else:
            ident = st.subject or "(unknown)"
            expires = (
                f"{st.expires_at} ({'expired' if st.expired else _duration(st.expires_in or 0)})"
                if (st.expires_at)
                else "(unknown)"
            )
        issuer = st.issuer or st.idp_issuer or "-"
        rows.append(("*" if st.gateway == all_.default_gateway else "", st.gateway, ident, issuer, expires, st.store))
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    return "".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() + "\n" for r in rows)
