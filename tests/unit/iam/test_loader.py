"""Loading: one bad file per error case (file, line, kind/name and field named), lint warnings,
directories, every problem reported, nothing half-loaded; the Go duration parser."""

from __future__ import annotations

from pathlib import Path

import pytest

from faas_pro.errors import EXIT_ERROR, FaasProError
from faas_pro.iam import IamLoadError, Problem, check_paths, load_iam
from faas_pro.iam.duration import DurationError, parse_duration
from faas_pro.iam.yamltree import MAX_DEPTH

from ._data import DATA, SET, header

ERROR_FILES = sorted((DATA / "load_errors").glob("*.yaml"))
LINT_FILES = sorted((DATA / "lint").glob("*.yaml"))


@pytest.mark.parametrize("path", ERROR_FILES, ids=lambda p: p.stem)
def test_load_error_case(path: Path) -> None:
    exp = header(path, "expect")
    iamset, problems = check_paths([path])
    assert iamset is None
    errors = [p for p in problems if p.severity == "error"]
    hits = [
        p
        for p in errors
        if (exp["line"] is None or p.line == exp["line"])
        and (p.kind, p.name, p.field) == (exp["kind"], exp["name"], exp["field"])
        and exp["message"] in p.message
        and p.file == str(path)
    ]
    assert hits, "\n".join(map(str, errors))
    text = str(hits[0])
    assert text.startswith(f"{path}:{exp['line']}: " if exp["line"] else f"{path}")
    if exp["kind"] and exp["name"]:
        assert f": {exp['kind']}/{exp['name']}: " in text
    if exp["field"]:
        assert f": {exp['field']}: " in text
    with pytest.raises(IamLoadError) as info:
        load_iam([path])
    assert info.value.problems == errors
    assert isinstance(info.value, FaasProError) and info.value.exit_code == EXIT_ERROR


def test_error_cases_cover_the_issue() -> None:
    names = {p.stem for p in ERROR_FILES}
    for needed in (
        "unknown_kind",
        "unknown_operator",
        "unknown_action",
        "resource_empty_namespace",
        "resource_three_parts",
        "resource_spaces",
        "duplicate_name",
        "missing_policy",
        "role_no_principal",
        "bad_duration",
        "aud_not_list",
        "duplicate_key",
        "billion_laughs",
        "unknown_kind_frobnicator",
        "missing_kind",
    ):
        assert needed in names


@pytest.mark.parametrize("path", LINT_FILES, ids=lambda p: p.stem)
def test_lint_case(path: Path) -> None:
    expected = header(path, "expect-warnings")
    iamset, problems = check_paths([path])
    assert iamset is not None, "\n".join(map(str, problems))
    assert all(p.severity == "warning" for p in problems)
    assert len(problems) == len(expected), "\n".join(map(str, problems))
    for exp in expected:
        assert any(
            (p.line, p.kind, p.name, p.field) == (exp["line"], exp["kind"], exp["name"], exp["field"])
            and exp["message"] in p.message
            and ": warning: " in str(p)
            for p in problems
        ), (exp, [str(p) for p in problems])
    assert list(iamset.warnings) == problems


def test_examples_and_test_set_are_clean_or_only_warn() -> None:
    iamset, problems = check_paths([DATA / "examples"])
    assert iamset is not None and problems == []
    iamset, problems = check_paths([SET])
    assert iamset is not None
    assert all(p.severity == "warning" for p in problems)
    assert len(iamset.issuers) == 2 and len(iamset.policies) == 10 and len(iamset.roles) == 6


def test_every_error_is_reported_not_only_the_first(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(
        "apiVersion: iam.openfaas.com/v1\nkind: Policy\nmetadata: {name: p}\nspec:\n  statement:\n"
        "  - {sid: a, effect: allow, action: [Function:Read], resource: ['a:b:c']}\n"
    )
    (tmp_path / "b.yml").write_text(
        "apiVersion: iam.openfaas.com/v1\nkind: Role\nmetadata: {name: r}\nspec: {policy: [missing]}\n"
    )
    iamset, problems = check_paths([tmp_path])
    assert iamset is None
    fields = [p.field for p in problems]
    assert fields == [
        "spec.statement[0].effect",
        "spec.statement[0].action[0]",
        "spec.statement[0].resource[0]",
        "spec",
        "spec.policy[0]",
    ]
    assert [Path(p.file).name for p in problems] == ["a.yaml"] * 3 + ["b.yml"] * 2


def test_nothing_half_loaded(tmp_path: Path) -> None:
    good = (DATA / "examples" / "staging.yaml").read_text()
    (tmp_path / "good.yaml").write_text(good)
    (tmp_path / "bad.yaml").write_text(
        "apiVersion: iam.openfaas.com/v1\nkind: JwtIssuer\nmetadata: {name: x}\n"
        "spec: {iss: x, aud: [a], tokenExpiry: 1y}\n"
    )
    iamset, problems = check_paths([tmp_path])
    assert iamset is None and len(problems) == 1
    with pytest.raises(IamLoadError):
        load_iam([tmp_path])


def test_directories_recurse_and_skip_hidden_and_other_files(tmp_path: Path) -> None:
    (tmp_path / "nested" / "deeper").mkdir(parents=True)
    (tmp_path / "..2024_01_01").mkdir()  # a ConfigMap mount's hidden data directory
    src = (DATA / "examples" / "staging.yaml").read_text()
    (tmp_path / "nested" / "deeper" / "objects.yml").write_text(src)
    (tmp_path / "..2024_01_01" / "objects.yaml").write_text(src)  # would duplicate every name
    (tmp_path / "README.md").write_text("not: [yaml")
    (tmp_path / "notes.txt").write_text("kind: nonsense")
    iamset = load_iam([tmp_path])
    assert set(iamset.policies) == {"staging-rw"}


def test_missing_path_and_empty_directory(tmp_path: Path) -> None:
    iamset, problems = check_paths([tmp_path / "nope.yaml"])
    assert iamset is None and str(problems[0]) == f"{tmp_path / 'nope.yaml'}: no such file or directory"
    iamset, problems = check_paths([tmp_path])
    assert iamset is not None and problems[0].severity == "warning"
    assert len(iamset.issuers) == len(iamset.policies) == len(iamset.roles) == 0


def test_not_utf8_and_too_large(tmp_path: Path) -> None:
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes(b"apiVersion: iam.openfaas.com/v1\nkind: Policy\nmetadata: {name: caf\xe9}\n")
    _, problems = check_paths([bad])
    assert str(problems[0]) == f"{bad}:3: not valid UTF-8"
    big = tmp_path / "big.yaml"
    big.write_bytes(b"#" * (4 * 1024 * 1024 + 1))
    _, problems = check_paths([big])
    assert "larger than" in problems[0].message


@pytest.mark.parametrize(
    "text",
    [
        "a: " + "[" * 5000 + "]" * 5000 + "\n",  # beyond libyaml's own limit and Python's recursion
        "a: " + "{b: " * 5000 + "1" + "}" * 5000 + "\n",
        "a: " + "[" * (MAX_DEPTH + 2) + "]" * (MAX_DEPTH + 2) + "\n",  # within theirs, beyond ours
        "".join("  " * i + "k:\n" for i in range(MAX_DEPTH + 2)) + "  " * (MAX_DEPTH + 2) + "v\n",
    ],
    ids=["flow-5000", "mapping-5000", "flow-66", "block-66"],
)
def test_deep_nesting_is_named_by_faas_pro(tmp_path: Path, text: str) -> None:
    """The bound is ours: the same reason with every PyYAML, with or without libyaml, on every Python."""
    deep = tmp_path / "deep.yaml"
    deep.write_text(text)
    iamset, problems = check_paths([deep])
    assert iamset is None and len(problems) == 1
    assert problems[0].message == f"nested more than {MAX_DEPTH} levels deep"


def test_deep_nesting_reason_is_the_same_without_libyaml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import yaml

    deep = tmp_path / "deep.yaml"
    deep.write_text("a: " + "[" * 1500 + "]" * 1500 + "\n")  # past Python's recursion limit
    monkeypatch.delattr(yaml, "CSafeLoader", raising=False)  # the pure-Python parser: RecursionError
    _, problems = check_paths([deep])
    assert [p.message for p in problems] == [f"nested more than {MAX_DEPTH} levels deep"]


def test_load_error_message_is_one_line_with_the_first_problem(tmp_path: Path) -> None:
    path = DATA / "load_errors" / "unknown_action.yaml"
    with pytest.raises(IamLoadError) as info:
        load_iam([path])
    line = info.value.line()
    assert "\n" not in line and f"{path}:11: Policy/p: spec.statement[0].action[1]" in line
    assert "faas-pro iam validate" in line


def test_problem_str_formats() -> None:
    assert str(Problem("f.yaml", 3, "Role", "r", "spec", "spec: bad")) == "f.yaml:3: Role/r: spec: bad"
    assert str(Problem("f.yaml", None, None, None, None, "bad")) == "f.yaml: bad"
    assert str(Problem("f.yaml", 2, "Role", None, None, "bad", "warning")) == "f.yaml:2: Role: warning: bad"
    assert str(Problem("f.yaml", 3, "Frobnicator", "x", "kind", "kind: bad")) == "f.yaml:3: Frobnicator/x: kind: bad"
    assert str(Problem("f.yaml", 2, None, "x", "kind", "kind: bad")) == "f.yaml:2: ?/x: kind: bad"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("12h", 43200),
        ("90m", 5400),
        ("1h30m", 5400),
        ("1.5h", 5400),
        ("0.1h", 360),
        ("3600s", 3600),
        ("1500ms", 1.5),
        ("2h45m30.5s", 9930.5),
        ("0", 0),
        ("+5s", 5),
        ("-5s", -5),
        ("1us", 1e-6),
        ("1µs", 1e-6),
        ("1μs", 1e-6),
        ("1ns", 1e-9),
        (".5s", 0.5),
        ("5.s", 5),
    ],
)
def test_go_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == round(seconds * 1_000_000_000)


@pytest.mark.parametrize(
    "text",
    ["", "12", "1d", "1y", "h", "1.h.", ".s", "1h 30m", " 1h", "1H", "1hour", "٣h", "99999999999999999999999h", "-"],
)
def test_bad_go_durations(text: str) -> None:
    with pytest.raises(DurationError):
        parse_duration(text)
