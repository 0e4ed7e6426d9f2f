"""`bcsync validate` end to end through click: output lines, summary, exit codes, JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from bcsync.cli import cli

ROOT = Path(__file__).resolve().parent.parent.parent
INVALID = "tests/fixtures/invalid"


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.chdir(ROOT)  # relative paths in the output
    return CliRunner()


@pytest.mark.parametrize(
    ("fixture", "line"),
    [
        (
            "unknown-top-level-key",
            "9:1: error: member: unknown key 'member' (did you mean 'members'?)",
        ),
        (
            "invalid-member-role",
            "9:25: error: members.bob@acme.com.role: expected a member role (admin, standard), "
            "got 'admn' (did you mean 'admin'?)",
        ),
        (
            "unknown-asset-alias",
            "12:22: error: members.bob@acme.com.access.ad_accounts.acme-uk: unknown ad account "
            "alias 'acme-uk' (did you mean 'acme-us'?)",
        ),
        (
            "duplicate-key",
            "10:3: error: members.bob@acme.com: duplicate key 'bob@acme.com' (first defined at "
            "line 9) (YAML would silently keep only the last one; remove or merge the duplicate)",
        ),
        ("empty", "1:1: error: empty file (expected a mapping that starts with version: 1)"),
    ],
)
def test_invalid_fixture_exits_3_with_the_located_line(
    runner: CliRunner, fixture: str, line: str
) -> None:
    path = f"{INVALID}/{fixture}.yaml"
    result = runner.invoke(cli, ["validate", "--now", "2026-01-01", path])
    assert result.exit_code == 3, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"{path}:{line}"
    assert lines[-1] == "Invalid: 1 error(s), 0 warning(s) in 1 file(s)."
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "paths",
    [["examples/quickstart"], ["examples/agency"], ["examples/quickstart", "examples/agency"]],
)
@pytest.mark.parametrize("now", [[], ["--now", "2026-01-01"]])
def test_examples_are_valid(runner: CliRunner, paths: list[str], now: list[str]) -> None:
    result = runner.invoke(cli, ["validate", *now, *paths])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1].startswith("Valid: ")
    assert "error:" not in result.output


def test_warnings_do_not_fail(runner: CliRunner) -> None:
    path = "tests/fixtures/warnings/expired-grant.yaml"
    result = runner.invoke(cli, ["validate", "--now", "2026-01-01", path])
    assert result.exit_code == 0
    assert result.output.splitlines() == [
        f"{path}:12:57: warning: members.temp@acme.com.access.ad_accounts.acme-us.expires: "
        "expired on 2025-12-01, it will be revoked",
        "Valid: 1 file(s), 1 Business Center(s), 1 warning(s).",
    ]


def test_problems_from_several_files_are_all_printed(runner: CliRunner) -> None:
    paths = [f"{INVALID}/one-admin.yaml", f"{INVALID}/group-cycle.yaml", "examples/agency"]
    result = runner.invoke(cli, ["validate", *paths])
    assert result.exit_code == 3
    # Sorted by file and line; both fixtures declare the same BC id, which is an error too.
    assert [line.split(": error: ")[0] for line in result.output.splitlines()] == [
        f"{INVALID}/group-cycle.yaml:2:24",
        f"{INVALID}/group-cycle.yaml:11:14",
        f"{INVALID}/one-admin.yaml:6:1",
        "Invalid: 3 error(s), 0 warning(s) in 5 file(s).",
    ]


def test_json_format(runner: CliRunner) -> None:
    path = f"{INVALID}/partner-unshareable-access.yaml"
    # The fixtures and the quickstart declare the same BC id: pair the fixture with agency.
    result = runner.invoke(cli, ["validate", "--format", "json", path, "examples/agency"])
    assert result.exit_code == 3
    doc = json.loads(result.output)
    assert doc["valid"] is False
    assert (doc["errors"], doc["warnings"]) == (1, 0)
    assert doc["files"] == [f"examples/agency/{n}.yaml" for n in ("agency", "harbor", "northwind")]
    assert doc["problems"] == [
        {
            "file": path,
            "line": 13,
            "col": 7,
            "path": "partners.agency-x.access.tiktok_accounts",
            "severity": "error",
            "message": "unknown key 'tiktok_accounts'",
            "hint": "did you mean 'ad_accounts'?; "
            "partners hold ad accounts (ADVERTISER) and catalogs (CATALOG)",
        }
    ]


def test_json_format_valid(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["validate", "--format", "json", "examples/agency"])
    assert result.exit_code == 0
    doc = json.loads(result.output)
    assert doc["valid"] is True and doc["problems"] == [] and len(doc["files"]) == 3


def test_missing_path_and_no_default_config(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = runner.invoke(cli, ["validate", "does-not-exist.yaml"])
    assert result.exit_code == 3
    assert result.output.splitlines()[0] == "does-not-exist.yaml: error: no such file or directory"
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(cli, ["validate"])
    assert result.exit_code == 3
    assert "no configuration found" in result.output


def test_default_config_in_the_working_directory(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = ROOT / "tests/fixtures/dirs/with-seed"
    for name in ("bcsync.yaml", "seed.yaml"):
        (tmp_path / name).write_text((source / name).read_text())
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(cli, ["validate"])
    assert result.exit_code == 0, result.output
    assert result.output == "Valid: 1 file(s), 1 Business Center(s), 0 warning(s).\n"


def test_binary_file_through_a_real_process() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bcsync", "validate", f"{INVALID}/binary.yaml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"NO_COLOR": "1", "PATH": "/usr/bin:/bin"},
        timeout=60,
        check=False,
    )
    assert proc.returncode == 3
    assert proc.stdout.splitlines()[0] == (
        f"{INVALID}/binary.yaml:3:1: error: binary file (contains NUL bytes); expected YAML text"
    )
    assert proc.stderr == ""


@pytest.mark.parametrize(
    ("path", "code", "first"),
    [
        # where the token may go: foreign variables and a TikTok token for the emulator are errors
        (
            f"{INVALID}/token-env-foreign-variable.yaml",
            3,
            "5:14: error: provider.token_env: expected an environment variable named TIKTOK_* "
            "or BCSYNC_*, got 'AWS_SECRET_ACCESS_KEY'",
        ),
        (
            f"{INVALID}/emulator-reads-tiktok-token.yaml",
            3,
            "6:14: error: provider.token_env: the emulator provider must not read the TikTok "
            "token ($TIKTOK_ACCESS_TOKEN)",
        ),
        # ... another API URL is a warning: plan and apply enforce the allow-list
        (
            "tests/fixtures/warnings/tiktok-url-not-tiktok.yaml",
            0,
            "5:8: warning: provider.url: 'https://business-api.tiktok.com.example.net/open_api/"
            "v1.3/' is not TikTok's API: plan and apply will refuse to send the TikTok token "
            "there (unless the pipeline's owner lists this URL in $BCSYNC_ALLOWED_API_URLS, "
            "outside the config; TikTok's API is https://business-api.tiktok.com/)",
        ),
        # deleting a protected partner's block alone is refused
        (
            f"{INVALID}/protected-partner-undeclared.yaml",
            3,
            "10:31: error: policy.protected[1]: protected partner 'agency-x' is not declared in "
            "partners (removing a protected entry takes two deliberate edits: first drop it from "
            "policy.protected, then remove its declaration)",
        ),
        # a hostile key stays on one line
        (
            f"{INVALID}/member-key-trailing-newline.yaml",
            3,
            "9:3: error: members.frank@acme.com\\n: expected an email address, "
            "got 'frank@acme.com\\n'",
        ),
    ],
)
def test_trust_and_protection_problems(runner: CliRunner, path: str, code: int, first: str) -> None:
    result = runner.invoke(cli, ["validate", "--now", "2026-01-01", path])
    assert result.exit_code == code, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith(f"{path}:{first}"), lines[0]
    assert len(lines) == 2


def test_a_directory_with_a_seed_validates_without_reading_the_seed_whole(
    runner: CliRunner, tmp_path: Path
) -> None:
    source = ROOT / "tests/fixtures/dirs/with-seed"
    (tmp_path / "bcsync.yaml").write_text((source / "bcsync.yaml").read_text())
    # Past its first keys the seed is garbage (and over the config size cap): never parsed.
    seed = (source / "seed.yaml").read_text() + "#" * (17 * 1024 * 1024) + "\n[\x00\n"
    (tmp_path / "seed.yaml").write_text(seed)
    result = runner.invoke(cli, ["validate", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert result.output == "Valid: 1 file(s), 1 Business Center(s), 0 warning(s).\n"
