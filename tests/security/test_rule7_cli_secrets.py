"""SECURITY rule 7 (secret hygiene), CLI side, with sentinel tokens and secrets.

A recognisable fake token or secret goes through every path where the CLI could leak it: error
lines with and without ``-V`` (tracebacks), ``status``, ``--pretty``, the saved settings, the argv of
the browser command; token files are 0600 in 0700 directories and symlinks are refused.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from faas_pro.errors import EXIT_AUTH, EXIT_ERROR, EXIT_OK
from tests.support.fakehttp import FakeHTTP, Req, json_answer
from tests.support.hostile import (
    SECRET,
    SENTINEL,
    GatewayWorld,
    assert_no_leak,
    recorder_command,
    run_cli_inproc,
    sentinel_jwt,
    signature_of,
)
from tests.support.idp import IdP
from tests.support.inproc import run_cli

TOKEN = sentinel_jwt()
SIG = signature_of(TOKEN)


def _data_dir() -> Path:
    return Path(os.environ["FAAS_PRO_DATA_DIR"])


def _config_dir() -> Path:
    return Path(os.environ["FAAS_PRO_CONFIG_DIR"])


@pytest.fixture(scope="module")
def echo_gateway() -> Iterator[FakeHTTP]:
    """A hostile gateway that echoes whatever credential it was sent in every error it gives."""

    def route(req: Req) -> tuple[int, dict[str, str], bytes]:
        auth = req.headers.get("authorization", "")
        if req.path == "/oauth/token":
            form = dict(p.split("=", 1) for p in req.body.decode().split("&"))
            return json_answer({"error": "invalid_request", "error_description": f"bad: {form['subject_token']}"}, 400)
        if req.path.startswith("/system/namespaces"):
            return 401, {"Content-Type": "text/plain"}, f"Unauthorized: {auth}".encode()
        return 403, {"Content-Type": "text/plain"}, f"Forbidden for {auth}".encode()

    f = FakeHTTP(route)
    yield f
    f.close()


@pytest.mark.parametrize("verbose", [[], ["-V"]], ids=["plain", "verbose"])
def test_gateway_errors_never_show_the_token(echo_gateway: FakeHTTP, verbose: list[str]) -> None:
    """401 and 403 answers that echo the bearer token: the CLI's line (and -V traceback) hides it."""
    for command, code in ((["namespaces"], EXIT_AUTH), (["list"], 4)):
        r = run_cli_inproc(*verbose, *command, "-g", echo_gateway.url, "-k", TOKEN)
        assert r.code == code, r
        assert r.stdout == ""
        assert_no_leak(r.stderr, TOKEN, SIG)
    assert {q.headers["authorization"] for q in echo_gateway.requests} == {f"Bearer {TOKEN}"}


@pytest.mark.parametrize("verbose", [[], ["-V"]], ids=["plain", "verbose"])
def test_refused_exchange_never_shows_the_subject_token(
    echo_gateway: FakeHTTP, tmp_path: Path, verbose: list[str]
) -> None:
    """A gateway whose error_description echoes the subject token: the CLI must not print it (CI logs
    are read by many). Fix belongs in faas_pro/oauth/exchange.py: redact the subject token."""
    f = tmp_path / "tok"
    f.write_text(TOKEN)
    r = run_cli_inproc(*verbose, "auth", "-g", echo_gateway.url, "--token-file", str(f))
    assert r.code == EXIT_ERROR, r
    assert "refused the token exchange" in r.stderr
    assert_no_leak(r.stderr + r.stdout, TOKEN, SIG)


@pytest.mark.parametrize("verbose", [[], ["-V"]], ids=["plain", "verbose"])
def test_unusable_subject_tokens_are_described_never_shown(
    gateway_world: GatewayWorld, tmp_path: Path, verbose: list[str]
) -> None:
    """Not a JWT, expired, untrusted issuer, bad signature: one line each, with or without -V."""
    gw = gateway_world.server.url
    cases = {
        "not-a-jwt": (SENTINEL + "-not-a-jwt", "is not a JWT"),
        "expired": (sentinel_jwt(exp=1000, iat=900), "expired at"),
        "untrusted": (TOKEN, "untrusted issuer"),
        "bad-signature": (
            gateway_world.idp_token().rsplit(".", 1)[0] + "." + signature_of(TOKEN),
            "signature",
        ),
    }
    for name, (token, expect) in cases.items():
        f = tmp_path / name
        f.write_text(token)
        r = run_cli_inproc(*verbose, "auth", "-g", gw, "--token-file", str(f))
        assert r.code == EXIT_ERROR, (name, r)
        assert expect in r.stderr, (name, r.stderr)
        assert_no_leak(r.stderr + r.stdout, token, SENTINEL)
        if verbose:
            assert "Traceback" in r.stderr  # -V does show the traceback, and it is clean too
        else:
            assert r.stderr.count("\n") <= 2, r.stderr  # the --token-file argv warning is not printed
    # the same through the environment variable
    r = run_cli_inproc(*verbose, "auth", "-g", gw, "--token-env", "MY_TOK", env={"MY_TOK": SENTINEL + "-x"})
    assert r.code == EXIT_ERROR and "is not a JWT" in r.stderr
    assert_no_leak(r.stderr, SENTINEL)


def test_status_and_pretty_show_claims_never_raw_secrets(gateway_world: GatewayWorld) -> None:
    """A real login saved (exchange at the real gateway); status, status --json, token --pretty and
    auth --pretty show who/what/until when, never the raw token or the refresh token."""
    gw = gateway_world.server.url
    env = {"SUBJ": gateway_world.idp_token()}
    r = run_cli_inproc("auth", "-g", gw, "--token-env", "SUBJ", "--pretty", env=env)
    assert r.code == EXIT_OK, r
    saved = json.loads((_data_dir() / "tokens.json").read_text())
    token = saved[gw]["openfaas_token"] if gw in saved else next(iter(saved.values()))["openfaas_token"]
    pretty = json.loads(r.stdout)
    assert pretty["payload"]["sub"] == "fed:robot-1" and pretty["header"]["typ"] == "at+jwt"
    assert_no_leak(r.stdout + r.stderr, token, signature_of(token), env["SUBJ"], signature_of(env["SUBJ"]))
    # add a refresh token sentinel to the saved entry, as a browser login would have saved
    entry = next(iter(saved.values()))
    entry["idp_refresh_token"] = "SENTINEL-refresh-91b"
    entry["idp_access_token"] = TOKEN
    (_data_dir() / "tokens.json").write_text(json.dumps(saved))
    outputs = [run_cli_inproc(*a, "-g", gw) for a in (["status"], ["status", "--json"], ["token", "--pretty"])]
    for out in outputs:
        assert out.code == EXIT_OK, out
        assert_no_leak(out.stdout + out.stderr, token, signature_of(token), "SENTINEL-refresh-91b", TOKEN, SIG)
    assert "fed:robot-1" in outputs[0].stdout and json.loads(outputs[1].stdout)["refresh_token"] is True
    assert "UNVERIFIED" in outputs[2].stderr


def test_token_files_are_private_and_symlinks_refused(gateway_world: GatewayWorld, tmp_path: Path) -> None:
    gw = gateway_world.server.url
    env = {"SUBJ": gateway_world.idp_token()}
    r = run_cli_inproc(
        "auth",
        "-g",
        gw,
        "--token-env",
        "SUBJ",
        "--faas-cli-config",
        env=env | {"OPENFAAS_CONFIG": str(tmp_path / "ofc")},
    )
    assert r.code == EXIT_OK, r
    tokens = _data_dir() / "tokens.json"
    assert stat.S_IMODE(tokens.stat().st_mode) == 0o600
    assert stat.S_IMODE(_data_dir().stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "ofc" / "config.yml").stat().st_mode) == 0o600
    leftovers = [p.name for p in _data_dir().iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []  # written through a temp file that was renamed
    # a symlinked token file: refused, and the file it points to is untouched
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    tokens.unlink()
    tokens.symlink_to(victim)
    r = run_cli_inproc("auth", "-g", gw, "--token-env", "SUBJ", env=env)
    assert r.code == EXIT_ERROR and "symbolic link" in r.stderr, r
    assert victim.read_text() == "precious\n"
    r = run_cli_inproc("status", "-g", gw)
    assert r.code == EXIT_ERROR and "symbolic link" in r.stderr, r
    # a symlinked data directory: refused too
    tokens.unlink()
    real = tmp_path / "elsewhere-dir"
    real.mkdir()
    link = tmp_path / "linked-data"
    link.symlink_to(real)
    r = run_cli_inproc("auth", "-g", gw, "--token-env", "SUBJ", env=env | {"FAAS_PRO_DATA_DIR": str(link)})
    assert r.code == EXIT_ERROR and "symbolic link" in r.stderr, r
    assert list(real.iterdir()) == []


def test_client_secret_never_saved_printed_or_in_argv(idp: IdP, tmp_path: Path) -> None:
    """--client-secret (warned about) and --client-secret-file: the secret is used, never written to
    settings or tokens, never in --pretty output, never in the browser command's argv."""
    gw = "http://127.0.0.1:9"  # never contacted: --no-exchange
    r = run_cli_inproc(
        "auth", "-g", gw, "--authority", idp.issuer, "--client-id", "faas-svc", "--client-secret", "faas-svc-secret",
        "--grant", "client_credentials", "--no-exchange", "--pretty", "--print-token",
    )  # fmt: skip
    assert r.code == EXIT_OK, r
    assert "visible to other users" in r.stderr
    assert_no_leak(r.stdout + r.stderr, "faas-svc-secret")
    for f in (_config_dir() / "settings.json", _data_dir() / "tokens.json"):
        assert_no_leak(f.read_text(), "faas-svc-secret")
    assert json.loads((_config_dir() / "settings.json").read_text())["gateways"][gw]["client_id"] == "faas-svc"
    # the browser command gets the authorization URL and nothing else
    secret_file = tmp_path / "secret"
    secret_file.write_text(SECRET + "\n")
    record = tmp_path / "argv.json"
    proc = run_cli(  # a subprocess: the browser command outlives the in-process run
        "auth", "-g", gw, "--authority", idp.issuer, "--client-id", "faas-cli", "--client-secret-file",
        str(secret_file), "--grant", "code", "--port", "0", "--timeout", "30s", "--par", "never",
        "--browser-command", recorder_command(record),
    )  # fmt: skip
    assert proc.returncode == EXIT_ERROR and "access_denied" in proc.stderr, proc
    argv = json.loads(record.read_text())
    assert len(argv) == 2 and argv[1].startswith(idp.discovery["authorization_endpoint"] + "?"), argv
    assert_no_leak(json.dumps(argv) + proc.stderr + proc.stdout, SECRET)
    for f in _config_dir().glob("*.json"):
        assert_no_leak(f.read_text(), SECRET)


def test_an_idp_echoing_the_client_secret_is_redacted(tmp_path: Path) -> None:
    """A token endpoint whose error text contains the client secret: the line shows *** instead."""
    holder: dict[str, str] = {}

    def route(req: Req) -> tuple[int, dict[str, str], bytes]:
        if req.path == "/.well-known/openid-configuration":
            return json_answer(
                {
                    "issuer": holder["url"],
                    "authorization_endpoint": holder["url"] + "/auth",
                    "token_endpoint": holder["url"] + "/token",
                    "jwks_uri": holder["url"] + "/jwks",
                    "token_endpoint_auth_methods_supported": ["client_secret_post"],
                }
            )
        return json_answer({"error": "invalid_client", "error_description": f"got {req.body.decode()} {SECRET}"}, 401)

    idp = FakeHTTP(route)
    holder["url"] = idp.url
    try:
        secret_file = tmp_path / "s"
        secret_file.write_text(SECRET)
        for verbose in ([], ["-V"]):
            r = run_cli_inproc(
                *verbose, "auth", "--authority", idp.url, "--client-id", "svc", "--client-secret-file",
                str(secret_file), "--grant", "client_credentials", "--no-exchange",
            )  # fmt: skip
            assert r.code == EXIT_ERROR and "invalid_client" in r.stderr, r
            assert "***" in r.stderr
            assert_no_leak(r.stderr, SECRET)
    finally:
        idp.close()
