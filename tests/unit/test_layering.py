"""The import graph: the core does no I/O, and nothing imports the CLI (ARCHITECTURE.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent.parent / "bcsync"
CORE_PATTERNS = (
    "core/*.py",  # the model, diff, schedule, plan and guards; the typed operations; emails; URLs
    "git/changed.py",  # what a `plan --changed` reads: two desired States compared
    "render/*.py",
    "config/rules.py",
    "config/build.py",
    "config/located.py",  # a built config beside where each element is written
    "config/built_rules.py",  # the rules on what a built config means
    "config/addresses.py",
    "config/document.py",  # the Document type rules and build read
    "files/marks.py",  # positions in a YAML document, shared by config and seed files
    "providers/base.py",
    "auditor/access.py",  # the access matrix, expiry and `why` findings behind the auditors' views
    "auditor/expiry.py",
    "auditor/story.py",
    "auditor/access_diff.py",  # effective access gained and lost, feeding history and drift
    "auditor/revisions.py",
    "auditor/drift.py",
    "loop/review.py",  # the reviewed-plan marker the Markdown view writes and a merge reads
    "loop/applied.py",  # the ledger of applied changes (read from the audit log by ledger.py)
    "core/incoming.py",  # what partners share with the BC against the config's `incoming:`
)
FORBIDDEN = ("httpx", "click", "yaml", "jsonschema", "sqlite3", "os", "time", "subprocess")
# Calls that read a file or the clock, whatever was imported: `open(...)`, `x.read_text()`,
# `datetime.now()`, `date.today()`, `time.time()`.
FORBIDDEN_CALLS = {
    "open",
    "read_text",
    "read_bytes",
    "write_text",
    "write_bytes",
    "now",
    "utcnow",
    "today",
    "time",
    "monotonic",
}
# Pure bcsync modules a core module may import besides the core itself.
PURE = {"bcsync", "bcsync.errors"}
# `python -m bcsync` has to import the CLI; nothing else may.
CLI_ENTRY_POINTS = {"__main__.py"}


def core_modules() -> list[Path]:
    found = {p for pattern in CORE_PATTERNS for p in PACKAGE.glob(pattern)}
    return sorted(found)


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, dotted module) of every import in a bcsync file."""
    return imports_in(path.read_text(), module_name(path), is_package=path.name == "__init__.py")


def imports_in(source: str, module: str, is_package: bool = False) -> list[tuple[int, str]]:
    """(line, dotted module) of every import anywhere in the source, relative ones resolved."""
    package = module if is_package else module.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                anchor = parts[: len(parts) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            found.append((node.lineno, base))
            # `from bcsync import cli` imports a module named in the alias list
            found.extend((node.lineno, f"{base}.{alias.name}") for alias in node.names)
    return found


def test_core_modules_exist() -> None:
    names = {module_name(p) for p in core_modules()}
    assert {"bcsync.core.model", "bcsync.config.rules", "bcsync.config.build"} <= names


@pytest.mark.parametrize("path", core_modules(), ids=module_name)
def test_core_module_does_no_io(path: Path) -> None:
    bad = [
        f"{path.name}:{line}: {name}"
        for line, name in imports(path)
        if name.split(".")[0] in FORBIDDEN
    ]
    assert bad == []


@pytest.mark.parametrize("path", core_modules(), ids=module_name)
def test_core_module_imports_only_pure_bcsync_modules(path: Path) -> None:
    allowed = {module_name(p) for p in core_modules()} | PURE
    internal = {name for _, name in imports(path) if name.split(".")[0] == "bcsync"}
    # `from bcsync.core.plan import Action` lists "bcsync.core.plan.Action": check the module part.
    bad = [n for n in internal if n not in allowed and n.rsplit(".", 1)[0] not in allowed]
    assert bad == []


def test_nothing_imports_the_cli() -> None:
    offenders = [
        f"{path.relative_to(PACKAGE.parent)}:{line}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.relative_to(PACKAGE).as_posix() not in CLI_ENTRY_POINTS
        and path.relative_to(PACKAGE).parts[0] != "cli"
        for line, name in imports(path)
        if name == "bcsync.cli" or name.startswith("bcsync.cli.")
    ]
    assert offenders == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import os.path\n", "os.path"),
        ("from time import monotonic\n", "time"),
        ("def f():\n    import httpx\n", "httpx"),
        ("from . import cli\n", "bcsync.config.cli"),
        ("from .. import cli\n", "bcsync.cli"),
        ("from ..core.model import State\n", "bcsync.core.model"),
    ],
)
def test_the_import_scanner_sees_every_form(source: str, expected: str) -> None:
    found = {name for _, name in imports_in(source, "bcsync.config.probe")}
    assert expected in found


def io_calls_in(source: str) -> list[tuple[int, str]]:
    """(line, name) of every call of a name in FORBIDDEN_CALLS: `open(...)` or `x.now()`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        if name in FORBIDDEN_CALLS:
            found.append((node.lineno, name))
    return found


@pytest.mark.parametrize("path", core_modules(), ids=module_name)
def test_core_module_reads_no_file_and_no_clock(path: Path) -> None:
    bad = [f"{path.name}:{line}: {name}()" for line, name in io_calls_in(path.read_text())]
    assert bad == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("open('x')\n", ["open"]),
        ("Path('x').read_text()\n", ["read_text"]),
        ("from datetime import datetime\ndatetime.now()\n", ["now"]),
        ("import time\ntime.time()\n", ["time"]),
        ("date.today()\n", ["today"]),
        ("plan.to_json()\n", []),
    ],
)
def test_the_call_scanner_sees_io(source: str, expected: list[str]) -> None:
    assert [name for _, name in io_calls_in(source)] == expected


def test_commands_run_coroutines_through_run_async() -> None:
    """A finished task's result may be formatted by asyncio (3.11): huge plans must not be."""
    offenders = [
        f"{path.name}:{node.lineno}"
        for path in sorted((PACKAGE / "cli").glob("*.py"))
        if path.name != "base.py"
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "run"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "asyncio"
    ]
    assert offenders == []


# Auditor features read and report; none of them may reach the code that writes a BC.
AUDITOR_MODULES = (
    *sorted(
        p.relative_to(PACKAGE).with_suffix("").as_posix() for p in PACKAGE.glob("auditor/*.py")
    ),
    "git/gitrev",
)
WRITERS = {
    "bcsync.loop.apply",
    "bcsync.loop.reconcile",
    "bcsync.loop.planfile",
    "bcsync.loop.sync",
}


def test_the_auditor_package_holds_the_auditor_features() -> None:
    assert {"auditor/access", "auditor/drift", "auditor/why", "auditor/history"} <= set(
        AUDITOR_MODULES
    )


@pytest.mark.parametrize("name", AUDITOR_MODULES)
def test_auditor_features_never_apply(name: str) -> None:
    found = {n for _, n in imports(PACKAGE / f"{name}.py")}
    assert not {n for n in found if n in WRITERS or n.rsplit(".", 1)[0] in WRITERS}


def test_the_loop_never_prints_or_prompts() -> None:
    """`loop/` is a library (`loop.sync` is what `bcsync apply` runs): it reports through the
    caller's callbacks and never reaches a screen, a prompt or click."""
    offenders = []
    for path in sorted((PACKAGE / "loop").glob("*.py")):
        tree = ast.parse(path.read_text())
        offenders += [
            f"{path.name}:{line}: {name}"
            for line, name in imports(path)
            if name.split(".")[0] in ("click", "rich")
        ]
        offenders += [
            f"{path.name}:{node.lineno}: {node.func.id}()"
            for node in ast.walk(tree)
            if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("print", "input")
        ]
    assert offenders == []


PLAN_MODULES = {
    "bcsync.core.plan",
    "bcsync.loop.apply",
    "bcsync.loop.reconcile",
    "bcsync.loop.sync",
    "bcsync.core.safety",
    "bcsync.core.diff",
}


@pytest.mark.parametrize(
    "path", sorted((PACKAGE / "providers").rglob("*.py")), ids=lambda p: p.name
)
def test_providers_know_nothing_of_plans(path: Path) -> None:
    """A provider performs one operation at a time; which plan it belongs to is not its business."""
    found = {n for _, n in imports(path)}
    assert not {n for n in found if n in PLAN_MODULES or n.rsplit(".", 1)[0] in PLAN_MODULES}


def test_files_import_neither_the_client_nor_the_emulator() -> None:
    """`bcsync.files` sits below config, planfile and the emulator: it imports none of them."""
    offenders = [
        f"{path.name}:{line}: {name}"
        for path in sorted((PACKAGE / "files").glob("*.py"))
        for line, name in imports(path)
        if name.split(".")[0] == "bcsync" and not name.startswith("bcsync.files")
    ]
    assert offenders == []


# `ls bcsync/` reads like the architecture: packages, each named in ARCHITECTURE.md, and only the
# exception tree beside them.
TOP_LEVEL_MODULES = {"__init__.py", "__main__.py", "errors.py"}


def test_the_top_level_is_the_architecture() -> None:
    modules = {p.name for p in PACKAGE.glob("*.py")}
    assert modules == TOP_LEVEL_MODULES
    packages = sorted(
        p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()
    )
    architecture = (PACKAGE.parent / "ARCHITECTURE.md").read_text()
    assert [name for name in packages if f"{name}/" not in architecture] == []


def test_one_cli_module_per_command_family() -> None:
    """Each command lives in the CLI module named for its family (fmt in fmt, drift in drift)."""
    from bcsync.cli import cli

    homes = {name: command.callback.__module__ for name, command in cli.commands.items()}
    family = {"validate": "plan", "apply": "plan", "show": "plan", "diff": "history"}
    family |= {"why": "audit", "report": "audit", "expiring": "audit", "audit": "audit"}
    family |= {"check-review": "review"}
    wrong = {
        name: home for name, home in homes.items() if home != f"bcsync.cli.{family.get(name, name)}"
    }
    assert wrong == {}


def import_graph() -> dict[str, set[str]]:
    """Each module's bcsync imports, function-level ones included (its parent packages aside)."""
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        found = set()
        for _, imported in imports(path):
            target = imported if imported in modules else imported.rsplit(".", 1)[0]
            if target in modules and target != name and not name.startswith(target + "."):
                found.add(target)
        graph[name] = found
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan's algorithm, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        while work:
            node, edges = work[-1]
            for edge in edges:
                if edge not in index:
                    index[edge] = low[edge] = len(index)
                    stack.append(edge)
                    work.append((edge, iter(sorted(graph[edge]))))
                    break
                if edge in stack:
                    low[node] = min(low[node], index[edge])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    group = []
                    while True:
                        member = stack.pop()
                        group.append(member)
                        if member == node:
                            break
                    if len(group) > 1:
                        found.append(sorted(group))
    return found


def test_no_import_cycle_hides_behind_a_function_level_import() -> None:
    assert cycles(import_graph()) == []


def test_the_cycle_finder_finds_one() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert cycles(graph) == [["a", "b", "c"]]
