"""Per-gateway login settings (docs/storage.md): never secrets or tokens.

File: ``<config_dir>/settings.json`` = ``{"version": 1, "gateways": {"<normalised url>": {…}},
"default_gateway": "<normalised url>"}``. ``default_gateway`` is what ``faas-pro use URL`` set: the
gateway of every command given neither ``-g`` nor ``OPENFAAS_URL``. Unknown keys of a gateway entry
are kept in ``extra`` and unknown top-level keys as they are, and written back, so that an older
faas-pro does not drop what a newer one saved.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from faas_pro.errors import FaasProError
from faas_pro.storage._files import corrupt, file_lock, read_json, write_json_atomic
from faas_pro.urls import normalise_gateway

VERSION = 1
# Names that would hold a credential: refused in ``extra`` (settings are not a secret store).
_SECRET_NAME = re.compile(r"secret|password|passwd|token|credential|private|assertion", re.IGNORECASE)


@dataclass
class GatewaySettings:
    authority: str | None = None
    client_id: str | None = None
    grant: str = "code"
    scopes: list[str] | None = None
    audience: str | None = None
    redirect_host: str | None = None
    port: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        for key in self.extra:
            if _SECRET_NAME.search(key):
                raise FaasProError(f"refusing to save {key!r} in settings: secrets belong in the secret store")
        out: dict[str, Any] = dict(self.extra)
        known: dict[str, Any] = {
            "authority": self.authority,
            "client_id": self.client_id,
            "grant": self.grant,
            "scopes": list(self.scopes) if self.scopes is not None else None,
            "audience": self.audience,
            "redirect_host": self.redirect_host,
            "port": self.port,
        }
        out.update({k: v for k, v in known.items() if v is not None})
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> GatewaySettings:
        """Typed fields are checked; a wrong type raises ValueError naming the field."""
        data = dict(d)
        s = cls()
        for name in ("authority", "client_id", "audience", "redirect_host"):
            value = data.pop(name, None)
            if value is not None and not isinstance(value, str):
                raise ValueError(f"{name} must be a string")
            setattr(s, name, value)
        grant = data.pop("grant", "code")
        if not isinstance(grant, str):
            raise ValueError("grant must be a string")
        s.grant = grant
        scopes = data.pop("scopes", None)
        if scopes is not None and not (isinstance(scopes, list) and all(isinstance(x, str) for x in scopes)):
            raise ValueError("scopes must be a list of strings")
        s.scopes = scopes
        port = data.pop("port", None)
        if port is not None and (isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535):
            raise ValueError("port must be an integer 0-65535")
        s.port = port
        s.extra = data
        return s


class SettingsStore:
    def __init__(self, config_dir: Path) -> None:
        self.path = Path(config_dir) / "settings.json"

    def _doc(self) -> dict[str, Any]:
        data = read_json(self.path)
        if data is None:
            return {"version": VERSION, "gateways": {}}
        if not isinstance(data, dict) or not isinstance(data.get("gateways", {}), dict):
            raise corrupt(self.path, "settings")
        version = data.get("version")
        if version != VERSION:
            raise FaasProError(
                f"{self.path} has settings version {version!r}, this faas-pro understands {VERSION} (left untouched)",
                "upgrade faas-pro or move the file away",
            )
        gateways = data.setdefault("gateways", {})
        default = data.get("default_gateway")
        if not all(isinstance(v, dict) for v in gateways.values()) or not isinstance(default, str | None):
            raise corrupt(self.path, "settings")
        return data

    def _load(self) -> dict[str, dict[str, Any]]:
        gateways: dict[str, dict[str, Any]] = self._doc()["gateways"]
        return gateways

    def _save(self, gateways: dict[str, dict[str, Any]], doc: dict[str, Any] | None = None) -> None:
        out = dict(doc if doc is not None else self._doc())
        out.update(version=VERSION, gateways=gateways)
        write_json_atomic(self.path, out)

    def default_gateway(self) -> str | None:
        """The gateway ``faas-pro use`` set, or None."""
        value: str | None = self._doc().get("default_gateway")
        return value

    def set_default_gateway(self, gateway: str | None) -> None:
        """Set (or with None clear) the default gateway."""
        with file_lock(self.path):
            doc = self._doc()
            if gateway is None:
                doc.pop("default_gateway", None)
            else:
                doc["default_gateway"] = normalise_gateway(gateway)
            self._save(doc["gateways"], doc)

    def get(self, gateway: str) -> GatewaySettings | None:
        entry = self._load().get(normalise_gateway(gateway))
        if entry is None:
            return None
        try:
            return GatewaySettings.from_dict(entry)
        except ValueError as e:
            raise FaasProError(f"{self.path}: settings for {gateway}: {e} (left untouched)") from e

    def put(self, gateway: str, settings: GatewaySettings) -> None:
        entry = settings.to_dict()
        with file_lock(self.path):
            doc = self._doc()
            doc["gateways"][normalise_gateway(gateway)] = entry
            self._save(doc["gateways"], doc)

    def remove(self, gateway: str) -> bool:
        with file_lock(self.path):
            doc = self._doc()
            key = normalise_gateway(gateway)
            if doc["gateways"].pop(key, None) is None:
                return False
            if doc.get("default_gateway") == key:
                doc.pop("default_gateway")  # forgetting a gateway forgets it as the default too
            self._save(doc["gateways"], doc)
            return True

    def gateways(self) -> list[str]:
        return sorted(self._load())
