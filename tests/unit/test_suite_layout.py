"""The test suite keeps one set of helpers (tests/support/__init__.py lists them): test modules and
conftest files import helpers from tests/support only, and the minter, the fake HTTP server and the
CLI runner exist once."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
SUPPORT = TESTS / "support"


def _modules() -> list[Path]:
    here = Path(__file__).resolve()
    return sorted(
        p for p in TESTS.rglob("*.py") if "node_modules" not in p.parts and SUPPORT not in p.parents and p != here
    )


def _imports(tree: ast.AST) -> list[str]:
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
        elif isinstance(node, ast.Import):
            names.extend(a.name for a in node.names)
    return names


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(TESTS)))
def test_helpers_come_from_tests_support_only(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imports = _imports(tree)
    others = [m for m in imports if m.startswith("tests.") and not m.startswith("tests.support")]
    assert others == [], f"{path.name} imports {others}: move what it needs to tests/support/"
    # one fake HTTP server (tests/support/fakehttp.py), one JWT minter (tests/support/tokens.py)
    assert "http.server" not in imports, f"{path.name}: use FakeHTTP from tests/support/fakehttp.py"
    source = ast.unparse(tree)
    assert "jwt.encode(" not in source, f"{path.name}: use mint() from tests/support/tokens.py"
    assert "urlsafe_b64encode(" not in source, f"{path.name}: use b64url() from tests/support/tokens.py"
    # one CLI runner: run_inproc, or run_cli/start_cli for a subprocess (tests/support/inproc.py)
    assert "'-m', 'faas_pro'" not in source, f"{path.name}: use run_cli/start_cli from tests/support/inproc.py"


def test_the_layout_check_sees_the_suite() -> None:
    names = {p.name for p in _modules()}
    assert {"conftest.py", "test_tokens_appendix_a.py", "test_device.py"} <= names
    assert not any(SUPPORT in p.parents for p in _modules())
