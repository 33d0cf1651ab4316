"""``--grant client_credentials`` (RFC 6749 §4.4): a machine identity, no browser and no person;
only the scopes asked for (no ``openid``/``offline_access`` added), never a refresh token kept."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from faas_pro.oauth.flows import IdpTokens
    from faas_pro.usecases.login.context import Run


def run_client_credentials(run: Run, scopes: tuple[str, ...]) -> IdpTokens:
    return run.idp.client_credentials(scopes, audience=run.plan.audience)
