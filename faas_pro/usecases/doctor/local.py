"""The checks that need no network: CA files, proxies, the callback port, and clock skew."""

from __future__ import annotations

import socket
import ssl
import sys
from collections.abc import Mapping
from urllib.parse import urlsplit

from faas_pro.usecases.doctor.report import (
    SKEW_FAIL,
    SKEW_NOISE,
    SKEW_WARN,
    CheckResult,
    DoctorInput,
)


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
