"""One runner per grant, chosen from ``RUNNERS`` by the plan's grant.

A runner gets the login's ``Run`` and the scopes to ask for, and returns the IdP's tokens, already
verified (every token-yielding call of ``faas_pro.oauth.idp_client.IdpClient`` verifies). Adding a
grant: a module here with a ``run_<grant>`` function, an entry in ``RUNNERS``, and the grant's name
in ``faas_pro.oauth.flows.GRANTS`` (which the plan checks ``--grant`` against).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from faas_pro.usecases.login.grants.client_credentials import run_client_credentials
from faas_pro.usecases.login.grants.code import run_code
from faas_pro.usecases.login.grants.device import run_device
from faas_pro.usecases.login.grants.implicit import run_implicit, run_implicit_id

if TYPE_CHECKING:  # pragma: no cover
    from faas_pro.oauth.flows import IdpTokens
    from faas_pro.usecases.login.context import Run

Runner = Callable[["Run", tuple[str, ...]], "IdpTokens"]

RUNNERS: dict[str, Runner] = {
    "code": run_code,
    "implicit": run_implicit,
    "implicit-id": run_implicit_id,
    "device_code": run_device,
    "client_credentials": run_client_credentials,
}
