"""The client credentials grant (RFC 6749 §4.4) for machine identities, and where its secret
comes from (``--client-secret``, ``--client-secret-file``, ``FAAS_PRO_CLIENT_SECRET``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from faas_pro.errors import FaasProError, UsageError
from faas_pro.oauth.fetch import one_line
from faas_pro.oauth.token_endpoint import TokenEndpointError, audience_fields, client_auth, endpoint, post_token

if TYPE_CHECKING:  # pragma: no cover
    import httpx

SECRET_ENV = "FAAS_PRO_CLIENT_SECRET"
MAX_SECRET_FILE_BYTES = 64 * 1024


def client_credentials(
    http: httpx.Client,
    meta: Mapping[str, Any],
    client_id: str,
    client_secret: str,
    scopes: Sequence[str],
    *,
    audience: str | None = None,
) -> dict[str, Any]:
    """The token response of a client credentials grant for ``client_id``."""
    if not client_secret:
        raise UsageError(
            "--grant client_credentials needs a client secret",
            f"use --client-secret-file FILE or set {SECRET_ENV}",
        )
    url = endpoint(meta, "token_endpoint")
    fields, auth = client_auth(meta, client_id, client_secret)
    data = {"grant_type": "client_credentials", **fields, **audience_fields(audience)}
    if scopes:
        data["scope"] = " ".join(scopes)
    try:
        return post_token(http, url, data, auth, what="the identity provider's token endpoint", secrets=[client_secret])
    except TokenEndpointError as e:
        if e.error == "invalid_client":
            raise TokenEndpointError(
                f"the identity provider did not accept the credentials of client {one_line(client_id, 80)!r}"
                + (f" (invalid_client: {e.description})" if e.description else " (invalid_client)"),
                f"check the client id and the secret in --client-secret-file or {SECRET_ENV}",
                error=e.error,
                description=e.description,
            ) from None
        raise


def read_client_secret(secret: str | None, secret_file: str | None, env: Mapping[str, str]) -> str | None:
    """The client secret from ``--client-secret``, ``--client-secret-file`` or ``FAAS_PRO_CLIENT_SECRET``.

    The file is read as UTF-8 and surrounding whitespace (the trailing newline) is dropped; an
    empty file is an error naming it. None when no source is given.
    """
    if secret is not None and secret_file is not None:
        raise UsageError("give either --client-secret or --client-secret-file, not both")
    if secret is not None:
        if not secret:
            raise UsageError("--client-secret is empty")
        return secret
    if secret_file is not None:
        return read_small_file(secret_file, what="client secret file", flag="--client-secret-file")
    return env.get(SECRET_ENV) or None


def read_small_file(path: str, *, what: str, flag: str, cap: int = MAX_SECRET_FILE_BYTES) -> str:
    """The stripped UTF-8 text of a small file holding a secret or a token; errors name the file."""
    p = Path(path)
    try:
        with p.open("rb") as f:
            raw = f.read(cap + 1)
    except FileNotFoundError:
        raise UsageError(f"{flag}: the {what} {path} does not exist") from None
    except IsADirectoryError:
        raise UsageError(f"{flag}: {path} is a directory, not a {what}") from None
    except OSError as e:
        raise FaasProError(f"cannot read the {what} {path}: {e.strerror or type(e).__name__}") from None
    if len(raw) > cap:
        raise FaasProError(f"the {what} {path} is larger than {cap // 1024} KiB; refusing to read it")
    try:
        text = raw.decode("utf-8-sig").strip()
    except UnicodeDecodeError:
        raise FaasProError(f"the {what} {path} is not UTF-8 text") from None
    if not text:
        raise FaasProError(f"the {what} {path} is empty")
    return text
