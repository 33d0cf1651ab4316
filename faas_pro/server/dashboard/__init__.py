"""The web dashboard under ``/ui/`` (docs/dashboard.md): a Backend-for-Frontend client of the gateway.

The browser holds only an encrypted session cookie; every read and every action is a request to
the gateway's own ASGI app with the session's OpenFaaS token, so the dashboard gets exactly the
authorisation and audit of the API. This module is light (no starlette, jinja2 or cryptography
import): ``make_config`` checks the flags at start, ``build_dashboard`` builds the app.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from faas_pro.errors import FaasProError, UsageError
from faas_pro.storage._files import read_secret_file

if TYPE_CHECKING:  # pragma: no cover
    from starlette.applications import Starlette

    from faas_pro.iam import IamSet

MIN_KEY_BYTES = 32


@dataclass(frozen=True)
class DashboardConfig:
    client_id: str
    issuer: str  # the JwtIssuer's iss the dashboard logs in at
    gateway_url: str  # the gateway's public URL (redirect URI, Origin check, cookie flags)
    session_key: bytes  # 32 bytes, the AES-256-GCM key of the session cookie
    client_secret: str | None = None
    discovery_base: str | None = None  # where to fetch discovery from (issInternal), default issuer

    @property
    def secure(self) -> bool:
        """Cookies get ``Secure`` and ``__Host-`` when the gateway's public URL is https (a browser
        drops Secure cookies set over http, so the IdP's scheme cannot decide this)."""
        return self.gateway_url.startswith("https://")

    @property
    def redirect_uri(self) -> str:
        return self.gateway_url + "/ui/auth/callback"

    def __repr__(self) -> str:  # never the key or the secret
        return f"DashboardConfig(client_id={self.client_id!r}, issuer={self.issuer!r})"


def session_key(path: Path | None, log: Callable[[str], None]) -> bytes:
    """The cookie key: from ``path`` (created 0600 when missing), else a new one for this run only."""
    import hashlib

    if path is None:
        log("WARNING: no --dashboard-session-key-file: a new session key for this run (sessions end at restart)")
        return secrets.token_bytes(MIN_KEY_BYTES)
    if not path.exists():
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except OSError as e:
            raise FaasProError(f"cannot create the dashboard session key file {path}: {e.strerror}") from None
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(48) + "\n")
        log(f"WARNING: wrote a new dashboard session key to {path}")
    raw = read_secret_file(path, "dashboard session key file")
    if len(raw) < MIN_KEY_BYTES:
        raise FaasProError(
            f"the dashboard session key file {path} holds fewer than {MIN_KEY_BYTES} bytes",
            "delete it and the gateway writes a new one at start",
        )
    return hashlib.sha256(b"faas-pro dashboard session\0" + raw).digest()


def make_config(
    iam: IamSet,
    gateway_url: str,
    client_id: str,
    log: Callable[[str], None],
    *,
    issuer: str | None = None,
    client_secret_file: Path | None = None,
    session_key_file: Path | None = None,
) -> DashboardConfig:
    """Check the ``--dashboard-*`` flags against the IAM set; one clear error for the first problem."""
    if not client_id or not client_id.isprintable():
        raise UsageError("--dashboard-client-id must be a printable client id")
    issuers = sorted(iam.issuers)
    if issuer is None:
        if len(issuers) != 1:
            raise UsageError(
                f"--dashboard-issuer is required: the IAM set has {len(issuers)} JwtIssuers",
                "name the iss of the identity provider people log in at",
            )
        issuer = issuers[0]
    found = iam.issuer_for(issuer.rstrip("/")) or iam.issuer_for(issuer)
    if found is None:
        raise UsageError(f"--dashboard-issuer {issuer!r} is not the iss of any JwtIssuer in --iam")
    if client_id not in found.aud:
        log(
            f"WARNING: JwtIssuer/{found.name} does not list {client_id!r} in aud: "
            "dashboard logins will be refused until it does"
        )
    secret = (
        read_secret_file(client_secret_file, "dashboard client secret file").decode() if client_secret_file else None
    )
    return DashboardConfig(
        client_id=client_id,
        issuer=found.iss,
        gateway_url=gateway_url,
        session_key=session_key(session_key_file, log),
        client_secret=secret,
        discovery_base=found.iss_internal or None,
    )


def build_dashboard(cfg: DashboardConfig, api: Any, gateway: Any) -> Starlette:
    """The ``/ui`` app (see ``faas_pro.server.dashboard.web``)."""
    from faas_pro.server.dashboard.web import build

    return build(cfg, api, gateway)


__all__ = ["DashboardConfig", "build_dashboard", "make_config", "session_key"]
