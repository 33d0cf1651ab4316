"""YAML files -> a validated :class:`IamSet`, or the complete list of problems.

Files are Kubernetes-style documents (``apiVersion: iam.openfaas.com/v1``, ``kind``,
``metadata.name``, ``spec``), many per file; a directory stands for every ``*.yaml``/``*.yml``
below it (names starting with ``.`` are skipped, so a Kubernetes ConfigMap mount is read once).

Parsing is our own walk over PyYAML's node tree (safe tags only), so every problem carries the
line of the field it concerns, duplicate keys are errors (PyYAML would keep the last one), merge
keys are refused and alias expansion is bounded. Every problem is collected, not only the first;
when any error is found no IamSet is produced at all: nothing half-loaded is ever used.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from faas_pro.errors import FaasProError
from faas_pro.iam import lint
from faas_pro.iam.conditions import ALIASES, OPERATORS, ClaimTest, Condition
from faas_pro.iam.duration import DurationError, parse_duration
from faas_pro.iam.engine import IamSet
from faas_pro.iam.model import ACTION_WILDCARDS, ACTIONS, JwtIssuer, Policy, Problem, Resource, Role, Statement

__all__ = ["API_VERSION", "IamLoadError", "check_paths", "load_iam"]

API_VERSION = "iam.openfaas.com/v1"
KINDS = ("JwtIssuer", "Policy", "Role")
MAX_FILE_BYTES = 4 * 1024 * 1024
MAX_NODES = 200_000  # per file, counting alias expansions (billion-laughs guard)
MAX_DEPTH = 64
_TOP_KEYS = ("apiVersion", "kind", "metadata", "spec", "status")
_SPEC_KEYS = {
    "JwtIssuer": ("iss", "aud", "tokenExpiry", "issInternal"),
    "Policy": ("statement",),
    "Role": ("policy", "principal", "condition"),
}
_STATEMENT_KEYS = ("sid", "effect", "action", "resource", "condition")
_DEFAULT_EXPIRY = "1h"


class IamLoadError(FaasProError):
    """The IAM files have errors; ``problems`` lists every one (``warnings`` the lint warnings)."""

    def __init__(self, problems: Sequence[Problem], warnings: Sequence[Problem] = ()) -> None:
        self.problems = list(problems)
        self.warnings = list(warnings)
        n = len(self.problems)
        first = str(self.problems[0]) if self.problems else "no details"
        more = f" (and {n - 1} more)" if n > 1 else ""
        super().__init__(f"invalid IAM objects: {first}{more}", "run faas-pro iam validate for the full list")


# -- YAML with line numbers ----------------------------------------------------------------------


class YMap(dict[str, Any]):
    """A YAML mapping that remembers its own line and the line of each value."""

    line: int
    lines: dict[str, int]


class YSeq(list[Any]):
    """A YAML sequence that remembers its own line and the line of each item."""

    line: int
    lines: list[int]


class _YamlError(Exception):
    def __init__(self, line: int | None, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def _documents(text: str) -> Iterator[tuple[int, Any]]:
    """Yield (line, value) for each non-empty document; raise _YamlError on bad YAML."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: same nodes, ~10x faster
    try:
        for node in yaml.compose_all(text, Loader=loader):
            if node is None:
                continue
            walker = _Walker()
            value = walker.walk(node, 0)
            if value is None:
                continue
            yield node.start_mark.line + 1, value
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark is not None else None
        raise _YamlError(line, f"invalid YAML: {e.problem or e.context}") from None
    except yaml.YAMLError as e:
        raise _YamlError(None, f"invalid YAML: {e}") from None
    except RecursionError:
        raise _YamlError(None, "invalid YAML: nested too deeply") from None


_PLAIN_TAGS = ("tag:yaml.org,2002:seq", "tag:yaml.org,2002:map")


class _Walker:
    def __init__(self) -> None:
        import yaml

        self._yaml = yaml
        self._constructor = yaml.constructor.SafeConstructor()
        self._count = 0

    def walk(self, node: Any, depth: int) -> Any:
        yaml = self._yaml
        self._count += 1
        line = node.start_mark.line + 1
        if self._count > MAX_NODES:
            raise _YamlError(line, f"document too large (more than {MAX_NODES} YAML nodes, aliases expanded)")
        if depth > MAX_DEPTH:
            raise _YamlError(line, f"nested more than {MAX_DEPTH} levels deep")
        if isinstance(node, yaml.ScalarNode):
            try:
                return self._constructor.construct_object(node)
            except yaml.YAMLError as e:
                raise _YamlError(line, f"invalid YAML value: {getattr(e, 'problem', None) or e}") from None
        if node.tag not in _PLAIN_TAGS:
            raise _YamlError(line, f"unsupported YAML tag {node.tag!r}")
        if isinstance(node, yaml.SequenceNode):
            seq = YSeq()
            seq.line, seq.lines = line, []
            for item in node.value:
                seq.append(self.walk(item, depth + 1))
                seq.lines.append(item.start_mark.line + 1)
            return seq
        if isinstance(node, yaml.MappingNode):
            m = YMap()
            m.line, m.lines = line, {}
            for key_node, value_node in node.value:
                kline = key_node.start_mark.line + 1
                if key_node.tag == "tag:yaml.org,2002:merge":
                    raise _YamlError(kline, "merge keys (<<) are not supported in IAM objects")
                key = self.walk(key_node, depth + 1)
                if not isinstance(key, str):
                    raise _YamlError(kline, f"mapping keys must be strings, got {key!r}")
                if key in m:
                    raise _YamlError(kline, f"duplicate key {key!r} (first at line {m.lines[key]})")
                m[key] = self.walk(value_node, depth + 1)
                m.lines[key] = value_node.start_mark.line + 1 if value_node.value not in ("", None) else kline
            return m
        raise _YamlError(line, "unsupported YAML node")


# -- building objects ----------------------------------------------------------------------------


@dataclass
class _Doc:
    """Problem collector for one document."""

    file: str
    line: int
    kind: str | None = None
    name: str | None = None
    problems: list[Problem] = field(default_factory=list)
    lines: dict[str, int] = field(default_factory=dict)  # field path -> line, for set-wide checks
    refs: list[tuple[str, str]] = field(default_factory=list)  # (field path, Policy name) a Role names

    def add(self, line: int | None, path: str | None, message: str, severity: Literal["error", "warning"]) -> None:
        text = f"{path}: {message}" if path else message
        self.problems.append(Problem(self.file, line, self.kind, self.name, path, text, severity))

    def error(self, line: int | None, path: str | None, message: str) -> None:
        self.add(line, path, message, "error")

    def warn(self, line: int | None, path: str | None, message: str) -> None:
        self.add(line, path, message, "warning")

    @property
    def failed(self) -> bool:
        return any(p.severity == "error" for p in self.problems)


def _type_name(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__}"


def _line(container: YMap | YSeq, key: str | int) -> int:
    if isinstance(container, YMap):
        return container.lines.get(str(key), container.line)
    return container.lines[int(key)]


def _unknown_keys(doc: _Doc, m: YMap, allowed: Sequence[str], path: str) -> None:
    for key in m:
        if key not in allowed:
            where = f"{path}.{key}" if path else key
            doc.error(_line(m, key), where, f"unknown field (expected one of {', '.join(allowed)})")


def _mapping(doc: _Doc, parent: YMap, key: str, path: str, required: bool = True) -> YMap | None:
    if key in parent and parent[key] is None and not required:
        # `condition:` with nothing after it: dropping it silently would widen what the object grants
        doc.error(_line(parent, key), path, "is empty: give a mapping or leave the key out")
        return None
    if key not in parent or parent[key] is None:
        if required:
            doc.error(parent.line, path, "is required (a mapping)")
        return None
    value = parent[key]
    if not isinstance(value, YMap):
        doc.error(_line(parent, key), path, f"expected a mapping, got {_type_name(value)}")
        return None
    return value


def _string(doc: _Doc, parent: YMap, key: str, path: str, required: bool = True) -> str | None:
    if key not in parent or parent[key] is None:
        if required:
            doc.error(parent.line, path, "is required (a string)")
        return None
    value = parent[key]
    if not isinstance(value, str):
        doc.error(_line(parent, key), path, f"expected a string, got {_type_name(value)} (quote it)")
        return None
    if value == "" or value != value.strip() or any(not c.isprintable() for c in value):
        doc.error(_line(parent, key), path, f"{value!r} must be non-empty, without spaces around or control characters")
        return None
    return value


def _string_list(doc: _Doc, parent: YMap, key: str, path: str, required: bool = True) -> list[tuple[str, int]] | None:
    """A non-empty list of non-empty strings, as (value, line) pairs; None after an error."""
    if key not in parent or parent[key] is None:
        if required:
            doc.error(parent.line, path, "is required (a list of strings)")
        return None
    value = parent[key]
    if not isinstance(value, YSeq):
        doc.error(
            _line(parent, key), path, f"expected a list, got {_type_name(value)} (write [{key!s}-value] or - item)"
        )
        return None
    if not value:
        doc.error(value.line, path, "must not be empty")
        return None
    out: list[tuple[str, int]] = []
    ok = True
    for i, item in enumerate(value):
        where = f"{path}[{i}]"
        if not isinstance(item, str):
            doc.error(value.lines[i], where, f"expected a string, got {_type_name(item)} {item!r} (quote it)")
            ok = False
        elif item == "" or any(not c.isprintable() for c in item):
            doc.error(value.lines[i], where, f"{item!r} must be a non-empty string without control characters")
            ok = False
        else:
            out.append((item, value.lines[i]))
    return out if ok else None


def _k8s_name(name: str) -> bool:
    ok = set("abcdefghijklmnopqrstuvwxyz0123456789-.")
    return 0 < len(name) <= 253 and set(name) <= ok and name[0].isalnum() and name[-1].isalnum()


def _condition(doc: _Doc, parent: YMap, key: str, path: str, in_role: bool) -> Condition | None:
    cond = _mapping(doc, parent, key, path, required=False)
    if cond is None:
        return None
    if not cond:
        doc.error(cond.line, path, "must not be empty (leave it out instead)")
        return None
    tests: list[ClaimTest] = []
    for op_name, body in cond.items():
        op_path = f"{path}.{op_name}"
        operator = ALIASES.get(op_name, op_name)
        if operator not in OPERATORS:
            doc.error(_line(cond, op_name), op_path, f"unknown operator (expected one of {', '.join(OPERATORS)})")
            continue
        if not isinstance(body, YMap) or not body:
            doc.error(
                _line(cond, op_name),
                op_path,
                f"expected a non-empty mapping of jwt:<claim>: [values], got {_type_name(body)}",
            )
            continue
        for claim_key in body:
            claim_path = f"{op_path}.{claim_key}"
            if not claim_key.startswith("jwt:") or len(claim_key) == 4:
                doc.error(_line(body, claim_key), claim_path, "claim keys are written jwt:<claim>, e.g. jwt:sub")
                continue
            values = _string_list(doc, body, claim_key, claim_path)
            if values is None:
                continue
            if in_role and operator.endswith("StringLike"):
                for v, vline in values:
                    for message in lint.broad_pattern(claim_key[4:], v):
                        doc.warn(vline, claim_path, message)
            tests.append(ClaimTest(operator, claim_key[4:], tuple(v for v, _ in values)))
    return Condition(tuple(tests)) if tests else None


def _parse_resource(pattern: str) -> str | None:
    """None when ``pattern`` is a valid resource, else what is wrong with it."""
    if any(c.isspace() for c in pattern):
        return "must not contain spaces"
    if pattern == "*":
        return None
    parts = pattern.split(":")
    if len(parts) == 1:
        return "expected *, <namespace>:* or <namespace>:<function>"
    if len(parts) > 2:
        return "has more than one ':' (expected <namespace>:<function>)"
    if not parts[0]:
        return "has an empty namespace"
    if not parts[1]:
        return "has an empty function name (use <namespace>:* for the whole namespace)"
    return None


def _jwt_issuer(doc: _Doc, name: str, spec: YMap) -> JwtIssuer | None:
    iss = _string(doc, spec, "iss", "spec.iss")
    doc.lines["spec.iss"] = _line(spec, "iss")
    aud = _string_list(doc, spec, "aud", "spec.aud")
    expiry_text = spec.get("tokenExpiry", _DEFAULT_EXPIRY)
    expiry: int | None = None
    line = _line(spec, "tokenExpiry")
    if not isinstance(expiry_text, str):
        doc.error(line, "spec.tokenExpiry", f"expected a Go duration string such as 12h, got {_type_name(expiry_text)}")
    else:
        try:
            ns = parse_duration(expiry_text)
        except DurationError as e:
            doc.error(line, "spec.tokenExpiry", str(e))
        else:
            if ns < 1_000_000_000 or ns % 1_000_000_000:
                doc.error(line, "spec.tokenExpiry", f"{expiry_text!r} must be a whole number of seconds, at least 1s")
            else:
                expiry = ns // 1_000_000_000
                for message in lint.long_expiry(expiry):
                    doc.warn(line, "spec.tokenExpiry", message)
    internal = _string(doc, spec, "issInternal", "spec.issInternal", required=False)
    if internal is not None and not internal.startswith(("http://", "https://")):
        doc.error(_line(spec, "issInternal"), "spec.issInternal", f"expected an http(s) URL, got {internal!r}")
        internal = None
    if iss is None or aud is None or expiry is None or doc.failed:
        return None
    return JwtIssuer(name, iss, tuple(a for a, _ in aud), expiry, internal, doc.file, doc.line)


def _policy(doc: _Doc, name: str, spec: YMap) -> Policy | None:
    raw = spec.get("statement")
    if raw is None:
        doc.error(spec.line, "spec.statement", "is required (a list of statements)")
        return None
    if not isinstance(raw, YSeq) or not raw:
        doc.error(
            _line(spec, "statement"),
            "spec.statement",
            f"expected a non-empty list of statements, got {_type_name(raw)}",
        )
        return None
    statements: list[Statement] = []
    sids: dict[str, int] = {}
    for i, st in enumerate(raw):
        path = f"spec.statement[{i}]"
        if not isinstance(st, YMap):
            doc.error(raw.lines[i], path, f"expected a mapping, got {_type_name(st)}")
            continue
        _unknown_keys(doc, st, _STATEMENT_KEYS, path)
        sid = _string(doc, st, "sid", f"{path}.sid")
        if sid is not None:
            if sid in sids:
                doc.error(_line(st, "sid"), f"{path}.sid", f"duplicate sid {sid!r} (first at line {sids[sid]})")
            sids.setdefault(sid, _line(st, "sid"))
        effect = _string(doc, st, "effect", f"{path}.effect")
        if effect is not None and effect not in ("Allow", "Deny"):
            doc.error(_line(st, "effect"), f"{path}.effect", f"{effect!r} is not Allow or Deny (case matters)")
        actions = _string_list(doc, st, "action", f"{path}.action")
        for j, (a, aline) in enumerate(actions or ()):
            if a not in ACTIONS and a not in ACTION_WILDCARDS:
                known = ", ".join((*ACTIONS, *ACTION_WILDCARDS))
                doc.error(aline, f"{path}.action[{j}]", f"unknown action {a!r} (expected one of {known})")
        resources = _string_list(doc, st, "resource", f"{path}.resource")
        for j, (r, rline) in enumerate(resources or ()):
            wrong = _parse_resource(r)
            if wrong:
                doc.error(rline, f"{path}.resource[{j}]", f"resource {r!r} {wrong}")
        condition = _condition(doc, st, "condition", f"{path}.condition", in_role=False)
        if doc.failed or sid is None or effect is None or actions is None or resources is None:
            continue
        statements.append(
            Statement(
                sid,
                "Deny" if effect == "Deny" else "Allow",
                tuple(a for a, _ in actions),
                tuple(Resource(r) for r, _ in resources),
                condition,
                raw.lines[i],
            )
        )
    if doc.failed:
        return None
    return Policy(name, tuple(statements), doc.file, doc.line)


def _role(doc: _Doc, name: str, spec: YMap) -> Role | None:
    policies = _string_list(doc, spec, "policy", "spec.policy")
    for i, (pname, pline) in enumerate(policies or ()):
        doc.lines[f"spec.policy[{i}]"] = pline
        doc.refs.append((f"spec.policy[{i}]", pname))
    principal: tuple[str, ...] | None = None
    pmap = _mapping(doc, spec, "principal", "spec.principal", required=False)
    if pmap is not None:
        _unknown_keys(doc, pmap, ("jwt:sub",), "spec.principal")
        subs = _string_list(doc, pmap, "jwt:sub", "spec.principal.jwt:sub")
        if subs is not None:
            principal = tuple(s for s, _ in subs)
    condition = _condition(doc, spec, "condition", "spec.condition", in_role=True)
    if principal is None and condition is None and not doc.failed:
        # judged on what was built, not on which keys are present: nothing must ever match every token
        doc.error(spec.line, "spec", "a Role needs a principal, a condition or both (it would match every token)")
    elif principal is None and condition is not None and not lint.binds_subject(condition):
        claims = ", ".join(sorted(f"jwt:{c}" for c in condition.claims()))
        doc.error(
            _line(spec, "condition"),
            "spec.condition",
            f"without a principal the condition must bind the subject, but it only tests {claims}; "
            "add a principal or a condition on jwt:sub, jwt:email, jwt:groups or another identity claim",
        )
    if doc.failed or policies is None:
        return None
    names = tuple(dict.fromkeys(p for p, _ in policies))
    return Role(name, names, principal, condition, doc.file, doc.line)


_BUILDERS: dict[str, Callable[[_Doc, str, YMap], Any]] = {"JwtIssuer": _jwt_issuer, "Policy": _policy, "Role": _role}


def _object(doc: _Doc, value: Any) -> Any:
    if not isinstance(value, YMap):
        doc.error(
            doc.line, None, f"expected a mapping with apiVersion, kind, metadata and spec, got {_type_name(value)}"
        )
        return None
    kind = value.get("kind")
    if isinstance(kind, str) and kind in KINDS:
        doc.kind = kind
    meta = value.get("metadata")
    if isinstance(meta, YMap) and isinstance(meta.get("name"), str):
        doc.name = meta["name"]
    api = value.get("apiVersion")
    if api != API_VERSION:
        doc.error(_line(value, "apiVersion"), "apiVersion", f"expected {API_VERSION}, got {api!r}")
    if doc.kind is None:
        doc.error(_line(value, "kind"), "kind", f"expected one of {', '.join(KINDS)}, got {kind!r}")
    _unknown_keys(doc, value, _TOP_KEYS, "")
    meta = _mapping(doc, value, "metadata", "metadata")
    name = None
    if meta is not None:
        name = _string(doc, meta, "name", "metadata.name")
        doc.lines["metadata.name"] = _line(meta, "name")
        if name is not None and not _k8s_name(name):
            doc.error(
                _line(meta, "name"),
                "metadata.name",
                f"{name!r} is not a valid name (lower-case letters, digits, '-' and '.')",
            )
            name = None
        ns = meta.get("namespace")
        if ns is not None and ns != "openfaas":
            doc.warn(
                _line(meta, "namespace"), "metadata.namespace", f"is {ns!r}; OpenFaaS reads IAM objects from 'openfaas'"
            )
    spec = _mapping(doc, value, "spec", "spec")
    if doc.kind is None or spec is None:
        return None
    _unknown_keys(doc, spec, _SPEC_KEYS[doc.kind], "spec")
    obj = _BUILDERS[doc.kind](doc, name or "", spec)
    return None if doc.failed or name is None else obj


# -- files and the whole set ---------------------------------------------------------------------


def _files(paths: Sequence[str | Path], problems: list[Problem]) -> list[Path]:
    out: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            found = sorted(
                f
                for f in p.rglob("*")
                if f.suffix in (".yaml", ".yml")
                and f.is_file()
                and not any(part.startswith(".") for part in f.relative_to(p).parts)
            )
            if not found:
                problems.append(
                    Problem(str(p), None, None, None, None, "no *.yaml or *.yml files in this directory", "warning")
                )
            out.extend(found)
        elif p.is_file():
            out.append(p)
        else:
            problems.append(Problem(str(p), None, None, None, None, "no such file or directory"))
    return list(dict.fromkeys(out))


def _read(path: Path, problems: list[Problem]) -> str | None:
    try:
        with path.open("rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as e:
        problems.append(Problem(str(path), None, None, None, None, f"cannot read: {e.strerror or e}"))
        return None
    if len(data) > MAX_FILE_BYTES:
        problems.append(Problem(str(path), None, None, None, None, f"larger than {MAX_FILE_BYTES} bytes"))
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        problems.append(Problem(str(path), line, None, None, None, "not valid UTF-8"))
        return None


def check_paths(paths: Sequence[str | Path]) -> tuple[IamSet | None, list[Problem]]:
    """Load and check every object under ``paths``; never raises for bad input.

    Returns the IamSet (None when there is any error) and every problem, errors and warnings,
    in file and line order.
    """
    problems: list[Problem] = []
    objects: list[tuple[_Doc, Any]] = []
    files = _files(paths, problems)
    for path in files:
        text = _read(path, problems)
        if text is None:
            continue
        docs: list[_Doc] = []
        try:
            for line, value in _documents(text):
                doc = _Doc(str(path), line)
                obj = _object(doc, value)
                docs.append(doc)
                objects.append((doc, obj))
        except _YamlError as e:
            problems.append(Problem(str(path), e.line, None, None, None, e.message))
        for doc in docs:
            problems.extend(doc.problems)
    problems.extend(_cross_check(objects))
    order = {str(f): i for i, f in enumerate(files)}
    problems.sort(key=lambda p: (order.get(p.file, -1), p.line or 0))
    if any(p.severity == "error" for p in problems):
        return None, problems
    issuers = [o for _, o in objects if isinstance(o, JwtIssuer)]
    policies = [o for _, o in objects if isinstance(o, Policy)]
    roles = [o for _, o in objects if isinstance(o, Role)]
    return IamSet(issuers, policies, roles, [p for p in problems if p.severity == "warning"]), problems


def _cross_check(objects: list[tuple[_Doc, Any]]) -> list[Problem]:
    """Duplicate names and issuers, Roles naming missing Policies, and the set-wide lints."""
    problems: list[Problem] = []
    seen: dict[tuple[str, str], _Doc] = {}
    seen_iss: dict[str, _Doc] = {}

    def err(doc: _Doc, field: str | None, message: str, severity: Literal["error", "warning"] = "error") -> None:
        line = doc.lines.get(field or "", doc.line)
        problems.append(Problem(doc.file, line, doc.kind, doc.name, field, message, severity))

    for doc, obj in objects:
        if doc.kind and doc.name:
            first = seen.setdefault((doc.kind, doc.name), doc)
            if first is not doc:
                err(
                    doc,
                    "metadata.name",
                    f"metadata.name: duplicate {doc.kind} name (first at {first.file}:{first.lines['metadata.name']})",
                )
        if isinstance(obj, JwtIssuer):
            first = seen_iss.setdefault(obj.iss, doc)
            if first is not doc:
                err(
                    doc,
                    "spec.iss",
                    f"spec.iss: {obj.iss!r} is already used by {first.kind}/{first.name} "
                    f"({first.file}:{first.lines['spec.iss']})",
                )
    policy_names = {d.name for d, o in objects if d.kind == "Policy"}
    used: set[str] = set()
    issuer_count = sum(1 for d, _ in objects if d.kind == "JwtIssuer")
    for doc, obj in objects:
        for path, name in doc.refs:
            used.add(name)
            if name not in policy_names:
                err(doc, path, f"{path}: no Policy named {name!r}")
        if isinstance(obj, Role):
            for message in lint.role_issuer(obj, issuer_count):
                err(doc, "spec.condition", message, "warning")
    roles_seen = any(d.kind == "Role" for d, _ in objects)
    for doc, obj in objects:
        if isinstance(obj, Policy) and roles_seen and obj.name not in used:
            err(doc, None, "no Role uses this Policy", "warning")
    return problems


def load_iam(paths: Sequence[str | Path]) -> IamSet:
    """Load every object under ``paths``; raise :class:`IamLoadError` listing every error."""
    iamset, problems = check_paths(paths)
    if iamset is None:
        raise IamLoadError(
            [p for p in problems if p.severity == "error"], [p for p in problems if p.severity == "warning"]
        )
    return iamset
