"""Use cases behind ``faas-pro iam validate | explain | can-i``.

The claims these commands look at are NOT verified: a token is decoded without checking its
signature (the CLI says UNVERIFIED on stderr). They answer "what would this token get", which
is a question about the IAM objects, not about the token's authenticity.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from faas_pro.errors import FaasProError, UsageError

if TYPE_CHECKING:  # pragma: no cover
    from faas_pro.iam import Decision, Explanation, IamSet, Problem

__all__ = [
    "CanIInput",
    "CanIOutput",
    "ClaimsSource",
    "can_i",
    "explain_claims",
    "parse_resource",
    "read_claims",
    "validate",
]

MAX_CLAIMS_BYTES = 1024 * 1024


@dataclass(frozen=True)
class ClaimsSource:
    """Exactly one of: a file with a JWT, an environment variable with a JWT, a claims JSON file."""

    token_file: str | None = None
    token_env: str | None = None
    claims_file: str | None = None

    def given(self) -> int:
        return sum(x is not None for x in (self.token_file, self.token_env, self.claims_file))


def validate(paths: Sequence[str]) -> tuple[bool, list[Problem]]:
    """(ok, problems): ok when there is no error (warnings allowed)."""
    from faas_pro.iam import check_paths

    iamset, problems = check_paths(paths)
    return iamset is not None, problems


def _load(paths: Sequence[str]) -> IamSet:
    from faas_pro.iam import load_iam

    return load_iam(paths)


def _strict_json_object(raw: bytes, what: str) -> dict[str, Any]:
    from faas_pro.strictjson import StrictJSONError, loads_object

    try:
        return loads_object(raw)
    except StrictJSONError as e:
        raise FaasProError(f"{what}: {e}") from None


def _read_limited(path: str, what: str) -> bytes:
    try:
        with Path(path).open("rb") as f:
            data = f.read(MAX_CLAIMS_BYTES + 1)
    except OSError as e:
        raise FaasProError(f"cannot read {what} {path}: {e.strerror or e}") from None
    if len(data) > MAX_CLAIMS_BYTES:
        raise FaasProError(f"{what} {path} is larger than {MAX_CLAIMS_BYTES} bytes")
    return data


def read_claims(source: ClaimsSource, env: Mapping[str, str]) -> tuple[dict[str, Any], bool]:
    """(claims, from_token). Tokens are decoded WITHOUT verification."""
    if source.given() != 1:
        raise UsageError("give exactly one of --token-file, --token-env or --claims-file")
    if source.claims_file is not None:
        raw = _read_limited(source.claims_file, "claims file")
        return _strict_json_object(raw, f"claims file {source.claims_file}"), False
    if source.token_file is not None:
        token = _read_limited(source.token_file, "token file").decode("utf-8", "replace").strip()
        where = f"token file {source.token_file}"
    else:
        name = source.token_env or ""
        if not env.get(name):
            raise UsageError(f"environment variable {name} is not set or empty")
        token = env[name].strip()
        where = f"token in ${name}"
    from faas_pro.tokens import TokenError, decode_unverified

    try:
        _, payload = decode_unverified(token)
    except TokenError as e:
        raise FaasProError(f"{where}: {e.reason}") from None
    return payload, True


def explain_claims(paths: Sequence[str], claims: Mapping[str, Any], gateway: str | None) -> Explanation:
    from faas_pro.iam import explain

    return explain(_load(paths), claims, gateway)


def parse_resource(resource: str) -> tuple[str, str | None]:
    """``<namespace>`` or ``<namespace>:<function>`` (``*`` alone: every namespace, for System:Info)."""
    if resource == "*":
        return "*", None
    if not resource or any(c.isspace() or c in "*?" for c in resource):
        raise UsageError(
            f"RESOURCE {resource!r}: expected <namespace> or <namespace>:<function>, without spaces or globs"
        )
    ns, sep, fn = resource.partition(":")
    if not ns or (sep and not fn) or ":" in fn:
        raise UsageError(f"RESOURCE {resource!r}: expected <namespace> or <namespace>:<function>")
    return ns, (fn if sep else None)


@dataclass(frozen=True)
class CanIInput:
    paths: Sequence[str]
    action: str
    resource: str
    claims: Mapping[str, Any] | None = None  # IdP token claims (unverified), or
    policies: Sequence[str] = ()  # policy names, as an OpenFaaS token would carry them
    gateway: str | None = None  # the gateway URL, for the OpenFaaS token's iss/aud


@dataclass(frozen=True)
class CanIOutput:
    allowed: bool
    reason: str
    policies: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    errors: tuple[str, ...] = field(default_factory=tuple)


def can_i(inp: CanIInput) -> CanIOutput:
    """Decide as the exchange plus the gateway would (issuer, audience, Roles, then policies)."""
    from faas_pro.iam import ACTIONS
    from faas_pro.iam.explain import audience_accepted, gateway_claims

    if inp.action not in ACTIONS:
        raise UsageError(f"ACTION {inp.action!r} is not one action; expected one of {', '.join(ACTIONS)}")
    namespace, function = parse_resource(inp.resource)
    iamset = _load(inp.paths)
    if inp.claims is None:
        d = iamset.authorize(tuple(inp.policies), inp.action, namespace, function, None)
        return _output(d, tuple(inp.policies), ())
    claims = inp.claims
    iss = claims.get("iss")
    issuer = iamset.issuer_for(iss) if isinstance(iss, str) else None
    if issuer is None:
        return CanIOutput(False, f"iss {iss!r} is not a configured JwtIssuer: the exchange refuses the token")
    if not audience_accepted(issuer, claims):
        aud = claims.get("aud")
        return CanIOutput(
            False, f"aud {aud!r} is not accepted by JwtIssuer/{issuer.name}: the exchange refuses the token"
        )
    match = iamset.match_roles(claims)
    if not match.policies:
        return CanIOutput(False, "no Role matches: the exchange refuses the token (No policies found for subject)")
    roles = tuple(r.role for r in match.matched)
    d = iamset.authorize(
        match.policies, inp.action, namespace, function, gateway_claims(claims, match.policies, inp.gateway)
    )
    return _output(d, match.policies, roles)


def _output(d: Decision, policies: tuple[str, ...], roles: tuple[str, ...]) -> CanIOutput:
    return CanIOutput(d.allowed, d.reason, policies, roles, d.errors)
