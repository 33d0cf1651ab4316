"""The saved token entry of one gateway: the one place that defines its format and version.

An entry is what the secret stores hold per gateway (a flat JSON object of strings, see
storage/secrets.py). Format 1 is the bare keys below, as every faas-pro so far has written them, with
no version key (so entries written before this module existed read as format 1, and older faas-pro
versions keep reading what this one writes). A later format writes ``FORMAT_KEY``; an entry with a
format this version does not know is refused with one line (``UnknownEntryFormat``), never guessed.

``openfaas_token`` is the gateway's token (what `list`, `token`, `status` use). The ``idp_*`` keys
are the identity provider's tokens and the issuer/client they came from: a saved refresh token is
spent only for that same issuer and client.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields

from faas_pro.errors import AuthRequired

FORMAT_VERSION = 1
FORMAT_KEY = "format"  # absent = format 1


class UnknownEntryFormat(AuthRequired):
    """The entry was written by a faas-pro that uses a newer format (exit 3: log in again)."""


@dataclass(frozen=True)
class TokenEntry:
    openfaas_token: str | None = None
    idp_issuer: str | None = None
    idp_client_id: str | None = None
    idp_id_token: str | None = None
    idp_access_token: str | None = None
    idp_refresh_token: str | None = None

    def to_dict(self) -> dict[str, str]:
        """The stored form: only the keys that have a (non-empty) value; format 1 has no version key."""
        return {f.name: v for f in fields(self) if (v := getattr(self, f.name))}

    @classmethod
    def from_dict(cls, data: Mapping[str, str], gateway: str = "") -> TokenEntry:
        """The entry read from a store; unknown keys of format 1 are ignored (empty values = none)."""
        version = data.get(FORMAT_KEY, str(FORMAT_VERSION))
        if version != str(FORMAT_VERSION):
            where = f" for {gateway}" if gateway else ""
            raise UnknownEntryFormat(
                f"the tokens saved{where} are in a format this faas-pro does not know ({version!r})",
                f"upgrade faas-pro, or run faas-pro auth{' -g ' + gateway if gateway else ''} to replace them",
            )
        values = {f.name: data.get(f.name) or None for f in fields(cls)}
        return cls(**values)

    def refreshable_by(self, issuer: str, client_id: str) -> bool:
        """A refresh token is saved, from this issuer and for this client."""
        return bool(self.idp_refresh_token) and self.idp_issuer == issuer and self.idp_client_id == client_id
