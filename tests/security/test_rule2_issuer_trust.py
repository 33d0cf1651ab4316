"""SECURITY rule 2 (exact issuer trust): nothing in a token decides where keys come from.

A token whose ``iss``, ``jku`` and ``x5u`` all name a local listener goes through the CLI (``auth
--token-file``, ``iam explain``, ``iam can-i``) and the real gateway: it is refused, and the listener
gets no connection at all. A configured issuer with a trailing ``/`` added is a different issuer.
"""

from __future__ import annotations

import json
from pathlib import Path

from faas_pro.errors import EXIT_DENIED, EXIT_ERROR
from tests.integration.server_fixtures import exchange
from tests.security.conftest import GatewayWorld, run_cli_inproc
from tests.support.gateway import issuer_yaml, policy_yaml, role_yaml
from tests.support.listener import Listener


def test_unconfigured_issuer_triggers_no_fetch_anywhere(gateway_world: GatewayWorld, tmp_path: Path) -> None:
    listener = Listener()
    try:
        base = listener.url.rsplit("/", 1)[0]
        fake = gateway_world.issuer
        hostile = [
            fake.mint(fake.claims(iss=base), jku=listener.url, x5u=listener.url),
            fake.mint(fake.claims(iss=base + "/.well-known/openid-configuration")),
            fake.mint(fake.claims(iss=fake.iss + "/"), jku=listener.url),  # trailing slash: not the same issuer
            fake.mint(fake.claims(), jku=listener.url, x5u=listener.url),  # configured iss, hostile headers
        ]
        gw = gateway_world.server.url
        for i, token in enumerate(hostile):
            f = tmp_path / f"t{i}"
            f.write_text(token)
            r = run_cli_inproc("auth", "-g", gw, "--token-file", str(f))
            if i < 3:
                assert r.code == EXIT_ERROR and "untrusted issuer" in r.stderr, (i, r)
            else:
                assert r.code == 0, r  # jku/x5u are ignored: the configured issuer's own keys verify it
            assert exchange(gw, token).status_code == (400 if i < 3 else 200)
        iam = tmp_path / "iam.yaml"
        iam.write_text(
            issuer_yaml("fake", fake.iss, ["fake-aud"]) + policy_yaml("admin", ["*"], ["*"])
            + role_yaml("robot", ["admin"], principal=["robot-1"])
        )  # fmt: skip
        claims = tmp_path / "claims.json"
        claims.write_text(json.dumps({"iss": base, "sub": "robot-1", "aud": "fake-aud", "jku": listener.url}))
        r = run_cli_inproc("iam", "can-i", "Function:List", "staging", str(iam), "--claims-file", str(claims), "-v")
        assert r.code == EXIT_DENIED, r
        r = run_cli_inproc("iam", "explain", str(iam), "--token-env", "T", "--json", env={"T": hostile[0]})
        assert base in r.stdout + r.stderr, r  # the unknown issuer is named, and nothing more happens
        assert listener.connections == 0
    finally:
        listener.close()
