"""On an https gateway the session cookie is ``__Host-`` + ``Secure``; the real gateway app,
in process, with a token signed by its own key (no IdP needed for this)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx

from faas_pro.iam import load_iam
from faas_pro.server.app import Gateway, build_app
from faas_pro.server.backends import SqliteRegistry
from faas_pro.server.dashboard import make_config
from faas_pro.server.dashboard.session import Sealer
from faas_pro.server.enforce import Authenticator, IamAuthoriser
from faas_pro.server.exchange import Exchanger
from faas_pro.server.issuers import IssuerKeys
from faas_pro.server.reload import IamHolder
from faas_pro.server.signing import Signer, generate_key_file, load_key
from tests.support.gateway import issuer_yaml, policy_yaml, role_yaml, write_iam

GW = "https://gw.example"
IDP = "http://127.0.0.1:1"  # nothing listens: discovery fails fast


def _gateway(tmp_path: Path) -> Gateway:
    iam_dir = write_iam(
        tmp_path,
        issuer_yaml("idp", IDP, ["faas-dashboard"])
        + policy_yaml("staging", ["Namespace:List"], ["staging:*"])
        + role_yaml("alice", ["staging"], principal=["user-alice"]),
    )
    iam = load_iam([iam_dir])
    generate_key_file(tmp_path / "gw.pem")
    logs: list[str] = []
    dash = make_config(iam, GW, "faas-dashboard", logs.append, session_key_file=tmp_path / "session.key")
    signer = Signer(load_key(tmp_path / "gw.pem"))
    holder = IamHolder([iam_dir], iam, time.time, logs.append)
    authn = Authenticator(GW, signer, time.time)
    client = httpx.AsyncClient()
    keys = IssuerKeys(client, time.time, lambda jwks: None)  # never fetches in this test
    return Gateway(
        issuer_url=GW,
        signer=signer,
        iam=holder,
        backend=SqliteRegistry(tmp_path / "registry.db", ("staging", "prod")),
        authn=authn,
        authz=IamAuthoriser(holder.get),
        exchanger=Exchanger(GW, signer, holder.get, keys, time.time, logs.append, authn),
        clock=time.time,
        log=logs.append,
        closers=[client.aclose],
        dashboard=dash,
    )


def test_https_cookie_and_session(tmp_path: Path) -> None:
    gw = _gateway(tmp_path)
    assert gw.dashboard is not None and gw.dashboard.secure
    app = build_app(gw)
    now = int(time.time())
    token = gw.signer.sign(
        {
            "iss": GW,
            "aud": GW,
            "sub": "fed:user-alice",
            "fed:iss": IDP,
            "policy": ["staging"],
            "iat": now,
            "exp": now + 300,
        }
    )
    sealed = Sealer(gw.dashboard.session_key).seal(
        "__Host-faas-pro-session", {"t": token, "csrf": "c", "exp": now + 300}
    )

    async def go() -> None:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=GW) as c:
            ok = await c.get("/ui/", headers={"Cookie": f"__Host-faas-pro-session={sealed}"})
            assert ok.status_code == 200 and 'class="ns">staging<' in ok.text and "prod" not in ok.text
            plain = await c.get("/ui/", headers={"Cookie": f"faas-pro-session={sealed}"})  # the http name is not read
            assert plain.status_code == 303
            out = await c.post(
                "/ui/auth/logout",
                data={"csrf": "c"},
                headers={"Origin": GW, "Cookie": f"__Host-faas-pro-session={sealed}"},
            )
            assert out.status_code == 303 and out.headers["location"] == "/ui/login"  # no end-session endpoint known
            parts = out.headers["set-cookie"].split("; ")
            assert parts[0] == "__Host-faas-pro-session="
            assert {"Path=/", "Max-Age=0", "HttpOnly", "SameSite=Lax", "Secure"} <= set(parts)
            assert not any(p.lower().startswith("domain") for p in parts)
        await gw.aclose()  # the backend, the dashboard's HTTP clients, the issuer-key client

    asyncio.run(go())
