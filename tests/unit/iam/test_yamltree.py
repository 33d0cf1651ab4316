"""Pass 1, YAML with line numbers: lines, strictness, bounds, and naming the document's object."""

from __future__ import annotations

import pytest

from faas_pro.iam.yamltree import (
    MAX_DEPTH,
    MAX_NODES,
    TooDeep,
    YamlError,
    YMap,
    YSeq,
    documents,
    nesting_line,
)


def test_values_remember_their_lines() -> None:
    [doc] = documents("a: 1\nb:\n  - x\n  - [y, z]\nc:\n")
    m = doc.value
    assert isinstance(m, YMap) and doc.line == 1 and m.line == 1
    assert (m.line_of("a"), m.line_of("b"), m.line_of("c"), m.line_of("absent")) == (1, 3, 5, 1)
    seq = m["b"]
    assert isinstance(seq, YSeq) and seq.lines == [3, 4] and seq[1] == ["y", "z"]


def test_empty_documents_are_skipped_and_each_document_starts_at_its_line() -> None:
    docs = list(documents("---\n---\na: 1\n---\n# nothing\n---\nb: 2\n"))
    assert [(d.line, d.value) for d in docs] == [(3, {"a": 1}), (7, {"b": 2})]


@pytest.mark.parametrize(
    ("body", "line", "field", "message"),
    [
        ("spec:\n  p: 1\n  p: 2\n", 5, "spec.p", "duplicate key 'p' (first at line 4)"),
        ("spec:\n  - &m {a: 1}\n  - {<<: *m}\n", 5, "spec[1]", "merge keys (<<) are not supported"),
        ("spec: !!python/object:os.system {}\n", 3, "spec", "unsupported YAML tag"),
        ("spec: {[1]: x}\n", 3, "spec", "mapping keys must be strings"),
        ("spec: !!int x\n", 3, "spec", "invalid YAML value: 'x' is not a valid int"),
        ("spec: !!timestamp 2024-13-45\n", 3, "spec", "invalid YAML value: '2024-13-45' is not a valid timestamp"),
    ],
)
def test_a_bad_document_names_its_object_and_the_next_is_still_read(
    body: str, line: int, field: str, message: str
) -> None:
    text = f"kind: Role\nmetadata: {{name: r}}\n{body}---\nkind: Policy\n"
    bad, good = documents(text)
    assert bad.error is not None and bad.value is None
    assert (bad.error.line, bad.error.field, bad.kind, bad.name) == (line, field, "Role", "r")
    assert message in bad.error.message
    assert good.error is None and good.kind == "Policy" and good.name is None


def test_the_name_is_read_only_from_plain_strings() -> None:
    [doc] = documents("kind: !!str Role\nmetadata: {name: 123}\nx: {a: 1, a: 2}\n")
    assert doc.error is not None and (doc.kind, doc.name) == ("Role", None)
    [doc] = documents("kind: [Role]\nmetadata: !!python/name:os {name: r}\n")
    assert doc.error is not None and (doc.kind, doc.name) == (None, None)


def test_text_that_is_not_yaml_stops_the_file_with_a_line() -> None:
    with pytest.raises(YamlError) as info:
        list(documents("a: 1\nb: [\n"))
    assert info.value.line is not None and info.value.message.startswith("invalid YAML: ")
    assert not isinstance(info.value, TooDeep)


def test_alias_expansion_is_bounded() -> None:
    text = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{n}: &{n} [{', '.join([f'*{p}'] * 10)}]\n" for p, n in zip("abcdef", "bcdefg", strict=True)
    )
    [doc] = documents(text)
    assert doc.error is not None and f"more than {MAX_NODES} YAML nodes" in doc.error.message


def _flow(n: int) -> str:
    return "[" * n + "]" * n + "\n"


def test_nesting_bound_is_ours_and_exact() -> None:
    """MAX_DEPTH + 1 nested collections (the document's own plus MAX_DEPTH levels) are fine."""
    assert nesting_line(_flow(MAX_DEPTH + 1)) is None
    [doc] = documents(_flow(MAX_DEPTH + 1))
    assert doc.error is None
    assert nesting_line(_flow(MAX_DEPTH + 2)) == 1
    with pytest.raises(TooDeep) as info:
        list(documents(_flow(MAX_DEPTH + 2)))
    assert (info.value.line, info.value.message) == (1, f"nested more than {MAX_DEPTH} levels deep")


@pytest.mark.parametrize(
    "text",
    [
        "a:\n" + "".join("  " * i + "- b:\n" for i in range(1, 80)),  # indentless sequences count too
        "".join("  " * i + "k:\n" for i in range(80)) + "  " * 80 + "v\n",
        "a: " + "{b: " * 80 + "1" + "}" * 80 + "\n",
    ],
    ids=["indentless", "block", "flow-mapping"],
)
def test_the_parser_count_and_the_walker_count_agree(text: str) -> None:
    """Below every parser's own limit the walker finds it; the parser-free count says the same line."""
    with pytest.raises(TooDeep) as info:
        list(documents(text))
    assert info.value.line == nesting_line(text)


def test_depth_through_aliases_is_counted_by_the_walker() -> None:
    inner = "[" * 40 + "]" * 40
    text = f"a: &deep {inner}\nb: " + "[" * 30 + "*deep" + "]" * 30 + "\n"
    assert nesting_line(text) is None  # the text itself is shallow enough
    with pytest.raises(TooDeep):
        list(documents(text))


def test_nesting_line_stops_quietly_at_a_syntax_error() -> None:
    assert nesting_line("a: [\n  b: ]]]\n") is None
