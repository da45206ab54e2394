"""The generator's last step: ruff (the project's settings) on the rendered files, long text
wrapped, so that the generated tree passes the project's lint and format checks as it is."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ..helpers import ROOT

sys.path.insert(0, str(ROOT / "tools"))
from generator.names import WIDTH
from generator.output import format_files, split_string, wrap_docstrings

DOC = "A docstring whose only line is much longer than a line may be, so that it has to be wrapped at words."
MESSY = (
    "from typing import Dict, List\n"
    "import re\n\n\n"
    "def f(x: Dict[str, List[int]]) -> bool:  \n"  # trailing spaces
    f'    """{DOC} {DOC}"""\n'
    "    return bool(re.match('a', str(x)))\n"
)


def test_rendered_python_comes_out_linted_and_formatted_and_other_files_untouched() -> None:
    files = format_files({"pkg/mod.py": MESSY, "docs/page.md": "# Title  \n"})
    assert files["docs/page.md"] == "# Title  \n"
    text = files["pkg/mod.py"]
    assert text.startswith("import re\n\n\ndef f(x: dict[str, list[int]]) -> bool:\n")  # sorted, pep 585
    assert 'return bool(re.match("a", str(x)))' in text
    assert max(len(line) for line in text.splitlines()) <= WIDTH
    assert all(line == line.rstrip() for line in text.splitlines())
    for args in (["check", "--no-cache"], ["format", "--check", "--no-cache"]):
        done = subprocess.run(
            [sys.executable, "-m", "ruff", *args, "--config", str(ROOT / "pyproject.toml"), "--stdin-filename", "m.py"],
            input=text, capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr


def test_what_ruff_cannot_fix_stops_the_generator() -> None:
    with pytest.raises(RuntimeError, match="F821"):
        format_files({"pkg/mod.py": "def f() -> int:\n    return undefined_name\n"})


def test_long_docstring_lines_wrap_at_words_and_keep_a_long_word_whole() -> None:
    url = "https://docs.stripe.com/" + "x" * 130
    text = f'def f() -> None:\n    """\n    {"word " * 40}{url} end\n    """\n'
    lines = wrap_docstrings(text).splitlines()
    assert lines[0] == "def f() -> None:" and lines[-1] == '    """'
    assert f"    {url}" in lines
    assert all(len(line) <= WIDTH for line in lines if url not in line)
    assert " ".join(line.strip() for line in lines[2:-1]) == f"{'word ' * 40}{url} end".strip()


def test_code_lines_are_left_to_ruff() -> None:
    code = "x = " + " + ".join(["1"] * 80) + "\n"
    assert wrap_docstrings(code) == code


def test_a_long_string_annotation_is_cut_into_joined_pieces_at_its_bars() -> None:
    text = "Literal['']|dict[str, Literal[''] | list[" + "A" * 90 + "]]"
    pieces = split_string("        ", text, WIDTH)
    assert len(pieces) == 2 and all(len(p) <= WIDTH for p in pieces)
    assert "".join(p.strip()[1:-1] for p in pieces) == text
