"""The fast path (faas_pro/fastpath.py) and the Typer path give the same stdout, stderr and exit code.

Every command line of the table runs twice as a real process through the console entry point
(``faas_pro.__main__.main``): once as is, once with ``FAAS_PRO_NO_FAST_PATH=1`` (Typer, httpx). The
gateway is a real ``faas-pro serve`` (tokens from a real exchange of a test IdP token); a second one
forwards to an upstream that is down (5xx). Only an answer no real part gives (HTML on 200) comes
from a scripted server. Each row also says which path must have run: Typer must not be imported on
the fast path, and must be for the lines that fall through (help, bad or unusual flags).

Then: proxies, custom CAs and TLS verification behave exactly as on the Typer path.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from faas_pro.storage.secrets import FileSecretStore
from faas_pro.storage.settings import SettingsStore
from tests.support.e2e import clean_env
from tests.support.fakehttp import FakeHTTP, Req, json_answer
from tests.support.gateway import Server, issuer_yaml, keygen, policy_yaml, role_yaml, start_gateway
from tests.support.hostile import sentinel_jwt
from tests.support.idp import IdP
from tests.support.issuer import bearer, exchange
from tests.support.tls import self_signed_cert

REPO = Path(__file__).resolve().parents[2]
ISSUER = "http://gateway-fast.test"
RUN_MAIN = (
    "import atexit, sys\n"
    "atexit.register(lambda: sys.stderr.write('\\n@@typer=' + str('typer' in sys.modules)))\n"
    "sys.argv[0] = 'faas-pro'\n"
    "from faas_pro.__main__ import main\n"
    "main()\n"
)


@dataclass(frozen=True)
class Result:
    code: int
    stdout: str
    stderr: str
    typer: bool


def faas_pro(args: list[str], env: dict[str, str]) -> Result:
    r = subprocess.run(
        [sys.executable, "-c", RUN_MAIN, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=60
    )
    err, _, mark = r.stderr.rpartition("\n@@typer=")
    return Result(r.returncode, r.stdout, err, mark.strip() == "True")


_DURATION = re.compile(r"\(in \d+[hm]\d+[ms]\d*s?\)|\"expires_in\": \d+")


def both(args: list[str], env: dict[str, str]) -> tuple[Result, Result]:
    """(default run, Typer run), with the seconds-left of `status` blurred (the runs are ~0.1 s apart)."""
    fast, slow = faas_pro(args, env), faas_pro(args, {**env, "FAAS_PRO_NO_FAST_PATH": "1"})
    blur = [Result(r.code, _DURATION.sub("<left>", r.stdout), r.stderr, r.typer) for r in (fast, slow)]
    return blur[0], blur[1]


def jwt_like(exp: int) -> str:
    return sentinel_jwt("EXPIRED", exp=exp)


@dataclass
class World:
    gw: Server
    gw_down: Server
    token: str
    html: FakeHTTP
    root: Path

    def env(self, store: str, **extra: str) -> dict[str, str]:
        """The isolated environment with the token store ``saved``, ``expired`` or ``empty``; ``use``:
        the saved token, no OPENFAAS_URL, and the gateway set as the default by ``faas-pro use``."""
        env = clean_env(self.root / "home-env")
        env.update(FAAS_PRO_DATA_DIR=str(self.root / store), OPENFAAS_URL=self.gw.url, **extra)
        if store == "use":
            del env["OPENFAAS_URL"]
            env.update(FAAS_PRO_DATA_DIR=str(self.root / "saved"), FAAS_PRO_CONFIG_DIR=str(self.root / "use-config"))
        return env


@pytest.fixture(scope="module")
def world(idp: IdP, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("fast")
    key = keygen(root / "gw.pem")
    objects = {
        "issuer.yaml": issuer_yaml("test-idp", idp.issuer, ["faas-gateway"], "30m"),
        "policies.yaml": policy_yaml("rw", ["Function:*", "Namespace:List"], ["openfaas-fn:*", "staging:*"]),
        "roles.yaml": role_yaml("svc", ["rw"], principal=["faas-svc"]),
    }
    (root / "a").mkdir()
    (root / "b").mkdir()
    (root / "upstream-auth").write_text("admin:secret\n")
    html = FakeHTTP(lambda req: (200, {"Content-Type": "text/html"}, b"<html>login</html>"))
    with (
        start_gateway(
            root / "a", objects, "--namespace", "staging", "--namespace", "openfaas-fn", issuer_url=ISSUER, key=key
        ) as gw,
        start_gateway(
            root / "b",
            objects,
            "--namespace",
            "staging",
            "--namespace",
            "openfaas-fn",
            "--upstream",
            "http://127.0.0.1:9",
            "--upstream-auth-file",
            str(root / "upstream-auth"),
            issuer_url=ISSUER,
            key=key,
        ) as gw_down,
    ):
        r = exchange(gw.url, idp.client_credentials_token())
        assert r.status_code == 200, r.text
        token = r.json()["access_token"]
        deploy = [("zeta", "ghcr.io/acme/zeta:2.0"), ("alpha", "ghcr.io/acme/alpha:1.4"), ("mid", "m:1"), ("s1", "s:1")]
        for name, image in deploy:
            body = {"service": name, "image": image, "namespace": "staging" if name == "s1" else "openfaas-fn"}
            resp = httpx.post(gw.url + "/system/functions", json=body, headers=bearer(token), timeout=10)
            assert resp.status_code == 202, resp.text
        FileSecretStore(root / "saved").put(gw.url, {"openfaas_token": token})
        SettingsStore(root / "use-config").set_default_gateway(gw.url)
        FileSecretStore(root / "loose").put(gw.url, {"openfaas_token": token})
        (root / "loose").chmod(0o777)  # writable by others: refused before it is read
        FileSecretStore(root / "expired").put(gw.url, {"openfaas_token": jwt_like(int(time.time()) - 60)})
        yield World(gw, gw_down, token, html, root)
    html.close()


FAST, TYPER = True, False
# (args, token store, which path must run); @GW@ @DOWN@ @HTML@ @TOKEN@ @BADSIG@ are filled in
TABLE: list[tuple[list[str], str, bool]] = [
    (["list"], "saved", FAST),
    (["ls"], "saved", FAST),
    (["list", "-q"], "saved", FAST),
    (["list", "--quiet", "--sort", "creation"], "saved", FAST),
    (["list", "-v"], "saved", FAST),
    (["list", "--sort", "invocations", "--verbose"], "saved", FAST),
    (["list", "--json"], "saved", FAST),
    (["list", "-j", "-n", "staging"], "saved", FAST),
    (["list", "--namespace=staging", "--sort=name"], "saved", FAST),
    (["list", "-g", "@GW@"], "saved", FAST),
    (["list", "--gateway", "@GW@/"], "saved", FAST),
    (["namespaces"], "saved", FAST),
    (["token"], "saved", FAST),
    (["token", "--pretty"], "saved", FAST),
    (["status"], "saved", FAST),
    (["status", "--json"], "saved", FAST),
    # the gateway set by `faas-pro use` (no -g, no OPENFAAS_URL)
    (["list", "-q"], "use", FAST),
    (["token"], "use", FAST),
    (["status"], "use", FAST),
    # guards: a token that is not a JWT, plain http to a host that is not this machine
    (["list", "-k", "not a jwt"], "empty", FAST),
    (["namespaces", "-k", "a.b"], "empty", FAST),
    (["list", "-g", "http://gw.invalid:8080", "-k", "@TOKEN@"], "empty", FAST),
    (["namespaces", "-g", "http://127.0.0.2:9", "-k", "@TOKEN@", "--insecure-http"], "empty", FAST),
    (["token"], "loose", FAST),  # a data directory others can write to
    (["list"], "loose", FAST),
    # the gateway says no, or cannot answer
    (["list", "-n", "prod"], "saved", FAST),  # 403: the policy covers openfaas-fn and staging only
    (["list", "-k", "@BADSIG@"], "empty", FAST),  # 401: the signature does not verify
    (["list", "-g", "@DOWN@", "-k", "@TOKEN@"], "empty", FAST),  # 5xx: its upstream is down
    (["namespaces", "-g", "@HTML@", "-k", "@TOKEN@"], "empty", FAST),  # HTML, not JSON
    (["namespaces", "-g", "http://127.0.0.1:9", "-k", "@TOKEN@"], "empty", FAST),  # unreachable
    (["list", "-g", "ftp://gw.test"], "saved", FAST),  # a URL faas-pro refuses
    # expired token, no token, a token given
    (["list"], "expired", FAST),
    (["token"], "expired", FAST),
    (["status"], "expired", FAST),
    (["list"], "empty", FAST),
    (["token"], "empty", FAST),
    (["status", "--json"], "empty", FAST),
    (["namespaces", "-k", "@TOKEN@"], "empty", FAST),
    (["list", "--token", "@TOKEN@", "-q"], "expired", FAST),
    # bad or unusual flags: Typer answers, on both runs
    (["list", "--bogus"], "saved", TYPER),
    (["list", "-g"], "saved", TYPER),
    (["list", "--sort", "size"], "saved", TYPER),
    (["list", "-vq"], "saved", TYPER),
    (["list", "--json=yes"], "saved", TYPER),
    (["list", "-q", "-q"], "saved", TYPER),
    (["list", "--", "-q"], "saved", TYPER),
    (["token", "-k", "@TOKEN@"], "saved", TYPER),
    (["token", "--function", "Not_A_Label"], "saved", TYPER),  # a minted function token differs per run
    (["status", "-j"], "saved", TYPER),
    (["status", "--all"], "saved", TYPER),
    (["token", "--insecure-http"], "saved", TYPER),
    (["namespaces", "extra"], "saved", TYPER),
    (["list", "--help"], "saved", TYPER),
    (["token", "-h"], "saved", TYPER),
    (["-V", "list"], "saved", TYPER),
    (["lis"], "saved", TYPER),
]


def _fill(args: list[str], w: World) -> list[str]:
    badsig = w.token[: w.token.rindex(".") + 1] + ("A" if w.token[-1] != "A" else "B") * len(w.token.split(".")[2])
    subs = {"@GW@": w.gw.url, "@DOWN@": w.gw_down.url, "@HTML@": w.html.url, "@TOKEN@": w.token, "@BADSIG@": badsig}
    out = []
    for a in args:
        for k, v in subs.items():
            a = a.replace(k, v)
        out.append(a)
    return out


@pytest.mark.parametrize(("args", "store", "path"), TABLE, ids=[" ".join(a) + f" [{s}]" for a, s, _ in TABLE])
def test_fast_and_typer_paths_answer_alike(world: World, args: list[str], store: str, path: bool) -> None:
    fast, slow = both(_fill(args, world), world.env(store))
    assert (fast.code, fast.stdout, fast.stderr) == (slow.code, slow.stdout, slow.stderr)
    assert slow.typer, "FAAS_PRO_NO_FAST_PATH=1 must run Typer"
    assert fast.typer is (path is TYPER), f"expected the {'Typer' if path is TYPER else 'fast'} path"
    assert args[0] == "-V" or "Traceback" not in fast.stderr


def test_the_table_sees_real_answers(world: World) -> None:
    """The rows above compare real outcomes, not two identical failures."""
    env = world.env("saved")
    assert faas_pro(["list", "-q"], env).stdout == "alpha\nmid\nzeta\n"
    assert faas_pro(["list", "-q", "--sort", "creation"], env).stdout == "zeta\nalpha\nmid\n"
    assert faas_pro(["namespaces"], env).stdout == "Namespaces:\n - openfaas-fn\n - staging\n"
    assert faas_pro(["list", "-q", "-n", "staging"], env).stdout == "s1\n"
    denied = faas_pro(["list", "-n", "prod"], env)
    assert denied.code == 4 and denied.stderr.startswith("Server returned unexpected status code: 403"), denied
    down = faas_pro(["list", "-g", world.gw_down.url, "-k", world.token], env)
    assert down.code == 1 and re.match(r".* answered /system/functions with status 5\d\d", down.stderr), down
    bad = faas_pro(["list", "-k", _fill(["@BADSIG@"], world)[0]], world.env("empty"))
    assert bad.code == 3 and "401 Unauthorized" in bad.stderr, bad
    html = faas_pro(["namespaces", "-g", world.html.url, "-k", world.token], world.env("empty"))
    assert html.code == 1 and "with HTML (status 200)" in html.stderr, html
    assert faas_pro(["token"], world.env("expired")).code == 3
    env_token = faas_pro(["namespaces"], world.env("empty", FAAS_PRO_TOKEN=world.token))
    assert env_token.stdout == "Namespaces:\n - openfaas-fn\n - staging\n", env_token


def test_faas_pro_token_env_alike(world: World) -> None:
    fast, slow = both(["list", "-q"], world.env("empty", FAAS_PRO_TOKEN=world.token))
    assert (
        (fast.code, fast.stdout, fast.stderr) == (slow.code, slow.stdout, slow.stderr) == (0, "alpha\nmid\nzeta\n", "")
    )
    assert not fast.typer


# --------------------------------------------------------------------------- proxies, CAs, TLS


@pytest.fixture
def proxy(world: World) -> Iterator[FakeHTTP]:
    """A forward proxy that records the absolute URLs it is asked for and relays them to the gateway."""

    def relay(req: Req) -> tuple[int, dict[str, str], bytes]:
        path = req.path.split("://", 1)[1].split("/", 1)[1]
        r = httpx.get(f"{world.gw.url}/{path}", headers={"Authorization": req.headers["authorization"]}, timeout=10)
        return r.status_code, {"Content-Type": r.headers.get("content-type", "")}, r.content

    p = FakeHTTP(relay)
    yield p
    p.close()


def test_a_proxy_from_the_environment_is_used_on_the_fast_path(world: World, proxy: FakeHTTP) -> None:
    env = world.env("empty", FAAS_PRO_TOKEN=world.token, HTTP_PROXY=proxy.url)
    del env["NO_PROXY"]
    fast, slow = both(["list", "-q", "-g", "http://gw.invalid:8080", "--insecure-http"], env)
    assert (fast.code, fast.stdout, fast.stderr) == (slow.code, slow.stdout, slow.stderr)
    assert (fast.code, fast.stdout) == (0, "alpha\nmid\nzeta\n") and not fast.typer
    assert fast.stderr.startswith("WARNING: sending the OpenFaaS token over plain http")  # --insecure-http
    assert proxy.paths() == ["http://gw.invalid:8080/system/functions"] * 2  # both runs went through it


def test_loopback_goes_direct_whatever_the_proxy(world: World, proxy: FakeHTTP) -> None:
    env = world.env("empty", FAAS_PRO_TOKEN=world.token, HTTP_PROXY=proxy.url)
    del env["NO_PROXY"]
    fast, slow = both(["list", "-q"], env)
    assert (
        (fast.code, fast.stdout, fast.stderr) == (slow.code, slow.stdout, slow.stderr) == (0, "alpha\nmid\nzeta\n", "")
    )
    assert not fast.typer
    assert proxy.requests == []


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return self_signed_cert(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def tls_gateway(tls_files: tuple[Path, Path]) -> Iterator[FakeHTTP]:
    """An https gateway with a self-signed certificate (the real `faas-pro serve` speaks plain HTTP)."""
    f = FakeHTTP(lambda req: json_answer(["staging"]), tls=tls_files)
    yield f
    f.close()


def test_tls_is_verified_on_the_fast_path(world: World, tls_gateway: FakeHTTP) -> None:
    fast, slow = both(["namespaces", "-g", tls_gateway.url, "-k", world.token], world.env("empty"))
    assert (fast.code, fast.stdout, fast.stderr) == (slow.code, slow.stdout, slow.stderr)
    assert fast.code == 5 and "TLS certificate is not trusted" in fast.stderr and not fast.typer
    assert tls_gateway.requests == []  # the handshake failed: the token was never sent
    fast, slow = both(["namespaces", "-g", tls_gateway.url, "-k", world.token, "--tls-no-verify"], world.env("empty"))
    assert (fast.code, fast.stdout, fast.stderr) == (slow.code, slow.stdout, slow.stderr)
    assert fast.code == 0 and fast.stderr.startswith("WARNING: TLS verification is off") and not fast.typer


@pytest.mark.parametrize("how", ["--ca-file", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"])
def test_a_custom_ca_is_trusted_on_the_fast_path(
    world: World, tls_gateway: FakeHTTP, tls_files: tuple[Path, Path], how: str
) -> None:
    args = ["namespaces", "-g", tls_gateway.url, "-k", world.token]
    env = world.env("empty")
    if how == "--ca-file":
        args += ["--ca-file", str(tls_files[0])]
    else:
        for var in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "SSL_CERT_DIR"):  # this one only
            env.pop(var, None)
        env[how] = str(tls_files[0])
    fast, slow = both(args, env)
    assert (
        (fast.code, fast.stdout, fast.stderr)
        == (slow.code, slow.stdout, slow.stderr)
        == (0, "Namespaces:\n - staging\n", "")
    )
    assert not fast.typer
    assert len(tls_gateway.requests) == 2


def test_the_fast_path_sends_what_httpx_sends(world: World) -> None:
    """Same method, path, query, token and User-Agent from both clients."""
    seen = FakeHTTP(lambda req: json_answer([{"name": "f"}]))
    try:
        env = world.env("empty", FAAS_PRO_TOKEN=world.token)
        fast, slow = both(["list", "-q", "-g", seen.url, "-n", "a b&c"], env)
        assert fast == Result(0, "f\n", "", False) and slow.stdout == "f\n"
        a, b = seen.requests
        assert (a.method, a.path) == (b.method, b.path) == ("GET", "/system/functions?namespace=a+b%26c")
        for h in ("authorization", "user-agent", "accept"):
            assert a.headers[h] == b.headers[h], h
        assert json.loads(json.dumps(a.headers["authorization"])) == f"Bearer {world.token}"
    finally:
        seen.close()
