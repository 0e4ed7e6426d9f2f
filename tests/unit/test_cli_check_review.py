"""`bcsync check-review`: the merge job's offline check of a plan comment's marker."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bcsync.cli import cli
from bcsync.config import load_strict
from bcsync.loop.review import ReviewMarker, configs_digest
from tests.examples import copy_example

HEAD = "c" * 40
CHECKSUM = "sha256:" + "a" * 64


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return copy_example("quickstart", tmp_path / "quickstart") / "bcsync.yaml"


def comment(tmp_path: Path, config: Path, head: str | None = HEAD) -> Path:
    (loaded,) = load_strict([str(config)], now=date(2026, 11, 25)).configs
    marker = ReviewMarker(CHECKSUM, configs_digest([(loaded.bc_id, loaded.digest)]), head, None)
    path = tmp_path / "comment.md"
    path.write_text(f"<!-- bcsync-plan: x -->\n{marker.line()}\n## bcsync plan\n")
    return path


def check(*args: str) -> Result:
    return CliRunner().invoke(cli, ["check-review", *args], env={"NO_COLOR": "1"})


def test_the_reviewed_comment_passes_and_says_what_to_apply(tmp_path: Path, config: Path) -> None:
    result = check(str(comment(tmp_path, config)), str(config), "--head-commit", HEAD)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [f"checksum={CHECKSUM}", "scope=full"]


def test_another_head_commit_is_refused(tmp_path: Path, config: Path) -> None:
    result = check(str(comment(tmp_path, config)), str(config), "--head-commit", "d" * 40)
    assert result.exit_code == 4
    assert "final head is dddddddddddd" in result.output and "re-plan" in result.output


def test_other_configs_are_refused(tmp_path: Path, config: Path) -> None:
    body = comment(tmp_path, config)
    config.write_text(config.read_text().replace("max_removals: 25%", "max_removals: 30%"))
    result = check(str(body), str(config), "--head-commit", HEAD)
    assert result.exit_code == 4 and "merged configs" in result.output


def test_a_plan_made_without_a_head_commit_is_refused(tmp_path: Path, config: Path) -> None:
    result = check(str(comment(tmp_path, config, None)), str(config), "--head-commit", HEAD)
    assert result.exit_code == 4 and "without --head-commit" in result.output


@pytest.mark.parametrize("head", ["HEAD", "c" * 39, "C" * 40, "c" * 40 + "\n"])
def test_a_head_commit_must_be_a_full_commit_id(tmp_path: Path, config: Path, head: str) -> None:
    result = check(str(comment(tmp_path, config)), str(config), "--head-commit", head)
    assert result.exit_code == 64


def test_the_comment_must_be_a_regular_file(tmp_path: Path, config: Path) -> None:
    assert check(str(tmp_path), str(config), "--head-commit", HEAD).exit_code == 64
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)  # would hang a reader
    result = check(str(fifo), str(config), "--head-commit", HEAD)
    assert result.exit_code == 1 and "not a regular file" in result.output


def test_plan_head_commit_is_checked_too(config: Path) -> None:
    result = CliRunner().invoke(cli, ["plan", str(config), "--head-commit", "main"])
    assert result.exit_code == 64 and "full commit id" in result.output
