"""Web identity federation: exchange a token the caller already has (``--token``, ``--token-file``,
``--token-env``) or the CI job's own OIDC token (``--ci github|gitlab|auto``). No IdP login happens:
the gateway verifies the token; this path only checks locally what it can (a JWT, not expired) and
verifies the OpenFaaS token it gets back, then saves it under the per-gateway lock."""

from __future__ import annotations

from typing import TYPE_CHECKING

from faas_pro.errors import UsageError
from faas_pro.usecases.login.context import http_client, locked
from faas_pro.usecases.login.finish import exchange, save
from faas_pro.usecases.login.output import LoginOutput, claim_str
from faas_pro.usecases.login.plan import parse_timeout
from faas_pro.usecases.plugin import faas_cli_config_default

if TYPE_CHECKING:  # pragma: no cover
    from faas_pro.deps import Deps
    from faas_pro.oauth.progress import Progress
    from faas_pro.usecases.login.plan import LoginInput

CI_CHOICES = ("github", "gitlab", "auto")


def federated(inp: LoginInput, deps: Deps, progress: Progress) -> LoginOutput:
    """Exchange a token the caller already has (--token/--token-file/--token-env) or the CI job's (--ci)."""
    from faas_pro import tokens
    from faas_pro.oauth.federation import (
        GITLAB_DEFAULT_VAR,
        detect_ci,
        github_actions_token,
        gitlab_token,
        read_subject_token,
    )
    from faas_pro.storage.entry import TokenEntry

    gateway = deps.gateway(inp.gateway)
    flags = (("--authority", inp.authority), ("--client-id", inp.client_id), ("--grant", inp.grant))
    given = [name for name, value in flags if value is not None]
    if given:
        raise UsageError(f"{', '.join(given)} cannot be combined with --token, --token-file, --token-env or --ci")
    if inp.no_exchange:
        raise UsageError("--no-exchange: with --token, --token-file, --token-env or --ci there is only the exchange")
    timeout = parse_timeout(inp.timeout)
    now = deps.clock()
    ci = inp.ci
    if ci is not None and ci not in CI_CHOICES:
        raise UsageError(f"--ci must be one of {', '.join(CI_CHOICES)}: {ci!r}")
    if ci == "auto":
        ci = detect_ci(deps.env)
        if ci is None:
            raise UsageError(
                "--ci auto: this is neither GitHub Actions (GITHUB_ACTIONS=true) nor GitLab CI (GITLAB_CI=true)"
            )
    http = http_client(inp, deps)
    if ci == "github":
        if any(v is not None for v in (inp.token, inp.token_file, inp.token_env)):
            raise UsageError("--ci github fetches the job's token itself: drop --token, --token-file and --token-env")
        with progress.slow("Asking GitHub Actions for the job's OIDC token…"):
            subject = github_actions_token(http, deps.env, inp.audience or gateway)
    elif ci == "gitlab":
        if inp.token is not None or inp.token_file is not None:
            raise UsageError("--ci gitlab reads the variable named by --token-env: drop --token and --token-file")
        subject = gitlab_token(deps.env, inp.token_env or GITLAB_DEFAULT_VAR, now=now)
    else:
        if inp.token is not None:
            deps.warn(
                "warning: --token on the command line is visible to other users of this machine;"
                " prefer --token-file or --token-env"
            )
        subject = read_subject_token(
            token=inp.token,
            token_file=str(inp.token_file) if inp.token_file is not None else None,
            token_env=inp.token_env,
            env=deps.env,
            now=now,
        )
    from faas_pro.guards import insecure_allowed, require_jwt_shape, require_secure_transport

    subject = require_jwt_shape(subject, "to exchange")
    allowed = insecure_allowed(inp.insecure_http, deps.env)
    require_secure_transport(gateway, "the token to exchange", allowed=allowed, warn=deps.warn)
    _, upstream = tokens.decode_unverified(subject)  # UNVERIFIED, for the message only: the gateway verifies
    out = LoginOutput(
        gateway=gateway,
        issuer=claim_str(upstream, "iss"),
        subject=claim_str(upstream, "sub"),
        display_name="",
        grant=ci or "token",
    )
    with locked(deps, gateway, timeout, progress):  # Ctrl-C: login() turns it into Interrupted
        printed = exchange(deps, http, progress, gateway, subject, out)
        entry = TokenEntry(openfaas_token=printed)
        faas_cli = faas_cli_config_default(inp.faas_cli_config, deps.env)
        return save(deps, inp, out, entry, printed, None, faas_cli)
