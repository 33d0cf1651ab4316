"""Guards (faas_pro/guards.py) through the CLI: unsafe directories, tokens that are not JWT-shaped,
and credentials over plain http to a non-loopback host. Each is one line naming what to fix, and
nothing is sent before it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from faas_pro.errors import EXIT_ERROR, EXIT_UNREACHABLE, EXIT_USAGE
from faas_pro.guards import require_jwt_shape
from faas_pro.storage.secrets import FileSecretStore
from tests.support.fakegateway import FakeGateway, openfaas_token
from tests.support.hostile import sentinel_jwt

posix = pytest.mark.skipif(os.name != "posix", reason="POSIX modes and owners")


@posix
@pytest.mark.parametrize(("mode", "who"), [(0o770, "group"), (0o707, "others"), (0o777, "group and others")])
def test_a_data_dir_writable_by_others_is_refused(cli, isolated_env: Path, mode: int, who: str) -> None:
    data = isolated_env / "data"
    FileSecretStore(data).put("http://127.0.0.1:8080", {"openfaas_token": openfaas_token()})
    data.chmod(mode)
    r = cli("status")
    assert (r.code, r.stdout) == (EXIT_ERROR, "")
    assert r.stderr == f"refusing to use {data}: it is writable by {who} (mode {mode:04o}); run: chmod 700 {data}\n"
    assert os.stat(data).st_mode & 0o777 == mode  # not changed behind the user's back


@posix
def test_a_config_dir_of_another_user_is_refused(cli, isolated_env: Path) -> None:
    if os.getuid() != 0:
        pytest.skip("needs root to give a directory away")
    config = isolated_env / "config"
    config.mkdir(mode=0o700)
    os.chown(config, 65534, -1)
    r = cli("use", "https://gw.example")
    assert r.code == EXIT_ERROR
    assert r.stderr.startswith(f"refusing to use {config}: it belongs to user id 65534, not to you (0); ")
    assert f"run: sudo chown -R 0 {config}" in r.stderr
    assert not (config / "settings.json").exists()


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("a.b.c\r\nX-Evil: 1", "contains whitespace or control characters"),
        ("aaa.bbb\n.ccc", "contains whitespace or control characters"),
        ("aaa.b b.ccc", "contains whitespace or control characters"),
        ("not-a-jwt", "is not a JWT"),
        ("a.b.c.d", "is not a JWT"),
        ("a+b.c/d.e", "is not a JWT"),
    ],
)
def test_tokens_given_by_hand_must_look_like_a_jwt(cli, gw: FakeGateway, value: str, why: str) -> None:
    for args, env, source in (
        (["-k", value], {}, "given with -k/--token"),
        ([], {"FAAS_PRO_TOKEN": value}, "in FAAS_PRO_TOKEN"),
    ):
        r = cli("namespaces", "-g", gw.url, *args, env=env)
        assert r.code == EXIT_USAGE, r
        assert r.stderr.startswith(f"the token {source} {why}") and r.stderr.count("\n") == 1
        assert "X-Evil" not in r.stderr
    assert gw.requests == []  # refused before any network call


def test_a_token_file_with_a_line_break_inside_is_refused(cli, gw: FakeGateway, tmp_path: Path) -> None:
    f = tmp_path / "tok"
    t = sentinel_jwt()
    f.write_text(t[:20] + "\r\n" + t[20:] + "\n")
    r = cli("auth", "-g", gw.url, "--token-file", str(f))
    assert r.code != 0 and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    assert gw.requests == []


def test_surrounding_whitespace_is_dropped() -> None:
    assert require_jwt_shape("  a.b.c\n", "x") == "a.b.c"


def test_plain_http_to_a_remote_gateway_needs_insecure_http(cli) -> None:
    url = "http://gateway.invalid:8080"
    r = cli("namespaces", "-g", url, "-k", sentinel_jwt())
    assert (r.code, r.stderr) == (
        EXIT_USAGE,
        f"refusing to send the OpenFaaS token over plain http to {url}: only loopback addresses may use http;"
        " use https, or pass --insecure-http (or set FAAS_PRO_INSECURE_HTTP=1) to accept that it can be read"
        " on the way\n",
    )
    for args, env in ((["--insecure-http"], {}), ([], {"FAAS_PRO_INSECURE_HTTP": "1"})):
        r = cli("namespaces", "-g", url, "-k", sentinel_jwt(), *args, env=env)
        assert r.code == EXIT_UNREACHABLE  # allowed: it was tried (the name does not resolve)
        assert r.stderr.startswith(f"WARNING: sending the OpenFaaS token over plain http to {url} (--insecure-http)")


def test_plain_http_to_a_remote_idp_needs_insecure_http(cli) -> None:
    r = cli("auth", "-g", "https://gw.example", "--authority", "http://idp.invalid", "--client-id", "c", "--no-browser")
    assert r.code == EXIT_USAGE
    assert r.stderr.startswith("refusing to send the login's codes and tokens over plain http to http://idp.invalid:")


def test_plain_http_to_a_remote_gateway_for_the_exchange_needs_insecure_http(cli, tmp_path: Path) -> None:
    f = tmp_path / "tok"
    f.write_text(sentinel_jwt())
    r = cli("auth", "-g", "http://gw.invalid", "--token-file", str(f))
    assert r.code == EXIT_USAGE
    assert r.stderr.startswith("refusing to send the token to exchange over plain http to http://gw.invalid:")


def test_loopback_http_is_fine(cli, gw: FakeGateway) -> None:
    for host in ("127.0.0.1", "localhost"):
        cli("namespaces", "-g", gw.url.replace("127.0.0.1", host), "-k", sentinel_jwt())
    assert len(gw.requests) == 2
