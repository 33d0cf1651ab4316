"""What every step of one login shares: the plan, the flags, the side effects, the IdP client and the
browser (decided once, on first use), plus the per-gateway lock with its waiting line."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import httpx

    from faas_pro.deps import Deps
    from faas_pro.oauth.browser import Browser
    from faas_pro.oauth.idp_client import IdpClient
    from faas_pro.oauth.progress import Progress
    from faas_pro.usecases.login.plan import LoginInput, Plan


@dataclass
class Run:
    """One login with an identity provider."""

    plan: Plan
    inp: LoginInput
    deps: Deps
    http: httpx.Client
    progress: Progress
    idp: IdpClient
    _browser: Browser | None = field(default=None, repr=False)

    def browser(self) -> Browser:
        """This run's browser, decided once (and only when a step needs it: a refresh never asks, so a
        bad ``--browser-command`` does not stop one)."""
        if self._browser is None:
            from faas_pro.oauth.browser import choose_browser

            self._browser = choose_browser(
                no_browser=self.inp.no_browser, command=self.inp.browser_command, env=self.deps.env,
                opener=self.deps.open_url,
            )  # fmt: skip
        return self._browser


def http_client(inp: LoginInput, deps: Deps) -> httpx.Client:
    if inp.tls_no_verify:
        deps.warn("WARNING: --tls-no-verify: TLS certificates are NOT checked; anyone on the network can impersonate")
        deps.warn("WARNING: the identity provider and the gateway and read your tokens. Use --ca-file instead.")
    return deps.http(ca_file=str(inp.ca_file) if inp.ca_file else None, verify=not inp.tls_no_verify)


@contextmanager
def locked(deps: Deps, gateway: str, timeout: float, progress: Progress) -> Iterator[None]:
    """The per-gateway lock; when another run holds it, say so (on a terminal, or with --verbose) and wait.

    Only the lock's own ``LockBusy`` means "another run holds it": any other failure (e.g. a lock
    directory that cannot be created) is raised as it is, not waited on.
    """
    from faas_pro.storage.lock import LockBusy, gateway_lock

    with ExitStack() as stack:
        try:
            stack.enter_context(gateway_lock(deps.data_dir, gateway, timeout=0))
        except LockBusy:
            if deps.verbose:
                deps.warn(f"waiting for another faas-pro run for {gateway} to finish")
            with progress.status(lambda: f"Waiting for another faas-pro run for {gateway} to finish…"):
                stack.enter_context(gateway_lock(deps.data_dir, gateway, timeout=timeout))
        yield
