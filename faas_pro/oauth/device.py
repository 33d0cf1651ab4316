"""The device authorization grant (RFC 8628): log in on another device, for SSH sessions,
containers and anything else without a local browser.

The CLI asks the IdP for a device code, shows the verification URL and user code (through the
caller's ``on_prompt``), then polls the token endpoint: at the server's ``interval`` (5 s when it
gives none), 5 s slower after each ``slow_down`` (§3.5), until the user approves, denies
(``access_denied``), the code expires (``expired_token`` or its ``expires_in``) or our own
``timeout`` runs out. Time comes from the injected ``clock``/``sleep``; Ctrl-C (KeyboardInterrupt)
is never caught here, so the caller can exit 130 with the saved credentials untouched.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from faas_pro.errors import FaasProError, Unreachable
from faas_pro.oauth.duration import format_duration
from faas_pro.oauth.fetch import request_json
from faas_pro.oauth.token_endpoint import (
    TokenEndpointError,
    audience_fields,
    client_auth,
    endpoint,
    oauth_error,
    post_token,
)

if TYPE_CHECKING:  # pragma: no cover
    import httpx

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:device_code"
DEFAULT_INTERVAL = 5  # RFC 8628 §3.2
SLOW_DOWN_STEP = 5  # RFC 8628 §3.5
MAX_INTERVAL = 300
DEFAULT_EXPIRES_IN = 1800
_USER_CODE = re.compile(r"[\x21-\x7e]{1,64}")  # printable ASCII without spaces


@dataclass(frozen=True)
class DevicePrompt:
    """What the user must see: only http(s) URLs ever get here (docs/security.md rule 9)."""

    verification_uri: str
    user_code: str
    verification_uri_complete: str | None
    expires_in: int
    interval: int

    @property
    def url_to_open(self) -> str:
        """The URL to open in a browser: the complete one (code filled in) when the IdP gave it."""
        return self.verification_uri_complete or self.verification_uri

    def lines(self) -> list[str]:
        """The text to print on stderr, one line each."""
        out = [f"To sign in, open {self.verification_uri} and enter the code {self.user_code}"]
        if self.verification_uri_complete:
            out.append(f"or open {self.verification_uri_complete}")
        out.append(f"(the code expires in {format_duration(self.expires_in)}; waiting for approval…)")
        return out


def _http_url(value: object, *, https_only: bool = False) -> str | None:
    """``value`` when it is an http(s) URL fit to show and open (https only for an https IdP)."""
    if not isinstance(value, str) or len(value) > 2048:
        return None
    p = urlsplit(value)
    allowed = ("https",) if https_only else ("http", "https")
    if p.scheme not in allowed or not p.hostname or _has_control(value):
        return None
    return value


def _has_control(text: str) -> bool:
    return any(ord(c) < 0x21 or ord(c) == 0x7F for c in text)


def _positive_int(value: object, default: int, cap: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return default
    return max(1, min(int(value), cap))


def parse_prompt(body: object, url: str) -> tuple[DevicePrompt, str]:
    """The prompt and the device code from a device authorization response."""
    what = f"the device authorization response from {url}"
    if not isinstance(body, dict):
        raise FaasProError(f"{what} is not a JSON object")
    device_code = body.get("device_code")
    if not isinstance(device_code, str) or not device_code:
        raise FaasProError(f"{what} has no device_code")
    user_code = body.get("user_code")
    if not isinstance(user_code, str) or not _USER_CODE.fullmatch(user_code):
        raise FaasProError(f"{what} has no usable user_code")
    raw_uri = body.get("verification_uri", body.get("verification_url"))  # Google says _url
    # an https IdP never sends the user to a plain-http page (docs/security.md rule 9: no downgrade)
    https_only = url.lower().startswith("https://")
    uri = _http_url(raw_uri, https_only=https_only)
    if uri is None:
        kind = "an https" if https_only else "an http(s)"
        raise FaasProError(
            f"{what} has a verification_uri that is not {kind} URL"
            if raw_uri is not None
            else f"{what} has no verification_uri",
            "refusing to show or open it",
        )
    prompt = DevicePrompt(
        verification_uri=uri,
        user_code=user_code,
        verification_uri_complete=_http_url(body.get("verification_uri_complete"), https_only=https_only),
        expires_in=_positive_int(body.get("expires_in"), DEFAULT_EXPIRES_IN, 24 * 3600),
        interval=_positive_int(body.get("interval"), DEFAULT_INTERVAL, MAX_INTERVAL),
    )
    return prompt, device_code


def device_login(
    http: httpx.Client,
    meta: Mapping[str, Any],
    client_id: str,
    scopes: Sequence[str],
    *,
    audience: str | None = None,
    client_secret: str | None = None,
    timeout: float,
    on_prompt: Callable[[DevicePrompt], None],
    clock: Callable[[], float],
    sleep: Callable[[float], None],
) -> dict[str, Any]:
    """Run the device flow and return the IdP's token response."""
    if meta.get("device_authorization_endpoint") is None:
        raise FaasProError(
            "the identity provider does not offer the device flow (no device_authorization_endpoint)",
            "use --grant code, or --no-browser to paste the redirect URL back",
        )
    device_ep = endpoint(meta, "device_authorization_endpoint")
    token_ep = endpoint(meta, "token_endpoint")
    fields, auth = client_auth(meta, client_id, client_secret)
    secrets = [client_secret]
    data = {**fields, **audience_fields(audience)}
    if scopes:
        data["scope"] = " ".join(scopes)
    what = "the identity provider's device authorization endpoint"
    r = request_json(http, "POST", device_ep, what=what, data=data, auth=auth)
    if r.status != 200:
        raise oauth_error(r.status, r.body, what=what, url=device_ep, secrets=secrets)
    prompt, device_code = parse_prompt(r.body, device_ep)
    start = clock()
    on_prompt(prompt)

    poll = {**fields, "grant_type": GRANT_TYPE, "device_code": device_code}
    expires_at = start + prompt.expires_in
    gives_up_at = start + timeout
    interval = float(prompt.interval)
    unreachable: Unreachable | None = None  # the last poll could not reach the IdP
    while True:
        now = clock()
        if now >= expires_at:
            raise _expired()
        if now >= gives_up_at:
            if unreachable is not None:
                raise unreachable
            raise FaasProError(
                f"timed out after {format_duration(timeout)} waiting for the device login to be approved",
                "approve it sooner or raise --timeout",
            )
        sleep(min(interval, min(expires_at, gives_up_at) - now))
        try:
            return post_token(
                http, token_ep, poll, auth, what="the identity provider's token endpoint", secrets=secrets
            )
        except Unreachable as e:  # RFC 8628 §3.5: back off on network trouble and keep trying
            unreachable = e
            interval = min(interval * 2, MAX_INTERVAL)
            continue
        except TokenEndpointError as e:
            unreachable = None
            if e.error == "authorization_pending":
                continue
            if e.error == "slow_down":
                interval = min(interval + SLOW_DOWN_STEP, MAX_INTERVAL)
                continue
            if e.error == "access_denied":
                raise TokenEndpointError(
                    "the device login was denied at the identity provider (access_denied"
                    + (f": {e.description})" if e.description else ")"),
                    error=e.error,
                    description=e.description,
                ) from None
            if e.error == "expired_token":
                raise _expired() from None
            raise


def _expired() -> FaasProError:
    return FaasProError("the device code expired before the login was approved", "run faas-pro auth again")
