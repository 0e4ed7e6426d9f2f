"""Hostile files where a saved plan is expected: a clear error and exit 3, never a hang or a 70.

`bcsync apply FILE` and `bcsync show FILE` run as real processes with a timeout (a FIFO or
/dev/zero must not hang them); each answers with exit 3, a short message naming the file, and
no traceback. A plan is recognised by its content, whatever its name.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bcsync.cli import cli
from tests.examples import copy_example

from .conftest import NOW

pytestmark = pytest.mark.slow

SPARSE_BYTES = 300 * 1024 * 1024


def nested(path: Path) -> None:
    path.write_text('{"a":' * 100_000 + "1" + "}" * 100_000)


def nested_arrays(path: Path) -> None:
    path.write_text("[" * 100_000 + "]" * 100_000)


def long_number(path: Path) -> None:
    path.write_text('{"tool": "bcsync", "format_version": ' + "9" * 5000 + "}")


def nan(path: Path) -> None:
    path.write_text('{"tool": "bcsync", "format_version": NaN}')


def infinity(path: Path) -> None:
    path.write_text('{"tool": "bcsync", "format_version": -Infinity}')


def fifo(path: Path) -> None:
    os.mkfifo(path)


def dev_zero(path: Path) -> None:
    path.symlink_to("/dev/zero")


def directory(path: Path) -> None:
    path.mkdir()


def sparse(path: Path) -> None:
    """300 MB that begin like a plan; truncate makes a hole, nothing is written."""
    with path.open("wb") as fh:
        fh.write(b'{"tool": "bcsync", "plans": [')
        fh.truncate(SPARSE_BYTES)


def not_utf8(path: Path) -> None:
    path.write_bytes(b'{"tool": "bcsync", "bc_name": "\xff\xfe Acme"}')


def json_array(path: Path) -> None:
    path.write_text('[{"tool": "bcsync"}]')


def number_array(path: Path) -> None:
    path.write_text("[1, 2]")


def json_non_plan(path: Path) -> None:
    path.write_text('{"kind": "Deployment", "spec": {"replicas": 3}}')


def other_tool(path: Path) -> None:
    path.write_text('{"tool": "terraform", "format_version": 2, "plans": []}')


HOSTILE: dict[str, Callable[[Path], None]] = {
    "deeply nested": nested,
    "deeply nested arrays": nested_arrays,
    "5,000-digit number": long_number,
    "NaN": nan,
    "Infinity": infinity,
    "FIFO": fifo,
    "link to /dev/zero": dev_zero,
    "directory": directory,
    "300 MB sparse file": sparse,
    "not UTF-8": not_utf8,
    "JSON array": json_array,
    "JSON array of numbers": number_array,
    "JSON, not a plan": json_non_plan,
    "another tool's plan": other_tool,
}


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.endswith("_TOKEN") and not key.startswith("TIKTOK_")
    }
    env.update({"BCSYNC_LOCK_DIR": str(cwd / "locks"), "NO_COLOR": "1"})
    return subprocess.run(
        [sys.executable, "-m", "bcsync", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def assert_clear_refusal(result: subprocess.CompletedProcess[str], name: str) -> None:
    output = result.stdout + result.stderr
    assert result.returncode == 3, output
    assert "Traceback" not in output and "Internal error" not in output
    assert name in output
    assert 1 <= len(output.strip().splitlines()) <= 4, output


@pytest.mark.parametrize("make", list(HOSTILE.values()), ids=list(HOSTILE))
def test_apply_refuses_a_hostile_file(tmp_path: Path, make: Callable[[Path], None]) -> None:
    path = tmp_path / "plan.json"
    make(path)
    assert_clear_refusal(run(tmp_path, "apply", str(path), "--now", NOW), "plan.json")


@pytest.mark.parametrize("make", list(HOSTILE.values()), ids=list(HOSTILE))
def test_show_refuses_a_hostile_file(tmp_path: Path, make: Callable[[Path], None]) -> None:
    path = tmp_path / "plan.json"
    make(path)
    result = run(tmp_path, "show", str(path))
    if make is directory:
        # `show` takes a file: click reports a directory as a usage error before bcsync reads.
        assert result.returncode == 64, result.stderr
        assert "Traceback" not in result.stderr and "plan.json" in result.stderr
        return
    assert_clear_refusal(result, "plan.json")


def test_the_sparse_file_stays_sparse(tmp_path: Path) -> None:
    """The fixture itself: 300 MB on paper, almost nothing on disk (nothing was written)."""
    path = tmp_path / "plan.json"
    sparse(path)
    assert path.stat().st_size == SPARSE_BYTES
    assert path.stat().st_blocks * 512 < 1024 * 1024


def invoke(*args: str, cwd: Path) -> Result:
    env = {"BCSYNC_LOCK_DIR": str(cwd / "locks"), "NO_COLOR": "1"}
    return CliRunner().invoke(cli, [*args, "--now", NOW], env=env, catch_exceptions=False)


@pytest.fixture
def quickstart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return copy_example("quickstart", tmp_path / "quickstart")


def test_a_plan_is_recognised_by_content_not_name(quickstart: Path, tmp_path: Path) -> None:
    tfplan = tmp_path / "tfplan"
    made = invoke("plan", str(quickstart), "--out", str(tfplan), cwd=tmp_path)
    assert made.exit_code == 0, made.output
    shown = CliRunner().invoke(cli, ["show", str(tfplan)], catch_exceptions=False)
    assert shown.exit_code == 0, shown.output
    assert "Checksum: sha256:" in shown.output
    applied = invoke("apply", str(tfplan), cwd=tmp_path)
    assert applied.exit_code == 0, applied.output
    assert invoke("plan", str(quickstart), "--detailed-exitcode", cwd=tmp_path).exit_code == 0


def test_a_plan_mixed_with_config_paths_is_a_usage_error(quickstart: Path, tmp_path: Path) -> None:
    plan = tmp_path / "plan.json"
    assert invoke("plan", str(quickstart), "--out", str(plan), cwd=tmp_path).exit_code == 0
    for args in ((str(plan), str(quickstart)), (str(quickstart), str(plan))):
        mixed = invoke("apply", *args, cwd=tmp_path)
        assert mixed.exit_code == 64, mixed.output
        assert "plan.json" in mixed.output


def test_a_plan_whose_config_is_gone_names_where_it_was_made(
    quickstart: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = tmp_path / "plan.json"
    made = invoke("plan", "quickstart", "--out", str(plan), cwd=tmp_path)  # a relative path
    assert made.exit_code == 0, made.output
    assert json.loads(plan.read_text())["created_in"] == str(tmp_path)
    quickstart.rename(tmp_path / "moved")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    result = invoke("apply", str(plan), cwd=elsewhere)
    assert result.exit_code == 3, result.output
    assert "bcsync.yaml" in result.output and str(tmp_path) in result.output


def edited_plan(quickstart: Path, tmp_path: Path, **body: object) -> Path:
    """A plan saved for the quickstart copy, its (first) plan body edited; not re-sealed, since
    these edits must be refused before any checksum is compared."""
    plan = tmp_path / "plan.json"
    made = invoke("plan", str(quickstart), "--out", str(plan), cwd=tmp_path)
    assert made.exit_code == 0, made.output
    doc = json.loads(plan.read_text())
    doc["plans"][0].update(body)
    plan.write_text(json.dumps(doc))
    return plan


@pytest.mark.parametrize(
    ("config_path", "why"),
    [
        ("a" * 5000, "a…(5014 characters)…a"),  # the schema bounds it: "'aaa…' is too long"
        (
            "quickstart/" + "b" * 300 + "/bcsync.yaml",
            "it was made from is not here",
        ),  # ENAMETOOLONG
        ("quickstart/bcsync.yaml\x00.evil", "it was made from is not here"),  # a NUL byte
    ],
    ids=["5,000 characters", "a 300-character directory", "a NUL byte"],
)
def test_a_plan_naming_an_impossible_config_path_is_a_plan_file_error(
    quickstart: Path, tmp_path: Path, config_path: str, why: str
) -> None:
    """Once exit 70 (OSError: File name too long): now the plan file is refused, exit 3."""
    plan = edited_plan(quickstart, tmp_path, config_path=config_path)
    result = invoke("apply", str(plan), cwd=tmp_path)
    assert result.exit_code == 3, result.output
    assert why in result.output and "plan.json" in result.output
    assert "Internal error" not in result.output and "\x00" not in result.output
    assert len(result.output) < 2000  # the 5,000 characters are not echoed back


def test_control_characters_in_a_plan_path_reach_the_terminal_escaped(
    quickstart: Path, tmp_path: Path
) -> None:
    """A plan file's text is data: an escape sequence in it is shown, never sent raw."""
    plan = edited_plan(quickstart, tmp_path, config_path="gone/\x1b]0;pwned\x07\x1b[2J.yaml")
    result = invoke("apply", str(plan), cwd=tmp_path)
    assert result.exit_code == 3, result.output
    assert "\x1b" not in result.output and "\x07" not in result.output
    assert "\\x1b]0;pwned\\x07\\x1b[2J.yaml" in result.output


@pytest.mark.parametrize("kind", ["FIFO", "symbolic link", "link to a device"])
def test_plan_out_never_replaces_what_is_not_a_regular_file(
    quickstart: Path, tmp_path: Path, kind: str
) -> None:
    """Saving atomically replaces the target; as root, `--out /dev/null` once made it a file."""
    out = tmp_path / "out.json"
    if kind == "FIFO":
        os.mkfifo(out)
    else:
        out.symlink_to("/dev/null" if kind == "link to a device" else tmp_path / "elsewhere.json")
    before = os.lstat(out)
    result = invoke("plan", str(quickstart), "--out", str(out), cwd=tmp_path)
    assert result.exit_code == 3, result.output
    assert "not a regular file" in result.output and "refusing to replace it" in result.output
    after = os.lstat(out)
    assert (after.st_mode, after.st_ino) == (before.st_mode, before.st_ino)


@pytest.mark.parametrize(
    ("edit", "why"),
    [
        (lambda side: side.update(role="owner"), "'owner' is not a valid MemberRole"),
        (lambda side: side.update(is_admin=True), "a change's side has keys"),
        (lambda side: side.pop("finance_role"), "a change's side has keys"),
        (lambda side: side.update(role=["admin"]), "role ['admin'] is not a string"),
    ],
    ids=["a role the API does not have", "an extra key", "a missing key", "a list for a role"],
)
def test_a_change_side_of_another_shape_is_refused_as_malformed(
    quickstart: Path, tmp_path: Path, edit: Callable[[dict[str, object]], object], why: str
) -> None:
    """A change's before/after are read typed: an edit that is not a member's shape is refused
    as a malformed plan (exit 3), never half-read or compared as if it were one."""
    plan = tmp_path / "plan.json"
    made = invoke("plan", str(quickstart), "--out", str(plan), cwd=tmp_path)
    assert made.exit_code == 0, made.output
    doc = json.loads(plan.read_text())
    change = next(c for c in doc["plans"][0]["changes"] if c["kind"] == "member" and c["after"])
    edit(change["after"])
    plan.write_text(json.dumps(doc))
    result = invoke("apply", str(plan), cwd=tmp_path)
    assert result.exit_code == 3, result.output
    assert "not a valid bcsync plan" in result.output and why in result.output, result.output
    assert "Traceback" not in result.output
