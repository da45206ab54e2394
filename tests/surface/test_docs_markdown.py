"""The docs read as written: every Markdown table keeps its column count, the install lines name every extra."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ..helpers import ROOT

DOCS = [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]


def tables(text: str) -> list[list[str]]:
    """Each Markdown table of a page, as its rows."""
    found: list[list[str]] = []
    current: list[str] = []
    in_code = False
    for line in text.splitlines():
        if line.startswith("```"):
            in_code = not in_code
        if not in_code and line.startswith("|"):
            current.append(line)
        elif current:
            found.append(current)
            current = []
    if current:
        found.append(current)
    return found


def cells(row: str) -> int:
    return len(re.split(r"(?<!\\)\|", row.strip().strip("|")))


@pytest.mark.parametrize("page", DOCS, ids=lambda p: p.name)
def test_every_table_row_has_its_header_s_columns(page: Path) -> None:
    for table in tables(page.read_text()):
        width = cells(table[0])
        stray = [row for row in table if cells(row) != width]
        assert not stray, f"{page.name}: rows with other than {width} columns: {stray}"


def extras() -> list[str]:
    # pyproject.toml's [project.optional-dependencies] (tomllib is 3.11+; the package supports 3.10).
    section = (ROOT / "pyproject.toml").read_text().split("[project.optional-dependencies]\n", 1)[1].split("\n[", 1)[0]
    declared = re.findall(r"^([a-z][a-z0-9_-]*) = \[", section, re.M)
    assert len(declared) >= 9
    return sorted(name for name in declared if name != "dev")


def test_the_readme_lists_every_extra_and_the_docs_link_to_it() -> None:
    readme = (ROOT / "README.md").read_text()
    install = readme.split("## Install", 1)[1].split("\n## ", 1)[0]
    for extra in extras():
        assert f"`{extra}`" in install, f"README's install section does not list the {extra!r} extra"
    index = (ROOT / "docs" / "index.md").read_text().split("## Install", 1)[1].split("\n## ", 1)[0]
    assert "README.md#install" in index
    for extra in extras():
        assert f"`{extra}`" in index
    # `pip install atom_stripe` finds nothing: it is on no index yet.
    for line in index.splitlines():
        if line.startswith("pip install"):
            assert "/" in line.split("#")[0], line


def test_install_lines_use_a_scheme_pip_accepts() -> None:
    for page in [ROOT / "README.md", ROOT / "docs" / "index.md"]:
        for line in page.read_text().splitlines():
            m = re.search(r"atom_stripe(\[[^\]]*\])? @ (\S+?)\"", line)
            if m:
                assert re.match(r"(file|git\+https|https)://", m.group(2)), f"{page.name}: {line.strip()}"
