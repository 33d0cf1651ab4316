"""faas-cli's spellings of `auth` flags: --print (= --print-token) and --launch-browser[=true|false]
(false = --no-browser). The login runs in-process against the fake IdP and gateway of tests/unit/login."""

from __future__ import annotations

from pathlib import Path

import pytest

from faas_pro.errors import EXIT_AUTH, EXIT_OK, EXIT_USAGE
from tests.support.inproc import run_with_deps
from tests.support.loginworld import CLIENT, GATEWAY, ISSUER, FakeWorld, make_deps, recorder

MACHINE = ["auth", "-g", GATEWAY, "--authority", ISSUER, "--client-id", "m", "--grant", "client_credentials"]


@pytest.mark.parametrize("flag", ["--print", "--print-token"])
def test_print_is_print_token(tmp_path: Path, flag: str) -> None:
    world = FakeWorld()
    deps = make_deps(tmp_path, world, env={"FAAS_PRO_CLIENT_SECRET": "s3cret"})
    code, out, err = run_with_deps(deps, *MACHINE, flag)
    saved = deps.secrets().get(GATEWAY)
    assert code == EXIT_OK, err
    assert saved is not None and out == saved["openfaas_token"] + "\n"


@pytest.mark.parametrize("flag", ["--launch-browser", "--launch-browser=true", "--launch-browser=TRUE"])
def test_launch_browser_true_is_the_default(tmp_path: Path, flag: str) -> None:
    deps = make_deps(tmp_path, FakeWorld(), env={"FAAS_PRO_CLIENT_SECRET": "s3cret"})
    code, out, err = run_with_deps(deps, *MACHINE, flag)
    assert code == EXIT_OK and out == "", err


@pytest.mark.parametrize("flag", ["--launch-browser=false", "--launch-browser=0", "--no-browser"])
def test_launch_browser_false_is_no_browser(tmp_path: Path, flag: str) -> None:
    """A refused refresh token with no terminal: with a browser the login would go on; without, exit 3."""
    world = FakeWorld()
    world.token_errors = ["invalid_grant"]
    deps = make_deps(tmp_path, world)
    opened: list[str] = []
    deps.open_url = recorder(opened)
    deps.secrets().put(GATEWAY, {"idp_issuer": ISSUER, "idp_client_id": CLIENT, "idp_refresh_token": "rt-0"})
    code, out, err = run_with_deps(deps, "auth", "-g", GATEWAY, "--authority", ISSUER, "--client-id", CLIENT, flag)
    assert code == EXIT_AUTH and out == "" and opened == []
    assert "cannot log in again here: no terminal and no browser (--no-browser)" in err


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--launch-browser=maybe"], "--launch-browser must be true or false: 'maybe'"),
        (["--launch-browser", "--no-browser"], "--launch-browser contradicts --no-browser"),
        (["--launch-browser=true", "--no-browser"], "--launch-browser contradicts --no-browser"),
    ],
)
def test_launch_browser_misuse_is_one_usage_line(tmp_path: Path, flags: list[str], message: str) -> None:
    world = FakeWorld()
    deps = make_deps(tmp_path, world, env={"FAAS_PRO_CLIENT_SECRET": "s3cret"})
    code, out, err = run_with_deps(deps, *MACHINE, *flags)
    assert code == EXIT_USAGE and out == "" and world.requests == []
    assert message in err and len(err.strip().splitlines()) == 1


def test_help_names_the_aliases_without_listing_launch_browser() -> None:
    from faas_pro.cli.reference import render

    text = render()  # docs/cli.md: the help of every command
    assert "--print-token, --print" in text and "--launch-browser=false" in text
    assert "--no-launch-browser" not in text
