"""Pass 2, the shape of a document: field checks, and one way of naming the object in every problem."""

from __future__ import annotations

from typing import Any

import pytest

from faas_pro.iam.schema import (
    API_VERSION,
    At,
    Source,
    expect_mapping,
    expect_string,
    expect_strings,
    read_header,
    type_name,
)
from faas_pro.iam.yamltree import YMap, documents


def _value(text: str) -> Any:
    [doc] = documents(text)
    return doc.value


def test_every_problem_names_the_object_the_same_way() -> None:
    src = Source("f.yaml", 1, "Role", "r")
    src.error(4, "spec.policy[0]", "bad")
    src.error(None, None, "worse")
    assert [str(p) for p in src.problems] == ["f.yaml:4: Role/r: spec.policy[0]: bad", "f.yaml: Role/r: worse"]
    assert src.failed and src.problems[0].field == "spec.policy[0]"
    assert not Source("f.yaml", 1).failed


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("kind: Frobnicator\nmetadata: {name: gizmo}\n", "f.yaml:1: Frobnicator/gizmo: kind: expected one of"),
        ("metadata: {name: gizmo}\n", "f.yaml:1: ?/gizmo: kind: expected one of"),
        ("kind: 7\nmetadata: {name: gizmo}\n", "f.yaml:1: ?/gizmo: kind: expected one of"),
    ],
)
def test_an_unknown_or_missing_kind_still_names_the_object(text: str, expected: str) -> None:
    src = Source("f.yaml", 1)
    assert read_header(src, _value(f"apiVersion: {API_VERSION}\n" + text + "spec: {}\n")) is None
    kind_problems = [str(p) for p in src.problems if p.field == "kind"]
    assert len(kind_problems) == 1 and kind_problems[0].replace(":2:", ":1:").startswith(expected)


def test_header_is_typed_and_an_invalid_name_does_not_stop_the_spec_checks() -> None:
    src = Source("f.yaml", 1)
    text = f"apiVersion: {API_VERSION}\nkind: Role\nmetadata: {{name: r, namespace: x}}\nspec: {{a: 1}}\n"
    h = read_header(src, _value(text))
    assert h is not None and src.problems == []
    assert (h.kind, h.name, h.spec) == ("Role", At("r", 3, "metadata.name"), {"a": 1})
    assert h.namespace == At("x", 3, "metadata.namespace")
    src = Source("f.yaml", 1)
    h = read_header(src, _value(text.replace("name: r", "name: R R")))
    assert h is not None and h.name is None and h.spec == {"a": 1}
    assert [p.field for p in src.problems] == ["metadata.name"] and src.problems[0].name == "R R"


def test_top_level_problems() -> None:
    src = Source("f.yaml", 1)
    assert read_header(src, _value("apiVersion: v2\nkind: Role\nextra: 1\nmetadata: {name: r}\n")) is None
    assert [p.field for p in src.problems] == ["apiVersion", "extra", "spec"]
    src = Source("f.yaml", 1)
    assert read_header(src, _value("- a\n")) is None
    assert src.problems[0].message == "expected a mapping with apiVersion, kind, metadata and spec, got a list"


def _check(fn: Any, text: str, *args: Any) -> tuple[Any, list[str]]:
    src = Source("f.yaml", 1)
    m = _value(text)
    assert isinstance(m, YMap)
    return fn(src, m, *args), [p.message for p in src.problems]


def test_expect_string() -> None:
    assert _check(expect_string, "a: x\n", "a", "spec.a") == (At("x", 1, "spec.a"), [])
    assert _check(expect_string, "b: x\n", "a", "spec.a") == (None, ["spec.a: is required (a string)"])
    assert _check(expect_string, "b: x\n", "a", "spec.a", False) == (None, [])
    assert _check(expect_string, "a: 1\n", "a", "spec.a")[1] == ["spec.a: expected a string, got a number (quote it)"]
    assert "must be non-empty" in _check(expect_string, "a: ' x'\n", "a", "spec.a")[1][0]


def test_expect_strings_gives_each_item_its_line_and_path() -> None:
    got, problems = _check(expect_strings, "a:\n- x\n- y\n", "a", "spec.a")
    assert problems == [] and got == [At("x", 2, "spec.a[0]"), At("y", 3, "spec.a[1]")]
    got, problems = _check(expect_strings, "a: [x, 1, '']\n", "a", "spec.a")
    assert got is None and [p.split(":")[0] for p in problems] == ["spec.a[1]", "spec.a[2]"]
    assert _check(expect_strings, "a: []\n", "a", "spec.a")[1] == ["spec.a: must not be empty"]
    assert "expected a list, got a string" in _check(expect_strings, "a: x\n", "a", "spec.a")[1][0]


def test_expect_mapping_refuses_an_empty_optional_key() -> None:
    assert _check(expect_mapping, "a: {b: 1}\n", "a", "spec.a") == ({"b": 1}, [])
    assert _check(expect_mapping, "a:\n", "a", "spec.a", False)[1] == [
        "spec.a: is empty: give a mapping or leave the key out"
    ]
    assert _check(expect_mapping, "a: [1]\n", "a", "spec.a")[1] == ["spec.a: expected a mapping, got a list"]


@pytest.mark.parametrize(
    ("value", "name"),
    [
        (None, "nothing (null)"),
        (True, "a boolean"),
        (1.5, "a number"),
        ("x", "a string"),
        ([], "a list"),
        ({}, "a mapping"),
    ],
)
def test_type_names(value: Any, name: str) -> None:
    assert type_name(value) == name
