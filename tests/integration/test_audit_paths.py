"""`bcsync audit [PATHS]` finds the log where apply wrote it, as typed in the README."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bcsync.cli import cli
from tests.examples import copy_example

from .conftest import NOW


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Two BCs in two directories, applied from their parent with no --state-dir set."""
    for name in ("quickstart", "other"):
        copy_example("quickstart", tmp_path / name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BCSYNC_STATE_DIR", raising=False)
    applied = run("apply", "quickstart", "--auto-approve", "--now", NOW, lock_dir=tmp_path)
    assert applied.exit_code == 0, applied.output
    return tmp_path


def run(*args: str, lock_dir: Path | None = None) -> Result:
    env = {"NO_COLOR": "1", **({"BCSYNC_LOCK_DIR": str(lock_dir)} if lock_dir else {})}
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def records(*args: str) -> list[dict[str, object]]:
    result = run("audit", *args, "--format", "json")
    assert result.exit_code == 0, result.output
    found: list[dict[str, object]] = json.loads(result.stdout)["records"]
    return found


def test_audit_reads_the_log_beside_the_config_it_is_given(workdir: Path) -> None:
    assert (workdir / "quickstart" / ".bcsync" / "audit.jsonl").is_file()
    assert not (workdir / ".bcsync").exists()
    by_dir = records("quickstart", "--member", "grace@acme.com")
    assert by_dir and records("quickstart/bcsync.yaml", "--member", "grace@acme.com") == by_dir
    # Several configs: each one's directory is looked in; the one apply wrote is read.
    assert records("other", "quickstart", "--member", "grace@acme.com") == by_dir


def test_audit_without_paths_reads_the_default_configs_log(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(workdir / "quickstart")
    assert len(records()) == len(records("bcsync.yaml")) > 3
    monkeypatch.chdir(workdir / "other")
    missing = run("audit")
    assert missing.exit_code == 1 and "no audit log at .bcsync/audit.jsonl" in missing.output


def test_audit_since_takes_relative_windows(workdir: Path) -> None:
    everything = records("quickstart")
    assert records("quickstart", "--since", "7d") == everything
    assert records("quickstart", "--since", "yesterday") == everything
    assert records("quickstart", "--since", "today") == everything
    assert records("quickstart", "--since", "2999-01-01") == []
    bad = run("audit", "quickstart", "--since", "last week")
    assert bad.exit_code == 64 and "7d/2w" in bad.output


def test_audit_of_paths_that_do_not_exist_is_a_located_error(workdir: Path) -> None:
    result = run("audit", "nowhere")
    assert result.exit_code == 3 and "nowhere" in result.output
    assert "Traceback" not in result.output
