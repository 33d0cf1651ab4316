"""Web identity federation: tokens a caller already has (``--token``, ``--token-file``,
``--token-env``) and the OIDC tokens CI platforms mint for their jobs (``--ci github|gitlab``).

Everything that can be checked locally is checked before any network call: the token is present,
is a JWT and has not expired (``exp`` − 10 s, as everywhere in the CLI). The GitHub Actions request
token is a bearer secret: it is sent only to the URL GitHub gave (https, or http on loopback), never
after a redirect, and never shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote, urlsplit

from faas_pro.errors import FaasProError, UsageError
from faas_pro.oauth.client_credentials import read_small_file
from faas_pro.oauth.discovery import is_loopback_host
from faas_pro.oauth.duration import format_duration
from faas_pro.oauth.fetch import one_line, request_json
from faas_pro.oauth.token_endpoint import redact
from faas_pro.tokens import TokenError, decode_unverified, is_expired

if TYPE_CHECKING:  # pragma: no cover
    import httpx

GITHUB_URL_VAR = "ACTIONS_ID_TOKEN_REQUEST_URL"
GITHUB_TOKEN_VAR = "ACTIONS_ID_TOKEN_REQUEST_TOKEN"
GITLAB_DEFAULT_VAR = "FAAS_PRO_ID_TOKEN"
MAX_ANSWER_BYTES = 64 * 1024
_GITHUB_HINT = "the job needs `permissions: id-token: write`"


def detect_ci(env: Mapping[str, str]) -> Literal["github", "gitlab"] | None:
    """The CI platform this runs in, from the variables the platforms set themselves."""
    if env.get("GITHUB_ACTIONS") == "true":
        return "github"
    if env.get("GITLAB_CI") == "true":
        return "gitlab"
    return None


def check_jwt(token: str, source: str, now: float | None = None) -> dict[str, Any]:
    """The UNVERIFIED payload of ``token``; errors say where it came from (never the token)."""
    try:
        _, payload = decode_unverified(token)
    except TokenError as e:
        raise FaasProError(f"the token {source} is not a JWT ({e.reason})") from None
    if now is not None and is_expired(payload, now):
        exp = payload["exp"]
        when = datetime.fromtimestamp(exp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        ago = f" ({format_duration(now - exp)} ago)" if now > exp else ""
        raise FaasProError(f"the token {source} expired at {when}{ago}", "get a fresh token")
    return payload


def read_subject_token(
    *,
    token: str | None,
    token_file: str | None,
    token_env: str | None,
    env: Mapping[str, str],
    now: float,
) -> str:
    """The token to exchange, from exactly one of ``--token``, ``--token-file``, ``--token-env``.

    Empty, not a JWT, or expired: an error before any network call.
    """
    sources = (("--token", token), ("--token-file", token_file), ("--token-env", token_env))
    given = [name for name, v in sources if v is not None]
    if len(given) > 1:
        raise UsageError(f"give only one of {', '.join(given)}")
    if token is not None:
        if not token.strip():
            raise UsageError("--token is empty")
        value, source = token.strip(), "given with --token"
    elif token_file is not None:
        if not token_file:
            raise UsageError("--token-file needs a file name")
        value = read_small_file(token_file, what="token file", flag="--token-file")
        source = f"in {token_file}"
    elif token_env is not None:
        if not token_env:
            raise UsageError("--token-env needs a variable name")
        value, source = env_token(env, token_env), f"in ${token_env}"
    else:
        raise UsageError("no token to exchange", "give --token-file FILE, --token-env VAR or --token JWT")
    check_jwt(value, source, now)
    return value


def env_token(env: Mapping[str, str], var: str, hint: str | None = None) -> str:
    value = env.get(var, "").strip()
    if not value:
        raise FaasProError(f"the variable {var} is not set or is empty", hint)
    return value


def gitlab_token(env: Mapping[str, str], var: str = GITLAB_DEFAULT_VAR, *, now: float | None = None) -> str:
    """The job's ID token from the variable GitLab's ``id_tokens`` filled (checked as a JWT; and
    for expiry when ``now`` is given)."""
    hint = f"declare it under `id_tokens:` in .gitlab-ci.yml with `aud:` set to the gateway URL ({var})"
    value = env_token(env, var, hint)
    check_jwt(value, f"in ${var}", now)
    return value


def github_actions_token(http: httpx.Client, env: Mapping[str, str], audience: str) -> str:
    """Ask the GitHub Actions token service for the job's OIDC token with ``aud`` = ``audience``."""
    base = env_token(env, GITHUB_URL_VAR, _GITHUB_HINT)
    request_token = env_token(env, GITHUB_TOKEN_VAR, _GITHUB_HINT)
    p = urlsplit(base)
    if p.scheme not in ("http", "https") or not p.hostname:
        raise FaasProError(f"{GITHUB_URL_VAR} is not an http(s) URL: {one_line(base)}")
    if p.scheme != "https" and not is_loopback_host(p.hostname):
        raise FaasProError(f"{GITHUB_URL_VAR} must be an https URL: {one_line(base)}; refusing to send the token")
    if p.fragment:
        raise FaasProError(f"{GITHUB_URL_VAR} must not have a fragment: {one_line(base)}")
    sep = "" if base.endswith(("?", "&")) else ("&" if p.query else "?")
    url = f"{base}{sep}audience={quote(audience, safe='')}"
    where = f"the GitHub Actions token service at {one_line(base)} ({GITHUB_URL_VAR})"
    r = request_json(
        http,
        "GET",
        url,
        what=f"the GitHub Actions token service ({GITHUB_URL_VAR})",
        headers={"Authorization": f"Bearer {request_token}"},
        cap=MAX_ANSWER_BYTES,
    )
    status, body = r.status, r.body
    if status != 200:
        detail = ""
        if isinstance(body, dict):
            msg = body.get("message") or body.get("error_description") or body.get("error")
            detail = f": {one_line(redact(msg, [request_token]))}" if isinstance(msg, str) and msg else ""
        raise FaasProError(f"{where} answered HTTP {status}{detail}", _GITHUB_HINT if status in (401, 403) else None)
    value = body.get("value") if isinstance(body, dict) else None
    if not isinstance(value, str) or not value:
        raise FaasProError(f"{where} answered without a token (no JSON 'value')")
    check_jwt(value, f"from {where}")
    return value
