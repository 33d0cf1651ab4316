"""``--grant implicit`` (``id_token token``) and ``--grant implicit-id`` (``id_token`` only): the
tokens arrive with the redirect (form_post, or the fragment relayed by the loopback page). They are
verified like every other grant's; ``implicit`` must also bind its access token with ``at_hash``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from faas_pro.usecases.login.grants._browser import redirect

if TYPE_CHECKING:  # pragma: no cover
    from faas_pro.oauth.flows import IdpTokens
    from faas_pro.usecases.login.context import Run


def run_implicit(run: Run, scopes: tuple[str, ...]) -> IdpTokens:
    params, _uri, sec = redirect(run, scopes)
    return run.idp.implicit_tokens(params, nonce=sec.nonce, bind_access_token=True)


def run_implicit_id(run: Run, scopes: tuple[str, ...]) -> IdpTokens:
    params, _uri, sec = redirect(run, scopes)
    return run.idp.implicit_tokens(params, nonce=sec.nonce, bind_access_token=False)
