"""mypy runs strict on the whole package (pyproject.toml); what it is told to ignore says why."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
IGNORE = re.compile(r"#\s*type:\s*ignore(?P<code>\[[a-z-, ]+\])?(?P<rest>.*)$")


def test_mypy_is_strict_for_the_whole_package() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]
    assert config["strict"] is True and config["files"] == ["bcsync"]
    assert "overrides" not in config  # no module is let off


def test_every_type_ignore_names_its_code_and_its_reason() -> None:
    bare = []
    for path in sorted((ROOT / "bcsync").rglob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            match = IGNORE.search(line)
            if match and not (match["code"] and re.match(r"\s*#\s*\S", match["rest"])):
                bare.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert bare == []


def test_the_rule_itself_catches_a_bare_ignore() -> None:
    assert IGNORE.search("x = f()  # type: ignore")
    match = IGNORE.search("x = f()  # type: ignore[call-arg]")
    assert match and match["code"] and not re.match(r"\s*#\s*\S", match["rest"])
    match = IGNORE.search("x = f()  # type: ignore[call-arg]  # the stub is wrong")
    assert match and re.match(r"\s*#\s*\S", match["rest"])


def lazy_attributes(source: str) -> list[int]:
    """Lines of module-level `__getattr__` definitions: a lazy import mypy reads as `Any`."""
    import ast

    tree = ast.parse(source)
    return [
        node.lineno
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == "__getattr__"
    ]


def test_no_module_hands_out_names_lazily() -> None:
    lazy = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in sorted((ROOT / "bcsync").rglob("*.py"))
        for line in lazy_attributes(path.read_text(encoding="utf-8"))
    ]
    assert lazy == []


def test_the_lazy_attribute_rule_sees_one() -> None:
    source = "def __getattr__(name):\n    return name\n\n"
    source += "class A:\n    def __getattr__(self, n): ...\n"
    assert lazy_attributes(source) == [1]
