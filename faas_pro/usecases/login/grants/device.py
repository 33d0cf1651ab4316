"""``--grant device_code`` (RFC 8628): the code is shown on stderr (and its page opened when a browser
is available), then the IdP client polls until the login is approved; Ctrl-C is not caught here."""

from __future__ import annotations

from contextlib import ExitStack
from typing import TYPE_CHECKING

from faas_pro.usecases.login.grants._browser import start_browser

if TYPE_CHECKING:  # pragma: no cover
    from faas_pro.oauth.device import DevicePrompt
    from faas_pro.oauth.flows import IdpTokens
    from faas_pro.usecases.login.context import Run


def run_device(run: Run, scopes: tuple[str, ...]) -> IdpTokens:
    from faas_pro.oauth.progress import remaining

    plan, deps = run.plan, run.deps
    with ExitStack() as waiting:

        def show(p: DevicePrompt) -> None:
            for line in p.lines():
                deps.warn(line)
            if start_browser(run, p.url_to_open):
                deps.warn("Opened a browser at that page.")
            deadline = deps.clock() + min(float(p.expires_in), plan.timeout)
            waiting.enter_context(
                run.progress.status(
                    lambda: (
                        f"Waiting for approval of {p.user_code} at {p.verification_uri}"
                        f" ({remaining(deadline, deps.clock())})"
                    )
                )
            )

        return run.idp.device(scopes, audience=plan.audience, timeout=plan.timeout, on_prompt=show, sleep=deps.sleep)
