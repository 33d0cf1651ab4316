"""``--faas-cli-config``: put the OpenFaaS token into faas-cli's own ``config.yml`` so that plain
``faas-cli`` talks to the gateway with it.

faas-cli's format (``config/config_file.go``): ``auths: [{gateway, auth, token}]`` with
``auth: oauth2`` for bearer tokens, one entry per gateway matched by the exact URL string. The
directory is ``OPENFAAS_CONFIG``, else ``~/.openfaas``. Every other entry, every other key of our
entry (faas-cli's ``options``) and every other top-level key are kept. A file that is not such YAML is
reported with its path and left alone. ``faas-pro logout`` removes the ``auth: oauth2`` entry of
its gateway (``remove_token``) and nothing else. The write is atomic (temp file + rename), mode 0600, in a
0700 directory, and refuses symlinks.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from faas_pro.errors import FaasProError

CONFIG_ENV = "OPENFAAS_CONFIG"
FILE_NAME = "config.yml"
MAX_BYTES = 1024 * 1024


def config_path(env: Mapping[str, str]) -> Path:
    base = env.get(CONFIG_ENV) or str(Path(env.get("HOME") or Path.home()) / ".openfaas")
    return Path(base).expanduser() / FILE_NAME


def _load(path: Path) -> dict[str, Any]:
    import yaml

    if path.is_symlink():
        raise FaasProError(f"refusing to use {path}: it is a symbolic link")
    from faas_pro.guards import check_private_dir

    check_private_dir(path.parent)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as e:
        raise FaasProError(f"cannot read faas-cli's config {path}: {e.strerror}") from None
    if len(raw) > MAX_BYTES:
        raise FaasProError(f"faas-cli's config {path} is larger than 1 MiB (left untouched)")
    try:
        doc = yaml.safe_load(raw.decode("utf-8")) if raw.strip() else {}
    except (UnicodeDecodeError, yaml.YAMLError):
        doc = None
    auths = doc.get("auths", []) if isinstance(doc, dict) else None
    if not isinstance(doc, dict) or not isinstance(auths, list) or not all(isinstance(a, dict) for a in auths):
        raise FaasProError(f"{path} is not a faas-cli config file (left untouched)", "fix it or move it away")
    return doc


def write_token(env: Mapping[str, str], gateway: str, token: str) -> Path:
    """Create or replace the ``auth: oauth2`` entry for ``gateway``; returns the file written."""
    path = config_path(env)
    doc = _load(path)
    auths: list[dict[str, Any]] = list(doc.get("auths") or [])
    mine = next((a for a in auths if a.get("gateway") == gateway), None)
    if mine is None:
        auths.append({"gateway": gateway, "auth": "oauth2", "token": token})
    else:
        mine.update(auth="oauth2", token=token)
    doc["auths"] = auths
    _write(path, doc)
    return path


def _same_gateway(listed: object, gateway: str) -> bool:
    """faas-cli's entry names ``gateway`` after faas-cli's normalisation (lower case, no trailing
    ``/``, ``http://`` when no scheme), which ours covers."""
    from faas_pro.errors import UsageError
    from faas_pro.urls import normalise_gateway

    if not isinstance(listed, str):
        return False
    try:
        return normalise_gateway(listed.lower()) == normalise_gateway(gateway.lower())
    except UsageError:
        return False


def remove_token(env: Mapping[str, str], gateway: str) -> Path | None:
    """Remove the ``auth: oauth2`` entry (or entries) for ``gateway`` (``faas-pro logout``); every
    other entry, faas-cli's own ``basic`` ones for the same gateway included, is kept. Returns the
    file changed, None when there was nothing to remove (no file, no such entry). A file that is not
    faas-cli's format raises FaasProError naming it, and is left untouched."""
    path = config_path(env)
    if not path.exists() and not path.is_symlink():
        return None
    doc = _load(path)
    auths: list[dict[str, Any]] = list(doc.get("auths") or [])
    kept = [a for a in auths if not (a.get("auth") == "oauth2" and _same_gateway(a.get("gateway"), gateway))]
    if len(kept) == len(auths):
        return None
    doc["auths"] = kept
    _write(path, doc)
    return path


def _write(path: Path, doc: dict[str, Any]) -> None:
    """Replace ``path`` atomically (temp file + rename), 0600 in a 0700 directory, no symlinks."""
    import yaml

    from faas_pro.storage._files import ensure_private_dir, replace_atomic

    text = yaml.safe_dump(doc, default_flow_style=False, sort_keys=False)
    ensure_private_dir(path.parent)
    if path.is_symlink():
        raise FaasProError(f"refusing to use {path}: it is a symbolic link")
    try:
        replace_atomic(path, text)
    except OSError as e:
        raise FaasProError(f"cannot write faas-cli's config {path}: {e.strerror}") from None
