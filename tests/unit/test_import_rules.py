"""No hand-written module imports a private (underscore-prefixed) name from another subpackage.

A subpackage (``testing``, ``contrib``, ``analytics``, ...) that needs something of another
reaches it by a public name: ``from ..types import fields_of``, not ``from .._params import
_fields``. Private names stay free to change inside their own package. Modules of one package
(``atom_stripe.testing._fake`` and ``atom_stripe.testing._billing``) may share private names and
submodules. ``_generated/`` is written by the generator and checked by its own drift test.
"""

from __future__ import annotations

import ast
from pathlib import Path

from ..helpers import ROOT

SRC = ROOT / "src"
PACKAGE = SRC / "atom_stripe"


def module_name(path: Path) -> tuple[str, str]:
    """A source file's module name and the package its relative imports start from."""
    parts = path.relative_to(SRC).with_suffix("").parts
    if parts[-1] == "__init__":
        name = ".".join(parts[:-1])
        return name, name
    name = ".".join(parts)
    return name, name.rpartition(".")[0]


def imported_from(package: str, node: ast.ImportFrom) -> str:
    """The absolute module an ``import from`` names."""
    if not node.level:
        return node.module or ""
    base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def owner(module: str) -> str:
    """The package a module belongs to: the package itself for a package's ``__init__``."""
    return module.rpartition(".")[0]


def is_package(module: str) -> bool:
    return (SRC / module.replace(".", "/") / "__init__.py").exists()


def violations(source: str, name: str, package: str) -> list[str]:
    """``module:line: from target import _name`` for each private name imported from elsewhere."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.ImportFrom):
            continue
        target = imported_from(package, node)
        if target != "atom_stripe" and not target.startswith("atom_stripe."):
            continue
        for alias in node.names:
            private = alias.name.startswith("_") and not alias.name.startswith("__")
            if not private:
                continue
            # ``from .pkg import _mod`` names a submodule of ``pkg``; ``from .mod import _name`` a
            # name of ``mod``: either way the name belongs to ``target`` if it is a package.
            home = target if is_package(target) else owner(target)
            if home != package:
                found.append(f"{name}:{node.lineno}: from {target} import {alias.name}")
    return found


def hand_written() -> list[Path]:
    return [p for p in sorted(PACKAGE.rglob("*.py")) if "_generated" not in p.relative_to(PACKAGE).parts]


def test_no_module_imports_a_private_name_from_another_subpackage() -> None:
    modules = hand_written()
    assert len(modules) > 50  # the walk found the package
    found = [v for path in modules for v in violations(path.read_text(), *module_name(path))]
    assert found == []


def test_the_rule_catches_a_private_import_across_subpackages() -> None:
    # The check itself: the import the fake used to make is caught, what the rule allows is not.
    name, package = module_name(PACKAGE / "testing" / "_wire.py")
    cases = {
        "from .._params import _fields": ["atom_stripe.testing._wire:1: from atom_stripe._params import _fields"],
        "from atom_stripe._validation._params import _schema": [
            "atom_stripe.testing._wire:1: from atom_stripe._validation._params import _schema"
        ],
        "from .._generated import _x": ["atom_stripe.testing._wire:1: from atom_stripe._generated import _x"],
        "from ..types import fields_of as _fields": [],
        "from .._validation import fields_of": [],
        "from ._store import _private_helper": [],
        "from . import _simulated": [],
        "from __future__ import annotations": [],
    }
    for line, expected in cases.items():
        assert violations(line + "\n", name, package) == expected, line
