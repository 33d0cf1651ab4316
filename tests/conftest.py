"""Suite-wide fixtures: every test runs with its own config/data directories, the file token
store, and an environment cleaned of the user's gateway settings; nothing touches the real
user's config or keyring."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.idp import IdP, start_idp

_CLEARED = (
    "OPENFAAS_URL",
    "OPENFAAS_CONFIG",
    "FAAS_PRO_TOKEN",
    "FAAS_PRO_CLIENT_SECRET",
    "FAAS_PRO_ID_TOKEN",
    "BROWSER",
    "DISPLAY",
    "WAYLAND_DISPLAY",
    "SSH_CONNECTION",
    "SSH_CLIENT",
    "SSH_TTY",
    "CI",
    "GITHUB_ACTIONS",
    "GITLAB_CI",
    "ACTIONS_ID_TOKEN_REQUEST_URL",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
)


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point every user directory at tmp_path and force the file token store."""
    home = tmp_path / "home"
    home.mkdir()
    for var in _CLEARED:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("FAAS_PRO_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("FAAS_PRO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("FAAS_PRO_TOKEN_STORE", "file")
    monkeypatch.setenv("NO_PROXY", "*")
    return tmp_path


@pytest.fixture(scope="session")
def idp() -> Iterator[IdP]:
    """One real OpenID provider for the session (consent page shown, as for native clients)."""
    with start_idp() as p:
        yield p


@pytest.fixture(scope="session")
def idp_skip_consent() -> Iterator[IdP]:
    """A second provider that grants without a consent page and always issues refresh tokens."""
    with start_idp(IDP_SKIP_CONSENT="1", IDP_REFRESH="always") as p:
        yield p


class Captured:
    """Result of an in-process CLI run."""

    def __init__(self, code: int, stdout: str, stderr: str) -> None:
        self.code, self.stdout, self.stderr = code, stdout, stderr

    def __repr__(self) -> str:
        return f"Captured(code={self.code}, stdout={self.stdout!r}, stderr={self.stderr!r})"


@pytest.fixture
def cli(isolated_env: Path) -> object:
    """Run faas-pro in-process: ``cli("list", "-g", url, stdin="...")`` -> Captured."""
    import os

    from faas_pro.__main__ import run
    from faas_pro.deps import Deps

    def _run(*args: str, stdin: str = "", env: dict[str, str] | None = None) -> Captured:
        full_env = {**os.environ, **(env or {})}
        out, err = io.StringIO(), io.StringIO()
        deps = Deps(
            env=full_env,
            stdin=io.StringIO(stdin),
            stdout=out,
            stderr=err,
            config_dir=Path(full_env["FAAS_PRO_CONFIG_DIR"]),
            data_dir=Path(full_env["FAAS_PRO_DATA_DIR"]),
        )
        code = run(list(args), deps)
        return Captured(code, out.getvalue(), err.getvalue())

    return _run
