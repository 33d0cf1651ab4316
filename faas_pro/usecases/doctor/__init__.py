"""`faas-pro auth doctor`: check a login set-up piece by piece, without logging in.

For the saved settings of the gateway (overridden by flags) it runs the checks below in order and
returns one ``CheckResult`` each; nothing is saved or changed, locally or on the servers:

- settings, CA files and proxies in effect (no network);
- the IdP's discovery document (reachable, ``issuer`` byte-for-byte equal to the authority), its keys,
  PKCE S256, the device / PAR / revocation endpoints (informative when absent);
- the client id and the redirect URI, with a pushed authorization request (RFC 9126) when the IdP
  offers one: it answers ``invalid_client`` or rejects the redirect URI, and creates no login;
- the callback port: bound on loopback and closed again;
- clock skew against the IdP's and the gateway's HTTP ``Date`` (warning past 30 s, failure past 60 s);
- the gateway's discovery document and keys; whether it trusts the IdP (a token exchange with an
  unsigned probe token: a faas-pro gateway names an untrusted issuer before it looks at a signature);
- the saved IdP token (decoded UNVERIFIED: identity, issuer, audience, expiry) and an exchange with
  it whose result is thrown away (does a Role match, which policies); the saved OpenFaaS token, tried
  on ``GET /system/namespaces``.

Checks that cannot run say why (``skip``). The clock is ``deps.clock``. The checks live in
``local.py`` (no network), ``idp.py`` and ``gateway.py``; ``run.py`` runs them in order.
"""

from __future__ import annotations

from faas_pro.usecases.doctor.gateway import (
    check_exchange,
    check_gateway_discovery,
    check_gateway_keys,
    check_openfaas_token,
    check_saved_idp_token,
    check_trust,
    probe_token,
)
from faas_pro.usecases.doctor.idp import check_client, check_discovery, check_grants, check_idp_keys
from faas_pro.usecases.doctor.local import check_ca, check_port, check_proxy, check_skew
from faas_pro.usecases.doctor.report import (
    INSECURE_HTTP_ENV,
    JSON_VERSION,
    PROBE_SUBJECT,
    CheckResult,
    DoctorInput,
    DoctorReport,
)
from faas_pro.usecases.doctor.run import doctor

__all__ = [
    "INSECURE_HTTP_ENV",
    "JSON_VERSION",
    "PROBE_SUBJECT",
    "CheckResult",
    "DoctorInput",
    "DoctorReport",
    "check_ca",
    "check_client",
    "check_discovery",
    "check_exchange",
    "check_gateway_discovery",
    "check_gateway_keys",
    "check_grants",
    "check_idp_keys",
    "check_openfaas_token",
    "check_port",
    "check_proxy",
    "check_saved_idp_token",
    "check_skew",
    "check_trust",
    "doctor",
    "probe_token",
]
