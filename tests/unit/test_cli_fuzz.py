"""Fuzzing every command's files and options: whatever the input, never exit 70, never a traceback.

Each property runs the real CLI in-process (`bcsync ...` through click) on a private copy of
examples/quickstart in one temporary directory: config files with one value replaced by a
hostile one, saved plans with one field replaced, audit logs of hostile lines, and hostile option
values. The only promise checked here is the floor of the exit codes (README, "Exit codes"):
every outcome is a documented exit code other than 70 (a bug) and no traceback reaches the
user. Bounded: a few dozen examples each (hypothesis' shrinking finds the smallest input when
one fails).
"""

from __future__ import annotations

import contextlib
import copy
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bcsync.cli import cli
from tests.examples import copy_example

NOW = "2026-11-25"
DOCUMENTED = {0, 1, 2, 3, 4, 64}
EXAMPLES = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Values that broke, or could break, a parser, a clock or a terminal somewhere.
HOSTILE_TEXT = [
    "2026-01-01T25:00:00Z",
    "9999-12-31",
    "0001-01-01",
    "2026-02-30",
    "10000-01-01",
    "9" * 5000,
    "-" + "9" * 5000,
    "1e400",
    "nan",
    "-1",
    "0",
    "",
    " ",
    "\x00",
    "\x1b]0;pwned\x07",
    "\u202e",
    "\ud800",
    "owner@acme.com\u200b",
    "оwner@acme.com",
    "https://xn--business-api.tiktok.com/",
    "http://[::1",
    "http://127.0.0.1:99999/",
    "xn--business-api",
    "a" * 5000,
    "../../../../etc/passwd",
    "/dev/zero",
    '=HYPERLINK("x")',
    "\n=1+1",
]
HOSTILE_YAML = [
    "2026-01-01T25:00:00Z",
    "2026-13-45",
    "9" * 5000,
    "1e400",
    ".nan",
    "!!binary ===",
    "!!int x",
    "!!float x",
    "!!timestamp 2026-99-99",
    "!!python/object:os.system x",
    "*nope",
    "&a [*a, *a]",
    "[]",
    "{}",
    "~",
    "yes",
    "0x" + "f" * 40,
    "https://xn--business-api.tiktok.com/",
    '"\\x1b]0;pwned\\x07"',
    '"\\u202e"',
    '"\\ud800"',
    "'owner@acme.com\u200b'",
    "{ role: admin, expires: 9999-12-31 }",
    "{ role: admin, expires: 0001-01-01 }",
    "[" * 200,
]
hostile_text = st.one_of(st.sampled_from(HOSTILE_TEXT), st.text(max_size=30))
hostile_yaml = st.one_of(
    st.sampled_from(HOSTILE_YAML),
    hostile_text.map(lambda t: json.dumps(t)),
)


@dataclass
class Workspace:
    root: Path

    @property
    def config_dir(self) -> Path:
        return self.root / "quickstart"

    @property
    def config(self) -> Path:
        return self.config_dir / "bcsync.yaml"

    def run(self, *args: str) -> Result:
        """`bcsync ARGS` run in the workspace: a relative path an option names lands there."""
        env = {"NO_COLOR": "1", "BCSYNC_LOCK_DIR": str(self.root / "locks")}
        with contextlib.chdir(self.root):
            return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def assert_handled(result: Result, what: object) -> None:
    """A documented exit code that is not 70, and no traceback on the terminal."""
    output = result.output
    shown = repr(what)[:300]
    assert result.exit_code in DOCUMENTED, f"{shown}: exit {result.exit_code}\n{output[-500:]}"
    assert "Traceback" not in output and "Internal error" not in output, (shown, output[-500:])


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    root = tmp_path_factory.mktemp("fuzz")
    copy_example("quickstart", root / "quickstart")
    space = Workspace(root)
    if shutil.which("git"):
        git = ["git", "-C", str(root), "-c", "user.name=Fuzz", "-c", "user.email=f@z.example"]
        subprocess.run([*git, "init", "-q"], check=True)
        subprocess.run([*git, "add", "."], check=True)
        subprocess.run([*git, "commit", "-qm", "quickstart"], check=True)
    made = space.run("plan", str(space.config_dir), "--out", str(root / "plan.json"), "--now", NOW)
    assert made.exit_code == 0, made.output
    yield space


@pytest.fixture
def original(workspace: Workspace) -> Iterator[str]:
    """The config's text; restored after each test, whatever the examples wrote."""
    text = workspace.config.read_text(encoding="utf-8")
    yield text
    workspace.config.write_text(text, encoding="utf-8")


VALUE_LINE = re.compile(r"^(\s*[\w.@\"'-]+:\s)(\S.*)$")


def with_value(text: str, index: int, value: str) -> str:
    """The config with the value of its `index`-th `key: value` line replaced."""
    lines = text.split("\n")
    spots = [i for i, line in enumerate(lines) if VALUE_LINE.match(line)]
    at = spots[index % len(spots)]
    lines[at] = VALUE_LINE.sub(lambda m: m[1] + value, lines[at])
    return "\n".join(lines)


CONFIG_COMMANDS = [
    ("validate",),
    ("validate", "--format", "json"),
    ("plan",),
    ("plan", "--format", "markdown"),
    ("fmt", "--check"),
    ("expiring", "--format", "csv"),
    ("report", "--format", "csv"),
    ("report", "--offline"),
    ("why", "bob@acme.com"),
    ("drift",),
]


@given(
    index=st.integers(min_value=0, max_value=500),
    value=hostile_yaml,
    command=st.sampled_from(CONFIG_COMMANDS),
)
@EXAMPLES
def test_config_files_with_a_hostile_value(
    workspace: Workspace, original: str, index: int, value: str, command: tuple[str, ...]
) -> None:
    workspace.config.write_text(with_value(original, index, value), encoding="utf-8")
    args = [*command, str(workspace.config)]
    if command[0] not in ("fmt",):
        args += ["--now", NOW]
    assert_handled(workspace.run(*args), (command, index, value))


JSON_VALUES = [
    None,
    True,
    -1,
    0,
    10**30,
    1.5,
    "",
    "x" * 5000,
    "\x1b]0;pwned\x07",
    "\ud800",
    "\u202e",
    [],
    {},
    [[[]]],
    "9999-12-31T25:00:00Z",
    "sha256:" + "0" * 64,
    "local:/dev/zero",
    "../" * 200,
]


def leaves(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """The path of every value in a JSON document (containers included)."""
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from leaves(item, (*path, i))


def replaced(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    out = copy.deepcopy(doc)
    target = out
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return out


@given(
    index=st.integers(min_value=0, max_value=5000),
    value=st.one_of(st.sampled_from(JSON_VALUES), hostile_text),
    command=st.sampled_from(
        [("show",), ("show", "--format", "markdown"), ("show", "--format", "json"), ("apply",)]
    ),
)
@EXAMPLES
def test_saved_plans_with_a_hostile_field(
    workspace: Workspace, index: int, value: Any, command: tuple[str, ...]
) -> None:
    doc = json.loads((workspace.root / "plan.json").read_text(encoding="utf-8"))
    paths = list(leaves(doc))
    edited = replaced(doc, paths[index % len(paths)], value)
    path = workspace.root / "fuzzed-plan.json"
    path.write_text(json.dumps(edited), encoding="utf-8")
    extra = ("--now", NOW) if command[0] == "apply" else ()
    assert_handled(workspace.run(*command, str(path), *extra), (paths[index % len(paths)], value))


RECORD = {
    "time": "2026-11-25T10:00:00.000Z",
    "bc_id": "7012345678901234567",
    "actor": "ci",
    "op": "assign",
    "result": "succeeded",
    "change": {"id": "member:bob@acme.com", "action": "update", "key": "bob@acme.com"},
    "git_commit": "0" * 40,
    "plan_digest": "sha256:" + "0" * 64,
}


@given(
    lines=st.lists(
        st.one_of(
            st.builds(
                lambda field, value: json.dumps({**RECORD, field: value}),
                st.sampled_from([*RECORD, "error", "git_dirty", "config_path"]),
                st.one_of(st.sampled_from(JSON_VALUES), hostile_text),
            ),
            st.sampled_from(['{"time": ' + "9" * 5000 + "}", "[" * 5000, "\xff", "{", "null"]),
            st.text(max_size=40),
        ),
        max_size=6,
    ),
    options=st.lists(
        st.tuples(st.sampled_from(["--since", "--member", "--bc"]), hostile_text), max_size=2
    ),
    fmt=st.sampled_from(["text", "json", "csv"]),
)
@EXAMPLES
def test_audit_logs_of_hostile_lines(
    workspace: Workspace, lines: list[str], options: list[tuple[str, str]], fmt: str
) -> None:
    log = workspace.root / "audit.jsonl"
    log.write_text("\n".join(lines) + "\n", encoding="utf-8", errors="surrogatepass")
    flat = [part for option in options for part in option]
    result = workspace.run("audit", "--log", str(log), "--format", fmt, *flat)
    assert_handled(result, (lines, options))


OPTION_COMMANDS = [
    ("plan", "{config}", "--now"),
    ("apply", "{config}", "--checksum"),
    ("apply", "{config}", "--lock-timeout"),
    ("apply", "{config}", "--parallelism"),
    ("plan", "{config}", "--state-dir"),
    ("expiring", "{config}", "--within"),
    ("expiring", "{config}", "--now"),
    ("report", "{config}", "--now"),
    ("drift", "{config}", "--log-days"),
    ("why", "{value}", "{config}"),
    ("history", "{config}", "--since"),
    ("history", "{config}", "--member"),
    ("diff", "{config}", "--base"),
    ("diff", "{config}", "--now"),
    ("validate", "{config}", "--now"),
    ("export", "--from", "{config}", "--bc-id"),
    ("export", "--provider", "emulator", "--bc-id", "1", "--url"),
    ("emulator", "accept", "{value}", "{config}"),
]


def argv_possible(value: str) -> bool:
    """What a shell can pass: no NUL, and bytes that are not UTF-8 only as Python decodes them
    (surrogate escapes U+DC80-U+DCFF)."""
    try:
        value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return False
    return "\x00" not in value


@given(
    command=st.sampled_from(OPTION_COMMANDS),
    value=st.one_of(hostile_text, st.sampled_from(["\udcff", "a\udc80b"])).filter(argv_possible),
)
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_hostile_option_values(
    workspace: Workspace, original: str, command: tuple[str, ...], value: str
) -> None:
    config = str(workspace.config_dir)
    args = [config if a == "{config}" else value if a == "{value}" else a for a in command]
    if args[-1] == "--state-dir":  # a directory bcsync makes: kept inside the workspace
        value = "state/" + value.replace("..", "_").lstrip("/")
    if args[-1].startswith("--"):
        args.append(value)
    if "--now" not in args and args[0] not in ("export", "emulator"):
        args += ["--now", NOW]
    assert_handled(workspace.run(*args), args)


@pytest.fixture
def original_seed(workspace: Workspace) -> Iterator[str]:
    """The seed's text; restored (and the local BC recreated from it) after each test."""
    seed = workspace.config_dir / "seed.yaml"
    text = seed.read_text(encoding="utf-8")
    yield text
    seed.write_text(text, encoding="utf-8")
    assert workspace.run("emulator", "reset", str(workspace.config_dir)).exit_code == 0


@given(index=st.integers(min_value=0, max_value=500), value=hostile_yaml)
@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_seed_files_with_a_hostile_value(
    workspace: Workspace, original_seed: str, index: int, value: str
) -> None:
    """The local Business Center is made from the seed: `emulator reset`, then a plan of it."""
    seed = workspace.config_dir / "seed.yaml"
    seed.write_text(with_value(original_seed, index, value), encoding="utf-8")
    config = str(workspace.config_dir)
    assert_handled(workspace.run("emulator", "reset", config), ("reset", index, value))
    assert_handled(workspace.run("plan", config, "--now", NOW), ("plan", index, value))
