"""Re-runs and partial failures converge, through the real CLI (issue 16, item 3).

A pipeline re-runs its apply job: after a success the reviewed plan is "already applied" (exit 0,
nothing written); after a partial failure under injected faults the same command applies what
remains of the reviewed plan. A checksum alone cannot say what remains, so it is still refused.
"""

from __future__ import annotations

import asyncio
import copy
import json
import sqlite3
from contextlib import closing
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from bcsync.cli import cli
from bcsync.config import load_strict
from bcsync.core.plan import Plan, checksum_of
from bcsync.core.schedule import schedule
from bcsync.loop.apply import Outcome
from bcsync.loop.audit import AuditLog
from bcsync.loop.reconcile import Reviewed, apply_planned, check_apply, plan_all
from bcsync.providers.factory import open_providers
from bcsync.providers.tiktok.client import RetryPolicy

from .conftest import NOW, Served
from .test_resilience import OWNER_TOKEN, point_at, set_faults

pytestmark = pytest.mark.slow

# One attempt per call, so an injected 5xx fails its step instead of being retried away.
NO_RETRY = RetryPolicy(
    attempts=1, base_delay=0.01, max_delay=0.05, throttle_delay=0.01, request_timeout=2, seed=1
)


def run(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    base = {"BCSYNC_LOCK_DIR": str(tmp_path / "locks"), "NO_COLOR": "1", **(env or {})}
    return CliRunner().invoke(cli, [*args, "--now", NOW], env=base, catch_exceptions=False)


def snapshot(database: Path) -> str:
    with closing(sqlite3.connect(database)) as db:
        return "\n".join(db.iterdump())


def test_a_rerun_after_a_successful_apply_is_already_applied(
    quickstart: Path, tmp_path: Path
) -> None:
    plan_file = tmp_path / "plan.json"
    made = run(tmp_path, "plan", str(quickstart), "--out", str(plan_file))
    assert made.exit_code == 0, made.output
    checksum = json.loads(plan_file.read_text(encoding="utf-8"))["checksum"]
    first = run(tmp_path, "apply", str(plan_file))
    assert first.exit_code == 0, first.output
    database = quickstart / ".bcsync" / "local" / "seed.yaml.db"
    before = snapshot(database)

    reviewed = (
        (str(plan_file),),
        (str(plan_file), "--checksum", checksum),
        (str(quickstart), "--plan", str(plan_file), "--checksum", checksum),
        (str(quickstart), "--plan", str(plan_file)),
    )
    # The audit log records every change as made: nothing is read or sent (issue 23).
    for args in reviewed:
        again = run(tmp_path, "apply", *args)
        assert again.exit_code == 0, again.output
        assert "Already applied at" in again.output and "Nothing was read" in again.output
    # Without that log (another runner), a fresh read shows the plan made: already applied.
    elsewhere = str(tmp_path / "other-audit.jsonl")
    for args in reviewed:
        again = run(tmp_path, "apply", *args, "--audit-log", elsewhere)
        assert again.exit_code == 0, again.output
        assert "already applied" in again.output and "12 reviewed changes" in again.output
    assert snapshot(database) == before

    # A checksum alone cannot tell "already applied" from "another plan": refused, with the way.
    alone = run(tmp_path, "apply", str(quickstart), "--checksum", checksum)
    assert alone.exit_code == 4, alone.output
    assert "--plan FILE" in alone.output
    # The reviewed checksum pins the plan file: another file is not the reviewed plan.
    other = "sha256:" + "0" * 64
    swapped = run(tmp_path, "apply", str(quickstart), "--plan", str(plan_file), "--checksum", other)
    assert swapped.exit_code == 4, swapped.output
    assert "not the reviewed plan" in swapped.output
    both = run(tmp_path, "apply", str(plan_file), "--plan", str(plan_file))
    assert both.exit_code == 64, both.output
    scoped = run(tmp_path, "apply", str(quickstart), "--plan", str(plan_file), "--changed")
    assert scoped.exit_code == 64, scoped.output
    assert snapshot(database) == before


async def apply_under_faults(config: Path, plan_file: Path, url: str, audit: Path) -> set[str]:
    """What the pipeline's first apply does, with 5xx answers injected once the BC is read."""
    doc = json.loads(plan_file.read_text(encoding="utf-8"))
    configs = load_strict([str(config)], now=date.fromisoformat(NOW)).configs
    env = {"BCSYNC_EMULATOR_TOKEN": OWNER_TOKEN}
    async with open_providers(configs, env=env, retry=NO_RETRY) as providers:
        plans = [p.plan for p in await plan_all(configs, providers)]
        check_apply(plans, Reviewed(plans=doc["plans"], checksums=(doc["checksum"],)))
        set_faults(url, error_5xx_rate=0.5, seed=3)
        with AuditLog(audit, context={"actor": "test", "git_commit": None}) as log:
            (result,) = await apply_planned(
                [(plans[0], providers[plans[0].bc_id])], audit=log, concurrency=1
            )
    set_faults(url, error_5xx_rate=0)  # the control endpoint merges: name what to clear
    return set(result.changes_with(Outcome.SUCCEEDED))


def test_a_partly_failed_apply_is_finished_by_a_rerun(
    quickstart: Path, served: Served, tmp_path: Path
) -> None:
    config = point_at(quickstart, served.url)
    env = {"BCSYNC_EMULATOR_TOKEN": OWNER_TOKEN}
    plan_file = tmp_path / "plan.json"
    made = run(tmp_path, "plan", str(quickstart), "--out", str(plan_file), env=env)
    assert made.exit_code == 0, made.output
    reviewed = [c["id"] for c in json.loads(plan_file.read_text())["plans"][0]["changes"]]

    audit = tmp_path / "audit.jsonl"
    done = asyncio.run(apply_under_faults(config, plan_file, served.url, audit))
    assert 0 < len(done) < 12, "the faults should fail some changes and not others"

    rerun = run(tmp_path, "apply", str(plan_file), "--audit-log", str(audit), env=env)
    assert rerun.exit_code == 0, rerun.output
    assert f"{12 - len(done)} of 12 reviewed changes remain" in rerun.output
    records = [json.loads(line) for line in audit.read_text().splitlines()]
    second = {r["change"]["id"] for r in records[-(12 - len(done)) :]}
    assert second.isdisjoint(done) and second | done <= set(reviewed)

    settled = run(tmp_path, "plan", str(quickstart), "--detailed-exitcode", env=env)
    assert settled.exit_code == 0, settled.output
    last = run(tmp_path, "apply", str(plan_file), env=env)
    assert last.exit_code == 0, last.output
    assert "already applied" in last.output


def reseal(doc: dict[str, Any]) -> dict[str, Any]:
    """Steps made again from the edited changes and every checksum recomputed: a careful forger."""
    plans = []
    for body in doc["plans"]:
        plan = Plan.from_json(body)
        plan = replace(plan, steps=schedule(plan.changes))
        body["steps"] = [s.to_json() for s in plan.steps]
        body["checksum"] = plan.checksum()
        plans.append(plan)
    doc["checksum"] = checksum_of(plans)
    return doc


def test_an_edited_plan_finishes_nothing_of_a_half_applied_bc(
    quickstart: Path, tmp_path: Path
) -> None:
    """Part of the plan is made (mallory is kept by hand); forged variants of the rest refuse."""
    plan_file = tmp_path / "plan.json"
    assert run(tmp_path, "plan", str(quickstart), "--out", str(plan_file)).exit_code == 0
    config = quickstart / "bcsync.yaml"
    reviewed_text = config.read_text()
    kept = "members:\n  mallory@acme.com: { role: standard }\n"
    config.write_text(reviewed_text.replace("members:\n", kept, 1))
    assert run(tmp_path, "apply", str(quickstart), "--auto-approve").exit_code == 0
    config.write_text(reviewed_text)
    database = quickstart / ".bcsync" / "local" / "seed.yaml.db"
    before = snapshot(database)
    doc = json.loads(plan_file.read_text(encoding="utf-8"))
    removal = "member:mallory@acme.com"
    edits = {
        "the remaining removal dropped": lambda b: b.update(
            changes=[c for c in b["changes"] if c["id"] != removal]
        ),
        "the remaining removal retargeted": lambda b: next(
            c for c in b["changes"] if c["id"] == removal
        )["target"].update(email="owner@acme.com"),
        "changes reversed": lambda b: b["changes"].reverse(),
        "the remaining removal's before altered": lambda b: next(
            c for c in b["changes"] if c["id"] == removal
        )["before"].update(role="admin"),
    }
    for name, edit in edits.items():
        forged = copy.deepcopy(doc)
        edit(forged["plans"][0])
        path = tmp_path / "forged.json"
        path.write_text(json.dumps(reseal(forged)))
        refused = run(tmp_path, "apply", str(path))
        assert refused.exit_code == 4, (name, refused.output)
        assert "Traceback" not in refused.output
        assert snapshot(database) == before, name

    rest = run(tmp_path, "apply", str(plan_file))
    assert rest.exit_code == 0, rest.output
    assert "1 of 12 reviewed changes remain" in rest.output
    assert "remove mallory@acme.com standard: done" in rest.output
