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

Where things are (the layout of kubelogin's use cases):

- ``plan``: flags + saved settings + environment → a frozen ``Plan`` (pure, no I/O);
- ``orchestrator``: ``login()``, in the order above; ``context``: what the steps share, and the lock;
- ``grants``: one runner per grant, chosen from the ``RUNNERS`` table; each talks only to the
  IdP client (faas_pro/oauth/idp_client.py), whose token-yielding calls return verified tokens;
- ``refresh``: when a saved refresh token is spent, or another run's fresh tokens reused;
- ``finish``: exchange, verify the OpenFaaS token, save; ``federated``: the CI/token path;
- ``output``: ``LoginOutput``, rendered by faas_pro/cli/auth.py; the saved entry's format is
  faas_pro/storage/entry.py.
"""

from faas_pro.usecases.login.orchestrator import login
from faas_pro.usecases.login.output import LoginOutput
from faas_pro.usecases.login.plan import LoginInput

__all__ = ["LoginInput", "LoginOutput", "login"]
