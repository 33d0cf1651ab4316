"""`faas-pro auth` with a browser grant: discover, log in through the loopback, verify, exchange, save.

Order matters for the security rules: the ID token is verified before anything is printed or saved;
settings and tokens are written only once the whole login (and the exchange, when asked for) has
succeeded, under the per-gateway lock, so a failed login never replaces what was saved before it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from faas_pro.errors import FaasProError, UsageError

if TYPE_CHECKING:  # pragma: no cover
    from faas_pro.deps import Deps
    from faas_pro.oauth.flows import IdpTokens
    from faas_pro.oauth.loopback import LoopbackReceiver
    from faas_pro.storage.settings import GatewaySettings

DEFAULT_TIMEOUT = "5m"
SECRET_ENV = "FAAS_PRO_CLIENT_SECRET"
RESPONSE_MODE_ENV = "FAAS_PRO_RESPONSE_MODE"  # implicit grants: form_post | fragment (default: from discovery)


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


@dataclass
class LoginOutput:
    gateway: str
    issuer: str
    subject: str
    display_name: str
    grant: str
    exchanged: bool
    saved_backend: str
    token: str | None = None  # what --print-token prints
    pretty: str | None = None  # what --pretty prints
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Plan:
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
    client_secret: str | None
    to_save: GatewaySettings


def _client_secret(inp: LoginInput, deps: Deps) -> str | None:
    if inp.client_secret_file is not None:
        try:
            text = inp.client_secret_file.read_text(encoding="utf-8").strip()
        except OSError as e:
            raise UsageError(f"cannot read --client-secret-file {inp.client_secret_file}: {e.strerror}") from e
        if not text:
            raise UsageError(f"--client-secret-file {inp.client_secret_file} is empty")
        return text
    if inp.client_secret:
        deps.warn(
            "warning: --client-secret on the command line is visible to other users of this machine;"
            f" prefer --client-secret-file or {SECRET_ENV}"
        )
        return inp.client_secret
    return deps.env.get(SECRET_ENV) or None


def _plan(inp: LoginInput, deps: Deps) -> _Plan:
    from faas_pro.oauth.duration import parse_duration
    from faas_pro.oauth.flows import BROWSER_GRANTS, DEFAULT_SCOPES, OTHER_GRANTS
    from faas_pro.oauth.loopback import DEFAULT_PORT, parse_redirect_host
    from faas_pro.storage.settings import GatewaySettings
    from faas_pro.urls import resolve_gateway

    gateway = resolve_gateway(inp.gateway, deps.env)
    saved = deps.settings().get(gateway)  # a corrupt file fails here, naming its path, untouched
    base = saved or GatewaySettings()
    authority = inp.authority or base.authority
    client_id = inp.client_id or base.client_id
    if not authority or not client_id:
        missing = " and ".join(n for n, v in (("--authority", authority), ("--client-id", client_id)) if not v)
        raise UsageError(f"{missing} required: nothing is saved for {gateway}", "pass them once; later runs reuse them")
    grant = inp.grant or base.grant or "code"
    if grant in OTHER_GRANTS:
        raise FaasProError(f"--grant {grant} is not implemented yet", "use --grant code, implicit or implicit-id")
    if grant not in BROWSER_GRANTS:
        raise UsageError(
            f"--grant must be one of code, implicit, implicit-id, device_code, client_credentials: {grant!r}"
        )
    scopes = tuple(inp.scopes) if inp.scopes else tuple(base.scopes or ()) or DEFAULT_SCOPES
    scopes = tuple(dict.fromkeys(s for part in scopes for s in part.split()))  # "a b" and repeats, de-duplicated
    if "openid" not in scopes:
        scopes = ("openid", *scopes)  # OpenID Connect needs it; the ID token is what we verify
    port = inp.port if inp.port is not None else base.port if base.port is not None else DEFAULT_PORT
    if not 0 <= port <= 65535:
        raise UsageError(f"--port must be between 0 and 65535: {port}")
    redirect_host = inp.redirect_host or base.redirect_host
    parse_redirect_host(redirect_host)  # validate early (usage error before any network)
    timeout = parse_duration(inp.timeout or DEFAULT_TIMEOUT)
    response_mode = deps.env.get(RESPONSE_MODE_ENV) or None
    if response_mode not in (None, "form_post", "fragment"):
        raise UsageError(f"{RESPONSE_MODE_ENV} must be form_post or fragment: {response_mode!r}")
    if inp.ca_file is not None and not inp.ca_file.is_file():
        raise UsageError(f"--ca-file {inp.ca_file} does not exist")
    to_save = GatewaySettings(
        authority=authority,
        client_id=client_id,
        grant=grant,
        scopes=list(inp.scopes) if inp.scopes else base.scopes,
        audience=inp.audience or base.audience,
        redirect_host=redirect_host,
        port=port if (inp.port is not None or base.port is not None) else None,
        extra=dict(base.extra),
    )
    return _Plan(
        gateway=gateway,
        authority=authority,
        client_id=client_id,
        grant=grant,
        scopes=scopes,
        audience=to_save.audience,
        redirect_host=redirect_host,
        port=port,
        timeout=timeout,
        response_mode=response_mode,
        client_secret=_client_secret(inp, deps),
        to_save=to_save,
    )


def login(inp: LoginInput, deps: Deps) -> LoginOutput:
    """Run one browser login for a gateway; see the module docstring for the order of things."""
    from faas_pro.storage.lock import gateway_lock

    plan = _plan(inp, deps)
    if inp.tls_no_verify:
        deps.warn("WARNING: --tls-no-verify: TLS certificates are NOT checked; anyone on the network can impersonate")
        deps.warn("WARNING: the identity provider and the gateway and read your tokens. Use --ca-file instead.")
    client = deps.http(ca_file=str(inp.ca_file) if inp.ca_file else None, verify=not inp.tls_no_verify)
    with gateway_lock(deps.data_dir, plan.gateway, timeout=plan.timeout):
        tok, issuer = _browser_login(plan, inp, deps, client)
        return _finish(plan, inp, deps, client, tok, issuer)


def _browser_login(plan: _Plan, inp: LoginInput, deps: Deps, client: Any) -> tuple[IdpTokens, str]:
    from faas_pro.oauth.discovery import fetch_discovery, fetch_jwks
    from faas_pro.oauth.flows import REQUIRED_PARAMS, authorize_url, check_tokens, redeem_code, require_at_hash
    from faas_pro.oauth.loopback import LoopbackReceiver, parse_redirect_host
    from faas_pro.oauth.pkce import AuthRequestSecrets

    disc = fetch_discovery(client, plan.authority)
    sec = AuthRequestSecrets()
    receiver = LoopbackReceiver(
        parse_redirect_host(plan.redirect_host),
        plan.port,
        state=sec.state,
        issuer=disc.issuer,
        required=REQUIRED_PARAMS[plan.grant],
        relay=plan.grant != "code",
    )
    with receiver:  # listening before the browser opens
        url, _mode = authorize_url(
            disc,
            client_id=plan.client_id,
            redirect_uri=receiver.redirect_uri,
            grant=plan.grant,
            scopes=plan.scopes,
            audience=plan.audience,
            secrets=sec,
            response_mode=plan.response_mode,
        )
        _open(url, inp, deps, receiver)
        params = receiver.wait(plan.timeout)
    if plan.grant == "code":
        raw: dict[str, Any] = redeem_code(
            client,
            disc,
            code=params["code"],
            redirect_uri=receiver.redirect_uri,
            client_id=plan.client_id,
            client_secret=plan.client_secret,
            code_verifier=sec.code_verifier,
        )
    else:
        raw = dict(params)
    jwks = fetch_jwks(client, disc)
    tok = check_tokens(disc, jwks, raw, client_id=plan.client_id, nonce=sec.nonce, now=deps.clock())
    if plan.grant == "implicit":
        require_at_hash(tok)
    return tok, disc.issuer


def _open(url: str, inp: LoginInput, deps: Deps, receiver: LoopbackReceiver) -> None:
    from faas_pro.oauth.browser import check_openable, open_browser, plan_browser

    check_openable(url)
    bplan = plan_browser(no_browser=inp.no_browser, command=inp.browser_command, env=deps.env)
    opener = deps.open_url
    if bplan.command is None and opener is not None and not inp.no_browser:
        started = opener(url)
    else:
        if bplan.reason and not inp.no_browser:
            deps.warn(f"Not opening a browser: {bplan.reason}.")
        started = open_browser(bplan, url)
    if started:
        deps.warn("Opened a browser to log in. If it did not open, visit this URL:")
    else:
        deps.warn("Open this URL in a browser to log in:")
    deps.warn(url)
    if not started and deps.interactive():
        deps.warn("Waiting for the login… (or paste the URL your browser was sent back to, then Enter)")
        threading.Thread(target=_read_pasted, args=(deps, receiver), daemon=True).start()
    else:
        deps.warn("Waiting for the login…")


def _read_pasted(deps: Deps, receiver: LoopbackReceiver) -> None:
    for line in deps.stdin:
        if not line.strip():
            continue
        status, _title, _id, message = receiver.deliver_url(line)
        if status == 200:
            return
        deps.warn(f"That URL was not accepted: {message}")


def _finish(plan: _Plan, inp: LoginInput, deps: Deps, client: Any, tok: IdpTokens, issuer: str) -> LoginOutput:
    from faas_pro.oauth.exchange import NoTokenEndpoint, exchange

    notes: list[str] = []
    if tok.access_token and not tok.access_verified and tok.access_note:
        notes.append(f"note: {tok.access_note}; it is kept as an opaque token and the ID token is used instead")
    entry: dict[str, str] = {"idp_issuer": issuer, "idp_id_token": tok.id_token}
    if tok.access_token:
        entry["idp_access_token"] = tok.access_token
    if tok.refresh_token:
        entry["idp_refresh_token"] = tok.refresh_token
    exchanged = False
    printed = tok.printed_token(plan.grant)
    if not inp.no_exchange:
        try:
            result = exchange(client, plan.gateway, tok.subject_token(plan.grant))
        except NoTokenEndpoint as e:
            notes.append(f"{e.message}: no token exchange was done; the identity provider's token is saved instead")
        else:
            entry["openfaas_token"] = result.access_token
            printed, exchanged = result.access_token, True
    pretty_text = _pretty(printed) if inp.pretty else None
    store = deps.secrets()
    store.put(plan.gateway, entry)
    deps.settings().put(plan.gateway, plan.to_save)
    claims = tok.id_claims
    name = next((str(claims[k]) for k in ("preferred_username", "email", "name") if isinstance(claims.get(k), str)), "")
    return LoginOutput(
        gateway=plan.gateway,
        issuer=issuer,
        subject=str(claims.get("sub", "")),
        display_name=name,
        grant=plan.grant,
        exchanged=exchanged,
        saved_backend=store.backend,
        token=printed if inp.print_token else None,
        pretty=pretty_text,
        notes=notes,
    )


def _pretty(token: str) -> str:
    from faas_pro import tokens

    try:
        return tokens.pretty(token)
    except tokens.TokenError as e:
        raise FaasProError(f"--pretty: the token is not a JWT ({e.reason}); nothing was saved") from e
