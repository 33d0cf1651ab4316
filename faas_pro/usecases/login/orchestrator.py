"""`faas-pro auth` end to end: plan → lock → reuse or refresh → one grant runner → exchange → save.

See the package docstring (faas_pro/usecases/login/__init__.py) for why things happen in this order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from faas_pro.errors import AuthRequired, Interrupted, UsageError
from faas_pro.usecases.login.context import Run, http_client, locked
from faas_pro.usecases.login.federated import federated
from faas_pro.usecases.login.finish import finish
from faas_pro.usecases.login.grants import RUNNERS
from faas_pro.usecases.login.plan import OFFLINE_ACCESS, LoginInput, Plan, make_plan
from faas_pro.usecases.login.refresh import can_refresh, cannot_log_in_again, reuse

if TYPE_CHECKING:  # pragma: no cover
    from faas_pro.deps import Deps
    from faas_pro.storage.entry import TokenEntry
    from faas_pro.usecases.login.output import LoginOutput


def login(inp: LoginInput, deps: Deps) -> LoginOutput:
    """Run one `faas-pro auth`; see the package docstring for the order of things.

    Ctrl-C anywhere (browser wait, device polling, lock wait) is ``Interrupted`` (exit 130) and,
    since nothing is written before the very end, leaves what was saved before untouched.
    """
    from faas_pro.oauth.idp_client import IdpClient
    from faas_pro.oauth.progress import Progress

    progress = Progress(deps.stderr)
    try:
        if inp.federated():
            return federated(inp, deps, progress)
        plan = _plan(inp, deps)
        http = http_client(inp, deps)
        idp = IdpClient(
            http, plan.authority, plan.client_id, client_secret=plan.client_secret, clock=deps.clock, progress=progress
        )
        run = Run(plan, inp, deps, http, progress, idp)
        seen = _entry(deps, plan.gateway)  # before waiting for the lock (see the package docstring)
        with locked(deps, plan.gateway, plan.timeout, progress):
            return _login_locked(run, seen)
    except KeyboardInterrupt:
        raise Interrupted("interrupted: nothing was saved, and what was saved before is unchanged") from None


def _plan(inp: LoginInput, deps: Deps) -> Plan:
    """The pure plan, with what it needs read first (settings) and after (the CA file, the secret)."""
    gateway = deps.gateway(inp.gateway)
    saved = deps.settings().get(gateway)  # a corrupt file fails here, naming its path, untouched
    plan = make_plan(inp, gateway, saved, deps.env)
    from faas_pro.guards import insecure_allowed, require_secure_transport

    allowed = insecure_allowed(inp.insecure_http, deps.env)
    require_secure_transport(plan.authority, "the login's codes and tokens", allowed=allowed, warn=deps.warn)
    if not inp.no_exchange:
        require_secure_transport(plan.gateway, "the identity provider's token", allowed=allowed, warn=deps.warn)
    if inp.ca_file is not None and not inp.ca_file.is_file():
        raise UsageError(f"--ca-file {inp.ca_file} does not exist")
    return plan.with_secret(_client_secret(inp, deps))


def _client_secret(inp: LoginInput, deps: Deps) -> str | None:
    from faas_pro.oauth.client_credentials import SECRET_ENV, read_client_secret

    if inp.client_secret:
        deps.warn(
            "warning: --client-secret on the command line is visible to other users of this machine;"
            f" prefer --client-secret-file or {SECRET_ENV}"
        )
    file = str(inp.client_secret_file) if inp.client_secret_file is not None else None
    return read_client_secret(inp.client_secret, file, deps.env)


def _entry(deps: Deps, gateway: str) -> TokenEntry | None:
    from faas_pro.storage.entry import TokenEntry

    raw = deps.secrets().get(gateway)
    return TokenEntry.from_dict(raw, gateway) if raw is not None else None


def _login_locked(run: Run, seen: TokenEntry | None) -> LoginOutput:
    from faas_pro.oauth.refresh import RefreshRejected

    plan, deps = run.plan, run.deps
    entry = _entry(deps, plan.gateway)  # again, now that no other run can change it
    refreshable = can_refresh(plan, entry)
    if refreshable and entry != seen:
        assert entry is not None
        reused = reuse(run, entry)
        if reused is not None:
            return reused
    run.idp.discovery()
    if refreshable:
        assert entry is not None and entry.idp_refresh_token is not None
        try:
            tok = run.idp.refresh(entry.idp_refresh_token)
        except RefreshRejected as e:
            why_not = cannot_log_in_again(run)
            if why_not is not None:
                reason, hint = why_not
                raise AuthRequired(f"{e.message}; cannot log in again here: {reason}", hint) from None
            deps.warn(f"{e.message}; logging in again")
        else:
            return finish(run, tok, how="refreshed")
    scopes = plan.scopes_for(run.idp.offers_scope(OFFLINE_ACCESS))
    return finish(run, RUNNERS[plan.grant](run, scopes))
