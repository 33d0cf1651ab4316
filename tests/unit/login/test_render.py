"""The login report (faas_pro/cli/auth.py): stderr carries the story, stdout only what was asked for."""

from __future__ import annotations

import io
from pathlib import Path

from faas_pro.cli.auth import render_login
from faas_pro.usecases.login import LoginOutput
from tests.support.loginworld import GATEWAY, ISSUER, NOW, FakeWorld, make_deps, stderr_of


def _out(token: str, **kw: object) -> LoginOutput:
    base = LoginOutput(gateway=GATEWAY, issuer=ISSUER, subject="alice-sub", display_name="alice", grant="code")
    base.token, base.saved_backend = token, "memory (this process only)"
    for k, v in kw.items():
        setattr(base, k, v)
    return base


def test_the_token_reaches_stdout_only_when_asked(tmp_path: Path) -> None:
    world = FakeWorld()
    token = world.gateway_token()
    for print_token, pretty in ((False, False), (True, False), (False, True)):
        deps = make_deps(tmp_path, world)
        out = _out(token, exchanged=True, openfaas_subject="fed:alice", policies=["read"], expires_at=NOW + 1800)
        render_login(out, deps, print_token=print_token, pretty=pretty)
        assert isinstance(deps.stdout, io.StringIO)
        stdout, stderr = deps.stdout.getvalue(), stderr_of(deps)
        assert (token in stdout) is print_token and ('"payload"' in stdout) is pretty
        assert token not in stderr
        assert f"Logged in as alice ({ISSUER}); exchanged for an OpenFaaS token for {GATEWAY}" in stderr
        assert "OpenFaaS token for fed:alice: policies read; expires 2023-11-14T22:43:20Z (in 30m00s)." in stderr
        assert ("UNVERIFIED" in stderr) is pretty


def test_notes_come_first_in_their_old_wording(tmp_path: Path) -> None:
    deps = make_deps(tmp_path, FakeWorld())
    out = _out(
        "t", how="refreshed", opaque_access_token="the access token is opaque (not a JWT)",
        no_exchange_reason=f"the gateway {GATEWAY} has no token endpoint (HTTP 404 at /oauth/token)",
        faas_cli_unchanged=True,
    )  # fmt: skip
    render_login(out, deps, print_token=False, pretty=False)
    assert stderr_of(deps).splitlines() == [
        "note: the access token is opaque (not a JWT); it is kept as an opaque token and the ID token is used instead",
        f"the gateway {GATEWAY} has no token endpoint (HTTP 404 at /oauth/token): no token exchange was done;"
        " the identity provider's token is saved instead",
        "note: no OpenFaaS token, so faas-cli's config was not changed",
        "Renewed the login with the saved refresh token (no browser needed).",
        f"Logged in as alice ({ISSUER}); identity provider token saved for {GATEWAY} [memory (this process only)].",
    ]
