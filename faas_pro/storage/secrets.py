"""Where tokens live (docs/storage.md; docs/security.md rule 7): the OS keyring, or a 0600 file, or memory.

Selection (``FAAS_PRO_TOKEN_STORE``):

- ``keyring``: the OS keyring, service ``faas-pro``, account = normalised gateway, value = JSON.
  A failure is an error, never a silent fallback to a plaintext file.
- ``file``: ``<data_dir>/tokens.json``, one JSON object keyed by gateway, 0600 in a 0700 directory,
  atomic writes, symlinks refused.
- ``memory``: this process only (tests, one-shot CI runs that print the token).
- unset: the keyring when it has a usable backend (not keyring's ``fail`` or ``null``), else the file.
  A keyring chosen this way that then fails to write is an error too, with a hint to pick ``file``.
  Reads look in the token file first and probe the keyring only when the file has no entry for the
  gateway: probing keyring's backends costs 55-80 ms, which every `faas-pro list` would pay on a
  headless machine where the answer is always "file". A read is only a read: where the next write
  goes never depends on what was read before (the keyring when usable, else the file). A write to
  the keyring removes the gateway's entry from the file, so a stale file entry never shadows a newer
  keyring one. ``backend_of(gateway)`` names the store that holds a gateway's entry (for `status`),
  with the same file-first rule, so naming it costs no keyring probe either.

The keyring backend that worked is remembered: after a successful write to the keyring, its class
is written to ``<data_dir>/keyring-backend.json`` (``{"version": 1, "backend": "module:Class"}``, not a
secret). Later runs load that one class and ask only it whether it is usable (``priority``), instead
of keyring's probe of every installed backend (55-80 ms; on Linux its macOS backend runs
``ldconfig``). The memo is ignored, and keyring probes as before, when it names anything but a class
under ``keyring.backends``/``keyrings``, when that backend is no longer usable, when keyring chose
its chainer, or when ``PYTHON_KEYRING_BACKEND`` is set. ``import keyring`` happens only when the keyring
is really used: the token file has no entry for the gateway, or ``FAAS_PRO_TOKEN_STORE=keyring``.

A keyring cannot list its accounts portably, so the keyring store keeps the names (never the
values) of the gateways it holds in ``<data_dir>/keyring-gateways.json`` (0600): ``gateways()`` of
every store lists what it holds, which ``logout --all`` and ``status --all`` rely on.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from faas_pro.errors import FaasProError, UsageError
from faas_pro.storage._files import corrupt, file_lock, read_json, write_json_atomic
from faas_pro.urls import normalise_gateway

SERVICE = "faas-pro"
INDEX_FILE = "keyring-gateways.json"
CHOICES = ("keyring", "file", "memory")
KEYRING_MEMO = "keyring-backend.json"
_MEMO_VERSION = 1
_MEMO_BACKEND = re.compile(r"(keyring\.backends|keyrings)(\.[A-Za-z_][A-Za-z0-9_]*)+:[A-Za-z_][A-Za-z0-9_]*")


class SecretStore(Protocol):
    @property
    def backend(self) -> str:
        """Which store holds the tokens, for `faas-pro status` (e.g. "keyring (SecretService)")."""
        ...

    def backend_of(self, gateway: str) -> str:
        """The store that holds ``gateway``'s entry (where the next write goes when it has none)."""
        ...

    def get(self, gateway: str) -> dict[str, str] | None: ...

    def put(self, gateway: str, secrets: dict[str, str]) -> None: ...

    def delete(self, gateway: str) -> bool: ...

    def gateways(self) -> list[str]:
        """Gateways with an entry, where the backend can list them (a keyring cannot: [])."""
        ...


def _check_secrets(secrets: Mapping[str, Any]) -> dict[str, str]:
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in secrets.items()):
        raise FaasProError("secret store entries must map strings to strings")
    return dict(secrets)


class MemorySecretStore:
    backend = "memory (this process only)"

    def __init__(self) -> None:
        self._data: dict[str, dict[str, str]] = {}

    def backend_of(self, gateway: str) -> str:
        return self.backend

    def get(self, gateway: str) -> dict[str, str] | None:
        entry = self._data.get(normalise_gateway(gateway))
        return dict(entry) if entry is not None else None

    def put(self, gateway: str, secrets: dict[str, str]) -> None:
        self._data[normalise_gateway(gateway)] = _check_secrets(secrets)

    def delete(self, gateway: str) -> bool:
        return self._data.pop(normalise_gateway(gateway), None) is not None

    def gateways(self) -> list[str]:
        return sorted(self._data)


class FileSecretStore:
    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / "tokens.json"
        self.backend = f"file ({self.path})"

    def _load(self) -> dict[str, dict[str, str]]:
        data = read_json(self.path)
        if data is None:
            return {}
        if not isinstance(data, dict) or not all(
            isinstance(v, dict) and all(isinstance(x, str) for x in v.values()) for v in data.values()
        ):
            raise corrupt(self.path, "token store")
        return data

    def backend_of(self, gateway: str) -> str:
        return self.backend

    def get(self, gateway: str) -> dict[str, str] | None:
        return self._load().get(normalise_gateway(gateway))

    def put(self, gateway: str, secrets: dict[str, str]) -> None:
        entry = _check_secrets(secrets)
        with file_lock(self.path):
            data = self._load()
            data[normalise_gateway(gateway)] = entry
            write_json_atomic(self.path, data)

    def delete(self, gateway: str) -> bool:
        with file_lock(self.path):
            data = self._load()
            if data.pop(normalise_gateway(gateway), None) is None:
                return False
            write_json_atomic(self.path, data)
            return True

    def gateways(self) -> list[str]:
        return sorted(self._load())


def _backend_name(kr: Any) -> str:
    return str(getattr(kr, "name", None) or type(kr).__module__.rsplit(".", 1)[-1])


def _usable(kr: Any) -> bool:
    module = type(kr).__module__
    return module not in ("keyring.backends.fail", "keyring.backends.null")


def _backend_id(kr: Any) -> str:
    return f"{type(kr).__module__}:{type(kr).__qualname__}"


def remember_backend(data_dir: Path, kr: Any) -> None:
    """Write the keyring memo (see the module docstring) unless it already names ``kr``'s class."""
    ident = _backend_id(kr)
    if not _MEMO_BACKEND.fullmatch(ident) or ident.startswith("keyring.backends.chainer:") or not _usable(kr):
        return
    path = Path(data_dir) / KEYRING_MEMO
    try:
        if read_json(path) == {"version": _MEMO_VERSION, "backend": ident}:
            return
    except FaasProError:
        pass  # unreadable: replaced below
    write_json_atomic(path, {"version": _MEMO_VERSION, "backend": ident})


def remembered_backend(data_dir: Path) -> Any | None:
    """The keyring backend the memo names, when it is still usable; None means "probe"."""
    try:
        memo = read_json(Path(data_dir) / KEYRING_MEMO)
    except FaasProError:
        return None
    if not isinstance(memo, dict) or memo.get("version") != _MEMO_VERSION:
        return None
    ident = memo.get("backend")
    if not isinstance(ident, str) or not _MEMO_BACKEND.fullmatch(ident):
        return None
    module, _, name = ident.partition(":")
    try:
        import importlib

        cls = getattr(importlib.import_module(module), name)
        if not (cls.priority > 0):  # keyring's own "is it usable here" (e.g. a Secret Service is on the bus)
            return None
        kr = cls()
    except Exception:  # gone, renamed, or unusable now: as if there were no memo
        return None
    return kr if _usable(kr) else None


class _GatewayIndex:
    """The names of the gateways a keyring holds (a JSON list in a 0600 file; no secrets)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> list[str]:
        data = read_json(self.path)
        if data is None:
            return []
        if not isinstance(data, list) or not all(isinstance(x, str) for x in data):
            raise corrupt(self.path, "keyring index")
        return sorted(data)

    def update(self, gateway: str, present: bool) -> None:
        with file_lock(self.path):
            names = set(self.read())
            if (gateway in names) == present:
                return
            (names.add if present else names.discard)(gateway)
            write_json_atomic(self.path, sorted(names))


class KeyringSecretStore:
    """The OS keyring. Errors (locked, no D-Bus, denied) become one FaasProError, never a fallback.

    With ``data_dir``, a successful write remembers the backend there (see the module docstring)."""

    def __init__(self, keyring_backend: Any, data_dir: Path | None = None) -> None:
        self._kr = keyring_backend
        self._data_dir = data_dir
        self.backend = f"keyring ({_backend_name(keyring_backend)})"
        self._index = _GatewayIndex(Path(data_dir) / INDEX_FILE) if data_dir is not None else None

    def _fail(self, doing: str, e: BaseException) -> FaasProError:
        return FaasProError(
            f"the keyring ({_backend_name(self._kr)}) failed while {doing}: {type(e).__name__}",
            "unlock the keyring, or set FAAS_PRO_TOKEN_STORE=file to keep tokens in a 0600 file",
        )

    def _require_usable(self, doing: str) -> None:
        if not _usable(self._kr):
            raise FaasProError(
                f"no usable keyring backend while {doing} (FAAS_PRO_TOKEN_STORE=keyring)",
                "install/unlock a keyring, or set FAAS_PRO_TOKEN_STORE=file",
            )

    def backend_of(self, gateway: str) -> str:
        return self.backend

    def get(self, gateway: str) -> dict[str, str] | None:
        self._require_usable("reading tokens")
        try:
            raw = self._kr.get_password(SERVICE, normalise_gateway(gateway))
        except Exception as e:  # keyring backends raise many types; the message may not hold secrets
            raise self._fail("reading tokens", e) from None
        if raw is None:
            return None
        try:
            value = json.loads(raw)
        except ValueError:
            value = None
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise FaasProError(
                f"the keyring entry {SERVICE}/{normalise_gateway(gateway)} is not valid (left untouched)",
                f"run faas-pro logout -g {normalise_gateway(gateway)}",
            )
        return value

    def put(self, gateway: str, secrets: dict[str, str]) -> None:
        self._require_usable("saving tokens")
        value = json.dumps(_check_secrets(secrets), sort_keys=True)
        try:
            self._kr.set_password(SERVICE, normalise_gateway(gateway), value)
        except Exception as e:
            raise self._fail("saving tokens", e) from None
        if self._index is not None:
            self._index.update(normalise_gateway(gateway), True)
        if self._data_dir is not None:
            remember_backend(self._data_dir, self._kr)

    def delete(self, gateway: str) -> bool:
        self._require_usable("deleting tokens")
        from keyring.errors import PasswordDeleteError

        account = normalise_gateway(gateway)
        if self._index is not None:
            self._index.update(account, False)
        try:
            if self._kr.get_password(SERVICE, account) is None:
                return False
            self._kr.delete_password(SERVICE, account)
        except PasswordDeleteError:
            return False
        except Exception as e:
            raise self._fail("deleting tokens", e) from None
        return True

    def gateways(self) -> list[str]:
        """The gateways this store saved (its index: a keyring cannot list accounts portably)."""
        return self._index.read() if self._index is not None else []


def _probe_keyring(env: Mapping[str, str], data_dir: Path) -> Any | None:
    """The keyring backend: the remembered one when it is still usable, else keyring's choice."""
    if not env.get("PYTHON_KEYRING_BACKEND"):
        kr = remembered_backend(data_dir)
        if kr is not None:
            return kr
    import keyring

    try:
        return keyring.get_keyring()
    except Exception:  # a broken keyring configuration: as good as none
        return None


class AutoSecretStore:
    """No ``FAAS_PRO_TOKEN_STORE``: the keyring when usable, else the file (see the module docstring)."""

    def __init__(self, data_dir: Path, env: Mapping[str, str] | None = None) -> None:
        self._file = FileSecretStore(data_dir)
        self._data_dir = Path(data_dir)
        self._env: Mapping[str, str] = env if env is not None else {}
        self._chosen: SecretStore | None = None

    def _resolve(self) -> SecretStore:
        if self._chosen is None:
            kr = _probe_keyring(self._env, self._data_dir)
            usable = kr is not None and _usable(kr)
            self._chosen = KeyringSecretStore(kr, self._data_dir) if usable else self._file
        return self._chosen

    @property
    def backend(self) -> str:
        return self._resolve().backend

    def _in_file(self, gateway: str) -> dict[str, str] | None:
        return self._file.get(gateway) if self._file.path.exists() else None

    def backend_of(self, gateway: str) -> str:
        return self._file.backend if self._in_file(gateway) is not None else self.backend

    def get(self, gateway: str) -> dict[str, str] | None:
        """The gateway's entry: the file's when it has one (no keyring probe), else the keyring's.

        Only a read: it never changes which store ``put`` writes to."""
        entry = self._in_file(gateway)
        if entry is not None:
            return entry
        store = self._resolve()
        return None if store is self._file else store.get(gateway)

    def put(self, gateway: str, secrets: dict[str, str]) -> None:
        store = self._resolve()
        store.put(gateway, secrets)
        if store is not self._file and self._file.path.exists():
            self._file.delete(gateway)

    def delete(self, gateway: str) -> bool:
        removed = self._file.delete(gateway) if self._file.path.exists() else False
        store = self._resolve()
        if store is not self._file:
            removed = store.delete(gateway) or removed
        return removed

    def gateways(self) -> list[str]:
        """The file's gateways and the keyring index's (read without probing the keyring)."""
        in_file = self._file.gateways() if self._file.path.exists() else []
        return sorted(set(in_file) | set(_GatewayIndex(self._data_dir / INDEX_FILE).read()))


def open_secret_store(env: Mapping[str, str], data_dir: Path) -> SecretStore:
    """The store chosen by ``FAAS_PRO_TOKEN_STORE`` (see the module docstring)."""
    choice = (env.get("FAAS_PRO_TOKEN_STORE") or "").strip().lower()
    if choice and choice not in CHOICES:
        raise UsageError(f"FAAS_PRO_TOKEN_STORE must be one of {', '.join(CHOICES)}, not {choice!r}")
    if choice == "memory":
        return MemorySecretStore()
    if choice == "file":
        return FileSecretStore(data_dir)
    if choice == "keyring":
        kr = _probe_keyring(env, data_dir)
        if kr is None:
            from keyring.backends import fail

            kr = fail.Keyring()  # type: ignore[no-untyped-call]
        return KeyringSecretStore(kr, data_dir)
    return AutoSecretStore(data_dir, env)


__all__ = [
    "CHOICES",
    "KEYRING_MEMO",
    "SERVICE",
    "AutoSecretStore",
    "FileSecretStore",
    "KeyringSecretStore",
    "MemorySecretStore",
    "SecretStore",
    "open_secret_store",
    "remember_backend",
    "remembered_backend",
]
