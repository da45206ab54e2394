"""The send path's layers import each other one way only: the requester knows the transports'
protocol, never a transport's library; each transport stands alone."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "atom_stripe"


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports, absolute (``atom_stripe.x`` for a relative one)."""
    package = ".".join(("atom_stripe", *path.relative_to(SRC).parent.parts))
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(p for p in (base, node.module or "") if p)
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def test_the_requester_knows_the_protocol_not_the_libraries_underneath() -> None:
    imported = _imports(SRC / "_request.py")
    assert "atom_stripe._transports.Transport" in imported
    assert not {m for m in imported if m.startswith(("aiohttp", "atom_stripe._transports.aiohttp"))}
    assert not {m for m in imported if m.startswith(("atom_stripe._transport.", "atom_stripe._aiohttp"))}


def test_transports_never_import_the_requester_nor_each_other_back() -> None:
    folder = SRC / "_transports"
    names = sorted(p.name for p in folder.glob("*.py"))
    assert names == ["__init__.py", "aiohttp.py", "auto.py", "body.py", "httpx.py"]
    for path in folder.glob("*.py"):
        imported = _imports(path)
        assert not {m for m in imported if m.startswith(("atom_stripe._request", "atom_stripe._client"))}, path.name
    # One direction only: auto picks aiohttp (lazily); aiohttp, httpx and body never import auto.
    for name in ("aiohttp.py", "httpx.py", "body.py"):
        assert not {m for m in _imports(folder / name) if m.startswith("atom_stripe._transports.auto")}, name
    assert not {m for m in _imports(folder / "httpx.py") if m.startswith("atom_stripe._transports.aiohttp")}
    assert not (SRC / "_transport.py").exists() and not (SRC / "_aiohttp.py").exists()
