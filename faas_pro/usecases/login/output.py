"""What a login reports back to the CLI (rendered by faas_pro/cli/auth.py), and the claim helpers
that fill it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class LoginOutput:
    gateway: str
    issuer: str
    subject: str
    display_name: str
    grant: str
    exchanged: bool = False
    saved_backend: str = ""
    how: str = "login"  # login | refreshed | reused (another run renewed while this one waited)
    # the resulting token: what --print-token prints and --pretty decodes (never shown unasked)
    token: str = field(default="", repr=False)
    opaque_access_token: str | None = None  # why the IdP's access token is kept opaque (not verified)
    no_exchange_reason: str | None = None  # why no exchange was done (the gateway has no token endpoint)
    faas_cli_unchanged: bool = False  # --faas-cli-config, but there was no OpenFaaS token to write
    openfaas_subject: str | None = None
    policies: list[str] = field(default_factory=list)
    expires_at: float | None = None
    faas_cli_config: str | None = None  # the faas-cli config.yml written


def claim_str(claims: dict[str, Any], key: str) -> str:
    v = claims.get(key)
    return v if isinstance(v, str) else ""


def display_name(claims: dict[str, Any]) -> str:
    return next((str(claims[k]) for k in ("preferred_username", "email", "name") if isinstance(claims.get(k), str)), "")


def describe_gateway_token(out: LoginOutput, claims: dict[str, Any]) -> None:
    """Fill ``out`` with what the (verified, or saved by a run that verified it) OpenFaaS token grants."""
    from faas_pro.tokens import expiry

    out.openfaas_subject = claim_str(claims, "sub") or None
    pol = claims.get("policy")
    out.policies = sorted(p for p in pol if isinstance(p, str)) if isinstance(pol, list) else []
    out.expires_at = expiry(claims)
