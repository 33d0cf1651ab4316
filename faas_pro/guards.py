"""Checks that refuse unsafe input before anything is read, sent or written.

- ``check_private_dir``: faas-pro's config and data directories (and faas-cli's config directory)
  must belong to the user and must not be writable by group or others: whoever can write there can
  swap ``tokens.json`` or ``settings.json`` (point the next login at their IdP). Refused with the
  path and the ``chmod``/``chown`` to run (exit 1).
- ``require_jwt_shape``: a token given by hand (``-k``, ``FAAS_PRO_TOKEN``, ``--token``,
  ``--token-file``, ``--token-env``) must be three base64url segments with no whitespace or control
  characters; otherwise one line naming where it came from (exit 2), before any network call.
- ``require_secure_transport``: a token (or code, refresh token, client secret) goes over plain
  ``http://`` only to a loopback host, unless ``--insecure-http`` or ``FAAS_PRO_INSECURE_HTTP=1``
  allows it; then a warning is printed (exit 2 when refused).
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable, Mapping
from pathlib import Path
from urllib.parse import urlsplit

from faas_pro.errors import FaasProError, UsageError

INSECURE_ENV = "FAAS_PRO_INSECURE_HTTP"
_JWT = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
_TRUE = ("1", "true", "yes", "on")


def check_private_dir(path: Path) -> None:
    """Refuse an existing directory that is not the user's or is writable by group or others."""
    if os.name != "posix":
        return
    try:
        st = path.stat()
    except FileNotFoundError:
        return
    me = os.getuid()
    if st.st_uid != me:
        raise FaasProError(
            f"refusing to use {path}: it belongs to user id {st.st_uid}, not to you ({me})",
            f"run: sudo chown -R {me} {path}   (or point FAAS_PRO_CONFIG_DIR / FAAS_PRO_DATA_DIR elsewhere)",
        )
    mode = stat.S_IMODE(st.st_mode)
    if mode & 0o022:
        who = "group and others" if mode & 0o022 == 0o022 else "group" if mode & 0o020 else "others"
        raise FaasProError(
            f"refusing to use {path}: it is writable by {who} (mode {mode:04o})",
            f"run: chmod 700 {path}",
        )


def require_jwt_shape(token: str, source: str) -> str:
    """``token`` stripped of surrounding whitespace, when it looks like a JWT; else UsageError."""
    value = token.strip()
    if not value:
        raise UsageError(f"the token {source} is empty")
    if any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        raise UsageError(
            f"the token {source} contains whitespace or control characters (a line break?)",
            "give the JWT alone, on one line",
        )
    if not _JWT.fullmatch(value):
        raise UsageError(
            f"the token {source} is not a JWT (three base64url parts separated by dots)",
            "give the OpenFaaS token that faas-pro token prints",
        )
    return value


def is_remote_plain_http(url: str) -> bool:
    from faas_pro.http_client import is_loopback

    p = urlsplit(url)
    return p.scheme.lower() == "http" and not is_loopback(p.hostname or "")


def insecure_allowed(flag: bool, env: Mapping[str, str]) -> bool:
    return flag or (env.get(INSECURE_ENV) or "").strip().lower() in _TRUE


def require_secure_transport(url: str, what: str, *, allowed: bool, warn: Callable[[str], None]) -> None:
    """Refuse to send credentials to a non-loopback ``http://`` URL unless ``allowed`` (then warn)."""
    if not is_remote_plain_http(url):
        return
    p = urlsplit(url)
    origin = f"{p.scheme}://{p.netloc}"
    if not allowed:
        raise UsageError(
            f"refusing to send {what} over plain http to {origin}: only loopback addresses may use http",
            f"use https, or pass --insecure-http (or set {INSECURE_ENV}=1) to accept that it can be read on the way",
        )
    warn(f"WARNING: sending {what} over plain http to {origin} (--insecure-http): anyone on the way can read it")
