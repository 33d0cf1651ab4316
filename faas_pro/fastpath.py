"""The fast path: the daily commands answered before Typer is imported (docs/architecture.md, "Start-up").

``faas-pro list``, ``ls``, ``namespaces``, ``token`` and ``status`` run many times a day, often in
loops (``curl -H "Authorization: Bearer $(faas-pro token)"``). Importing Typer costs 25-40 ms, so
:func:`plan` recognises exactly the command lines these commands accept in their plainest spelling
and runs them with the SAME use cases and formats as the Typer commands in faas_pro/cli/gateway.py.
Anything else returns ``None`` and goes to Typer, so help, completion, usage errors and every
unusual spelling stay Typer's own: ``-h``/``--help``, an unknown or repeated option, an option with
no value or a value starting with ``-``, joined short options (``-vq``, ``-gURL``), ``--``, a
positional argument, a ``--sort`` that is not one of faas_pro.formats.SORTS, the root's own options
(``-V list``), a shell completion request, or ``FAAS_PRO_NO_FAST_PATH`` set to anything but ``0``
(tests use it to compare both paths: tests/integration/test_fastpath_parity.py).

The one difference from the Typer path is the HTTP client: for a plain ``http://`` gateway that
needs no proxy the GET goes through ``faas_pro.direct_http`` (the standard library) instead of httpx;
the answer is mapped by the same ``faas_pro.gateway.parse_answer``. Keep this module and the ones it
imports at start-up cheap: tests/cli/test_imports.py guards the modules each daily command loads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from faas_pro.deps import Deps

if TYPE_CHECKING:  # pragma: no cover
    import httpx

NO_FAST_PATH_ENV = "FAAS_PRO_NO_FAST_PATH"

_GW = {"-g": "gateway", "--gateway": "gateway"}
_TOKEN = {"-k": "token", "--token": "token"}
_TLS_VALUE = {"--ca-file": "ca_file"}
_TLS_FLAG = {"--tls-no-verify": "tls_no_verify", "--insecure-http": "insecure_http"}
# command -> (options that take a value, flags): each spelling -> the parameter of faas_pro/cli/gateway.py
SPECS: dict[str, tuple[dict[str, str], dict[str, str]]] = {
    "namespaces": ({**_GW, **_TOKEN, **_TLS_VALUE}, dict(_TLS_FLAG)),
    "list": (
        {**_GW, "-n": "namespace", "--namespace": "namespace", "--sort": "sort", **_TOKEN, **_TLS_VALUE},
        {
            "-v": "verbose",
            "--verbose": "verbose",
            "-q": "quiet",
            "--quiet": "quiet",
            "-j": "as_json",
            "--json": "as_json",
            **_TLS_FLAG,
        },
    ),
    "token": (dict(_GW), {"--pretty": "pretty"}),
    "status": (dict(_GW), {"--json": "as_json"}),
}
SPECS["ls"] = SPECS["list"]
COMMANDS = frozenset(SPECS)

Options = dict[str, "str | bool"]


def parse(args: Sequence[str]) -> tuple[str, Options] | None:
    """``(command, {parameter: value})`` for a command line the fast path takes, else None."""
    if not args or args[0] not in SPECS:
        return None
    values, flags = SPECS[args[0]]
    opts: Options = {}
    rest = list(args[1:])
    while rest:
        arg = rest.pop(0)
        name, eq, value = arg.partition("=") if arg.startswith("--") else (arg, "", "")
        given: str | bool
        if name in values:
            if not eq:
                if not rest:
                    return None
                value = rest.pop(0)
            if value.startswith("-"):
                return None
            given, dest = value, values[name]
        elif name in flags and not eq:
            given, dest = True, flags[name]
        else:
            return None
        if dest in opts:
            return None
        opts[dest] = given
    if args[0] in ("list", "ls") and "sort" in opts:
        from faas_pro.formats import SORTS

        if opts["sort"] not in SORTS:
            return None  # Typer's command says why, in its own words
    return args[0], opts


class FastDeps(Deps):
    """``Deps`` whose HTTP client is the standard library's where that cannot change behaviour
    (faas_pro.direct_http.usable_for), httpx everywhere else."""

    def http(
        self, *, ca_file: str | None = None, verify: bool = True, timeout: float = 15.0, only_url: str | None = None
    ) -> httpx.Client:
        from faas_pro.direct_http import DirectHTTP, usable_for

        if self.transport is None and only_url and usable_for(only_url, env=self.env, ca_file=ca_file, verify=verify):
            # GatewayClient, the one caller that passes only_url, takes either client (gateway.DirectGet)
            return DirectHTTP(timeout)  # type: ignore[return-value]
        return super().http(ca_file=ca_file, verify=verify, timeout=timeout, only_url=only_url)


class Plan:
    """A parsed fast-path command line, ready to run with a ``Deps``."""

    def __init__(self, command: str, opts: Options) -> None:
        self.command, self.opts = command, opts

    def _str(self, name: str) -> str | None:
        value = self.opts.get(name)
        return value if isinstance(value, str) else None

    def _flag(self, name: str) -> bool:
        return self.opts.get(name) is True

    def _gateway(self, deps: Deps) -> str:
        return deps.gateway(self._str("gateway"))

    def run(self, deps: Deps) -> int:
        """What the Typer command of the same name does (faas_pro/cli/gateway.py), step for step."""
        if self.command == "token":
            self._token(deps)
        elif self.command == "status":
            self._status(deps)
        else:
            self._query(deps)
        return 0

    def _query(self, deps: Deps) -> None:
        from faas_pro import formats
        from faas_pro.usecases import gateway_cmds as uc

        gw = self._gateway(deps)
        token, ca_file, no_verify = self._str("token"), self._str("ca_file"), self._flag("tls_no_verify")
        insecure = self._flag("insecure_http")
        if self.command == "namespaces":
            inp = uc.ClientInput(gw, token, ca_file, no_verify, insecure_http=insecure)
            deps.stdout.write(formats.namespaces(uc.namespaces(deps, inp)))
            return
        inp = uc.ListInput(
            gw,
            token,
            ca_file,
            no_verify,
            insecure_http=insecure,
            namespace=self._str("namespace"),
            sort=self._str("sort") or "name",
        )
        functions = uc.list_functions(deps, inp)
        if self._flag("as_json"):
            deps.stdout.write(formats.functions_json(functions))
        else:
            deps.stdout.write(
                formats.functions_table(functions, verbose=self._flag("verbose"), quiet=self._flag("quiet"))
            )

    def _token(self, deps: Deps) -> None:
        from faas_pro.usecases import gateway_cmds as uc

        saved = uc.saved_token(deps, self._gateway(deps))
        if self._flag("pretty"):
            from faas_pro import tokens

            deps.warn("UNVERIFIED: decoded without checking the signature")
            deps.stdout.write(tokens.pretty(saved) + "\n")
        else:
            deps.stdout.write(saved + "\n")

    def _status(self, deps: Deps) -> None:
        from faas_pro.errors import AuthRequired
        from faas_pro.usecases import gateway_cmds as uc

        gw = self._gateway(deps)
        st = uc.status(deps, gw)
        if self._flag("as_json"):
            import json

            deps.stdout.write(json.dumps(st.to_json(), indent=2, sort_keys=True) + "\n")
        else:
            deps.stdout.write(uc.render_status(st))
        if not st.logged_in:
            raise AuthRequired(f"not logged in to {gw}", f"run faas-pro auth -g {gw}")
        if st.expired:
            raise AuthRequired(f"the token for {gw} has expired", f"run faas-pro auth -g {gw}")


def plan(args: Sequence[str], env: Mapping[str, str]) -> Plan | None:
    """The fast-path plan for ``args``, or None when Typer must run them."""
    if env.get(NO_FAST_PATH_ENV, "0") not in ("", "0") or "_FAAS_PRO_COMPLETE" in env:
        return None
    parsed = parse(args)
    return Plan(*parsed) if parsed is not None else None
