"""Member display names (bc/member/update `user_name`): declared, planned, applied, then settled."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from .conftest import NOW, ROOT, Bcsync

PLAN_SCHEMA = json.loads((ROOT / "schemas" / "plan.schema.json").read_text())


def name_cfo(quickstart: Path, name: str) -> None:
    config = quickstart / "bcsync.yaml"
    text = config.read_text()
    old = "cfo@acme.com: { role: standard, finance_role: analyst }"
    assert old in text
    config.write_text(
        text.replace(
            old, f'cfo@acme.com: {{ role: standard, finance_role: analyst, name: "{name}" }}'
        )
    )


def test_a_declared_name_is_planned_applied_and_then_settled(
    bcsync: Bcsync, quickstart: Path
) -> None:
    name_cfo(quickstart, "Chloe F. (CFO)")
    plan = bcsync("plan", str(quickstart), "--format", "json", "--now", NOW)
    doc = json.loads(plan.stdout)
    jsonschema.validate(doc, PLAN_SCHEMA)
    [change] = [c for c in doc["plans"][0]["changes"] if c["key"] == "cfo@acme.com"]
    assert (
        change["before"]["name"] == "Chloe Finance" and change["after"]["name"] == "Chloe F. (CFO)"
    )
    assert "name 'Chloe Finance' → 'Chloe F. (CFO)'" in change["reason"]
    [step] = [s for s in doc["plans"][0]["steps"] if change["id"] in s["changes"]]
    assert step["params"]["name"] == "Chloe F. (CFO)"

    applied = bcsync("apply", str(quickstart), "--auto-approve", "--now", NOW)
    assert applied.exit_code == 0, applied.output
    again = bcsync("plan", str(quickstart), "--format", "json", "--now", NOW)
    left = [
        c for c in json.loads(again.stdout)["plans"][0]["changes"] if c["key"] == "cfo@acme.com"
    ]
    assert left == []


def test_an_undeclared_name_is_left_alone(bcsync: Bcsync, quickstart: Path) -> None:
    plan = bcsync("plan", str(quickstart), "--format", "json", "--now", NOW)
    doc = json.loads(plan.stdout)
    for change in doc["plans"][0]["changes"]:
        assert "name" not in (change["after"] or {}), change
    for step in doc["plans"][0]["steps"]:
        assert "name" not in step["params"], step


def test_a_name_over_250_characters_is_invalid(bcsync: Bcsync, quickstart: Path) -> None:
    name_cfo(quickstart, "x" * 251)
    result = bcsync("validate", str(quickstart))
    assert result.exit_code == 3, result.output
    assert "members.cfo@acme.com.name: too long: at most 250 characters" in result.output
