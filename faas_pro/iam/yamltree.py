"""YAML text -> documents of plain values that remember their lines (the loader's first pass).

Our own walk over PyYAML's node tree, safe tags only: every mapping and sequence remembers its own
line and the line of each value; duplicate keys are errors (PyYAML would keep the last one), merge
keys and non-plain tags are refused, alias expansion is bounded (:data:`MAX_NODES`) and so is
nesting (:data:`MAX_DEPTH`). Nesting is counted by us, so the reason is the same with or without
libyaml and on every PyYAML and Python version (their own limits and wordings differ).

A problem in one document (a duplicate key, a tag) is reported for that document, naming its
object when its ``kind`` and ``metadata.name`` can be read; the next documents are still read.
Text that is not YAML at all stops the file (:class:`YamlError`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import yaml

__all__ = ["MAX_DEPTH", "MAX_NODES", "Document", "TooDeep", "YMap", "YSeq", "YamlError", "documents", "nesting_line"]

MAX_NODES = 200_000  # per document, counting alias expansions (billion-laughs guard)
MAX_DEPTH = 64
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_STR = "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"


class YMap(dict[str, Any]):
    """A YAML mapping that remembers its own line and the line of each value."""

    line: int
    lines: dict[str, int]

    def line_of(self, key: str) -> int:
        """The line of ``key``'s value, or the mapping's own line when the key is absent."""
        return self.lines.get(key, self.line)


class YSeq(list[Any]):
    """A YAML sequence that remembers its own line and the line of each item."""

    line: int
    lines: list[int]


class YamlError(Exception):
    """The text is not YAML we accept; ``field`` is the path of the node concerned, when known."""

    def __init__(self, line: int | None, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.line = line
        self.message = message
        self.field = field


@dataclass(frozen=True)
class Document:
    """One non-empty document: its value, or the error that stopped reading it.

    ``kind`` and ``name`` are read from the raw nodes (plain strings only) so that even a
    document that is not valid YAML for us can be named in a problem.
    """

    line: int
    value: Any
    error: YamlError | None = None
    kind: str | None = None
    name: str | None = None


class TooDeep(YamlError):
    """Collections nest deeper than :data:`MAX_DEPTH`: reported for the file, by its first line."""

    def __init__(self, line: int | None) -> None:
        super().__init__(line, f"nested more than {MAX_DEPTH} levels deep")


def nesting_line(text: str) -> int | None:
    """The line of the first collection nested deeper than :data:`MAX_DEPTH`, or None.

    Counted on the events of PyYAML's pure-Python parser, a state machine without recursion and
    without a depth limit of its own (libyaml stops at its own limit, in its own words). The count
    is the walker's: mappings and sequences inside mappings and sequences. Events after a syntax
    error are not seen: None then means "not too deep before the first syntax error".
    """
    import yaml

    parser = yaml.SafeLoader(text)
    depth = 0
    try:
        while parser.check_event():
            event = parser.get_event()  # type: ignore[no-untyped-call]
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH + 1:  # the document's own collection is depth 0
                    mark = event.start_mark
                    return mark.line + 1 if mark is not None else 1
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError:
        return None
    finally:
        parser.dispose()
    return None


def documents(text: str) -> Iterator[Document]:
    """Every non-empty document of ``text``; raise :class:`YamlError` when the text is not YAML."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: same nodes, ~10x faster
    try:
        for node in yaml.compose_all(text, Loader=loader):
            if node is None:
                continue
            line = node.start_mark.line + 1
            kind, name = _identity(node)
            try:
                value = _Walker().walk(node, 0, "")
            except TooDeep:
                raise  # for the whole file, as when the parser itself gives up
            except YamlError as e:
                yield Document(line, None, e, kind, name)
                continue
            if value is not None:
                yield Document(line, value, None, kind, name)
    except (yaml.YAMLError, RecursionError) as e:
        # Our bound first: a parser that gave up on deep nesting did so in its own words.
        deep = nesting_line(text)
        if deep is not None:
            raise TooDeep(deep) from None
        if isinstance(e, yaml.MarkedYAMLError):
            mark = e.problem_mark or e.context_mark
            at = mark.line + 1 if mark is not None else None
            raise YamlError(at, f"invalid YAML: {e.problem or e.context}") from None
        raise YamlError(None, f"invalid YAML: {e}") from None


def _plain_scalar(node: yaml.Node | None) -> str | None:
    import yaml

    if isinstance(node, yaml.ScalarNode) and node.tag == _STR and isinstance(node.value, str):
        return node.value
    return None


def _child(node: yaml.Node, key: str) -> yaml.Node | None:
    import yaml

    if not isinstance(node, yaml.MappingNode) or node.tag != _MAP:
        return None
    for k, v in node.value:
        if _plain_scalar(k) == key:
            return v  # type: ignore[no-any-return]
    return None


def _identity(node: yaml.Node) -> tuple[str | None, str | None]:
    """``kind`` and ``metadata.name`` when they are plain strings in the raw node tree."""
    kind = _plain_scalar(_child(node, "kind"))
    meta = _child(node, "metadata")
    name = _plain_scalar(_child(meta, "name")) if meta is not None else None
    return kind or None, name or None


class _Walker:
    def __init__(self) -> None:
        import yaml

        self._yaml = yaml
        self._constructor = yaml.constructor.SafeConstructor()
        self._count = 0

    def walk(self, node: Any, depth: int, path: str) -> Any:
        yaml = self._yaml
        self._count += 1
        line = node.start_mark.line + 1
        where = path or None
        if self._count > MAX_NODES:
            raise YamlError(line, f"document too large (more than {MAX_NODES} YAML nodes, aliases expanded)", where)
        if isinstance(node, yaml.ScalarNode):
            try:
                return self._constructor.construct_object(node)
            except (yaml.YAMLError, ValueError, TypeError, OverflowError):  # e.g. `!!int x`
                tag = str(node.tag).rsplit(":", 1)[-1]
                text = str(node.value)[:40]
                raise YamlError(line, f"invalid YAML value: {text!r} is not a valid {tag}", where) from None
        if node.tag not in (_SEQ, _MAP):
            raise YamlError(line, f"unsupported YAML tag {node.tag!r}", where)
        if depth > MAX_DEPTH:  # collections only, as nesting_line counts them
            raise TooDeep(line)
        if isinstance(node, yaml.SequenceNode):
            seq = YSeq()
            seq.line, seq.lines = line, []
            for i, item in enumerate(node.value):
                seq.append(self.walk(item, depth + 1, f"{path}[{i}]"))
                seq.lines.append(item.start_mark.line + 1)
            return seq
        if isinstance(node, yaml.MappingNode):
            m = YMap()
            m.line, m.lines = line, {}
            for key_node, value_node in node.value:
                kline = key_node.start_mark.line + 1
                if key_node.tag == _MERGE:
                    raise YamlError(kline, "merge keys (<<) are not supported in IAM objects", where)
                key = self.walk(key_node, depth + 1, path)
                if not isinstance(key, str):
                    raise YamlError(kline, f"mapping keys must be strings, got {key!r}", where)
                child = f"{path}.{key}" if path else key
                if key in m:
                    raise YamlError(kline, f"duplicate key {key!r} (first at line {m.lines[key]})", child)
                m[key] = self.walk(value_node, depth + 1, child)
                m.lines[key] = value_node.start_mark.line + 1 if value_node.value not in ("", None) else kline
            return m
        raise YamlError(line, "unsupported YAML node", where)
