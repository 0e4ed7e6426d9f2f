"""`bcsync report` as evidence: provenance in every format, and text that fits the width."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

import bcsync
from bcsync.cli import cli
from tests.examples import copy_example

from .conftest import NOW
from .gitrepo import GitRepo


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env={"NO_COLOR": "1"}, catch_exceptions=False)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> GitRepo:
    copy_example("quickstart", tmp_path / "quickstart")
    (tmp_path / ".gitignore").write_text(".bcsync/\n")
    made = GitRepo(tmp_path)
    made.git("init", "-q", "-b", "main")
    made.commit("quickstart")
    monkeypatch.chdir(tmp_path)
    return made


def report_json(*args: str) -> dict[str, Any]:
    result = run("report", "quickstart", "--now", NOW, "--format", "json", *args)
    assert result.exit_code == 0, result.output
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def test_json_provenance_names_commit_dirty_tree_digest_version_and_the_read(repo: GitRepo) -> None:
    head = repo.git("rev-parse", "HEAD")
    doc = report_json()
    prov = doc["provenance"]
    assert (prov["git_commit"], prov["git_dirty"], prov["bc_read"]) == (head, False, "live")
    assert prov["tool_version"] == bcsync.__version__ and prov["generated_at"].endswith("Z")
    [bc] = doc["business_centers"]
    plan = json.loads(run("plan", "quickstart", "--now", NOW, "--format", "json").stdout)
    assert bc["config_digest"] == plan["plans"][0]["config_digest"]
    assert bc["read"] is True and bc["read_at"].endswith("Z")
    assert bc["read_via"].startswith("local Business Center (emulator) ")
    assert "API call(s)" in bc["read_via"]
    # An edit not committed yet: the report says the tree was dirty.
    config = Path("quickstart/bcsync.yaml")
    config.write_text(config.read_text().replace("Acme Retail", "Acme Retail Ltd", 1))
    assert report_json()["provenance"]["git_dirty"] is True
    offline = report_json("--offline")
    assert offline["provenance"]["bc_read"] == "offline"
    assert offline["business_centers"][0]["read_at"] is None


def test_every_format_carries_the_provenance(repo: GitRepo) -> None:
    head = repo.git("rev-parse", "HEAD")
    for fmt in ("text", "markdown", "csv", "html"):
        out = run("report", "quickstart", "--now", NOW, "--format", fmt).stdout
        flat = " ".join(out.split())
        assert head in flat and "clean checkout" in flat, fmt
        assert f"bcsync {bcsync.__version__}" in flat and "sha256:" in flat, fmt
        assert "from local Business Center (emulator)" in flat, fmt
    offline = run("report", "quickstart", "--offline", "--format", "text").stdout
    assert "offline: the BC was not read (config alone)" in " ".join(offline.split())
    rows = [line for line in run("report", "quickstart", "--format", "csv").stdout.splitlines()]
    assert rows[0].startswith("# Generated: ")
    data = "\n".join(line for line in rows if not line.startswith("#"))
    header = next(csv.reader(io.StringIO(data)))
    assert header[:3] == ["BC id", "Business Center", "Kind"]


def test_piped_text_fits_100_columns_and_keeps_every_row(repo: GitRepo) -> None:
    out = run("report", "quickstart", "--now", NOW).stdout
    assert max(len(line) for line in out.splitlines()) <= 100
    doc = report_json()
    whole = " ".join(out.split())
    for row in doc["rows"]:
        assert row["principal_name"].split()[0] in out  # a long name wraps in its column
        for source in row["sources"]:
            assert source in whole  # details wrap, but every source is there
    assert "Who Asset Role (config) Role (BC) Status" in whole
