"""The stale-plan explanation and the per-BC lock."""

from __future__ import annotations

from pathlib import Path

import pytest

from bcsync.errors import LockHeldError
from bcsync.plan import Action, Change, Kind, Plan, Stage
from bcsync.reconcile import bc_lock, stale_reason


def grant(email: str, before: str | None, after: str | None) -> Change:
    action = Action.UPDATE if before and after else Action.CREATE if after else Action.DELETE
    return Change(
        id=f"grant:ad_accounts/71:{email}",
        action=action,
        kind=Kind.GRANT,
        key=f"ad_accounts/71:{email}",
        before={"role": before} if before else None,
        after={"role": after} if after else None,
        reason="test",
        title=f"{email} on ad_accounts.us",
        stage=Stage.GRANT,
    )


def plan(*changes: Change) -> Plan:
    return Plan("1", "Acme", changes, (), "sha256:" + "0" * 64, "sha256:c")


def test_stale_reason_names_what_changed() -> None:
    saved = plan(grant("bob@x.com", "analyst", "operator"), grant("eve@x.com", None, "admin"))
    fresh = plan(grant("bob@x.com", "admin", "operator"), grant("zoe@x.com", "analyst", None))
    reason = stale_reason(saved, fresh)
    assert "now also needed: zoe@x.com on ad_accounts.us (delete)" in reason
    assert "no longer needed: eve@x.com on ad_accounts.us (create)" in reason
    assert "changed: bob@x.com on ad_accounts.us (before.role: 'analyst' → 'admin')" in reason


def test_stale_reason_when_only_untouched_entries_changed() -> None:
    same = plan(grant("bob@x.com", "analyst", "operator"))
    assert "does not touch" in stale_reason(same, same)


def test_a_second_lock_on_the_same_bc_is_refused(tmp_path: Path) -> None:
    with bc_lock(tmp_path, "7012345678901234567"):
        with (
            pytest.raises(LockHeldError) as info,
            bc_lock(tmp_path, "7012345678901234567", timeout=0.05),
        ):
            pass  # pragma: no cover - never entered
        assert info.value.exit_code == 4
        with bc_lock(tmp_path, "7099999999999999999", timeout=0.05):
            pass  # another BC is independent
