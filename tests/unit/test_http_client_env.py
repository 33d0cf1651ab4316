"""Which requests go through a proxy (``HTTPS_PROXY``/``HTTP_PROXY``/``NO_PROXY``, upper or lower
case; loopback never) and where the CA comes from (``--ca-file`` → SSL_CERT_FILE → REQUESTS_CA_BUNDLE)."""

from __future__ import annotations

import pytest

from faas_pro.http_client import ProxySettings, ca_source, shown_proxy

P = "http://proxy.corp:3128"


@pytest.mark.parametrize(
    ("env", "scheme", "host", "expected"),
    [
        ({"HTTPS_PROXY": P}, "https", "gw.example.com", (P, "HTTPS_PROXY")),
        ({"https_proxy": P}, "https", "gw.example.com", (P, "https_proxy")),
        ({"HTTPS_PROXY": P}, "http", "gw.example.com", None),
        ({"HTTP_PROXY": P}, "http", "gw.example.com", (P, "HTTP_PROXY")),
        ({"ALL_PROXY": P}, "https", "gw.example.com", (P, "ALL_PROXY")),
        ({"HTTPS_PROXY": P}, "https", "127.0.0.1", None),
        ({"HTTPS_PROXY": P}, "https", "127.9.8.7", None),
        ({"HTTPS_PROXY": P}, "https", "::1", None),
        ({"HTTPS_PROXY": P}, "https", "localhost", None),
        ({"HTTPS_PROXY": P, "NO_PROXY": "*"}, "https", "gw.example.com", None),
        ({"HTTPS_PROXY": P, "NO_PROXY": "example.com"}, "https", "gw.example.com", None),
        ({"HTTPS_PROXY": P, "no_proxy": ".example.com"}, "https", "example.com", None),
        ({"HTTPS_PROXY": P, "NO_PROXY": "example.com"}, "https", "badexample.com", (P, "HTTPS_PROXY")),
        ({"HTTPS_PROXY": P, "NO_PROXY": "10.0.0.0/8"}, "https", "10.1.2.3", None),
        ({"HTTPS_PROXY": P, "NO_PROXY": "gw.example.com:443"}, "https", "gw.example.com", None),
    ],
)
def test_proxy_choice(env: dict[str, str], scheme: str, host: str, expected: tuple[str, str] | None) -> None:
    assert ProxySettings.from_env(env).for_url(scheme, host) == expected


def test_ca_order() -> None:
    env = {"SSL_CERT_FILE": "/a.pem", "REQUESTS_CA_BUNDLE": "/b.pem"}
    assert ca_source("/flag.pem", env) == ("/flag.pem", "--ca-file")
    assert ca_source(None, env) == ("/a.pem", "SSL_CERT_FILE")
    assert ca_source(None, {"REQUESTS_CA_BUNDLE": "/b.pem"}) == ("/b.pem", "REQUESTS_CA_BUNDLE")
    assert ca_source(None, {}) == (None, None)


def test_proxy_credentials_are_never_shown() -> None:
    assert shown_proxy("http://u:secret@proxy.corp:3128") == "http://proxy.corp:3128"
