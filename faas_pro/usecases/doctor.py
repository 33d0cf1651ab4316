"""`faas-pro auth doctor`: check a login set-up piece by piece, without logging in.

For the saved settings of the gateway (overridden by flags) it runs the checks below in order and
returns one ``CheckResult`` each; nothing is saved or changed, locally or on the servers:

- settings, CA files and proxies in effect (no network);
- the IdP's discovery document (reachable, ``issuer`` byte-for-byte equal to the authority), its keys,
  PKCE S256, the device / PAR / revocation endpoints (informative when absent);
- the client id and the redirect URI, with a pushed authorization request (RFC 9126) when the IdP
  offers one: it answers ``invalid_client`` or rejects the redirect URI, and creates no login;
- the callback port: bound on loopback and closed again;
- clock skew against the IdP's and the gateway's HTTP ``Date`` (warning past 30 s, failure past 60 s);
- the gateway's discovery document and keys; whether it trusts the IdP (a token exchange with an
  unsigned probe token: a faas-pro gateway names an untrusted issuer before it looks at a signature);
- the saved IdP token (decoded UNVERIFIED: identity, issuer, audience, expiry) and an exchange with
  it whose result is thrown away (does a Role match, which policies); the saved OpenFaaS token, tried
  on ``GET /system/namespaces``.

Checks that cannot run say why (``skip``). The clock is ``deps.clock``.
"""

from __future__ import annotations

import base64
import json
import socket
import ssl
import sys
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from faas_pro.errors import EXIT_ERROR, EXIT_OK, FaasProError

if TYPE_CHECKING:  # pragma: no cover
    import httpx

    from faas_pro.deps import Deps

Status = Literal["ok", "info", "warn", "fail", "skip"]
JSON_VERSION = 1
SKEW_WARN = 30.0
SKEW_FAIL = 60.0
SKEW_NOISE = 3.0
INSECURE_HTTP_ENV = "FAAS_PRO_INSECURE_HTTP"
PROBE_SUBJECT = "faas-pro-auth-doctor-probe"
_CAP = 256 * 1024


@dataclass(frozen=True)
class CheckResult:
    """One line of the report. ``ok`` is False only for ``fail``; ``fix`` is one line (or empty)."""

    name: str
    status: Status
    detail: str
    fix: str = ""

    @property
    def ok(self) -> bool:
        return self.status != "fail"

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}


@dataclass
class DoctorInput:
    gateway: str | None = None
    authority: str | None = None
    client_id: str | None = None
    port: int | None = None
    redirect_host: str | None = None
    ca_file: Path | None = None


@dataclass
class DoctorReport:
    gateway: str
    checks: list[CheckResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def exit_code(self) -> int:
        return EXIT_OK if self.ok else EXIT_ERROR

    def to_json(self) -> dict[str, Any]:
        return {
            "version": JSON_VERSION,
            "gateway": self.gateway,
            "ok": self.ok,
            "checks": [c.to_json() for c in self.checks],
        }


@dataclass
class _Fetched:
    status: int
    body: Any
    date: float | None


class _NetError(Exception):
    def __init__(self, detail: str, fix: str) -> None:
        super().__init__(detail)
        self.detail, self.fix = detail, fix


def _one_line(text: object, limit: int = 200) -> str:
    from faas_pro.oauth.fetch import one_line

    return one_line(text, limit)


def _tls_failure(e: BaseException) -> bool:
    seen: BaseException | None = e
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _fetch(
    client: httpx.Client,
    method: str,
    url: str,
    what: str,
    *,
    data: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> _Fetched:
    """One request, no redirects, a size-capped JSON body (None when not JSON) and the ``Date`` header."""
    import httpx

    try:
        with client.stream(
            method,
            url,
            data=dict(data) if data is not None else None,
            headers={"Accept": "application/json", **(headers or {})},
            follow_redirects=False,
        ) as r:
            raw = bytearray()
            for chunk in r.iter_bytes():
                raw += chunk
                if len(raw) > _CAP:
                    raise _NetError(f"{what} at {url} is larger than {_CAP // 1024} KiB", "")
            status, date_header = r.status_code, r.headers.get("date")
    except httpx.TimeoutException:
        raise _NetError(f"timed out talking to {what} at {url}", "check the URL, a firewall or the proxy") from None
    except httpx.TransportError as e:
        if _tls_failure(e):
            raise _NetError(
                f"the TLS certificate of {url} is not trusted",
                "pass --ca-file FILE with the CA that signed it (or set SSL_CERT_FILE)",
            ) from None
        raise _NetError(
            f"cannot reach {what} at {url}: {_one_line(e) or type(e).__name__}", "check the URL and that it is running"
        ) from None
    except httpx.DecodingError:
        raise _NetError(f"{what} at {url} sent a body that cannot be decoded", "") from None
    try:
        body: Any = json.loads(bytes(raw).decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        body = None
    date: float | None = None
    if date_header:
        try:
            date = parsedate_to_datetime(date_header).timestamp()
        except (TypeError, ValueError):
            date = None
    return _Fetched(status, body, date)


# --------------------------------------------------------------------------- no network


def _ca_files(inp: DoctorInput, env: Mapping[str, str]) -> list[tuple[str, str]]:
    """(setting, path) of every CA file that is in effect or named in the environment."""
    out: list[tuple[str, str]] = []
    if inp.ca_file is not None:
        out.append(("--ca-file", str(inp.ca_file)))
    for var in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"):
        if env.get(var):
            out.append((var, env[var]))
    return out


def check_ca(inp: DoctorInput, env: Mapping[str, str]) -> CheckResult:
    files = _ca_files(inp, env)
    if not files:
        return CheckResult("CA", "info", "the system's trusted CAs (no --ca-file, SSL_CERT_FILE or REQUESTS_CA_BUNDLE)")
    for setting, path in files:
        try:
            ssl.create_default_context(cafile=path)
        except (OSError, ssl.SSLError, ValueError):
            return CheckResult(
                "CA",
                "fail",
                f"{setting} {path} cannot be read as PEM certificates",
                f"point {setting} at a PEM file holding the CA certificate(s)",
            )
    used = files[0]
    others = "; also set: " + ", ".join(f"{s}={p}" for s, p in files[1:]) if len(files) > 1 else ""
    return CheckResult("CA", "ok", f"{used[0]} {used[1]} (parses){others}")


def _proxy_for(url: str, env: Mapping[str, str]) -> str | None:
    """The proxy a request to ``url`` goes through, or None: the same rule every CLI client uses
    (faas_pro/http_client.py: loopback and NO_PROXY hosts go direct)."""
    from faas_pro.http_client import ProxySettings

    p = urlsplit(url)
    chosen = ProxySettings.from_env(env).for_url(p.scheme, (p.hostname or "").lower())
    return chosen[0] if chosen else None


def _redact_proxy(url: str) -> str:
    p = urlsplit(url)
    if p.username or p.password:
        return url.replace(f"{p.netloc.rsplit('@', 1)[0]}@", "***@")
    return url


def check_proxy(urls: Mapping[str, str], env: Mapping[str, str]) -> CheckResult:
    parts = []
    for what, url in urls.items():
        proxy = _proxy_for(url, env)
        if proxy is not None and urlsplit(proxy).scheme not in ("http", "https", "socks5", "socks5h"):
            return CheckResult(
                "proxy",
                "fail",
                f"the proxy for {what} ({_redact_proxy(proxy)}) is not an http(s):// URL",
                "set HTTPS_PROXY/HTTP_PROXY to http://HOST:PORT",
            )
        if proxy is not None:
            parts.append(f"{what} via {_redact_proxy(proxy)}")
        else:
            host = urlsplit(url).hostname or ""
            from faas_pro.oauth.discovery import is_loopback_host

            parts.append(f"{what} direct{' (loopback)' if is_loopback_host(host) else ''}")
    set_vars = [v for v in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY") if env.get(v) or env.get(v.lower())]
    where = f" [{', '.join(set_vars)} set]" if set_vars else " [no proxy variables set]"
    return CheckResult("proxy", "info", "; ".join(parts) + where)


def check_port(redirect_bind: str, family: int, port: int) -> tuple[CheckResult, int | None]:
    """Bind the callback address and port the way the login does, then close it."""
    from faas_pro.oauth.loopback import socket_options

    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        for name in socket_options(sys.platform):
            option = getattr(socket, name, None)
            if option is not None:
                sock.setsockopt(socket.SOL_SOCKET, option, 1)
        try:
            sock.bind((redirect_bind, port))
            sock.listen(1)
        except OSError as e:
            return (
                CheckResult(
                    "callback port",
                    "fail",
                    f"cannot listen on {redirect_bind}:{port}: {e.strerror or e}",
                    "stop what holds the port, or pass --port N (0 = any free port, if the IdP allows it)",
                ),
                None,
            )
        bound = int(sock.getsockname()[1])
    finally:
        sock.close()
    shown = f"{port}" if port else f"0 (any free port; e.g. {bound})"
    return CheckResult("callback port", "ok", f"{redirect_bind} port {shown} is free and bindable"), bound


def check_skew(name: str, what: str, date: float | None, now: float, source: str = "Date header") -> CheckResult:
    """Compare a remote clock reading (whole seconds) with ``now``: warn past 30 s, fail past 60 s."""
    if date is None:
        return CheckResult(name, "skip", f"{what} sent no usable {source}; cannot compare clocks")
    skew = date - now
    if abs(skew) < SKEW_NOISE:  # whole-second readings taken a request apart: no measurable skew
        agrees = f"{what}'s clock agrees with this machine's ({source}, within {SKEW_NOISE:.0f} s)"
        return CheckResult(name, "ok", agrees)
    text = f"{what}'s clock is {abs(skew):.0f} s {'ahead of' if skew > 0 else 'behind'} this machine's ({source}"
    text += ")" if abs(skew) > SKEW_WARN else f", within {SKEW_WARN:.0f} s)"
    if abs(skew) > SKEW_FAIL:
        return CheckResult(name, "fail", text, "sync the clocks (NTP): tokens are refused as expired or not yet valid")
    if abs(skew) > SKEW_WARN:
        return CheckResult(name, "warn", text, "sync the clocks (NTP) before it grows past 60 s")
    return CheckResult(name, "ok", text)


# --------------------------------------------------------------------------- the identity provider


def check_discovery(client: httpx.Client, authority: str) -> tuple[CheckResult, dict[str, Any] | None, float | None]:
    from faas_pro.oauth.discovery import check_authority, discovery_url

    name = "IdP discovery"
    try:
        check_authority(authority)
    except FaasProError as e:
        return CheckResult(name, "fail", e.message, "pass --authority with the IdP's issuer URL"), None, None
    url = discovery_url(authority)
    try:
        r = _fetch(client, "GET", url, "the identity provider's discovery document")
    except _NetError as e:
        return CheckResult(name, "fail", e.detail, e.fix), None, None
    if r.status != 200 or not isinstance(r.body, dict):
        return (
            CheckResult(name, "fail", f"{url} answered HTTP {r.status} without a JSON object", "check --authority"),
            None,
            r.date,
        )
    issuer = r.body.get("issuer")
    if issuer != authority:
        shown = _one_line(issuer) if isinstance(issuer, str) else "(none)"
        return (
            CheckResult(
                name,
                "fail",
                f"{url} names issuer {shown!r}, not {authority!r} (must match byte for byte)",
                f"use --authority {shown}" if isinstance(issuer, str) else "check --authority",
            ),
            None,
            r.date,
        )
    return CheckResult(name, "ok", f"{url}: issuer {authority!r} matches"), r.body, r.date


def check_idp_keys(client: httpx.Client, doc: dict[str, Any], authority: str) -> CheckResult:
    from faas_pro.oauth.discovery import check_endpoint

    name = "IdP keys"
    try:
        url = check_endpoint(doc.get("jwks_uri"), "jwks_uri", authority, "the discovery document")
        r = _fetch(client, "GET", url, "the identity provider's key set")
    except FaasProError as e:
        return CheckResult(name, "fail", e.message, "fix the IdP's discovery document")
    except _NetError as e:
        return CheckResult(name, "fail", e.detail, e.fix)
    keys = r.body.get("keys") if isinstance(r.body, dict) else None
    if r.status != 200 or not isinstance(keys, list) or not keys:
        return CheckResult(name, "fail", f"{url} is not a JWKS with keys (HTTP {r.status})", "check the IdP")
    return CheckResult(name, "ok", f"{url}: {len(keys)} key(s)")


def check_grants(doc: dict[str, Any], grant: str) -> list[CheckResult]:
    out: list[CheckResult] = []
    methods = doc.get("code_challenge_methods_supported")
    if isinstance(methods, list) and "S256" in methods:
        out.append(CheckResult("PKCE S256", "ok", "listed in code_challenge_methods_supported"))
    elif isinstance(methods, list):
        out.append(
            CheckResult(
                "PKCE S256",
                "fail" if grant == "code" else "info",
                f"code_challenge_methods_supported lists {', '.join(map(str, methods)) or 'nothing'}, not S256",
                "enable PKCE with S256 for this client at the IdP" if grant == "code" else "",
            )
        )
    else:
        out.append(
            CheckResult("PKCE S256", "info", "code_challenge_methods_supported is not listed; S256 is sent anyway")
        )
    for label, key, needed in (
        ("device endpoint", "device_authorization_endpoint", grant == "device_code"),
        ("PAR endpoint", "pushed_authorization_request_endpoint", False),
        ("revocation endpoint", "revocation_endpoint", False),
    ):
        url = doc.get(key)
        if isinstance(url, str) and url:
            out.append(CheckResult(label, "ok", url))
        elif needed:
            out.append(
                CheckResult(label, "fail", f"the IdP lists no {key}", "enable the device flow or use another --grant")
            )
        else:
            out.append(CheckResult(label, "info", f"not offered ({key} absent)"))
    return out


def check_client(
    client: httpx.Client, doc: dict[str, Any], client_id: str, grant: str, redirect_uri: str | None
) -> CheckResult:
    """A pushed authorization request (RFC 9126) with the client id and redirect URI: no login starts."""
    from faas_pro.oauth.pkce import AuthRequestSecrets

    name = "client id"
    par = doc.get("pushed_authorization_request_endpoint")
    if grant == "client_credentials":
        return CheckResult(name, "skip", f"{client_id!r} is a confidential client; cannot tell without its secret")
    if redirect_uri is None:
        return CheckResult(name, "skip", "no free callback port to build the redirect URI; cannot tell")
    if not isinstance(par, str) or not par:
        return CheckResult(
            name, "skip", f"cannot tell: the IdP offers no PAR endpoint to ask whether {client_id!r} is registered"
        )
    sec = AuthRequestSecrets()
    data = {
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "response_type": "code",
        "scope": "openid",
        "state": sec.state,
        "code_challenge": sec.code_challenge,
        "code_challenge_method": "S256",
    }
    try:
        r = _fetch(client, "POST", par, "the identity provider's PAR endpoint", data=data)
    except _NetError as e:
        return CheckResult(name, "fail", e.detail, e.fix)
    body = r.body if isinstance(r.body, dict) else {}
    error = body.get("error") if isinstance(body.get("error"), str) else ""
    desc = _one_line(body.get("error_description") or "") if isinstance(body.get("error_description"), str) else ""
    if r.status in (200, 201) and isinstance(body.get("request_uri"), str):
        return CheckResult(name, "ok", f"{client_id!r} with redirect URI {redirect_uri} accepted (PAR)")
    if error == "invalid_client":
        return CheckResult(
            name,
            "fail",
            f"the IdP does not know client {client_id!r} (invalid_client{': ' + desc if desc else ''})",
            "pass the --client-id registered at the IdP (a public client, PKCE)",
        )
    if error == "invalid_redirect_uri" or "redirect_uri" in desc:
        return CheckResult(
            name,
            "fail",
            f"the IdP refuses redirect URI {redirect_uri} for {client_id!r} ({error}: {desc})",
            f"register {redirect_uri.rsplit(':', 1)[0]}:<port>/oauth/callback for the client, or change --port",
        )
    return CheckResult(
        name, "skip", f"cannot tell from the PAR endpoint's reply: HTTP {r.status} {error}{': ' + desc if desc else ''}"
    )


# --------------------------------------------------------------------------- the gateway


def check_gateway_discovery(client: httpx.Client, gateway: str) -> tuple[CheckResult, str | None, float | None]:
    name = "gateway discovery"
    url = gateway.rstrip("/") + "/.well-known/openid-configuration"
    try:
        r = _fetch(client, "GET", url, "the gateway's discovery document")
    except _NetError as e:
        return CheckResult(name, "fail", e.detail, e.fix), None, None
    issuer = r.body.get("issuer") if r.status == 200 and isinstance(r.body, dict) else None
    if not isinstance(issuer, str) or not issuer:
        return (
            CheckResult(
                name, "fail", f"{url} answered HTTP {r.status} without an issuer", "is -g a faas-pro gateway (serve)?"
            ),
            None,
            r.date,
        )
    return CheckResult(name, "ok", f"{url}: issuer {issuer}"), issuer, r.date


def check_gateway_keys(client: httpx.Client, gateway: str) -> CheckResult:
    name = "gateway keys"
    url = gateway.rstrip("/") + "/.well-known/jwks.json"
    try:
        r = _fetch(client, "GET", url, "the gateway's key set")
    except _NetError as e:
        return CheckResult(name, "fail", e.detail, e.fix)
    keys = r.body.get("keys") if isinstance(r.body, dict) else None
    if r.status != 200 or not isinstance(keys, list) or not keys:
        return CheckResult(name, "fail", f"{url} is not a JWKS with keys (HTTP {r.status})", "check --issuer-key")
    return CheckResult(name, "ok", f"{url}: {len(keys)} key(s)")


def _b64(obj: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj, separators=(",", ":")).encode()).rstrip(b"=").decode()


def probe_token(authority: str, client_id: str, now: float) -> str:
    """An unsigned stand-in for an IdP token (its signature is garbage): only its ``iss`` matters."""
    header = {"alg": "RS256", "typ": "JWT"}
    payload = {"iss": authority, "sub": PROBE_SUBJECT, "aud": client_id, "iat": int(now), "exp": int(now) + 60}
    return f"{_b64(header)}.{_b64(payload)}.AAAA"


def _exchange(client: httpx.Client, gateway: str, subject_token: str) -> _Fetched:
    from faas_pro.oauth.exchange import GRANT_TYPE, ID_TOKEN_TYPE, token_url

    data = {"grant_type": GRANT_TYPE, "subject_token": subject_token, "subject_token_type": ID_TOKEN_TYPE}
    return _fetch(client, "POST", token_url(gateway), "the gateway's token endpoint", data=data)


def _refusal(r: _Fetched, sent: str = "") -> str:
    """The gateway's reason, with the token it was sent replaced by ``***`` (a gateway may echo it)."""
    from faas_pro.oauth.token_endpoint import redact

    body = r.body if isinstance(r.body, dict) else {}
    desc, err = body.get("error_description"), body.get("error")
    text = desc if isinstance(desc, str) and desc else err if isinstance(err, str) else ""
    return _one_line(redact(text, [sent]))


def check_trust(client: httpx.Client, gateway: str, authority: str, client_id: str, now: float) -> CheckResult:
    name = "gateway trusts IdP"
    try:
        r = _exchange(client, gateway, probe_token(authority, client_id, now))
    except _NetError as e:
        return CheckResult(name, "fail", e.detail, e.fix)
    if r.status == 404:
        return CheckResult(name, "fail", f"{gateway} has no token endpoint (HTTP 404)", "is -g a faas-pro gateway?")
    why = _refusal(r)
    if why.startswith("untrusted issuer"):
        return CheckResult(
            name,
            "fail",
            f"{gateway} has no JwtIssuer for {authority} ({why})",
            f"add a JwtIssuer with spec.iss: {authority} to the gateway's --iam (docs/iam.md)",
        )
    if why.startswith("cannot get the keys of issuer"):
        return CheckResult(name, "fail", f"{gateway} trusts {authority} but {why}", "let the gateway reach the IdP")
    if r.status == 400 and why:
        return CheckResult(name, "ok", f"{gateway} has a JwtIssuer for {authority}")
    return CheckResult(name, "skip", f"cannot tell from the token endpoint's reply to a probe: HTTP {r.status} {why}")


def _decode(token: str) -> dict[str, Any] | None:
    from faas_pro import tokens

    try:
        return tokens.decode_unverified(token)[1]
    except tokens.TokenError:
        return None


def _when(claims: Mapping[str, Any], now: float) -> tuple[str, bool]:
    from faas_pro.tokens import expiry
    from faas_pro.usecases.gateway_cmds import expiry_text

    exp = expiry(claims)
    if exp is None:
        return "no expiry", False
    return f"expires {expiry_text(exp, now)}", exp <= now


def _aud(claims: Mapping[str, Any]) -> str:
    aud = claims.get("aud")
    if isinstance(aud, list):
        return ", ".join(str(a) for a in aud)
    return str(aud) if aud is not None else "(none)"


def check_saved_idp_token(
    entry: Mapping[str, str] | None, authority: str, gateway: str, now: float
) -> tuple[CheckResult, str | None]:
    """The saved IdP token, decoded UNVERIFIED; returns the token to try the exchange with (or None)."""
    name = "saved IdP token"
    login = f"run faas-pro auth -g {gateway}"
    saved = [t for t in ((entry or {}).get("idp_access_token"), (entry or {}).get("idp_id_token")) if t]
    if not saved:
        why = f"no saved IdP token for {gateway}: the exchange dry run cannot run"
        return CheckResult(name, "skip", why, login), None
    candidates = [t for t in saved if _decode(t) is not None]  # an opaque access token is skipped
    if not candidates:
        return CheckResult(name, "fail", "the saved IdP tokens are not JWTs", login), None
    claims = _decode(candidates[0]) or {}
    who = next((str(claims[k]) for k in ("preferred_username", "email", "sub") if isinstance(claims.get(k), str)), "?")
    when, expired = _when(claims, now)
    iss = claims.get("iss")
    detail = f"{who}, iss {iss}, aud {_aud(claims)}, {when} (UNVERIFIED)"
    if iss != authority:
        return CheckResult(name, "fail", detail + f"; issuer is not {authority}", login), None
    if expired:
        usable = next((t for t in candidates[1:] if not _when(_decode(t) or {}, now)[1]), None)
        if usable is None:
            return CheckResult(name, "skip", detail + "; expired: the exchange dry run cannot run", login), None
        return CheckResult(name, "ok", detail), usable
    return CheckResult(name, "ok", detail), candidates[0]


def check_exchange(client: httpx.Client, gateway: str, subject_token: str) -> tuple[CheckResult, float | None]:
    """Exchange the saved IdP token for real and throw the result away: does a Role match?

    Also returns the new token's ``iat``: the gateway's clock when it signed it (a gateway may send
    no ``Date`` header; faas-pro serve does not).
    """
    name = "exchange dry run"
    try:
        r = _exchange(client, gateway, subject_token)
    except _NetError as e:
        return CheckResult(name, "fail", e.detail, e.fix), None
    if r.status == 200 and isinstance(r.body, dict) and isinstance(r.body.get("access_token"), str):
        claims = _decode(r.body["access_token"]) or {}
        pol = claims.get("policy")
        policies = ", ".join(sorted(p for p in pol if isinstance(p, str))) if isinstance(pol, list) else ""
        iat = claims.get("iat")
        signed = float(iat) if isinstance(iat, int | float) and not isinstance(iat, bool) else None
        text = f"a Role matches {claims.get('sub')}: policies {policies or '(none)'} (token not kept)"
        return CheckResult(name, "ok", text), signed
    why = _refusal(r, subject_token)
    if why.startswith("No policies found"):
        fix = "add a Role whose principal (jwt:sub) or condition matches this subject to the gateway's --iam"
    elif why.startswith("untrusted issuer"):
        fix = "add a JwtIssuer for the IdP to the gateway's --iam"
    elif "audience" in why:
        fix = "add the token's aud to the JwtIssuer's spec.aud (or log in with --audience)"
    else:
        fix = f"see the gateway's log; run faas-pro auth -g {gateway}"
    return CheckResult(name, "fail", f"the gateway refused the saved token (HTTP {r.status}): {why}", fix), None


def check_openfaas_token(
    client: httpx.Client, entry: Mapping[str, str] | None, gateway: str, issuer: str | None, now: float
) -> CheckResult:
    name = "saved OpenFaaS token"
    login = f"run faas-pro auth -g {gateway}"
    token = (entry or {}).get("openfaas_token")
    if not token:
        return CheckResult(name, "skip", f"no saved OpenFaaS token for {gateway}", login)
    claims = _decode(token)
    if claims is None:
        return CheckResult(name, "fail", "the saved OpenFaaS token is not a JWT", login)
    when, expired = _when(claims, now)
    detail = f"{claims.get('sub')}, {when}"
    if issuer is not None and claims.get("iss") != issuer:
        return CheckResult(name, "fail", f"{detail}; issued by {claims.get('iss')}, not by {issuer}", login)
    if expired:
        return CheckResult(name, "skip", f"{detail}; expired: not tried", login)
    try:
        r = _fetch(client, "GET", gateway.rstrip("/") + "/system/namespaces", "the gateway", headers=_bearer(token))
    except _NetError as e:
        return CheckResult(name, "fail", e.detail, e.fix)
    if r.status == 200:
        return CheckResult(name, "ok", f"{detail}; GET /system/namespaces accepts it")
    if r.status == 401:
        return CheckResult(name, "fail", f"{detail}; the gateway does not accept it (401)", login)
    if r.status == 403:
        return CheckResult(name, "info", f"{detail}; accepted, but no policy allows Namespace:List (403)")
    return CheckResult(name, "fail", f"{detail}; GET /system/namespaces answered HTTP {r.status}", login)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --------------------------------------------------------------------------- the whole run


def doctor(inp: DoctorInput, deps: Deps, client: httpx.Client | None = None) -> DoctorReport:
    """Run every check; ``client`` replaces ``deps.http()`` (tests)."""
    from faas_pro.oauth.loopback import CALLBACK_PATH, DEFAULT_PORT, parse_redirect_host
    from faas_pro.storage.settings import GatewaySettings

    gateway = deps.gateway(inp.gateway)
    report = DoctorReport(gateway)
    add = report.checks.append
    try:
        saved = deps.settings().get(gateway) or GatewaySettings()
    except FaasProError as e:
        add(CheckResult("settings", "fail", e.message, e.hint or "fix or move the settings file"))
        saved = GatewaySettings()
    authority = inp.authority or saved.authority
    client_id = inp.client_id or saved.client_id
    grant = saved.grant or "code"
    port = inp.port if inp.port is not None else saved.port if saved.port is not None else DEFAULT_PORT
    if not authority or not client_id:
        missing = " and ".join(n for n, v in (("--authority", authority), ("--client-id", client_id)) if not v)
        add(CheckResult("settings", "fail", f"nothing saved for {gateway}", f"pass {missing}"))
    else:
        add(CheckResult("settings", "ok", f"gateway {gateway}, authority {authority}, client {client_id}, {grant}"))
    ca = check_ca(inp, deps.env)
    add(ca)
    urls = {"gateway": gateway, **({"IdP": authority} if authority else {})}
    add(check_proxy(urls, deps.env))
    try:
        target = parse_redirect_host(inp.redirect_host or saved.redirect_host)
    except FaasProError as e:
        add(CheckResult("callback port", "fail", e.message, "fix --redirect-host"))
        bound = None
    else:
        port_check, bound = check_port(target.bind, target.family, port)
        add(port_check)
    now = deps.clock()
    if not ca.ok:
        add(CheckResult("network checks", "skip", "not run: the CA file does not parse"))
        return report
    if client is None:
        client = deps.http(ca_file=str(inp.ca_file) if inp.ca_file else None, timeout=10.0)
    if authority and client_id:
        disc_check, doc, idp_date = check_discovery(client, authority)
        add(disc_check)
        if doc is not None:
            add(check_idp_keys(client, doc, authority))
            report.checks.extend(check_grants(doc, grant))
            redirect = f"http://{target.host}:{bound}{CALLBACK_PATH}" if bound else None
            add(check_client(client, doc, client_id, grant, redirect))
        if disc_check.status != "fail" or idp_date is not None:
            add(check_skew("IdP clock", "the IdP", idp_date, deps.clock()))
    gw_check, gw_issuer, gw_date = check_gateway_discovery(client, gateway)
    add(gw_check)
    if gw_date is not None:
        add(check_skew("gateway clock", "the gateway", gw_date, deps.clock()))
    if gw_issuer is None:
        add(CheckResult("gateway checks", "skip", "gateway keys, trust and tokens not checked: no gateway discovery"))
        return report
    add(check_gateway_keys(client, gateway))
    if authority and client_id:
        add(check_trust(client, gateway, authority, client_id, now))
    try:
        entry = deps.secrets().get(gateway)
    except FaasProError as e:
        add(CheckResult("saved tokens", "fail", e.message, e.hint or ""))
        return report
    signed: float | None = None
    send = not _plain_remote(gateway) or deps.env.get(INSECURE_HTTP_ENV) == "1"
    if not send:
        why = f"not sent: {gateway} is plain http:// and not loopback"
        add(CheckResult("saved tokens", "skip", why, f"use https, or set {INSECURE_HTTP_ENV}=1 to send them anyway"))
    if authority and send:
        idp_check, subject = check_saved_idp_token(entry, authority, gateway, now)
        add(idp_check)
        if subject is not None:
            exchange_check, signed = check_exchange(client, gateway, subject)
            add(exchange_check)
    if gw_date is None:  # no Date header: the exchanged token's iat is the gateway's clock reading
        source = "Date header, and the exchange dry run gave no token" if signed is None else "exchanged token's iat"
        add(check_skew("gateway clock", "the gateway", signed, deps.clock(), source))
    if send:
        add(check_openfaas_token(client, entry, gateway, gw_issuer, now))
    return report


def _plain_remote(url: str) -> bool:
    """Tokens never go to a non-loopback ``http://`` URL unless the user says so."""
    from faas_pro.oauth.discovery import is_loopback_host

    p = urlsplit(url)
    return p.scheme == "http" and not is_loopback_host(p.hostname or "")
