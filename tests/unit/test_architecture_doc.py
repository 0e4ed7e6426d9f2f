"""ARCHITECTURE.md stays true: the tests it names exist, and code points at nothing outside."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "ARCHITECTURE.md"
# Documents that live outside the repository: a contributor who clones it cannot read them.
# (An issue number is history, not a document the code depends on, so it is not checked here.)
OUTSIDE = re.compile(r"DESIGN\.md|sdk-verified|tiktok-business-api\.md|\.\./shared/api")


def test_every_test_the_architecture_names_exists() -> None:
    text = DOC.read_text(encoding="utf-8")
    named = re.findall(r"`((?:tests/[\w/]+/)?test_\w+\.py)(?:::(\w+))?", text)
    assert len(named) >= 10
    missing = []
    for file, function in named:
        candidates = [ROOT / file] if "/" in file else list(ROOT.glob(f"tests/**/{file}"))
        if not candidates or not candidates[0].is_file():
            missing.append(file)
        elif function and f"def {function}(" not in candidates[0].read_text(encoding="utf-8"):
            missing.append(f"{file}::{function}")
    assert missing == []


def test_no_code_points_outside_the_repository() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for top in ("bcsync", "tests", "scripts")
        for path in sorted((ROOT / top).rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if OUTSIDE.search(line) and path.name != "test_architecture_doc.py"
    ]
    assert offenders == []


def test_the_readme_links_the_architecture() -> None:
    assert "(ARCHITECTURE.md)" in (ROOT / "README.md").read_text(encoding="utf-8")
