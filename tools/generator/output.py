"""Output: the generated Python formatted and linted by ruff (the project's own settings), then
written. Formatting happens before anything is compared or written, so the drift test compares
formatted text and the generated tree needs no lint exceptions."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

from .names import ROOT, WIDTH

#: The project's ruff settings (line length, rules): generated code is held to them too.
CONFIG = ROOT / "pyproject.toml"


def format_files(files: dict[str, str], config: Path = CONFIG) -> dict[str, str]:
    """Every ``.py``/``.pyi`` file of ``files`` (path -> text) through ``ruff check --fix`` and
    ``ruff format``, its long docstring lines wrapped; other files unchanged. Raises
    ``RuntimeError`` with ruff's report if anything it cannot fix remains."""
    python = {rel: text for rel, text in files.items() if rel.endswith((".py", ".pyi"))}
    if not python:
        return dict(files)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for rel, text in python.items():
            path = folder / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(strip_trailing_spaces(text))
        ruff(config, folder, "check", "--fix", "--exit-zero")
        ruff(config, folder, "format")
        for rel in python:
            path = folder / rel
            path.write_text(wrap_docstrings(path.read_text()))
        ruff(config, folder, "format")
        ruff(config, folder, "check")
        formatted = {rel: (folder / rel).read_text() for rel in python}
    return {rel: formatted.get(rel, text) for rel, text in files.items()}


def ruff(config: Path, folder: Path, *args: str) -> None:
    command = [sys.executable, "-m", "ruff", *args, "--quiet", "--no-cache", "--config", str(config), str(folder)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"ruff {' '.join(args)} failed on the generated code:\n{done.stdout}{done.stderr}")


def strip_trailing_spaces(text: str) -> str:
    """Stripe's docstrings carry trailing spaces, blank lines of spaces included (W291, W293)."""
    return "\n".join(line.rstrip() for line in text.split("\n"))


def wrap_docstrings(text: str, width: int = WIDTH) -> str:
    """Lines of docstrings longer than ``width`` wrapped at words, at their own indentation
    (ruff formats code but never rewraps text inside a string). A word longer than the line (a
    URL) stays whole, as ruff's E501 allows. A string annotation alone on a line, too long
    (``"Literal['']|dict[str, ...]"``), is cut into implicitly joined pieces at its ``|``."""
    out: list[str] = []
    inside = False
    for line in text.split("\n"):
        starts_docstring = line.lstrip().startswith(('"""', 'r"""'))
        annotation = LONE_STRING.fullmatch(line)
        if len(line) > width and annotation and not inside:
            out += split_string(annotation[1], annotation[2], width)
        elif len(line) > width and (inside or starts_docstring):
            indent = line[: len(line) - len(line.lstrip())]
            out += textwrap.wrap(
                line.strip(),
                width=width,
                initial_indent=indent,
                subsequent_indent=indent,
                break_long_words=False,
                break_on_hyphens=False,
            )
        else:
            out.append(line)
        if line.count('"""') % 2:
            inside = not inside
    return "\n".join(out)


LONE_STRING = re.compile(r'(\s*)"([^"\\]*)"')


def split_string(indent: str, text: str, width: int) -> list[str]:
    """``text`` as implicitly joined string pieces, each line within ``width``, cut after ``|``."""
    pieces: list[str] = []
    for part in re.split(r"(?<=\|)", text):
        if pieces and len(indent) + len(pieces[-1]) + len(part) + 2 <= width:
            pieces[-1] += part
        else:
            pieces.append(part)
    return [f'{indent}"{piece}"' for piece in pieces]


def write(files: dict[str, str], root: Path) -> None:
    """Write the generated files under ``root`` (the repository), replacing ``_generated/`` whole."""
    generated = root / "src" / "atom_stripe" / "_generated"
    if generated.exists():
        shutil.rmtree(generated)
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
