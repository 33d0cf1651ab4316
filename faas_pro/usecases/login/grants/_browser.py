"""What the browser grants share: the loopback receiver, opening the login page (or printing it),
the paste-back thread, and the waiting line. The IdP is only asked for the URL here; what comes back
is handed to the IdP client, which verifies it."""

from __future__ import annotations

import threading
from contextlib import ExitStack
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from faas_pro.deps import Deps
    from faas_pro.oauth.loopback import LoopbackReceiver
    from faas_pro.oauth.pkce import AuthRequestSecrets
    from faas_pro.usecases.login.context import Run


def start_browser(run: Run, url: str) -> bool:
    """Open ``url`` when this run has a browser (faas_pro/oauth/browser.py decides); say why not otherwise."""
    from faas_pro.oauth.browser import check_openable

    check_openable(url)
    browser = run.browser()
    if browser.reason and not browser.declined:
        run.deps.warn(f"Not opening a browser: {browser.reason}.")
    return browser.open(url)


def redirect(run: Run, scopes: tuple[str, ...]) -> tuple[dict[str, str], str, AuthRequestSecrets]:
    """Send the user to the IdP and wait for the redirect: (its parameters, the redirect URI, the
    request's secrets). The receiver listens before the browser opens; state is checked by it."""
    from faas_pro.oauth.duration import format_duration
    from faas_pro.oauth.flows import REQUIRED_PARAMS
    from faas_pro.oauth.loopback import LoopbackReceiver, parse_redirect_host
    from faas_pro.oauth.pkce import AuthRequestSecrets
    from faas_pro.oauth.progress import remaining

    plan, deps = run.plan, run.deps
    sec = AuthRequestSecrets()
    receiver = LoopbackReceiver(
        parse_redirect_host(plan.redirect_host),
        plan.port,
        state=sec.state,
        issuer=run.idp.issuer,
        required=REQUIRED_PARAMS[plan.grant],
        relay=plan.grant != "code",
    )
    with receiver:  # listening before the browser opens
        url = run.idp.authorize_url(
            redirect_uri=receiver.redirect_uri,
            grant=plan.grant,
            scopes=scopes,
            audience=plan.audience,
            secrets=sec,
            response_mode=plan.response_mode,
            par=plan.par,
        )
        pasting = _open(run, url, receiver)
        deadline = deps.clock() + plan.timeout
        wait = run.progress.status(
            lambda: (
                f"Waiting for the browser to come back to {receiver.redirect_uri}"
                f" ({remaining(deadline, deps.clock())} of {format_duration(plan.timeout)})"
            )
        )
        with ExitStack() as stack:
            if not pasting:  # a redrawn status line would garble what the user types
                stack.enter_context(wait)
            params = receiver.wait(plan.timeout)
    return dict(params), receiver.redirect_uri, sec


def _open(run: Run, url: str, receiver: LoopbackReceiver) -> bool:
    """Open the browser and print the URL; True when a pasted redirect URL is being read from stdin."""
    deps = run.deps
    started = start_browser(run, url)
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
