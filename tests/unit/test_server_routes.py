"""The route table is authorisation by construction: every row declares an action and a resource
finder, or says it is public; HEAD is the GET row; other methods 405 with Allow; unknown paths 404."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from faas_pro.server.routes import ACTIONS, Route, RouteError, Table
from tests.support.gateway import issuer_yaml, keygen, policy_yaml, role_yaml

PUBLIC_PATHS = {"/.well-known/openid-configuration", "/.well-known/jwks.json", "/oauth/token", "/healthz"}


async def _handler(call: Any) -> None:
    return None


def _gateway(tmp_path: Path) -> Any:
    from faas_pro.deps import Deps
    from faas_pro.server.run import ServeConfig, build_gateway

    iam = tmp_path / "iam"
    iam.mkdir()
    (iam / "iam.yaml").write_text(
        issuer_yaml("i", "https://idp.example.com", ["a"]) + policy_yaml("p", ["*"], ["*"])
        + role_yaml("r", ["p"], principal=["s"])
    )  # fmt: skip
    deps = Deps(env={}, stdin=io.StringIO(), stdout=io.StringIO(), stderr=io.StringIO(), data_dir=tmp_path / "d")
    cfg = ServeConfig(
        iam_paths=(iam,), issuer_url="http://gw.test", issuer_key=keygen(tmp_path / "k.pem"), state_dir=tmp_path / "s"
    )
    return build_gateway(cfg, deps)


def test_every_route_of_the_table_declares_its_action_and_resource(tmp_path: Path) -> None:
    import asyncio

    from faas_pro.server.app import table

    gw = _gateway(tmp_path)
    try:
        rows = table(gw)
    finally:
        asyncio.run(gw.aclose())
    public = {r.path for r in rows if r.public}
    assert public == PUBLIC_PATHS
    decided = [r for r in rows if not r.public]
    assert all(r.action in ACTIONS and r.resource is not None for r in decided)
    # every action of the contract is decided by some route (Namespace:List filters)
    assert {r.action for r in decided} == ACTIONS
    Table(rows)  # no method+path twice


def test_a_route_without_an_action_or_resource_cannot_be_built() -> None:
    with pytest.raises(RouteError, match="no IAM action"):
        Route(("GET",), "/system/x", _handler)
    with pytest.raises(RouteError, match="no IAM action"):
        Route(("GET",), "/system/x", _handler, "Function:Frobnicate", lambda c: ("ns", None))
    with pytest.raises(RouteError, match="no resource finder"):
        Route(("GET",), "/system/x", _handler, "Function:Get")
    with pytest.raises(RouteError, match="decides nothing"):
        Route(("GET",), "/x", _handler, "Function:Get", public=True)
    with pytest.raises(RouteError, match="HEAD is always the GET route"):
        Route(("HEAD",), "/x", _handler, public=True)
    with pytest.raises(RouteError, match="declared twice"):
        Table([Route(("GET",), "/x", _handler, public=True), Route(("GET",), "/x", _handler, public=True)])


def test_head_is_the_get_route_and_other_methods_are_405_with_allow() -> None:
    find = lambda c: ("ns", None)  # noqa: E731
    get = Route(("GET",), "/system/functions", _handler, "Function:List", find)
    post = Route(("POST",), "/system/functions", _handler, "Function:Create", find, body={"service": "name"})
    t = Table([get, post])
    assert t.match("HEAD", "/system/functions").route is get
    assert t.match("POST", "/system/functions").route is post
    m = t.match("PATCH", "/system/functions")
    assert m.route is None and m.status == 405 and m.allow == "GET, HEAD, POST"
    assert t.match("GET", "/system/functionz").status == 404
    assert t.match("GET", "/system/functions/").status == 404


def test_path_parameters_are_one_segment_and_rest_is_optional() -> None:
    find = lambda c: ("ns", None)  # noqa: E731
    inv = Route(("*",), "/function/{target}{rest*}", _handler, "Function:Invoke", find, auth="invoke")
    one = Route(("GET",), "/system/function/{name}", _handler, "Function:Get", find)
    t = Table([inv, one])
    assert t.match("PATCH", "/function/fn.dev/a/b").params == {"target": "fn.dev", "rest": "/a/b"}
    assert t.match("GET", "/function/fn").params == {"target": "fn"}
    assert t.match("GET", "/system/function/fn\n").params == {"name": "fn\n"}  # the name check refuses it
    assert t.match("GET", "/system/function/a/b").status == 404
