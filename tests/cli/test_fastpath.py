"""The fast path's parts: which command lines it takes (the rest goes to Typer), when it may use the
standard library's HTTP client, that both clients' answers map to the same lines, and the garbage
collector settings of the entry point. End-to-end parity: tests/integration/test_fastpath_parity.py."""

from __future__ import annotations

import gzip
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from faas_pro.deps import Deps
from faas_pro.direct_http import DirectHTTP, no_proxy_applies, usable_for
from faas_pro.errors import FaasProError
from faas_pro.fastpath import SPECS, FastDeps, parse, plan
from faas_pro.gateway import GatewayClient
from tests.support.fakehttp import NO_LENGTH, FakeHTTP, Req


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["list"], ("list", {})),
        (["ls", "-q"], ("ls", {"quiet": True})),
        (
            ["list", "-g", "gw:8080", "--sort", "creation", "-v"],
            ("list", {"gateway": "gw:8080", "sort": "creation", "verbose": True}),
        ),
        (["list", "--gateway=", "-j"], ("list", {"gateway": "", "as_json": True})),
        (["list", "--namespace=a b", "-k", "t.o.k"], ("list", {"namespace": "a b", "token": "t.o.k"})),
        (
            ["namespaces", "--ca-file", "ca.pem", "--tls-no-verify"],
            ("namespaces", {"ca_file": "ca.pem", "tls_no_verify": True}),
        ),
        (["token", "--pretty", "-g", "x"], ("token", {"pretty": True, "gateway": "x"})),
        (["status", "--json"], ("status", {"as_json": True})),
        (["namespaces", "--insecure-http"], ("namespaces", {"insecure_http": True})),
        (["list", "-q", "--insecure-http"], ("list", {"quiet": True, "insecure_http": True})),
    ],
)
def test_plain_command_lines_are_taken(args: list[str], expected: tuple[str, dict[str, Any]]) -> None:
    assert parse(args) == expected


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["auth"],
        ["serve"],
        ["-V", "list"],
        ["--help"],
        ["list", "--help"],
        ["list", "-h"],
        ["list", "-vq"],  # joined short flags
        ["list", "-ghttp://gw"],  # a value joined to a short option
        ["list", "-g"],  # no value
        ["list", "-g", "--json"],  # a value that looks like an option
        ["list", "--gateway=-x"],
        ["list", "-q", "-q"],  # repeated
        ["list", "-g", "a", "--gateway", "b"],
        ["list", "--json=1"],  # a flag given a value
        ["list", "--sort", "size"],  # Typer's command explains
        ["list", "--", "-q"],
        ["list", "extra"],
        ["list", "--gate", "x"],  # not a spelling click knows either
        ["token", "-k", "x"],  # -k with token: function tokens (--function), Typer's
        ["token", "--json"],
        ["status", "-j"],  # status has --json only
        ["status", "--all"],
        ["token", "--insecure-http"],
        ["use"],
        ["namespaces", "-n", "x"],
        ["lis"],
    ],
)
def test_anything_else_goes_to_typer(args: list[str]) -> None:
    assert parse(args) is None


def test_the_switch_and_completion_requests_go_to_typer() -> None:
    assert plan(["list"], {}) is not None
    assert plan(["list"], {"FAAS_PRO_NO_FAST_PATH": "1"}) is None
    assert plan(["list"], {"FAAS_PRO_NO_FAST_PATH": "0"}) is not None
    assert plan(["list"], {"_FAAS_PRO_COMPLETE": "bash_complete"}) is None


@pytest.mark.parametrize(
    ("url", "env", "direct"),
    [
        ("http://gw.example:8080", {}, True),
        ("http://gw.example:8080", {"HTTP_PROXY": "http://proxy:3128"}, False),
        ("http://gw.example:8080", {"http_proxy": "http://proxy:3128"}, False),
        ("http://gw.example:8080", {"ALL_PROXY": "http://proxy:3128"}, False),
        ("http://gw.example:8080", {"HTTPS_PROXY": "http://proxy:3128"}, True),  # for https URLs only
        ("http://gw.example:8080", {"HTTP_PROXY": ""}, True),
        ("http://gw.example:8080", {"HTTP_PROXY": "http://proxy:3128", "NO_PROXY": "*"}, True),
        ("http://gw.example:8080", {"HTTP_PROXY": "http://proxy:3128", "NO_PROXY": ".example"}, True),
        ("http://gw.example:8080", {"HTTP_PROXY": "http://proxy:3128", "NO_PROXY": "other.test"}, False),
        ("http://127.0.0.1:8080", {"HTTP_PROXY": "http://proxy:3128"}, True),  # loopback: never proxied
        ("http://localhost:8080", {"HTTP_PROXY": "http://proxy:3128"}, True),
    ],
)
def test_the_direct_client_only_where_httpx_would_not_proxy(url: str, env: dict[str, str], direct: bool) -> None:
    """The same rules as faas_pro.http_client (asked, not copied)."""
    assert no_proxy_applies(url, env) is direct
    assert usable_for(url, env=env, ca_file=None, verify=True) is direct


@pytest.mark.parametrize(
    ("url", "kw", "direct"),
    [
        ("http://127.0.0.1:8080", {}, True),
        ("HTTP://gw.example:8080", {}, True),
        ("https://gw.example", {}, False),  # TLS: httpx, with its CA handling
        ("http://gw.example", {"ca_file": "ca.pem"}, False),
        ("http://gw.example", {"verify": False}, False),  # keeps the --tls-no-verify behaviour httpx has
    ],
)
def test_the_direct_client_only_for_plain_http(url: str, kw: dict[str, Any], direct: bool) -> None:
    args: dict[str, Any] = {"ca_file": None, "verify": True, **kw}
    assert usable_for(url, env={}, **args) is direct


def _deps(tmp_path: Path, cls: type[Deps], env: dict[str, str]) -> Deps:
    return cls(env=env, stdin=sys.stdin, stdout=sys.stdout, stderr=sys.stderr, data_dir=tmp_path, config_dir=tmp_path)


def test_fast_deps_give_the_direct_client_only_where_it_fits(tmp_path: Path) -> None:
    deps = _deps(tmp_path, FastDeps, {"HTTP_PROXY": "http://proxy.test:3128"})
    try:
        assert isinstance(deps.http(only_url="http://127.0.0.1:8080"), DirectHTTP)
        assert isinstance(deps.http(only_url="http://gw:8080"), httpx.Client)  # through the proxy
        assert isinstance(deps.http(only_url="https://gw"), httpx.Client)
        assert isinstance(deps.http(only_url="http://127.0.0.1:8080", verify=False), httpx.Client)
        assert isinstance(deps.http(), httpx.Client)  # the IdP and other callers: always httpx
    finally:
        deps.close()
    with_transport = FastDeps(
        env={"NO_PROXY": "*"},
        stdin=sys.stdin,
        stdout=sys.stdout,
        stderr=sys.stderr,
        transport=httpx.MockTransport(lambda r: httpx.Response(200)),
    )
    assert isinstance(with_transport.http(only_url="http://127.0.0.1:8080"), httpx.Client)  # a test transport wins
    with_transport.close()


# --------------------------------------------------------------------------- one mapping, two clients


@pytest.fixture
def odd_gateway() -> Iterator[FakeHTTP]:
    """Answers no real gateway gives on purpose: gzip bodies (good and broken), a redirect, HTML,
    a body with no length that ends at close, JSON that is not a list."""

    def route(req: Req) -> tuple[int, dict[str, str], bytes]:
        path = req.path.split("?")[0]
        if path == "/gzip/system/namespaces":
            return 200, {"Content-Type": "application/json", "Content-Encoding": "gzip"}, gzip.compress(b'["a","b"]')
        if path == "/badgzip/system/namespaces":
            return 200, {"Content-Type": "application/json", "Content-Encoding": "gzip"}, b"not gzip at all"
        if path == "/redirect/system/namespaces":
            return 302, {"Location": "http://elsewhere.test/"}, b""
        if path == "/html/system/namespaces":
            return 200, {"Content-Type": "text/html; charset=utf-8"}, b"<html></html>"
        if path == "/close/system/namespaces":
            return 200, {"Content-Type": "application/json", NO_LENGTH: "1"}, b'["c"]'
        if path == "/dict/system/namespaces":
            return 200, {"Content-Type": "application/json"}, b'{"a": 1}'
        if path == "/echo/system/namespaces":
            return 503, {"Content-Type": "text/plain"}, f"no {req.headers.get('authorization')}".encode()
        return 404, {"Content-Type": "text/plain"}, b"404 page not found"

    f = FakeHTTP(route)
    yield f
    f.close()


def _outcome(client: Any, gateway: str) -> tuple[str, Any]:
    try:
        return "ok", GatewayClient(client, gateway, "tok.en.x").list_namespaces()
    except FaasProError as e:
        return type(e).__name__, (e.exit_code, e.line())


@pytest.mark.parametrize("prefix", ["gzip", "badgzip", "redirect", "html", "close", "dict", "echo", "missing"])
def test_both_clients_map_answers_to_the_same_result(odd_gateway: FakeHTTP, prefix: str) -> None:
    gateway = f"{odd_gateway.url}/{prefix}"
    with httpx.Client(follow_redirects=False) as h:
        via_httpx = _outcome(h, gateway)
    assert _outcome(DirectHTTP(), gateway) == via_httpx
    assert "tok.en.x" not in repr(via_httpx)


def test_unreachable_is_the_same_line() -> None:
    with httpx.Client() as h:
        assert _outcome(DirectHTTP(), "http://127.0.0.1:9") == _outcome(h, "http://127.0.0.1:9")


# --------------------------------------------------------------------------- the garbage collector


def _gc_after(*args: str) -> str:
    """``GC <collector enabled at exit> <objects frozen by faas-pro>``: frozen is counted above what a
    bare interpreter of the same version already holds in its permanent generation (3.12 starts with
    a few hundred there, 3.11 and 3.13 with none)."""
    report = "print('GC', gc.isenabled(), gc.get_freeze_count(), file=sys.stderr)"
    bare = subprocess.run([sys.executable, "-c", f"import gc, sys\n{report}"], capture_output=True, text=True)
    baseline = int(bare.stderr.split()[-1])
    code = (
        "import atexit, gc, sys\n"
        f"atexit.register(lambda: {report})\n"
        f"sys.argv = ['faas-pro', *{list(args)!r}]\n"
        "from faas_pro.__main__ import main\n"
        "main()\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    _, enabled, frozen = r.stderr.strip().splitlines()[-1].split()
    return f"GC {enabled} {int(frozen) > baseline}"


def test_short_commands_run_without_the_collector_and_serve_keeps_it() -> None:
    assert _gc_after("token", "-g", "http://127.0.0.1:9") == "GC False True"  # off while running, frozen at exit
    assert _gc_after("--help") == "GC False True"
    assert _gc_after("iam", "--help") == "GC True True"  # not a short command: only frozen at exit
    assert _gc_after("serve", "--help") == "GC True False"  # serve: never touched


# --------------------------------------------------------------------------- no drift from the Typer commands

# options of the daily commands that only Typer handles (a command line with them falls through)
TYPER_ONLY = {
    "list": {"--help", "-h"},
    "ls": {"--help", "-h"},
    "namespaces": {"--help", "-h"},
    "token": {"--help", "-h", "--function", "-k", "--token"},  # function tokens: Typer
    "status": {"--help", "-h", "--all"},
}


@pytest.mark.parametrize("command", sorted(SPECS))
def test_the_fast_path_knows_the_typer_commands_options(command: str) -> None:
    """Every spelling the fast path takes is the Typer command's, for the same parameter and of the
    same kind (value or flag); every option the Typer command has is taken or listed in TYPER_ONLY."""
    from faas_pro import compat
    from faas_pro.cli import app

    group = compat.click_command(app)
    typer_cmd = group.commands[command]  # type: ignore[attr-defined]
    typer_opts: dict[str, tuple[str, bool]] = {}
    for param in typer_cmd.params:
        for spelling in [*param.opts, *param.secondary_opts]:
            typer_opts[spelling] = (param.name, bool(getattr(param, "is_flag", False)))
    values, flags = SPECS[command]
    for spelling, dest in values.items():
        assert typer_opts.get(spelling) == (dest, False), (command, spelling)
    for spelling, dest in flags.items():
        assert typer_opts.get(spelling) == (dest, True), (command, spelling)
    rest = set(typer_opts) - set(values) - set(flags)
    assert rest <= TYPER_ONLY[command], (command, rest - TYPER_ONLY[command])
