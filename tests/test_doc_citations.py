"""Every file a doc, comment or docstring cites exists in the repository, so a reader who follows a citation
finds it. Citations of material outside the repository (the steering DOMAIN.md, reference/*.md) are refused:
the domain lives in docs/domain.md."""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ["gridmap", "geodata", "bench", "tests", "map_templates", ".ci"]
SUFFIXES = {".py", ".md", ".html", ".js", ".sh", ".css", ".toml"}
# A path with a directory part and a known ending, e.g. docs/security.md, services/grids/editing.py.
CITED = re.compile(r"(?<![\w/.-])((?:[\w-]+/)+[\w-]+\.(?:py|md|js|html|css|sh|json|toml|xlsx|txt))\b")
OUTSIDE = re.compile(r"(?<![\w/])(DOMAIN\.md|DESIGN\.md|reference/\w+\.md)")
# Roots a citation may be relative to: the repository, the Django project, the static and template folders.
BASES = ["", "gridmap/", "gridmap/static/", "gridmap/static/gridmap/", "map_templates/"]
GENERATED = (
    "gridmap/static/vendor/",
    "bench/results/",
    "test-artifacts/",
    "staticfiles/",
    "node_modules/",
    "/tmp/",
    "tmp/",
    "locale/",
)


def _documents() -> list[Path]:
    files = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    for folder in SOURCES:
        files += [
            p
            for p in sorted((ROOT / folder).rglob("*"))
            if p.suffix in SUFFIXES and p.is_file() and not {"vendor", "migrations", "results"} & set(p.parts)
        ]
    return files


def _resolves(cited: str, root: Path) -> bool:
    if cited.startswith(GENERATED) or "<" in cited or "*" in cited:
        return True
    return any((root / base / cited).exists() for base in BASES)


def _cited_text(path: Path) -> list[tuple[int, str]]:
    """(line number, text) of what a reader reads: a whole document, or a module's comments and docstrings
    (a string in code, such as a URL route, is not a citation)."""
    text = path.read_text(encoding="utf-8")
    if path.suffix != ".py":
        return list(enumerate(text.splitlines(), 1))
    lines = []
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type == tokenize.COMMENT or (
            token.type == tokenize.STRING and token.string.lstrip("rbuRBU")[:3] in ('"""', "'''")
        ):
            lines += [(token.start[0] + i, part) for i, part in enumerate(token.string.splitlines())]
    return lines


def missing_citations(files: list[Path], root: Path = ROOT) -> list[str]:
    missing = []
    for path in files:
        if path.name == Path(__file__).name:
            continue
        where = path.relative_to(root) if path.is_relative_to(root) else path
        for number, line in _cited_text(path):
            missing += [f"{where}:{number}: {cited}" for cited in CITED.findall(line) if not _resolves(cited, root)]
            missing += [f"{where}:{number}: {name} (outside the repository)" for name in OUTSIDE.findall(line)]
    return missing


def test_every_cited_file_exists():
    assert missing_citations(_documents()) == []


def test_a_made_up_citation_is_caught(tmp_path):
    doc = tmp_path / "note.md"
    doc.write_text(
        "See services/grids/no_such_module.py and DOMAIN.md; docs/domain.md and services/grids/editing.py are real.\n",
        encoding="utf-8",
    )
    problems = [p.split(": ", 1)[1] for p in missing_citations([doc])]
    assert problems == ["services/grids/no_such_module.py", "DOMAIN.md (outside the repository)"]
