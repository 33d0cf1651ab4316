"""Suite-wide fixtures: every test runs with its own config/data directories, the file token
store, and an environment cleaned of the user's gateway settings; nothing touches the real
user's config or keyring."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.env import CLEARED
from tests.support.fakehttp import FakeHTTP
from tests.support.gateway import keygen
from tests.support.idp import IdP, start_idp
from tests.support.inproc import CliRunner, run_inproc
from tests.support.issuer import FakeIssuer


@pytest.fixture(autouse=True, scope="module")
def collect_garbage_per_module() -> Iterator[None]:
    """A full collection after each module: a resource some test forgot to close (a socket, a pipe,
    a process never waited for) is a ResourceWarning, i.e. an error, raised in that module's last
    teardown, not in whichever later test happens to run the collector."""
    yield
    gc.collect()


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point every user directory at tmp_path and force the file token store."""
    home = tmp_path / "home"
    home.mkdir()
    for var in CLEARED:
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


@pytest.fixture
def cli(isolated_env: Path) -> CliRunner:
    """Run faas-pro in-process: ``cli("list", "-g", url, stdin="...")`` -> Captured."""
    return run_inproc


@pytest.fixture(scope="module")
def gateway_key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A gateway signing key (PEM file), one per module."""
    return keygen(tmp_path_factory.mktemp("key") / "gateway.pem")


@pytest.fixture(scope="module")
def fake_issuer() -> Iterator[FakeIssuer]:
    """A ``FakeIssuer`` (tests/support/issuer.py), one per module."""
    with FakeIssuer() as f:
        yield f


@pytest.fixture
def server() -> Iterator[FakeHTTP]:
    """A ``FakeHTTP`` (tests/support/fakehttp.py) with no routes yet: script it with ``server.on(...)``."""
    with FakeHTTP() as f:
        yield f
