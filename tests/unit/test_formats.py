"""faas-cli output formats against expected files in tests/data/formats (written independently with
printf-style formatting and hand-typed Go time strings)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from faas_pro import formats

DATA = Path(__file__).resolve().parents[1] / "data" / "formats"
FUNCTIONS = json.loads((DATA / "functions.json").read_text(encoding="utf-8"))


def expected(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("file", "order", "kw"),
    [
        ("list.txt", "name", {}),
        ("list-verbose.txt", "name", {"verbose": True}),
        ("list-quiet.txt", "name", {"quiet": True}),
        ("list-invocations.txt", "invocations", {}),
        ("list-creation-quiet.txt", "creation", {"quiet": True}),
    ],
)
def test_list_formats(file: str, order: str, kw: dict[str, bool]) -> None:
    assert formats.functions_table(formats.sort_functions(FUNCTIONS, order), **kw) == expected(file)


def test_json_and_namespaces() -> None:
    assert formats.functions_json(formats.sort_functions(FUNCTIONS)) == expected("list.json")
    assert formats.namespaces(["openfaas-fn", "staging"]) == expected("namespaces.txt")
    assert formats.namespaces([]) == "Namespaces:\n"


def test_empty_list_prints_the_header_only() -> None:
    assert formats.functions_table([]) == "Function                      \tInvocations    \tReplicas\n"
    assert formats.functions_table([], quiet=True) == ""


@pytest.mark.parametrize(
    ("value", "go"),
    [
        ("2024-05-01T10:20:30Z", "2024-05-01 10:20:30 +0000 UTC"),
        ("2024-05-01T10:20:30.123456789Z", "2024-05-01 10:20:30.123456789 +0000 UTC"),
        ("2024-05-01T10:20:30.120000000Z", "2024-05-01 10:20:30.12 +0000 UTC"),
        ("2024-05-01T10:20:30.000Z", "2024-05-01 10:20:30 +0000 UTC"),
        ("2024-05-01T10:20:30+02:00", "2024-05-01 10:20:30 +0200 +0200"),
        ("2024-05-01T10:20:30-09:30", "2024-05-01 10:20:30 -0930 -0930"),
        ("2024-05-01T10:20:30+00:00", "2024-05-01 10:20:30 +0000 UTC"),
        (None, "0001-01-01 00:00:00 +0000 UTC"),
        ("yesterday", "0001-01-01 00:00:00 +0000 UTC"),
        (1714558830, "0001-01-01 00:00:00 +0000 UTC"),
    ],
)
def test_go_time_string(value: object, go: str) -> None:
    assert formats.go_time_string(value) == go


def test_counts_are_truncated_and_bad_values_are_zero() -> None:
    fns = [
        {"name": "a", "invocationCount": 2.99, "replicas": 1},
        {"name": "b", "invocationCount": "7", "replicas": True},
        {"name": "c", "invocationCount": 1e400},
    ]
    assert formats.functions_table(fns).splitlines()[1:] == [
        "a                             \t2              \t1    ",
        "b                             \t0              \t0    ",
        "c                             \t0              \t0    ",
    ]
