"""``--grant code`` (the default): authorization code with PKCE S256 through the loopback redirect
(RFC 7636, RFC 8252); the code is redeemed with the verifier and the tokens come back verified."""

from __future__ import annotations

from typing import TYPE_CHECKING

from faas_pro.usecases.login.grants._browser import redirect

if TYPE_CHECKING:  # pragma: no cover
    from faas_pro.oauth.flows import IdpTokens
    from faas_pro.usecases.login.context import Run


def run_code(run: Run, scopes: tuple[str, ...]) -> IdpTokens:
    params, redirect_uri, sec = redirect(run, scopes)
    return run.idp.redeem_code(params["code"], redirect_uri=redirect_uri, secrets=sec)
