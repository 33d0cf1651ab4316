"""The composition root: every side effect the use cases need, injected.

Tests build a ``Deps`` with temp directories, a fixed clock, captured streams, a recording browser
and, for fast unit tests, an ``httpx.MockTransport``; production code calls ``Deps.default()``.
Nothing heavy is imported here: the HTTP client, keyring and friends are created on first use.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:  # pragma: no cover
    import httpx

    from faas_pro.storage.secrets import SecretStore
    from faas_pro.storage.settings import SettingsStore

PLUGIN_ENV = "FAAS_PRO_PLUGIN"  # set by faas-pro's faas-cli plugin shim (usecases/plugin.py) to its name


def _user_config_dir(env: Mapping[str, str]) -> Path:
    if env.get("FAAS_PRO_CONFIG_DIR"):
        return Path(env["FAAS_PRO_CONFIG_DIR"])
    import platformdirs

    return Path(platformdirs.user_config_dir("faas-pro"))


def _user_data_dir(env: Mapping[str, str]) -> Path:
    if env.get("FAAS_PRO_DATA_DIR"):
        return Path(env["FAAS_PRO_DATA_DIR"])
    import platformdirs

    return Path(platformdirs.user_data_dir("faas-pro"))


class Deps:
    """Side effects for one invocation. ``http()`` gives the one lazily created httpx client.

    ``config_dir``/``data_dir`` are worked out on first use (platformdirs costs start-up time that
    ``--help`` should not pay) unless given.
    """

    def __init__(
        self,
        *,
        env: Mapping[str, str],
        stdin: TextIO,
        stdout: TextIO,
        stderr: TextIO,
        config_dir: Path | None = None,
        data_dir: Path | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        open_url: Callable[[str], bool] | None = None,
        verbose: bool = False,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.env = env
        self.stdin, self.stdout, self.stderr = stdin, stdout, stderr
        self._config_dir, self._data_dir = config_dir, data_dir
        self.clock, self.sleep = clock, sleep
        # open_url(url) -> True when a browser was started; None means "decide from the environment"
        self.open_url = open_url
        self.verbose = verbose
        # every HTTP client of this run sends through it when given (tests: httpx.MockTransport)
        self.transport = transport
        self._http: httpx.Client | None = None
        self._http_key: tuple[Any, ...] | None = None
        self._settings: SettingsStore | None = None
        self._secrets: SecretStore | None = None

    @classmethod
    def default(cls) -> Deps:
        return cls(env=dict(os.environ), stdin=sys.stdin, stdout=sys.stdout, stderr=sys.stderr)

    @property
    def config_dir(self) -> Path:
        if self._config_dir is None:
            self._config_dir = _user_config_dir(self.env)
        return self._config_dir

    @property
    def data_dir(self) -> Path:
        if self._data_dir is None:
            self._data_dir = _user_data_dir(self.env)
        return self._data_dir

    def stdin_is_tty(self) -> bool:
        try:
            return bool(self.stdin.isatty())
        except (AttributeError, ValueError):
            return False

    def interactive(self) -> bool:
        """Prompting is allowed only with a terminal on stdin and outside CI."""
        return self.stdin_is_tty() and not self.env.get("CI")

    def as_typed(self, text: str) -> str:
        """``text`` with the commands it suggests spelled as the user runs faas-pro: ``faas-cli pro
        auth …`` when started by the faas-cli plugin (faas_pro/usecases/plugin.py), else unchanged."""
        if PLUGIN_ENV not in self.env:
            return text
        from faas_pro.usecases.plugin import as_typed

        return as_typed(text, self.env)

    def warn(self, message: str) -> None:
        print(self.as_typed(message), file=self.stderr, flush=True)

    def http(
        self, *, ca_file: str | None = None, verify: bool = True, timeout: float = 15.0, only_url: str | None = None
    ) -> httpx.Client:
        """The process's one httpx client, built by ``faas_pro.http_client.build_http_client`` (TLS,
        CA, proxies, timeouts, User-Agent, no redirects: see there); created on first use and again
        only when the arguments change.

        ``only_url``: the caller talks to this one origin only. When it is plain ``http://`` the client
        skips loading the CA bundle (~20-30 ms of start-up) and gets a TLS context with no trust
        anchors instead, so that any https connection made through it fails closed, never open.
        """
        plain = bool(only_url and only_url.lower().startswith("http://") and verify and not ca_file)
        plain = plain and not self._proxied()  # a proxy may be reached over https: keep the trust store
        key = (ca_file, verify, timeout, plain)
        if self._http is not None and self._http_key == key:
            return self._http
        from faas_pro.http_client import build_http_client

        if self._http is not None:
            self._http.close()
        self._http = build_http_client(
            ca_file=ca_file, verify=verify, timeout=timeout, plain=plain, transport=self.transport, env=self.env
        )
        self._http_key = key
        return self._http

    def gateway(self, flag: str | None) -> str:
        """The gateway of this command, normalised: ``-g`` → ``OPENFAAS_URL`` → the default set by
        ``faas-pro use`` → ``http://127.0.0.1:8080`` (the settings are read only when needed)."""
        from faas_pro.urls import DEFAULT_GATEWAY, normalise_gateway

        chosen = flag or self.env.get("OPENFAAS_URL") or self.settings().default_gateway() or DEFAULT_GATEWAY
        return normalise_gateway(chosen)

    def _proxied(self) -> bool:
        return any(self.env.get(v) or self.env.get(v.lower()) for v in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY"))

    def settings(self) -> SettingsStore:
        """Per-gateway login settings under ``config_dir`` (created on first use)."""
        if self._settings is None:
            from faas_pro.storage.settings import SettingsStore

            self._settings = SettingsStore(self.config_dir)
        return self._settings

    def secrets(self) -> SecretStore:
        """The token store chosen from ``FAAS_PRO_TOKEN_STORE`` / the keyring (chosen on first use)."""
        if self._secrets is None:
            from faas_pro.storage.secrets import open_secret_store

            self._secrets = open_secret_store(self.env, self.data_dir)
        return self._secrets

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None
