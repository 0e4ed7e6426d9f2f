"""Every command as a newcomer types it: a fresh checkout of the quickstart, no flags, no settings.

A fixture that sets BCSYNC_STATE_DIR for every command hid `bcsync drift` crashing (exit 70) for
everyone who did not set it (issue 16). Here nothing is set: tests/conftest.py removes every
BCSYNC_* variable (only the per-test lock directory is set, so parallel runs don't share the
machine's apply locks), the working directory is the example's copy, committed to git as a clone
would be, and the commands run in the order the README walks through them. Each must end with its
documented exit code and no traceback. `bcsync emulator serve` runs until stopped: the served
emulator is started by tests/integration/conftest.py's `serve_emulator` (with its flags).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from bcsync.cli import cli
from tests.examples import copy_example

from .gitrepo import GitRepo

pytestmark = pytest.mark.slow

# (command as typed after `bcsync`, its exit code): a newcomer's first day, in order.
NEWCOMER: list[tuple[str, int]] = [
    ("validate", 0),
    ("fmt --check", 0),
    ("audit", 1),  # no audit log yet: a located error saying apply writes it
    ("report --offline", 0),
    ("why bob@acme.com", 0),
    ("history", 0),
    ("diff", 0),
    ("expiring", 0),
    ("plan", 0),
    ("plan --changed", 0),
    ("plan --format markdown", 0),
    ("plan --detailed-exitcode", 2),
    ("drift", 2),
    ("report", 0),
    ("plan --out plan.json", 0),
    ("show plan.json", 0),
    ("apply", 4),  # no terminal to ask: refused, nothing changed
    ("apply plan.json", 0),
    ("apply plan.json", 0),  # a re-run: already applied
    ("plan --detailed-exitcode", 0),
    ("drift", 0),
    ("audit", 0),
    ("emulator accept temp@contractor.example", 0),
    ("apply --auto-approve", 0),
    ("export --seed seed.yaml", 0),
    ("emulator reset", 0),
    ("apply --changed --auto-approve", 0),
]


# The README's first lines, from the root of a checkout of the repository.
FROM_THE_ROOT: list[tuple[str, int]] = [
    ("validate examples/quickstart", 0),
    ("plan examples/quickstart", 0),
    ("apply --auto-approve examples/quickstart", 0),
    ("plan examples/quickstart", 0),
    ("audit examples/quickstart", 0),
    ("drift examples/quickstart", 0),
    ("expiring examples/quickstart", 0),
    ("report examples/quickstart", 0),
    ("emulator accept grace@acme.com examples/quickstart", 0),
    ("emulator reset examples/quickstart", 0),
]


def run_all(lines: list[tuple[str, int]]) -> None:
    runner = CliRunner()
    for line, code in lines:
        result = runner.invoke(cli, line.split(), catch_exceptions=False)
        shown = f"bcsync {line} -> {result.exit_code}:\n{result.output}"
        assert result.exit_code != 70 and "Traceback" not in result.output, shown
        assert "Internal error" not in result.output, shown
        # `expiring` exits 2 once today is within 30 days of one of the example's expiries.
        assert result.exit_code in ({code, 2} if line.startswith("expiring") else {code}), shown


@pytest.fixture
def checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = copy_example("quickstart", tmp_path / "quickstart")
    repo = GitRepo(root)
    repo.git("init", "-q", "-b", "main")
    repo.commit("the quickstart")
    monkeypatch.chdir(root)
    return root


def test_no_setting_reaches_a_command() -> None:
    """The suite's own environment is a newcomer's: no BCSYNC_* setting but the lock directory."""
    settings = {k for k in os.environ if k.startswith("BCSYNC_")}
    assert settings <= {"BCSYNC_LOCK_DIR", "BCSYNC_UPDATE_GOLDEN"}, settings


def test_every_command_as_the_readme_types_it(checkout: Path) -> None:
    run_all(NEWCOMER)
    # The defaults put local state beside the config, and nowhere else.
    assert (checkout / ".bcsync" / "audit.jsonl").is_file()
    assert json.loads((checkout / "plan.json").read_text())["tool"] == "bcsync"


def test_the_readme_first_commands_from_the_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy_example("quickstart", tmp_path / "examples" / "quickstart")
    monkeypatch.chdir(tmp_path)
    run_all(FROM_THE_ROOT)
    assert not (tmp_path / ".bcsync").exists()  # state beside the config, not in the cwd
