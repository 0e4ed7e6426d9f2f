"""A test's copy of an example starts from the seed, whatever the working tree's example holds."""

from __future__ import annotations

import json
from pathlib import Path

from tests.examples import copy_example

from .conftest import NOW, Bcsync


def plan_changes(bcsync: Bcsync, config: Path) -> list[str]:
    result = bcsync("plan", str(config), "--format", "json", "--now", NOW)
    assert result.exit_code == 0, result.output
    (plan,) = json.loads(result.output)["plans"]
    return sorted(c["id"] for c in plan["changes"] if c["action"] != "no-op")


def test_an_applied_local_business_center_is_not_copied(bcsync: Bcsync, tmp_path: Path) -> None:
    # A stand-in for the working tree's examples/, after the README's first command ran in it.
    examples = tmp_path / "examples"
    used = copy_example("quickstart", examples / "quickstart")
    seeded = plan_changes(bcsync, used)
    assert seeded, "the seeded quickstart has changes to plan"
    applied = bcsync("apply", "--auto-approve", str(used), "--now", NOW)
    assert applied.exit_code == 0, applied.output
    assert (used / ".bcsync").is_dir()
    assert plan_changes(bcsync, used) != seeded  # the example's own state moved on

    fresh = copy_example("quickstart", tmp_path / "copy", examples=examples)
    assert not (fresh / ".bcsync").exists()
    assert plan_changes(bcsync, fresh) == seeded
