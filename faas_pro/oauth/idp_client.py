"""One identity provider as one login sees it: discovery, keys, and every call that yields tokens.

Each method that talks to a token source (the token endpoint for a code, a refresh token, a device
code or client credentials; the loopback redirect for the implicit grants) returns ``IdpTokens``
that have been through ``_verified``, the one place that checks them (``flows.check_tokens``: the
ID token's signature against the issuer's JWKS, ``iss``, ``aud`` = client id, ``exp``, ``nonce``;
a JWT access token as far as it can be checked). Nothing unverified leaves this class, so a grant
runner cannot forget the check.

Discovery and the key set are fetched once, lazily, with a spinner on a terminal when slow.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import httpx

    from faas_pro.oauth.device import DevicePrompt
    from faas_pro.oauth.discovery import Discovery
    from faas_pro.oauth.flows import IdpTokens
    from faas_pro.oauth.pkce import AuthRequestSecrets
    from faas_pro.oauth.progress import Progress


class IdpClient:
    def __init__(
        self,
        http: httpx.Client,
        authority: str,
        client_id: str,
        *,
        client_secret: str | None,
        clock: Callable[[], float],
        progress: Progress,
    ) -> None:
        self.http, self.authority, self.client_id = http, authority, client_id
        self._secret = client_secret
        self.clock = clock
        self.progress = progress
        self._disc: Discovery | None = None
        self._jwks: dict[str, Any] | None = None

    # ------------------------------------------------------------------ documents

    def discovery(self) -> Discovery:
        """The checked discovery document (issuer byte-for-byte = ``authority``)."""
        if self._disc is None:
            from faas_pro.oauth.discovery import fetch_discovery

            with self.progress.slow(f"Fetching the discovery document of {self.authority}…"):
                self._disc = fetch_discovery(self.http, self.authority)
        return self._disc

    @property
    def issuer(self) -> str:
        return self.discovery().issuer

    def offers_scope(self, scope: str) -> bool:
        listed = self.discovery().raw.get("scopes_supported")
        return isinstance(listed, list) and scope in listed

    def _keys(self) -> dict[str, Any]:
        if self._jwks is None:
            from faas_pro.oauth.discovery import fetch_jwks

            disc = self.discovery()
            with self.progress.slow(f"Fetching the keys of {disc.issuer}…"):
                self._jwks = fetch_jwks(self.http, disc)
        return self._jwks

    def _verified(self, raw: Mapping[str, Any], *, nonce: str | None, id_token_required: bool = True) -> IdpTokens:
        """The one token check of every grant (see the module docstring)."""
        from faas_pro.oauth.flows import check_tokens

        disc = self.discovery()
        return check_tokens(
            disc, self._keys(), dict(raw), client_id=self.client_id, nonce=nonce, now=self.clock(),
            id_token_required=id_token_required,
        )  # fmt: skip

    # ------------------------------------------------------------------ grants

    def authorize_url(
        self,
        *,
        redirect_uri: str,
        grant: str,
        scopes: tuple[str, ...],
        audience: str | None,
        secrets: AuthRequestSecrets,
        response_mode: str | None,
        par: str = "auto",
    ) -> str:
        """The login page to open. With a pushed authorization request (RFC 9126: ``par`` is
        ``always``, or ``auto`` and discovery lists the endpoint) the request's parameters go to the
        IdP in a POST first and the URL carries only ``client_id`` and ``request_uri``."""
        from faas_pro.oauth.flows import authorize_url, push_authorization_request

        url, _mode = authorize_url(
            self.discovery(),
            client_id=self.client_id,
            redirect_uri=redirect_uri,
            grant=grant,
            scopes=scopes,
            audience=audience,
            secrets=secrets,
            response_mode=response_mode,
        )
        disc = self.discovery()
        listed = bool(disc.raw.get("pushed_authorization_request_endpoint"))
        if par == "always" and not listed:
            from faas_pro.errors import UsageError

            raise UsageError(
                f"--par always: the discovery document of {disc.issuer} lists no pushed_authorization_request_endpoint",
                "use --par auto or --par never with this identity provider",
            )
        if par == "never" or not listed:
            return url
        with self.progress.slow(f"Pushing the authorization request to {disc.issuer}…"):
            return push_authorization_request(self.http, disc, url, self.client_id, self._secret)

    def redeem_code(self, code: str, *, redirect_uri: str, secrets: AuthRequestSecrets) -> IdpTokens:
        """Authorization code + PKCE verifier → verified tokens (the ID token's nonce must match)."""
        from faas_pro.oauth.flows import redeem_code

        raw = redeem_code(
            self.http,
            self.discovery(),
            code=code,
            redirect_uri=redirect_uri,
            client_id=self.client_id,
            client_secret=self._secret,
            code_verifier=secrets.code_verifier,
        )
        return self._verified(raw, nonce=secrets.nonce)

    def implicit_tokens(self, params: Mapping[str, str], *, nonce: str, bind_access_token: bool) -> IdpTokens:
        """The tokens the browser brought back (implicit grants), verified; ``bind_access_token``:
        the ``id_token token`` response must carry ``at_hash`` for its access token."""
        from faas_pro.oauth.flows import require_at_hash

        tok = self._verified(params, nonce=nonce)
        if bind_access_token:
            require_at_hash(tok)
        return tok

    def refresh(self, refresh_token: str) -> IdpTokens:
        """Renew with a refresh token (``RefreshRejected`` when the IdP refuses it)."""
        from faas_pro.oauth.refresh import refresh_tokens

        disc = self.discovery()
        with self.progress.slow(f"Renewing the login at {disc.issuer}…"):
            raw = refresh_tokens(self.http, disc.raw, self.client_id, refresh_token, client_secret=self._secret)
        return self._verified(raw, nonce=None, id_token_required=False)

    def device(
        self,
        scopes: Sequence[str],
        *,
        audience: str | None,
        timeout: float,
        on_prompt: Callable[[DevicePrompt], None],
        sleep: Callable[[float], None],
    ) -> IdpTokens:
        """The device authorization grant (RFC 8628), polled until approved, denied or timed out."""
        from faas_pro.oauth.device import device_login

        raw = device_login(
            self.http,
            self.discovery().raw,
            self.client_id,
            scopes,
            audience=audience,
            client_secret=self._secret,
            timeout=timeout,
            on_prompt=on_prompt,
            clock=self.clock,
            sleep=sleep,
        )
        return self._verified(raw, nonce=None)

    def client_credentials(self, scopes: Sequence[str], *, audience: str | None) -> IdpTokens:
        """A machine identity's tokens (no ID token needed: the access token's claims count)."""
        from faas_pro.oauth.client_credentials import client_credentials

        assert self._secret is not None  # the plan refuses client_credentials without one
        raw = client_credentials(
            self.http, self.discovery().raw, self.client_id, self._secret, scopes, audience=audience
        )
        return self._verified(raw, nonce=None, id_token_required=False)
