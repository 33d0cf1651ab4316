"""Where `--faas-cli-config` writes: ``OPENFAAS_CONFIG``, else faas-cli's default ``~/.openfaas``.

The suite's autouse fixture has unset ``OPENFAAS_CONFIG`` and pointed ``HOME`` at a tmp directory."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import yaml

from faas_pro.oauth.faas_cli_config import config_path, write_token

GW = "http://gw.example:8080"


def test_default_path_is_openfaas_config_yml_under_home() -> None:
    home = Path(os.environ["HOME"])
    assert "OPENFAAS_CONFIG" not in os.environ
    assert config_path(os.environ) == home / ".openfaas" / "config.yml"
    assert config_path({"HOME": "/somewhere/else"}) == Path("/somewhere/else/.openfaas/config.yml")
    assert config_path({"HOME": str(home), "OPENFAAS_CONFIG": ""}) == home / ".openfaas" / "config.yml"  # empty: unset


def test_openfaas_config_names_the_directory(tmp_path: Path) -> None:
    assert config_path({"HOME": "/unused", "OPENFAAS_CONFIG": str(tmp_path / "of")}) == tmp_path / "of" / "config.yml"


def test_write_token_creates_the_default_file_privately() -> None:
    home = Path(os.environ["HOME"])
    path = write_token(os.environ, GW, "tok-1")
    assert path == home / ".openfaas" / "config.yml"
    assert yaml.safe_load(path.read_text()) == {"auths": [{"gateway": GW, "auth": "oauth2", "token": "tok-1"}]}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
