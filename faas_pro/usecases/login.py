"""`faas-pro auth`: log in (browser, device code, client credentials, a saved refresh token, or a token
the caller already has), verify, exchange at the gateway, verify the OpenFaaS token, save.

Order matters for the security rules: IdP tokens are verified before anything is printed or saved,
and so is the OpenFaaS token (against the gateway's own keys); settings and tokens are written only
once everything has succeeded, under the per-gateway lock, so a failed or interrupted login never
replaces what was saved before it.

Refresh and concurrency: the token entry is read once before waiting for the lock and again under
it. A run that finds a saved refresh token renews without a browser; if the entry changed while it
waited (another run renewed or logged in), it uses those fresh tokens instead of spending a refresh
token, and in any case only ever spends the refresh token it read under the lock.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from faas_pro.errors import AuthRequired, FaasProError, Interrupted, UsageError
from faas_pro.usecases.plugin import faas_cli_config_default

if TYPE_CHECKING:  # pragma: no cover
    import httpx

    from faas_pro.deps import Deps
    from faas_pro.oauth.device import DevicePrompt
    from faas_pro.oauth.discovery import Discovery
    from faas_pro.oauth.flows import IdpTokens
    from faas_pro.oauth.loopback import LoopbackReceiver
    from faas_pro.oauth.progress import Progress
    from faas_pro.storage.settings import GatewaySettings

DEFAULT_TIMEOUT = "5m"
RESPONSE_MODE_ENV = "FAAS_PRO_RESPONSE_MODE"  # implicit grants: form_post | fragment (default: from discovery)
OFFLINE_ACCESS = "offline_access"
CI_CHOICES = ("github", "gitlab", "auto")


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


@dataclass
class LoginOutput:
    gateway: str
    issuer: str
    subject: str
    display_name: str
    grant: str
    exchanged: bool = False
    saved_backend: str = ""
    how: str = "login"  # login | refreshed | reused (another run renewed while this one waited)
    token: str | None = None  # what --print-token prints
    pretty: str | None = None  # what --pretty prints
    notes: list[str] = field(default_factory=list)
    openfaas_subject: str | None = None
    policies: list[str] = field(default_factory=list)
    expires_at: float | None = None
    faas_cli_config: str | None = None  # the faas-cli config.yml written


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
    refresh: bool | None
    faas_cli_config: bool
    to_save: GatewaySettings


@dataclass(frozen=True)
class _Run:
    """One login's plan, flags and side effects, handed to every step."""

    plan: _Plan
    inp: LoginInput
    deps: Deps
    client: httpx.Client
    progress: Progress


def _client_secret(inp: LoginInput, deps: Deps) -> str | None:
    from faas_pro.oauth.client_credentials import SECRET_ENV, read_client_secret

    if inp.client_secret:
        deps.warn(
            "warning: --client-secret on the command line is visible to other users of this machine;"
            f" prefer --client-secret-file or {SECRET_ENV}"
        )
    file = str(inp.client_secret_file) if inp.client_secret_file is not None else None
    return read_client_secret(inp.client_secret, file, deps.env)


def _split_scopes(scopes: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(s for part in scopes for s in part.split()))  # "a b" and repeats, de-duplicated


def _timeout(inp: LoginInput) -> float:
    from faas_pro.oauth.duration import parse_duration

    return parse_duration(inp.timeout or DEFAULT_TIMEOUT)


def _plan(inp: LoginInput, deps: Deps) -> _Plan:
    from faas_pro.oauth.flows import DEFAULT_SCOPES, GRANTS
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
        raise UsageError(
            f"{missing} required: nothing is saved for {gateway}",
            "pass them once (later runs reuse them), or exchange a token you have with --token-file/--ci",
        )
    grant = inp.grant or base.grant or "code"
    if grant not in GRANTS:
        raise UsageError(f"--grant must be one of {', '.join(GRANTS)}: {grant!r}")
    given = tuple(inp.scopes) if inp.scopes else tuple(base.scopes or ())
    if grant == "client_credentials":
        scopes = _split_scopes(given)  # a machine identity: only the scopes asked for
    else:
        scopes = _split_scopes(given or DEFAULT_SCOPES)
        if "openid" not in scopes:
            scopes = ("openid", *scopes)  # OpenID Connect needs it; the ID token is what we verify
    port = inp.port if inp.port is not None else base.port if base.port is not None else DEFAULT_PORT
    if not 0 <= port <= 65535:
        raise UsageError(f"--port must be between 0 and 65535: {port}")
    redirect_host = inp.redirect_host or base.redirect_host
    parse_redirect_host(redirect_host)  # validate early (usage error before any network)
    response_mode = deps.env.get(RESPONSE_MODE_ENV) or None
    if response_mode not in (None, "form_post", "fragment"):
        raise UsageError(f"{RESPONSE_MODE_ENV} must be form_post or fragment: {response_mode!r}")
    if inp.ca_file is not None and not inp.ca_file.is_file():
        raise UsageError(f"--ca-file {inp.ca_file} does not exist")
    extra = dict(base.extra)
    refresh = inp.refresh if inp.refresh is not None else extra.get("refresh")
    faas_cli = inp.faas_cli_config if inp.faas_cli_config is not None else extra.get("faas_cli_config")
    for key, value in (("refresh", inp.refresh), ("faas_cli_config", inp.faas_cli_config)):
        if value is not None:
            extra[key] = value
    secret = _client_secret(inp, deps)
    if grant == "client_credentials" and not secret:
        from faas_pro.oauth.client_credentials import SECRET_ENV

        raise UsageError(
            "--grant client_credentials needs a client secret",
            f"use --client-secret-file FILE or set {SECRET_ENV}",
        )
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
    return _Plan(
        gateway=gateway,
        authority=authority,
        client_id=client_id,
        grant=grant,
        scopes=scopes,
        audience=to_save.audience,
        redirect_host=redirect_host,
        port=port,
        timeout=_timeout(inp),
        response_mode=response_mode,
        client_secret=secret,
        refresh=refresh if isinstance(refresh, bool) else None,
        faas_cli_config=faas_cli_config_default(faas_cli, deps.env),  # plugin mode: yes unless told
        to_save=to_save,
    )


def _federation_given(inp: LoginInput) -> bool:
    return any(v is not None for v in (inp.token, inp.token_file, inp.token_env, inp.ci))


def login(inp: LoginInput, deps: Deps) -> LoginOutput:
    """Run one `faas-pro auth`; see the module docstring for the order of things.

    Ctrl-C anywhere (browser wait, device polling, lock wait) is ``Interrupted`` (exit 130) and,
    since nothing is written before the very end, leaves what was saved before untouched.
    """
    from faas_pro.oauth.progress import Progress

    progress = Progress(deps.stderr)
    try:
        if _federation_given(inp):
            return _federated(inp, deps, progress)
        plan = _plan(inp, deps)
        client = _client(inp, deps)
        seen = deps.secrets().get(plan.gateway)  # before waiting for the lock (see the module docstring)
        with _locked(deps, plan.gateway, plan.timeout, progress):
            return _login_locked(_Run(plan, inp, deps, client, progress), seen)
    except KeyboardInterrupt:
        raise Interrupted("interrupted: nothing was saved, and what was saved before is unchanged") from None


def _client(inp: LoginInput, deps: Deps) -> httpx.Client:
    if inp.tls_no_verify:
        deps.warn("WARNING: --tls-no-verify: TLS certificates are NOT checked; anyone on the network can impersonate")
        deps.warn("WARNING: the identity provider and the gateway and read your tokens. Use --ca-file instead.")
    return deps.http(ca_file=str(inp.ca_file) if inp.ca_file else None, verify=not inp.tls_no_verify)


@contextmanager
def _locked(deps: Deps, gateway: str, timeout: float, progress: Progress) -> Iterator[None]:
    """The per-gateway lock; when another run holds it, say so (on a terminal, or with --verbose) and wait."""
    from faas_pro.storage.lock import gateway_lock

    with ExitStack() as stack:
        try:
            stack.enter_context(gateway_lock(deps.data_dir, gateway, timeout=0))
        except FaasProError:
            if deps.verbose:
                deps.warn(f"waiting for another faas-pro run for {gateway} to finish")
            with progress.status(lambda: f"Waiting for another faas-pro run for {gateway} to finish…"):
                stack.enter_context(gateway_lock(deps.data_dir, gateway, timeout=timeout))
        yield


# --------------------------------------------------------------------------- logins with an IdP


def _can_refresh(plan: _Plan, entry: dict[str, str] | None) -> bool:
    from faas_pro.oauth.flows import REFRESHABLE_GRANTS

    return bool(
        entry
        and entry.get("idp_refresh_token")
        and entry.get("idp_issuer") == plan.authority
        and entry.get("idp_client_id") == plan.client_id
        and plan.grant in REFRESHABLE_GRANTS
        and plan.refresh is not False
    )


def _login_locked(run: _Run, seen: dict[str, str] | None) -> LoginOutput:
    plan, deps, client, progress = run.plan, run.deps, run.client, run.progress
    from faas_pro.oauth.refresh import RefreshRejected

    entry = deps.secrets().get(plan.gateway)  # again, now that no other run can change it
    refreshable = _can_refresh(plan, entry)
    if refreshable and entry != seen:
        assert entry is not None
        reused = _reuse(run, entry)
        if reused is not None:
            return reused
    disc = _discover(client, plan.authority, progress)
    if refreshable:
        assert entry is not None
        try:
            tok = _refresh(run, disc, entry["idp_refresh_token"])
        except RefreshRejected as e:
            why_not = _cannot_log_in_again(run)
            if why_not is not None:
                reason, hint = why_not
                raise AuthRequired(f"{e.message}; cannot log in again here: {reason}", hint) from None
            deps.warn(f"{e.message}; logging in again")
        else:
            return _finish(run, tok, disc.issuer, how="refreshed")
    scopes = _scopes(plan, disc)
    if plan.grant == "device_code":
        tok = _device_login(run, disc, scopes)
    elif plan.grant == "client_credentials":
        tok = _client_credentials(run, disc)
    else:
        tok = _browser_login(run, disc, scopes)
    return _finish(run, tok, disc.issuer)


def _cannot_log_in_again(run: _Run) -> tuple[str, str] | None:
    """Why the login that follows a refused refresh token cannot happen here (reason, hint), or None.

    DESIGN §6: without a terminal a browser may still be opened and its callback waited for (and a
    device code shown on stderr); what never happens without one is prompting (the paste-back). With
    ``CI`` set nothing interactive happens at all.
    """
    from faas_pro.oauth.browser import plan_browser
    from faas_pro.oauth.flows import BROWSER_GRANTS

    plan, inp, deps = run.plan, run.inp, run.deps
    if deps.env.get("CI"):
        return "CI is set", f"run faas-pro auth -g {plan.gateway} outside CI (in CI, use --ci or --token-file)"
    if deps.stdin_is_tty() or plan.grant not in BROWSER_GRANTS:
        return None  # a terminal: a browser, or the pasted URL; device code: the code is shown on stderr
    if deps.open_url is not None and not inp.no_browser:
        return None
    bplan = plan_browser(no_browser=inp.no_browser, command=inp.browser_command, env=deps.env)
    if bplan.command is not None or bplan.use_default:
        return None
    return (
        f"no terminal and no browser ({bplan.reason})",
        f"run faas-pro auth -g {plan.gateway} in a terminal, or give --browser-command",
    )


def _discover(client: httpx.Client, authority: str, progress: Progress) -> Discovery:
    from faas_pro.oauth.discovery import fetch_discovery

    with progress.slow(f"Fetching the discovery document of {authority}…"):
        return fetch_discovery(client, authority)


def _jwks(client: httpx.Client, disc: Discovery, progress: Progress) -> dict[str, Any]:
    from faas_pro.oauth.discovery import fetch_jwks

    with progress.slow(f"Fetching the keys of {disc.issuer}…"):
        return fetch_jwks(client, disc)


def _scopes(plan: _Plan, disc: Discovery) -> tuple[str, ...]:
    """Add ``offline_access`` when a refresh token is wanted: ``--refresh``, or by default when the
    IdP lists the scope (``scopes_supported``); never with ``--no-refresh`` or client credentials."""
    if plan.grant == "client_credentials" or plan.refresh is False or OFFLINE_ACCESS in plan.scopes:
        return plan.scopes
    listed = disc.raw.get("scopes_supported")
    if plan.refresh or (isinstance(listed, list) and OFFLINE_ACCESS in listed):
        return (*plan.scopes, OFFLINE_ACCESS)
    return plan.scopes


def _refresh(run: _Run, disc: Discovery, refresh_token: str) -> IdpTokens:
    plan, deps, client, progress = run.plan, run.deps, run.client, run.progress
    from faas_pro.oauth.flows import check_tokens
    from faas_pro.oauth.refresh import refresh_tokens

    with progress.slow(f"Renewing the login at {disc.issuer}…"):
        raw = refresh_tokens(client, disc.raw, plan.client_id, refresh_token, client_secret=plan.client_secret)
    return check_tokens(
        disc, _jwks(client, disc, progress), raw, client_id=plan.client_id, nonce=None, now=deps.clock(),
        id_token_required=False,
    )  # fmt: skip


def _reuse(run: _Run, entry: dict[str, str]) -> LoginOutput | None:
    """The tokens another run saved while this one waited for the lock, when they are still good."""
    plan, inp, deps = run.plan, run.inp, run.deps
    from faas_pro import tokens

    key = "idp_access_token" if inp.no_exchange else "openfaas_token"
    value = entry.get(key) or (entry.get("idp_id_token") if inp.no_exchange else None)
    if not value:
        return None
    try:
        _, claims = tokens.decode_unverified(value)  # verified by the run that saved it
    except tokens.TokenError:
        return None
    if tokens.is_expired(claims, deps.clock()):
        return None
    out = LoginOutput(
        gateway=plan.gateway,
        issuer=plan.authority,
        subject=_str(claims, "sub"),
        display_name=_display(claims),
        grant=plan.grant,
        exchanged=not inp.no_exchange,
        saved_backend=deps.secrets().backend,
        how="reused",
        token=value if inp.print_token else None,
        pretty=_pretty(value) if inp.pretty else None,
    )
    if not inp.no_exchange:
        _describe_gateway_token(out, claims)
    return out


def _browser_login(run: _Run, disc: Discovery, scopes: tuple[str, ...]) -> IdpTokens:
    plan, inp, deps, client, progress = run.plan, run.inp, run.deps, run.client, run.progress
    from faas_pro.oauth.duration import format_duration
    from faas_pro.oauth.flows import REQUIRED_PARAMS, authorize_url, check_tokens, redeem_code, require_at_hash
    from faas_pro.oauth.loopback import LoopbackReceiver, parse_redirect_host
    from faas_pro.oauth.pkce import AuthRequestSecrets
    from faas_pro.oauth.progress import remaining

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
            scopes=scopes,
            audience=plan.audience,
            secrets=sec,
            response_mode=plan.response_mode,
        )
        pasting = _open(url, inp, deps, receiver)
        deadline = deps.clock() + plan.timeout
        wait = progress.status(
            lambda: (
                f"Waiting for the browser to come back to {receiver.redirect_uri}"
                f" ({remaining(deadline, deps.clock())} of {format_duration(plan.timeout)})"
            )
        )
        with ExitStack() as stack:
            if not pasting:  # a redrawn status line would garble what the user types
                stack.enter_context(wait)
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
    tok = check_tokens(
        disc, _jwks(client, disc, progress), raw, client_id=plan.client_id, nonce=sec.nonce, now=deps.clock()
    )
    if plan.grant == "implicit":
        require_at_hash(tok)
    return tok


def _start_browser(url: str, inp: LoginInput, deps: Deps) -> bool:
    """Open ``url`` when a browser is available (DESIGN §6); say why not otherwise."""
    from faas_pro.oauth.browser import check_openable, open_browser, plan_browser

    check_openable(url)
    bplan = plan_browser(no_browser=inp.no_browser, command=inp.browser_command, env=deps.env)
    if bplan.command is None and deps.open_url is not None and not inp.no_browser:
        return deps.open_url(url)
    if bplan.reason and not inp.no_browser:
        deps.warn(f"Not opening a browser: {bplan.reason}.")
    return open_browser(bplan, url)


def _open(url: str, inp: LoginInput, deps: Deps, receiver: LoopbackReceiver) -> bool:
    """Open the browser and print the URL; True when a pasted redirect URL is being read from stdin."""
    started = _start_browser(url, inp, deps)
    if started:
        deps.warn("Opened a browser to log in. If it did not open, visit this URL:")
    else:
        deps.warn("Open this URL in a browser to log in:")
    deps.warn(url)
    if not started and deps.interactive():
        deps.warn("Waiting for the login… (or paste the URL your browser was sent back to, then Enter)")
        threading.Thread(target=_read_pasted, args=(deps, receiver), daemon=True).start()
        return True
    deps.warn("Waiting for the login…")
    return False


def _read_pasted(deps: Deps, receiver: LoopbackReceiver) -> None:
    for line in deps.stdin:
        if not line.strip():
            continue
        status, _title, _id, message = receiver.deliver_url(line)
        if status == 200:
            return
        deps.warn(f"That URL was not accepted: {message}")


def _device_login(run: _Run, disc: Discovery, scopes: tuple[str, ...]) -> IdpTokens:
    plan, inp, deps, client, progress = run.plan, run.inp, run.deps, run.client, run.progress
    from faas_pro.oauth.device import device_login
    from faas_pro.oauth.flows import check_tokens
    from faas_pro.oauth.progress import remaining

    with ExitStack() as waiting:

        def show(p: DevicePrompt) -> None:
            for line in p.lines():
                deps.warn(line)
            if _start_browser(p.url_to_open, inp, deps):
                deps.warn("Opened a browser at that page.")
            deadline = deps.clock() + min(float(p.expires_in), plan.timeout)
            waiting.enter_context(
                progress.status(
                    lambda: (
                        f"Waiting for approval of {p.user_code} at {p.verification_uri}"
                        f" ({remaining(deadline, deps.clock())})"
                    )
                )
            )

        raw = device_login(
            client,
            disc.raw,
            plan.client_id,
            scopes,
            audience=plan.audience,
            client_secret=plan.client_secret,
            timeout=plan.timeout,
            on_prompt=show,
            clock=deps.clock,
            sleep=deps.sleep,
        )
    return check_tokens(
        disc, _jwks(client, disc, progress), raw, client_id=plan.client_id, nonce=None, now=deps.clock()
    )


def _client_credentials(run: _Run, disc: Discovery) -> IdpTokens:
    plan, deps, client, progress = run.plan, run.deps, run.client, run.progress
    from faas_pro.oauth.client_credentials import client_credentials
    from faas_pro.oauth.flows import check_tokens

    assert plan.client_secret is not None  # _plan refused it otherwise
    raw = client_credentials(client, disc.raw, plan.client_id, plan.client_secret, plan.scopes, audience=plan.audience)
    return check_tokens(
        disc, _jwks(client, disc, progress), raw, client_id=plan.client_id, nonce=None, now=deps.clock(),
        id_token_required=False,
    )  # fmt: skip


def _finish(run: _Run, tok: IdpTokens, issuer: str, how: str = "login") -> LoginOutput:
    plan, inp, deps, client, progress = run.plan, run.inp, run.deps, run.client, run.progress
    from faas_pro.oauth.exchange import NoTokenEndpoint

    out = LoginOutput(
        gateway=plan.gateway,
        issuer=issuer,
        subject=_str(tok.claims, "sub"),
        display_name=f"client {plan.client_id}" if plan.grant == "client_credentials" else _display(tok.claims),
        grant=plan.grant,
        how=how,
    )
    if tok.access_token and not tok.access_verified and tok.access_note:
        out.notes.append(f"note: {tok.access_note}; it is kept as an opaque token and the ID token is used instead")
    entry: dict[str, str] = {"idp_issuer": issuer, "idp_client_id": plan.client_id}
    if tok.id_token:
        entry["idp_id_token"] = tok.id_token
    if tok.access_token:
        entry["idp_access_token"] = tok.access_token
    if tok.refresh_token and plan.refresh is not False:
        entry["idp_refresh_token"] = tok.refresh_token
    printed = tok.printed_token(plan.grant)
    if not inp.no_exchange:
        try:
            printed = _exchange(deps, client, progress, plan.gateway, tok.subject_token(plan.grant), out)
        except NoTokenEndpoint as e:
            out.notes.append(f"{e.message}: no token exchange was done; the identity provider's token is saved instead")
        else:
            entry["openfaas_token"] = printed
    return _save(deps, inp, out, entry, printed, plan.to_save, plan.faas_cli_config)


def _exchange(
    deps: Deps, client: httpx.Client, progress: Progress, gateway: str, subject_token: str, out: LoginOutput
) -> str:
    """Exchange, then verify the OpenFaaS token against the gateway's keys; fills ``out``."""
    from faas_pro.oauth.exchange import exchange, verify_gateway_token

    result = exchange(client, gateway, subject_token)
    with progress.slow(f"Fetching the keys of {gateway}…"):
        claims = verify_gateway_token(client, gateway, result.access_token, deps.clock())
    out.exchanged = True
    _describe_gateway_token(out, claims)
    return result.access_token


def _describe_gateway_token(out: LoginOutput, claims: dict[str, Any]) -> None:
    from faas_pro.tokens import expiry

    out.openfaas_subject = _str(claims, "sub") or None
    pol = claims.get("policy")
    out.policies = sorted(p for p in pol if isinstance(p, str)) if isinstance(pol, list) else []
    out.expires_at = expiry(claims)


def _save(
    deps: Deps,
    inp: LoginInput,
    out: LoginOutput,
    entry: dict[str, str],
    printed: str,
    settings: GatewaySettings | None,
    faas_cli: bool,
) -> LoginOutput:
    """Everything has succeeded: write faas-cli's config (it may refuse a corrupt file), then ours."""
    out.pretty = _pretty(printed) if inp.pretty else None
    out.token = printed if inp.print_token else None
    if faas_cli:
        if "openfaas_token" in entry:
            from faas_pro.oauth.faas_cli_config import write_token

            out.faas_cli_config = str(write_token(deps.env, out.gateway, entry["openfaas_token"]))
        else:
            out.notes.append("note: no OpenFaaS token, so faas-cli's config was not changed")
    store = deps.secrets()
    store.put(out.gateway, entry)
    if settings is not None:
        deps.settings().put(out.gateway, settings)
    out.saved_backend = store.backend
    return out


def _str(claims: dict[str, Any], key: str) -> str:
    v = claims.get(key)
    return v if isinstance(v, str) else ""


def _display(claims: dict[str, Any]) -> str:
    return next((str(claims[k]) for k in ("preferred_username", "email", "name") if isinstance(claims.get(k), str)), "")


def _pretty(token: str) -> str:
    from faas_pro import tokens

    try:
        return tokens.pretty(token)
    except tokens.TokenError as e:
        raise FaasProError(f"--pretty: the token is not a JWT ({e.reason}); nothing was saved") from e


# --------------------------------------------------------------------------- web identity federation


def _federated(inp: LoginInput, deps: Deps, progress: Progress) -> LoginOutput:
    """Exchange a token the caller already has (--token/--token-file/--token-env) or the CI job's (--ci)."""
    from faas_pro import tokens
    from faas_pro.oauth.federation import (
        GITLAB_DEFAULT_VAR,
        detect_ci,
        github_actions_token,
        gitlab_token,
        read_subject_token,
    )
    from faas_pro.urls import resolve_gateway

    gateway = resolve_gateway(inp.gateway, deps.env)
    flags = (("--authority", inp.authority), ("--client-id", inp.client_id), ("--grant", inp.grant))
    given = [name for name, value in flags if value is not None]
    if given:
        raise UsageError(f"{', '.join(given)} cannot be combined with --token, --token-file, --token-env or --ci")
    if inp.no_exchange:
        raise UsageError("--no-exchange: with --token, --token-file, --token-env or --ci there is only the exchange")
    timeout = _timeout(inp)
    now = deps.clock()
    ci = inp.ci
    if ci is not None and ci not in CI_CHOICES:
        raise UsageError(f"--ci must be one of {', '.join(CI_CHOICES)}: {ci!r}")
    if ci == "auto":
        ci = detect_ci(deps.env)
        if ci is None:
            raise UsageError(
                "--ci auto: this is neither GitHub Actions (GITHUB_ACTIONS=true) nor GitLab CI (GITLAB_CI=true)"
            )
    client = _client(inp, deps)
    if ci == "github":
        if any(v is not None for v in (inp.token, inp.token_file, inp.token_env)):
            raise UsageError("--ci github fetches the job's token itself: drop --token, --token-file and --token-env")
        with progress.slow("Asking GitHub Actions for the job's OIDC token…"):
            subject = github_actions_token(client, deps.env, inp.audience or gateway)
    elif ci == "gitlab":
        if inp.token is not None or inp.token_file is not None:
            raise UsageError("--ci gitlab reads the variable named by --token-env: drop --token and --token-file")
        subject = gitlab_token(deps.env, inp.token_env or GITLAB_DEFAULT_VAR, now=now)
    else:
        if inp.token is not None:
            deps.warn(
                "warning: --token on the command line is visible to other users of this machine;"
                " prefer --token-file or --token-env"
            )
        subject = read_subject_token(
            token=inp.token,
            token_file=str(inp.token_file) if inp.token_file is not None else None,
            token_env=inp.token_env,
            env=deps.env,
            now=now,
        )
    _, upstream = tokens.decode_unverified(subject)  # UNVERIFIED, for the message only: the gateway verifies
    out = LoginOutput(
        gateway=gateway,
        issuer=_str(upstream, "iss"),
        subject=_str(upstream, "sub"),
        display_name="",
        grant=ci or "token",
    )
    with _locked(deps, gateway, timeout, progress):  # Ctrl-C: login() turns it into Interrupted
        printed = _exchange(deps, client, progress, gateway, subject, out)
        faas_cli = faas_cli_config_default(inp.faas_cli_config, deps.env)
        return _save(deps, inp, out, {"openfaas_token": printed}, printed, None, faas_cli)
