"""The IAM objects (JwtIssuer, Policy with its Statements, Role) and the values the engine returns.

Objects are built only by the loader, already validated and precompiled: actions are expanded to
sets of concrete actions, resources to matchers, conditions to tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from faas_pro.iam.conditions import Condition, describe_value
from faas_pro.iam.glob import Glob, is_literal

__all__ = [
    "ACTIONS",
    "ACTION_WILDCARDS",
    "NAMESPACE_LEVEL_ACTIONS",
    "Decision",
    "JwtIssuer",
    "Policy",
    "Problem",
    "Resource",
    "Role",
    "RoleResult",
    "Statement",
    "expand_action",
]

FUNCTION_ACTIONS = tuple(
    f"Function:{a}" for a in ("List", "Get", "Create", "Update", "Delete", "Logs", "Scale", "Invoke")
)
SECRET_ACTIONS = tuple(f"Secret:{a}" for a in ("List", "Create", "Update", "Delete"))
NAMESPACE_ACTIONS = tuple(f"Namespace:{a}" for a in ("List", "Get", "Create", "Update", "Delete"))
SYSTEM_ACTIONS = ("System:Info",)
#: Every concrete action, in the order of docs/iam.md.
ACTIONS: tuple[str, ...] = FUNCTION_ACTIONS + SECRET_ACTIONS + NAMESPACE_ACTIONS + SYSTEM_ACTIONS
#: The wildcards a statement may use, and what each stands for.
ACTION_WILDCARDS: Mapping[str, frozenset[str]] = {
    "*": frozenset(ACTIONS),
    "Function:*": frozenset(FUNCTION_ACTIONS),
    "Secret:*": frozenset(SECRET_ACTIONS),
    "Namespace:*": frozenset(NAMESPACE_ACTIONS),
}
#: Actions that are normally decided for a whole namespace (``function=None``).
NAMESPACE_LEVEL_ACTIONS = frozenset(("Function:List", "Secret:List", *NAMESPACE_ACTIONS))


def expand_action(action: str) -> frozenset[str] | None:
    """The concrete actions ``action`` stands for, or None when it is not a known action."""
    if action in ACTION_WILDCARDS:
        return ACTION_WILDCARDS[action]
    if action in ACTIONS:
        return frozenset((action,))
    return None


@dataclass(frozen=True)
class Problem:
    """One load error or lint warning; ``str()`` gives ``file:line: kind/name: message``.

    ``kind`` is the kind as written (also an unknown one), ``name`` the ``metadata.name`` as
    written; a named object without a kind shows as ``?/name``. ``message`` starts with the field.
    """

    file: str
    line: int | None
    kind: str | None
    name: str | None
    field: str | None
    message: str
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        parts = [where]
        if self.name:
            parts.append(f"{self.kind or '?'}/{self.name}")
        elif self.kind:
            parts.append(self.kind)
        if self.severity == "warning":
            parts.append("warning")
        parts.append(self.message)
        return ": ".join(parts)


@dataclass(frozen=True)
class Resource:
    """A statement resource: ``*``, ``<ns>:*`` or ``<ns>:<fn>``, each part a strict glob.

    ``*`` crosses ``:`` (as in AWS IAM and OpenFaaS): the pattern is matched against the whole
    ``<namespace>:<function>`` string.
    """

    pattern: str
    glob: Glob = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "glob", Glob(self.pattern))

    @property
    def literal(self) -> bool:
        return is_literal(self.pattern)

    def covers_namespace(self, namespace: str) -> bool:
        """Whether the pattern matches ``<namespace>:<f>`` for every function name ``f``.

        True exactly when the pattern ends with ``*`` and matches ``<namespace>:`` (the last ``*``
        then absorbs any function name): ``*``, ``staging:*``, ``stag*``. A pattern that names
        functions (``staging:fn1``, ``staging:fn-*``... with a fixed tail) never covers a namespace.
        """
        return self.pattern.endswith("*") and self.glob.match(namespace + ":")

    @property
    def universal(self) -> bool:
        """Whether the pattern matches every resource (``*``, ``*:*``): needed for System actions."""
        return all(part and set(part) == {"*"} for part in self.pattern.split(":")) and self.pattern.count(":") <= 1


@dataclass(frozen=True)
class Statement:
    sid: str
    effect: Literal["Allow", "Deny"]
    actions: tuple[str, ...]  # as written
    resources: tuple[Resource, ...]
    condition: Condition | None = None
    line: int | None = None
    covers: frozenset[str] = field(init=False, repr=False, compare=False)  # concrete actions
    _exact: frozenset[str] = field(init=False, repr=False, compare=False)
    _globs: tuple[Glob, ...] = field(init=False, repr=False, compare=False)
    _ns: tuple[Resource, ...] = field(init=False, repr=False, compare=False)
    _universal: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        covers: set[str] = set()
        for a in self.actions:
            covers |= expand_action(a) or frozenset()
        object.__setattr__(self, "covers", frozenset(covers))
        object.__setattr__(self, "_exact", frozenset(r.pattern for r in self.resources if r.literal))
        object.__setattr__(self, "_globs", tuple(r.glob for r in self.resources if not r.literal))
        object.__setattr__(self, "_ns", tuple(r for r in self.resources if r.pattern.endswith("*")))
        object.__setattr__(self, "_universal", any(r.universal for r in self.resources))

    def matches_resource(self, action: str, namespace: str, function: str | None) -> bool:
        if action in SYSTEM_ACTIONS:
            return self._universal
        if function is None:
            target = namespace + ":"
            return any(r.glob.match(target) for r in self._ns)
        value = f"{namespace}:{function}"
        return value in self._exact or any(g.match(value) for g in self._globs)

    def applies(self, action: str, namespace: str, function: str | None, claims: Mapping[str, Any]) -> bool:
        if not self.matches_resource(action, namespace, function):
            return False
        return self.condition is None or self.condition.holds(claims)


@dataclass(frozen=True)
class Policy:
    name: str
    statements: tuple[Statement, ...]
    file: str = ""
    line: int | None = None
    by_action: Mapping[str, tuple[Statement, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index: dict[str, list[Statement]] = {}
        for st in self.statements:
            for a in st.covers:
                index.setdefault(a, []).append(st)
        object.__setattr__(self, "by_action", {a: tuple(sts) for a, sts in index.items()})


@dataclass(frozen=True)
class Role:
    """Matches a token when its principal (if any) and its condition (if any) both hold."""

    name: str
    policies: tuple[str, ...]
    principal: tuple[str, ...] | None  # accepted ``sub`` values (exact); None when not given
    condition: Condition | None
    file: str = ""
    line: int | None = None
    _principal: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_principal", frozenset(self.principal or ()))

    def failure(self, claims: Mapping[str, Any]) -> str | None:
        """None when the Role matches ``claims``, else the first reason it does not."""
        if self.principal is not None:
            sub = claims.get("sub")
            if not (isinstance(sub, str) and sub in self._principal):
                got = "missing" if "sub" not in claims else describe_value(sub)
                return f"principal jwt:sub: {got} is not one of the {len(self.principal)} listed subjects"
        if self.condition is not None:
            return self.condition.first_failure(claims)
        return None

    def why(self) -> str:
        """Why the Role matched (call only when it did)."""
        parts = []
        if self.principal is not None:
            parts.append("principal jwt:sub")
        if self.condition is not None:
            parts.extend(f"{t.operator} {t.key}" for t in self.condition.tests)
        return "matched " + ", ".join(parts)


@dataclass(frozen=True)
class JwtIssuer:
    name: str
    iss: str
    aud: tuple[str, ...]
    token_expiry: int  # seconds
    iss_internal: str | None = None
    file: str = field(default="", compare=False)
    line: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class RoleResult:
    role: str
    reason: str  # why it matched, or the first condition that failed
    matched: bool = False
    policies: tuple[str, ...] = ()


@dataclass(frozen=True)
class Decision:
    """The answer to one authorization question (docs/architecture.md, "The IAM engine")."""

    allowed: bool
    determining: tuple[tuple[str, str], ...]  # (policy, sid): the statements that decided it
    errors: tuple[str, ...]  # e.g. unknown policy names (they grant nothing)
    reason: str

    def __bool__(self) -> bool:
        return self.allowed
