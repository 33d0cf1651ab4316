"""The whole `faas-pro auth doctor` run: every check in order, each skipped with a reason when it
cannot run."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from faas_pro.errors import FaasProError
from faas_pro.usecases.doctor.gateway import (
    check_exchange,
    check_gateway_discovery,
    check_gateway_keys,
    check_openfaas_token,
    check_saved_idp_token,
    check_trust,
)
from faas_pro.usecases.doctor.idp import check_client, check_discovery, check_grants, check_idp_keys
from faas_pro.usecases.doctor.local import check_ca, check_port, check_proxy, check_skew
from faas_pro.usecases.doctor.report import (
    INSECURE_HTTP_ENV,
    CheckResult,
    DoctorInput,
    DoctorReport,
)

if TYPE_CHECKING:  # pragma: no cover
    import httpx

    from faas_pro.deps import Deps


def doctor(inp: DoctorInput, deps: Deps, client: httpx.Client | None = None) -> DoctorReport:
    """Run every check; ``client`` replaces ``deps.http()`` (tests)."""
    from faas_pro.oauth.loopback import CALLBACK_PATH, DEFAULT_PORT, parse_redirect_host
    from faas_pro.storage.settings import GatewaySettings

    gateway = deps.gateway(inp.gateway)
    report = DoctorReport(gateway)
    add = report.checks.append
    try:
        saved = deps.settings().get(gateway) or GatewaySettings()
    except FaasProError as e:
        add(CheckResult("settings", "fail", e.message, e.hint or "fix or move the settings file"))
        saved = GatewaySettings()
    authority = inp.authority or saved.authority
    client_id = inp.client_id or saved.client_id
    grant = saved.grant or "code"
    port = inp.port if inp.port is not None else saved.port if saved.port is not None else DEFAULT_PORT
    if not authority or not client_id:
        missing = " and ".join(n for n, v in (("--authority", authority), ("--client-id", client_id)) if not v)
        add(CheckResult("settings", "fail", f"nothing saved for {gateway}", f"pass {missing}"))
    else:
        add(CheckResult("settings", "ok", f"gateway {gateway}, authority {authority}, client {client_id}, {grant}"))
    ca = check_ca(inp, deps.env)
    add(ca)
    urls = {"gateway": gateway, **({"IdP": authority} if authority else {})}
    add(check_proxy(urls, deps.env))
    try:
        target = parse_redirect_host(inp.redirect_host or saved.redirect_host)
    except FaasProError as e:
        add(CheckResult("callback port", "fail", e.message, "fix --redirect-host"))
        bound = None
    else:
        port_check, bound = check_port(target.bind, target.family, port)
        add(port_check)
    now = deps.clock()
    if not ca.ok:
        add(CheckResult("network checks", "skip", "not run: the CA file does not parse"))
        return report
    if client is None:
        client = deps.http(ca_file=str(inp.ca_file) if inp.ca_file else None, timeout=10.0)
    if authority and client_id:
        disc_check, doc, idp_date = check_discovery(client, authority)
        add(disc_check)
        if doc is not None:
            add(check_idp_keys(client, doc, authority))
            report.checks.extend(check_grants(doc, grant))
            redirect = f"http://{target.host}:{bound}{CALLBACK_PATH}" if bound else None
            add(check_client(client, doc, client_id, grant, redirect))
        if disc_check.status != "fail" or idp_date is not None:
            add(check_skew("IdP clock", "the IdP", idp_date, deps.clock()))
    gw_check, gw_issuer, gw_date = check_gateway_discovery(client, gateway)
    add(gw_check)
    if gw_date is not None:
        add(check_skew("gateway clock", "the gateway", gw_date, deps.clock()))
    if gw_issuer is None:
        add(CheckResult("gateway checks", "skip", "gateway keys, trust and tokens not checked: no gateway discovery"))
        return report
    add(check_gateway_keys(client, gateway))
    if authority and client_id:
        add(check_trust(client, gateway, authority, client_id, now))
    try:
        entry = deps.secrets().get(gateway)
    except FaasProError as e:
        add(CheckResult("saved tokens", "fail", e.message, e.hint or ""))
        return report
    signed: float | None = None
    send = not _plain_remote(gateway) or deps.env.get(INSECURE_HTTP_ENV) == "1"
    if not send:
        why = f"not sent: {gateway} is plain http:// and not loopback"
        add(CheckResult("saved tokens", "skip", why, f"use https, or set {INSECURE_HTTP_ENV}=1 to send them anyway"))
    if authority and send:
        idp_check, subject = check_saved_idp_token(entry, authority, gateway, now)
        add(idp_check)
        if subject is not None:
            exchange_check, signed = check_exchange(client, gateway, subject)
            add(exchange_check)
    if gw_date is None:  # no Date header: the exchanged token's iat is the gateway's clock reading
        source = "Date header, and the exchange dry run gave no token" if signed is None else "exchanged token's iat"
        add(check_skew("gateway clock", "the gateway", signed, deps.clock(), source))
    if send:
        add(check_openfaas_token(client, entry, gateway, gw_issuer, now))
    return report


def _plain_remote(url: str) -> bool:
    """Tokens never go to a non-loopback ``http://`` URL unless the user says so."""
    from faas_pro.oauth.discovery import is_loopback_host

    p = urlsplit(url)
    return p.scheme == "http" and not is_loopback_host(p.hostname or "")
