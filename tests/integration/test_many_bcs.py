"""A directory of Business Centers in one run: one that fails does not stop the others."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import NOW, Bcsync, Served, serve_emulator

TOKENS = {
    "agency": ("BCSYNC_BRIGHT_TOKEN", "local-bright-founder-token"),
    "northwind": ("BCSYNC_NORTHWIND_TOKEN", "local-northwind-cmo-token"),
    # Harbor's variable holds a token the API does not know: its reads fail, the others' don't.
    "harbor": ("BCSYNC_HARBOR_TOKEN", "not-a-token-of-harbor"),
}


@pytest.fixture
def served_agency(agency: Path, tmp_path: Path) -> Iterator[Served]:
    server = serve_emulator(agency / "seed.yaml", tmp_path / "agency.db")
    (agency / "seed.yaml").rename(tmp_path / "served-seed.yaml")
    for name, (variable, _) in TOKENS.items():
        config = agency / f"{name}.yaml"
        text = config.read_text().replace(
            "type: local\n  seed: seed.yaml",
            f"type: emulator\n  url: {server.url}\n  qps: 200\n  token_env: {variable}",
        )
        config.write_text(text)
    yield server
    server.process.terminate()
    server.process.wait(timeout=10)


def env() -> dict[str, str]:
    return dict(TOKENS.values())


def test_plan_shows_the_others_and_names_the_one_that_failed(
    bcsync: Bcsync, agency: Path, served_agency: Served, tmp_path: Path
) -> None:
    out = tmp_path / "plan.json"
    result = bcsync("plan", str(agency), "--now", NOW, "--out", str(out), env=env())
    assert result.exit_code == 1, result.output
    assert "Bright Agency" in result.stdout and "Northwind Foods" in result.stdout
    assert "1 of 3 Business Centers failed, the others were planned" in result.output
    assert "Harbor Outdoor (7040000000000000001)" in result.output
    # A plan of some BCs only is never saved: applied later it would read as the whole run's.
    assert not out.exists()
    assert "Not saved" in result.stderr


def test_apply_applies_the_others(bcsync: Bcsync, agency: Path, served_agency: Served) -> None:
    result = bcsync("apply", str(agency), "--auto-approve", "--now", NOW, env=env())
    assert result.exit_code == 1, result.output
    assert "1 of 3 Business Centers failed, the others were applied" in result.output
    assert "Harbor Outdoor" in result.output
    again = bcsync("plan", str(agency), "--now", NOW, "--format", "json", env=env())
    planned = json.loads(again.stdout)["plans"]
    assert {p["bc_id"] for p in planned} == {"7020000000000000001", "7030000000000000001"}
    assert not any(c["action"] != "no-op" for p in planned for c in p["changes"])


def test_a_single_bc_fails_as_before(bcsync: Bcsync, agency: Path, served_agency: Served) -> None:
    result = bcsync("plan", str(agency / "harbor.yaml"), "--now", NOW, env=env())
    assert result.exit_code == 1, result.output
    assert "Business Centers failed" not in result.output
