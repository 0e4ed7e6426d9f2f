"""The saved-plan format in one module: built, written, read back, compared (loop.planfile)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from test_render import PLANS, real_plan

from bcsync.core.plan import checksum_of
from bcsync.errors import PlanFileError
from bcsync.loop import planfile
from bcsync.loop.reconcile import Reviewed


def saved(tmp_path: Path, doc: dict[str, Any], name: str = "plan.json") -> planfile.SavedPlan:
    path = tmp_path / name
    planfile.write(path, planfile.dumps(doc))
    return planfile.read(path)


def test_a_new_document_is_written_and_read_back_as_the_same_plans(tmp_path: Path) -> None:
    plans = [real_plan()]
    doc = planfile.new_document(plans, head_commit="a" * 40)
    back = saved(tmp_path, doc)
    assert back.plans == plans
    assert back.doc == json.loads(planfile.dumps(doc))
    assert back.checksum == checksum_of(plans) and back.head_commit == "a" * 40
    assert back.scopes == {plans[0].bc_id: None}  # a full plan: the whole BC is read again
    assert planfile.validate_document(back.doc) == []
    assert (tmp_path / "plan.json").stat().st_mode & 0o777 == 0o600
    # Its body is the fresh plan it was made from, to the byte.
    assert planfile.first_difference(back.doc["plans"][0], plans[0]) is None


def test_the_document_without_head_commit_has_no_key(tmp_path: Path) -> None:
    doc = planfile.document(PLANS, created_at="x", tool_version="0", git_commit=None)
    assert "head_commit" not in doc and saved(tmp_path, doc).head_commit is None


def test_a_reviewed_plan_of_a_file_needs_its_checksum_and_any_given_one(tmp_path: Path) -> None:
    back = saved(tmp_path, planfile.new_document(PLANS))
    other = "sha256:" + "1" * 64
    reviewed = Reviewed.of_saved(back, other)
    assert reviewed.checksums == (other, back.checksum)
    assert reviewed.plans == back.doc["plans"] and str(tmp_path) in reviewed.source
    assert Reviewed.of_saved(back).checksums == (back.checksum,)


def test_config_paths_are_found_where_the_plan_was_made(tmp_path: Path) -> None:
    made = tmp_path / "made"
    made.mkdir()
    (made / "bcsync.yaml").write_text("version: 1\n")
    doc = planfile.new_document([real_plan()])  # its config_path is "bcsync.yaml"
    back = saved(tmp_path, {**doc, "created_in": str(made)})
    assert back.config_paths() == [str(made / "bcsync.yaml")]


@pytest.mark.parametrize("made_in", ["/nowhere\x1b[2J", "/" + "d" * 4000], ids=["control", "long"])
def test_a_missing_config_is_named_bounded_and_escaped(tmp_path: Path, made_in: str) -> None:
    """A hostile plan file's paths are quoted, never echoed raw: no terminal escape, no 5 kB."""
    doc = planfile.new_document([real_plan()])
    back = saved(tmp_path, {**doc, "created_in": made_in})
    with pytest.raises(PlanFileError, match="it was made from is not here") as refused:
        back.config_paths()
    assert "\x1b" not in refused.value.message and len(refused.value.message) < 600
