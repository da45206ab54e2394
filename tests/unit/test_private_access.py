"""Only ``atom_stripe._compat`` touches another package's private names.

The private names of httpx, httpcore and aiohttp are read from their installed sources (every
``self._name`` they assign and every ``_name`` they define); atom_stripe's code is parsed, and any
attribute access ``<something>._name`` with such a name, on anything but ``self`` or ``cls``
(and but :data:`OWN`), fails the test, as does any mention (attribute or string) of pydantic's private hooks."""

from __future__ import annotations

import ast
import importlib.util
import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "atom_stripe"
ALLOWED = SRC / "_compat.py"
#: pydantic's hooks that atom_stripe changes (its documented attributes it only reads are public).
PYDANTIC_PRIVATE = frozenset({"__pydantic_post_init__", "__pydantic_fields_set__"})
#: Documented names that start with an underscore (namedtuple's methods).
PUBLIC_UNDERSCORED = frozenset({"_replace", "_asdict", "_fields", "_make"})
#: atom_stripe's own private names that another package happens to use too (a page's state,
#: set by the service that fetched it).
OWN = frozenset({"_params", "_fetch"})
_DEFINED = re.compile(r"self\.(_[A-Za-z]\w*)\s*(?::[^=\n]*)?=|def (_[A-Za-z]\w*)|^\s*(_[A-Za-z]\w*)\s*[:=]", re.M)


def _private_names(package: str) -> frozenset[str]:
    spec = importlib.util.find_spec(package)
    assert spec is not None and spec.submodule_search_locations, package
    names: set[str] = set()
    for folder in spec.submodule_search_locations:
        for path in Path(folder).rglob("*.py"):
            for match in _DEFINED.finditer(path.read_text(encoding="utf-8")):
                names.add(next(g for g in match.groups() if g))
    return frozenset(n for n in names if not n.startswith("__") and n not in PUBLIC_UNDERSCORED)


@pytest.fixture(scope="module")
def third_party_private() -> frozenset[str]:
    return _private_names("httpx") | _private_names("httpcore") | _private_names("aiohttp")


def _is_self(node: ast.expr) -> bool:
    return isinstance(node, ast.Name) and node.id in ("self", "cls")


def _offences(path: Path, third_party: frozenset[str]) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        where = f"{path.relative_to(SRC)}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Attribute):
            if node.attr in PYDANTIC_PRIVATE:
                found.append(f"{where}: .{node.attr}")
            elif node.attr in third_party and node.attr not in OWN and not _is_self(node.value):
                found.append(f"{where}: .{node.attr}")
        elif isinstance(node, ast.Constant) and node.value in PYDANTIC_PRIVATE:
            found.append(f"{where}: {node.value!r}")
    return found


def test_only_compat_touches_other_packages_private_names(third_party_private: frozenset[str]) -> None:
    paths = [p for p in SRC.rglob("*.py") if p != ALLOWED and "_generated" not in p.parts]
    offences = [o for p in paths for o in _offences(p, third_party_private)]
    assert offences == [], "route these through atom_stripe._compat (with a guard in tests/unit/test_compat.py)"


def test_the_check_catches_each_kind_of_private_access(tmp_path: Path, third_party_private: frozenset[str]) -> None:
    """The scan is not vacuous: it sees httpx's, aiohttp's and pydantic's private names."""
    assert {"_transport_for_url", "_pool", "_conns", "_closed"} <= third_party_private
    sample = tmp_path / "sample.py"
    sample.write_text(
        "client._transport_for_url(url)\n"
        "connector._conns.clear()\n"
        "cls.__pydantic_post_init__ = None\n"
        "object.__setattr__(m, '__pydantic_fields_set__', s)\n"
        "self._pool = None\n"
        "parts._replace(netloc='x')\n"
    )
    global SRC
    saved, SRC = SRC, tmp_path
    try:
        found = _offences(sample, third_party_private)
    finally:
        SRC = saved
    assert sorted(found) == [
        "sample.py:1: ._transport_for_url",
        "sample.py:2: ._conns",
        "sample.py:3: .__pydantic_post_init__",
        "sample.py:4: '__pydantic_fields_set__'",
    ]
