"""The emulator imports nothing from bcsync's core or providers (ARCHITECTURE.md).

The one part it shares with the client is `bcsync.files` (reading a hostile file, composing
YAML with positions), which sits below both and imports neither.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "bcsync"
ALLOWED_THIRD_PARTY = {"starlette", "uvicorn", "yaml", "jsonschema", "jsonschema_rs"}
# Below both the client and the emulator: the only bcsync package the emulator may import.
SHARED = "bcsync.files"


def imports(path: Path) -> list[tuple[str, int]]:
    """(absolute module name, relative level) of every import in a file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, 0) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append((node.module or "", node.level))
    return found


EMULATOR_FILES = sorted((PACKAGE / "emulator").glob("*.py"))


def test_the_emulator_package_has_modules() -> None:
    assert {p.name for p in EMULATOR_FILES} >= {"__init__.py", "app.py", "store.py", "seed.py"}


@pytest.mark.parametrize("path", EMULATOR_FILES, ids=lambda p: p.name)
def test_emulator_modules_import_only_stdlib_and_their_libraries(path: Path) -> None:
    for module, level in imports(path):
        if level == 1:  # from .store import ...: inside the emulator package
            continue
        assert level == 0, f"{path.name}: relative import beyond the emulator package"
        top = module.split(".")[0]
        allowed = top in sys.stdlib_module_names or top in ALLOWED_THIRD_PARTY
        allowed = allowed or module.startswith("bcsync.emulator")
        allowed = allowed or module == SHARED or module.startswith(SHARED + ".")
        assert allowed, f"{path.name} imports {module}"


SHARED_FILES = sorted((PACKAGE / "files").glob("*.py"))


@pytest.mark.parametrize("path", SHARED_FILES, ids=lambda p: p.name)
def test_the_shared_files_package_imports_neither_side(path: Path) -> None:
    """What the emulator shares with the client is about files, never about either of them."""
    for module, level in imports(path):
        assert level == 0, f"{path.name}: relative import"
        top = module.split(".")[0]
        allowed = top in sys.stdlib_module_names or top == "yaml"
        allowed = allowed or module == SHARED or module.startswith(SHARED + ".")
        assert allowed, f"{path.name} imports {module}"


def test_the_shared_package_exists() -> None:
    assert {p.name for p in SHARED_FILES} >= {"reader.py", "composer.py", "marks.py"}


def test_the_emulator_commands_import_no_http_client_or_core() -> None:
    """`bcsync emulator ...` wires the emulator to the local provider's layout, nothing more.

    The emulator package itself is checked above; its commands may read configs (to find a
    local Business Center) but must not pull in the HTTP client or the plan core.
    """
    bcsync_imports = {
        module
        for module, _ in imports(PACKAGE / "cli" / "emulator.py")
        if module.startswith("bcsync")
    }
    assert bcsync_imports <= {
        "bcsync.cli.base",
        "bcsync.errors",
        "bcsync.core.model",
        "bcsync.emulator",
        "bcsync.emulator.serve",
        "bcsync.providers.local",
    }
    local = {m for m, _ in imports(PACKAGE / "providers" / "local.py") if m.startswith("bcsync")}
    assert local <= {"bcsync.errors", "bcsync.core.model", "bcsync.emulator"}


def test_the_check_catches_a_forbidden_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from bcsync.core.model import State\nfrom ..providers import x\n")
    assert imports(bad) == [("bcsync.core.model", 0), ("providers", 2)]
