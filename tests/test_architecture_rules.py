"""Rules of the layout that import-linter does not state (its contracts run in `make lint`): no module imports
another module's private name, and no module outside gridmap/storage imports the storage mechanics' internals."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def private_imports(files) -> list[str]:
    found = []
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(("gridmap", "geodata")):
                found += [
                    f"{path.relative_to(ROOT)}:{node.lineno}: {node.module}.{alias.name}"
                    for alias in node.names
                    if alias.name.startswith("_") and not alias.name.startswith("__")
                ]
    return found


def test_no_module_imports_a_private_name_of_another():
    files = [
        p
        for folder in ("gridmap", "geodata", "bench", "tests")
        for p in (ROOT / folder).rglob("*.py")
        if "migrations" not in p.parts
    ]
    assert private_imports(files) == []


def test_the_scan_sees_a_private_import(tmp_path):
    rogue = ROOT / "tests" / "_rogue_probe.py"
    try:
        rogue.write_text("from gridmap.queries.coverage import _hidden, visible\n")
        assert private_imports([rogue]) == ["tests/_rogue_probe.py:1: gridmap.queries.coverage._hidden"]
    finally:
        rogue.unlink()
