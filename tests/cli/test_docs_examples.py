"""The IAM objects shown in the docs load without errors: all blocks of a page together, as an
operator would drop them into one --iam directory, and on the CI and provider pages each block alone."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from faas_pro.iam import check_paths

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted([*ROOT.glob("docs/*.md"), *ROOT.glob("docs/providers/*.md"), ROOT / "README.md"])
BLOCK = re.compile(r"```yaml\n(.*?)```", re.S)


def _iam_blocks(page: Path) -> list[str]:
    # a block with "{...}" is a schematic outline, not an object to load
    return [b for b in BLOCK.findall(page.read_text()) if "apiVersion: iam.openfaas.com/v1" in b and "{...}" not in b]


PAGES_WITH_OBJECTS = [p for p in PAGES if _iam_blocks(p)]


def test_the_docs_do_show_iam_objects() -> None:
    names = {p.name for p in PAGES_WITH_OBJECTS}
    assert {"ci.md", "iam.md", "keycloak.md", "auth0.md", "okta.md", "google.md", "entra.md"} <= names


@pytest.mark.parametrize("page", PAGES_WITH_OBJECTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_iam_objects_in_docs_load(page: Path, tmp_path: Path) -> None:
    blocks = _iam_blocks(page)
    # CI and provider pages give complete, self-contained sets per block; reference pages (iam.md)
    # show one object per block and are checked only together
    standalone = page.name == "ci.md" or page.parent.name == "providers"
    for i, block in enumerate(blocks if standalone else []):
        f = tmp_path / f"block{i}.yaml"
        f.write_text(block)
        _, problems = check_paths([f])
        errors = [str(p) for p in problems if p.severity == "error"]
        assert not errors, f"{page.name} block {i}:\n" + "\n".join(errors)
    together = tmp_path / "all"
    together.mkdir()
    for i, block in enumerate(blocks):
        (together / f"block{i}.yaml").write_text(block)
    _, problems = check_paths([together])
    errors = [str(p) for p in problems if p.severity == "error"]
    assert not errors, f"{page.name}, all blocks together:\n" + "\n".join(errors)
