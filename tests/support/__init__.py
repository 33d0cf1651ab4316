"""The test suite's helpers: test modules and conftest files import helpers from here only (never
from another test module), so that a new test starts from one set of parts.

Running the CLI
  inproc.py       ``run_inproc`` (in this process, streams captured; the ``cli`` fixture),
                  ``run_with_deps`` (with ``Deps`` a test built), and ``run_cli`` / ``start_cli``
                  (``python -m faas_pro`` as a subprocess; ``stop_cli`` ends one and closes its pipes)
  authcli.py      ``auth_argv`` and the saved files of a ``faas-pro auth`` run; browser commands

Tokens and keys
  tokens.py       ``mint`` (the one JWT minter), ``new_key``, ``public_jwk``, ``Signer``; raw
                  segments for hostile tokens: ``b64url``, ``segment``, ``sign``, ``compact``
  tokenworld.py   the verifier tests' keys and claims (``World``, ``DROP``)

Servers
  fakehttp.py     ``FakeHTTP``: the one fake HTTP(S) server (routes → answers, records requests)
  rawhttp.py      raw bytes over a socket, for framings ``FakeHTTP`` cannot send
  fakegateway.py  a gateway stand-in for the CLI's gateway commands (``gateway``/``gw`` fixtures)
  issuer.py       ``FakeIssuer`` (discovery + JWKS for keys a test owns); ``exchange``, ``bearer``
  audit.py        an audit webhook ``Receiver`` that checks signatures; ``audited_args``
  gateway.py      the real ``faas-pro serve`` as a subprocess; IAM objects as YAML
  idp.py, idp/    the real test OpenID provider (``oidc-provider``), and driving its login pages
  upstream.py     a recording OpenFaaS gateway in its own process
  listener.py     a socket that counts connections (for "nothing was fetched" checks)
  loginworld.py   an IdP and a gateway behind ``httpx.MockTransport``, for fast login tests

Other
  hostile.py      the security tests' sentinels, ``fake_idp``, ``GatewayWorld``
  e2e.py          the end-to-end tests' helpers (the gateway's log, the module's login)
  env.py          the environment variables every test runs without
  keyrings.py     ``DictKeyring``, an in-memory keyring backend
  device.py       the device flow against the real IdP, the test acting as the second device
  tls.py          a self-signed certificate; chromium*.py, http_browser.py: browsers
  wait.py         ``wait_until``
"""
