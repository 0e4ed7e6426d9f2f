"""The apply loop as a library call (`bcsync.loop.sync`), driven without click.

A program imports `sync`, gives it configs, options and a confirm callback, and gets a typed
result or an errors.py exception: the same loop `bcsync apply` runs, on the local example.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path

import pytest

from bcsync.config import load_strict
from bcsync.core.model import BusinessCenterConfig
from bcsync.core.plan import Plan, checksum_of
from bcsync.errors import DeclinedError, ExitCode, StalePlanError, UnsafePlanError
from bcsync.loop.apply import ProgressCallback, StepResult
from bcsync.loop.reconcile import Reviewed, locks
from bcsync.loop.sync import (
    AlreadyApplied,
    Checked,
    NothingToApply,
    Notice,
    Planned,
    ReadingBack,
    SyncOptions,
    Watchers,
    approve,
    plan,
    sync,
)
from tests.examples import copy_example

NOW = date(2026, 11, 25)


def configs_of(directory: Path) -> list[BusinessCenterConfig]:
    return load_strict([str(directory)], now=NOW).configs


def options_for(directory: Path, reviewed: Reviewed | None = None) -> SyncOptions:
    state = directory / ".bcsync"
    return SyncOptions(
        state_dir=state,
        audit_log=state / "audit.jsonl",
        reviewed=reviewed,
        lock_dir=directory / "locks",
        settle_timeout=5.0,
    )


class Recorder:
    """Watchers that keep what `sync` reports, in order."""

    def __init__(self) -> None:
        self.notices: list[Notice] = []
        self.steps: list[StepResult] = []
        self.totals: list[int] = []

    def watchers(self) -> Watchers:
        return Watchers(notice=self.notices.append, applying=self.applying)

    @contextlib.contextmanager
    def applying(self, total: int) -> Iterator[ProgressCallback]:
        self.totals.append(total)
        yield self.steps.append


@pytest.fixture
def quickstart(tmp_path: Path) -> Path:
    return copy_example("quickstart", tmp_path / "quickstart")


async def test_sync_plans_and_applies_then_finds_nothing_to_do(quickstart: Path) -> None:
    configs = configs_of(quickstart)
    asked: list[Sequence[Plan]] = []

    def confirm(plans: Sequence[Plan]) -> bool:
        asked.append(plans)
        return True

    seen = Recorder()
    result = await sync(configs, options_for(quickstart), confirm, seen.watchers())

    assert len(asked) == 1 and asked[0] == result.plans  # asked once, about the plans that ran
    assert result.ok and not result.failed and result.already_applied is None
    (applied,) = result.results
    assert applied.plan.bc_id == configs[0].bc_id
    counts = applied.counts()
    assert counts["succeeded"] > 0 and counts["failed"] == counts["skipped"] == 0
    assert result.not_visible == ()  # the local BC reads its writes at once
    kinds = [type(n) for n in seen.notices]
    assert kinds == [Planned, Checked, ReadingBack]
    assert seen.totals == [sum(c.is_change for p in result.plans for c in p.changes)]
    assert sum(len(s.changes) for s in seen.steps) == seen.totals[0]
    records = [json.loads(line) for line in result.audit_log.read_text().splitlines()]
    assert {r["result"] for r in records} == {"succeeded", "confirmed"}
    assert all(r["mode"] == "apply" for r in records)

    again = Recorder()
    second = await sync(configs, options_for(quickstart), confirm, again.watchers())
    assert second.results == () and len(asked) == 1  # nothing to make: nobody is asked
    assert again.notices[-1] == NothingToApply(done=False)
    assert not any(p.has_changes for p in second.plans)


async def test_a_refusing_confirm_changes_nothing(quickstart: Path) -> None:
    configs = configs_of(quickstart)
    options = options_for(quickstart)

    with pytest.raises(DeclinedError) as refused:
        await sync(configs, options, lambda plans: False)

    assert refused.value.exit_code == ExitCode.REFUSED
    assert "nothing was changed" in refused.value.message
    assert not options.audit_log.exists()  # no change attempted, so no record
    # The BC is as it was: a fresh run still has every change to make.
    seen = Recorder()
    with pytest.raises(DeclinedError):
        await sync(configs, options, lambda plans: False, seen.watchers())
    (planned,) = [n for n in seen.notices if isinstance(n, Planned)]
    assert any(p.has_changes for p in planned.plans) and seen.steps == []


async def test_a_confirm_callback_may_raise_its_own_refusal(quickstart: Path) -> None:
    def no_terminal(plans: Sequence[Plan]) -> bool:
        raise DeclinedError("no terminal to ask")

    with pytest.raises(DeclinedError, match="no terminal to ask"):
        await sync(configs_of(quickstart), options_for(quickstart), no_terminal)


async def test_a_reviewed_plan_runs_without_asking_and_once(quickstart: Path) -> None:
    configs = configs_of(quickstart)
    first = Recorder()
    with pytest.raises(DeclinedError):  # plan only: see what would run, decline
        await sync(configs, options_for(quickstart), lambda plans: False, first.watchers())
    (planned,) = [n for n in first.notices if isinstance(n, Planned)]
    reviewed = Reviewed(
        plans=[p.to_json() for p in planned.plans], checksums=(checksum_of(planned.plans),)
    )

    def never(plans: Sequence[Plan]) -> bool:
        raise AssertionError("a reviewed plan is not asked about")

    result = await sync(configs, options_for(quickstart, reviewed=reviewed), never)
    assert result.ok and result.results

    again = Recorder()
    options = options_for(quickstart, reviewed=reviewed)
    second = await sync(configs, options, never, again.watchers())
    assert second.already_applied is not None and second.plans == ()
    assert again.notices == [AlreadyApplied(second.already_applied)]


async def test_a_reviewed_checksum_that_is_not_the_fresh_plan_is_refused(quickstart: Path) -> None:
    reviewed = Reviewed(checksums=("sha256:" + "0" * 64,))
    with pytest.raises(StalePlanError, match="not the reviewed one") as refused:
        await sync(configs_of(quickstart), options_for(quickstart, reviewed=reviewed), approve)
    assert refused.value.exit_code == ExitCode.REFUSED


async def test_the_guards_refuse_before_anyone_is_asked(quickstart: Path) -> None:
    text = (quickstart / "bcsync.yaml").read_text()
    (quickstart / "bcsync.yaml").write_text(text.replace("max_removals: 25%", "max_removals: 0"))
    configs = configs_of(quickstart)
    asked: list[Sequence[Plan]] = []

    def confirm(plans: Sequence[Plan]) -> bool:
        asked.append(plans)
        return True

    with pytest.raises(UnsafePlanError):
        await sync(configs, options_for(quickstart), confirm)
    assert asked == [] and not options_for(quickstart).audit_log.exists()


async def test_plan_is_the_loop_without_a_lock_a_check_or_a_write(quickstart: Path) -> None:
    text = (quickstart / "bcsync.yaml").read_text()
    (quickstart / "bcsync.yaml").write_text(text.replace("max_removals: 25%", "max_removals: 0"))
    configs = configs_of(quickstart)
    options = options_for(quickstart)
    # The apply lock is held (another apply is running): a plan does not wait for it.
    with locks([c.bc_id for c in configs], directory=options.lock_dir):
        result = await plan(configs, options)
    (made,) = result.plans
    assert made.has_changes and made.refusals  # refused, but shown: raising is the caller's
    assert result.results == () and not options.audit_log.exists()
    again = await plan(configs, options)
    assert again.plans == result.plans  # nothing was written
