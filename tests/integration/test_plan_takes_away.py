"""A plan says what removing a member takes away, end to end on the quickstart example."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bcsync.cli import cli
from tests.examples import copy_example

from .conftest import NOW


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env={"NO_COLOR": "1"}, catch_exceptions=False)


@pytest.fixture
def quickstart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    copy_example("quickstart", tmp_path / "quickstart")
    monkeypatch.chdir(tmp_path)
    return tmp_path / "quickstart"


def test_removing_erin_says_what_goes_with_her_in_every_format(quickstart: Path) -> None:
    config = quickstart / "bcsync.yaml"
    text = config.read_text()
    start = text.index("  erin@acme.com:")
    config.write_text(text[:start] + text[text.index("  frank@acme.com:") :])
    plain = run("plan", "quickstart", "--now", NOW, "--allow-removals").output
    assert "  - erin@acme.com" in plain
    assert "takes away tiktok_accounts.brand direct_message,live,post, lead_forms.signup admin" in (
        plain
    )
    md = run("plan", "quickstart", "--now", NOW, "--format", "markdown").stdout
    assert "| - remove | erin@acme.com | standard |  | not in config; takes away tiktok" in md
    doc = json.loads(run("plan", "quickstart", "--now", NOW, "--format", "json").stdout)
    erin = next(c for c in doc["plans"][0]["changes"] if c["id"] == "member:erin@acme.com")
    assert [(h["asset"], h["role"]) for h in erin["takes_away"]] == [
        ("tiktok_accounts.brand", "direct_message,live,post"),
        ("lead_forms.signup", "admin"),
    ]
