"""Drift's comparison and attribution (pure): what counts as drift, and who made it."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from builders import AGENCY, BC, bc_config, bound, member, state

from bcsync.auditor.access_diff import Effect, Kind
from bcsync.auditor.drift import (
    Cause,
    ChangelogEntry,
    DriftReport,
    OwnApply,
    attribute,
    compare,
    explain,
    own_applies,
)
from bcsync.core.model import (
    AssetKey,
    AssetType,
    BusinessCenterConfig,
    Grant,
    Partner,
    PartnerShare,
    Policy,
)
from bcsync.render import drift as view

US = AssetKey(AssetType.AD_ACCOUNT, "7100000000000000001")
EU = AssetKey(AssetType.AD_ACCOUNT, "7100000000000000002")
POLICY = Policy(ignore_members=("*@support.example",))
BC_ID = BC


def desired_config() -> BusinessCenterConfig:
    desired = state(
        [
            member("owner@acme.com", "admin"),
            member("bob@acme.com"),
            member("new@acme.com"),
            Grant(US, "bob@acme.com", "operator"),
            Grant(US, "new@acme.com", "analyst"),
            Partner(AGENCY),
            PartnerShare(AGENCY, US, "analyst"),
        ],
        [US, EU],
    )
    return bc_config(desired, policy=POLICY, asset_aliases={US: "acme-us"})


def test_in_sync_pending_and_ignored_are_not_drift() -> None:
    config = desired_config()
    actual = state(
        [
            bound("owner@acme.com", "admin"),
            bound("bob@acme.com"),
            member("new@acme.com", status="pending"),  # its grant cannot be read yet
            bound("agent@support.example"),
            Grant(US, "bob@acme.com", "operator"),
            Grant(US, "agent@support.example", "admin"),
            Grant(AssetKey(AssetType.AD_ACCOUNT, "799"), "bob@acme.com", "admin"),  # undeclared
            Partner(AGENCY),
            PartnerShare(AGENCY, US, "analyst"),
        ],
        [US, EU],
    )
    changes, pending = compare(config, actual)
    assert changes == [] and pending == ["new@acme.com"]


def test_every_kind_of_drift_is_found() -> None:
    config = desired_config()
    actual = state(
        [
            bound("owner@acme.com", "admin"),
            bound("bob@acme.com", "admin"),  # promoted by hand
            member("new@acme.com", status="rejected"),  # declined: missing, not pending
            bound("eve@acme.com"),  # added by hand
            Grant(US, "bob@acme.com", "analyst"),
            Grant(EU, "eve@acme.com", "admin"),
            PartnerShare(AGENCY, EU, "operator"),
        ],
        [US, EU],
    )
    changes, pending = compare(config, actual)
    found = {(c.kind, c.effect, c.subject, c.asset) for c in changes}
    assert pending == []
    assert found == {
        (Kind.MEMBER, Effect.RAISED, "bob@acme.com", None),
        (Kind.MEMBER, Effect.REMOVED, "new@acme.com", None),
        (Kind.MEMBER, Effect.ADDED, "eve@acme.com", None),
        (Kind.GRANT, Effect.LOWERED, "bob@acme.com", US),
        (Kind.GRANT, Effect.REMOVED, "new@acme.com", US),
        (Kind.GRANT, Effect.ADDED, "eve@acme.com", EU),
        (Kind.PARTNER, Effect.REMOVED, AGENCY, None),
        (Kind.SHARE, Effect.REMOVED, AGENCY, US),
        (Kind.SHARE, Effect.ADDED, AGENCY, EU),
    }


def entry(text: str, operator: str, hour: int, kind: str = "ACCOUNT") -> ChangelogEntry:
    return ChangelogEntry(datetime(2026, 11, 30, hour, tzinfo=UTC), kind, operator, text)


def test_attribution_takes_the_newest_entry_naming_subject_and_asset() -> None:
    config = desired_config()
    actual = state(
        [
            bound("owner@acme.com", "admin"),
            bound("bob@acme.com"),
            Grant(US, "bob@acme.com", "analyst"),
        ],
        [US],
    )
    change = next(c for c in compare(config, actual)[0] if c.kind is Kind.GRANT)
    log = [  # newest first, as read_changelog returns them
        entry("ops@acme.com assigned ad account X (7100000000000000002) to bob@acme.com", "2", 12),
        entry(
            "ops@acme.com changed bob@acme.com (1)'s role on ad account Acme US "
            "(7100000000000000001) from OPERATOR to ANALYST",
            "2",
            11,
        ),
        entry(
            "owner@acme.com assigned ad account Acme US (7100000000000000001) to bob@acme.com",
            "1",
            9,
        ),
    ]
    found = attribute(change, log, {"1": "owner@acme.com", "2": "ops@acme.com"})
    assert found is not None and found.who == "ops@acme.com"
    assert found.when == datetime(2026, 11, 30, 11, tzinfo=UTC)
    assert attribute(change, log[:1], {}) is None


def test_the_operators_own_email_does_not_name_them_as_the_subject() -> None:
    config = desired_config()
    actual = state([bound("bob@acme.com")], [US])
    removed_owner = next(c for c in compare(config, actual)[0] if c.subject == "owner@acme.com")
    log = [entry("owner@acme.com invited new@acme.com as STANDARD", "1", 10)]
    assert attribute(removed_owner, log, {"1": "owner@acme.com"}) is None
    log.append(
        entry("ops@acme.com removed owner@acme.com (1) and 0 asset assignment(s)", "2", 8, "USER")
    )
    found = attribute(removed_owner, log, {"1": "owner@acme.com", "2": "ops@acme.com"})
    assert found is not None and found.who == "ops@acme.com"
    # An operator who is no longer a member is named by user id.
    unknown = attribute(removed_owner, log[1:], {})
    assert unknown is not None and unknown.who == "user 2"


def test_views_label_each_difference_and_say_once_when_the_log_is_missing() -> None:
    config = desired_config()
    actual = state([bound("owner@acme.com", "admin"), bound("bob@acme.com")], [US])
    changes, _ = compare(config, actual)
    items = [explain(c, None, {}) for c in changes]
    report = DriftReport(config.bc_id, "Acme Retail", "bcsync.yaml", items, [], "HTTP 404")
    text = view.text([report])
    assert text.count(f"({Cause.NO_LOG.value})") == len(items) > 0
    assert text.count("the activity log did not answer (HTTP 404)") == 1
    assert "bob@acme.com: operator on ad_accounts.acme-us in the config, not in the BC" in text
    assert '"drift": true' in view.to_json([report])


FRANK = "frank@acme.com"
EMAILS = {"1": "owner@acme.com", "2": "ops@acme.com"}


def frank_config(role: str = "standard", frank_us: str = "analyst") -> BusinessCenterConfig:
    desired = state(
        [member("owner@acme.com", "admin"), member(FRANK, role), Grant(US, FRANK, frank_us)], [US]
    )
    return bc_config(desired, policy=POLICY, asset_aliases={US: "acme-us"})


def frank_actual(role: str = "standard", frank_us: str = "analyst") -> BusinessCenterConfig:
    return state(  # type: ignore[return-value]
        [bound("owner@acme.com", "admin"), bound(FRANK, role), Grant(US, FRANK, frank_us)], [US]
    )


BCSYNC_UNASSIGN = entry(
    "owner@acme.com unassigned ad account Acme EU (7100000000000000002) from frank@acme.com "
    "(uid-frank@acme.com)",
    "1",
    9,
)


def test_a_member_role_difference_is_never_credited_to_an_entry_about_another_field() -> None:
    [change] = compare(frank_config(role="admin"), frank_actual())[0]
    assert (change.kind, change.subject) == (Kind.MEMBER, FRANK)
    # The case: the newest entry naming frank is bcsync's unassign of another asset.
    log = [
        BCSYNC_UNASSIGN,
        entry(f"ops@acme.com assigned ad account Acme US ({US.id}) to {FRANK}", "2", 8),
    ]
    assert attribute(change, log, EMAILS) is None
    item = explain(change, log, EMAILS)
    assert (item.cause, item.attribution) == (Cause.UNKNOWN, None)
    assert "no activity-log entry about this membership or role since 2026-11-01" in view.text(
        [DriftReport(BC_ID, "Acme", "bcsync.yaml", [item], changelog_since=date(2026, 11, 1))]
    )
    # A USER entry updating frank's role is about it.
    role = entry(
        f"ops@acme.com updated {FRANK} (uid-frank@acme.com): role ADMIN -> STANDARD", "2", 7, "USER"
    )
    found = attribute(change, [*log, role], EMAILS)
    assert found is not None and found.who == "ops@acme.com" and "role" in found.text


@pytest.mark.parametrize(
    ("text", "kind", "about"),
    [
        (
            f"changed {FRANK}'s role on ad account Acme US ({US.id}) from ANALYST to OPERATOR",
            "ACCOUNT",
            True,
        ),
        (f"assigned ad account Acme US ({US.id}) to {FRANK} as OPERATOR", "ACCOUNT", True),
        (f"unassigned ad account Acme US ({US.id}) from {FRANK}", "ACCOUNT", False),  # wrong way
        (f"changed {FRANK}'s role on ad account Acme EU (7100000000000000002)", "ACCOUNT", False),
        (f"changed frank@acme.co's role on ad account Acme US ({US.id})", "ACCOUNT", False),
        (f"updated {FRANK}: role STANDARD -> ADMIN, on {US.id}", "USER", False),  # member field
        (f"changed {FRANK}'s role on ad account Acme US ({US.id})", "BUSINESS", False),
        (f"changed uid-frank@acme.com's role on ad account ({US.id})", "ACCOUNT", True),  # user id
    ],
)
def test_a_grant_difference_matches_only_its_subject_asset_type_and_direction(
    text: str, kind: str, about: bool
) -> None:
    [change] = compare(frank_config(), frank_actual(frank_us="operator"))[0]
    assert change.kind is Kind.GRANT and change.effect is Effect.RAISED
    emails = {**EMAILS, "uid-frank@acme.com": FRANK}
    found = attribute(change, [entry(f"ops@acme.com {text}", "2", 9, kind)], emails)
    assert (found is not None) is about


def record(hour: int, minute: int, role: str | None, **extra: object) -> dict[str, object]:
    return {
        "time": f"2026-11-30T{hour:02d}:{minute:02d}:01.250Z",
        "bc_id": BC_ID,
        "result": "succeeded",
        "op": "assign",
        "plan_digest": "sha256:" + "a" * 64,
        "request_ids": ["REQ-1"],
        "actor": "github:alice",
        "change": {
            "kind": "grant",
            "action": "create",
            "after": {"role": role} if role else None,
            "target": {
                "email": FRANK,
                "user_id": "u1",
                "asset_type": "ad_accounts",
                "asset_id": US.id,
            },
        },
        **extra,
    }


BCSYNC_ASSIGN = entry(
    f"owner@acme.com assigned ad account Acme US ({US.id}) to {FRANK} as OPERATOR", "1", 9
)


def test_bcsyncs_own_apply_is_recognised_from_the_audit_log_never_called_by_hand() -> None:
    # The config said operator when bcsync applied it; it says analyst now.
    [change] = compare(frank_config(), frank_actual(frank_us="operator"))[0]
    applies = own_applies([record(9, 0, "operator")])
    item = explain(change, [BCSYNC_ASSIGN], EMAILS, applies)
    assert item.cause is Cause.BY_BCSYNC and item.label != "changed outside bcsync"
    assert item.attribution is not None and item.attribution.applied is not None
    assert item.attribution.applied.request_ids == ("REQ-1",)
    out = view.text([DriftReport(BC_ID, "Acme", "bcsync.yaml", [item])])
    assert "applied by bcsync at 2026-11-30 09:00:00 UTC (plan sha256:aaaa" in out
    assert "request id(s) REQ-1, run by github:alice" in out
    doc = json.loads(view.to_json([DriftReport(BC_ID, "Acme", "bcsync.yaml", [item])]))
    applied = doc["business_centers"][0]["differences"][0]["applied_by_bcsync"]
    assert applied["plan_digest"] == "sha256:" + "a" * 64 and applied["request_ids"] == ["REQ-1"]


@pytest.mark.parametrize(
    "audit",
    [
        record(9, 0, "analyst"),  # bcsync set another role: the BC's operator came from elsewhere
        record(9, 30, "operator"),  # written long after the entry: another run
        record(8, 50, "operator"),  # written before the entry
        record(9, 0, "operator", bc_id="999"),
        record(9, 0, "operator", result="failed"),
        {**record(9, 0, "operator"), "change": "garbage"},
        {**record(9, 0, "operator"), "time": "yesterday"},
    ],
)
def test_an_entry_bcsync_did_not_write_stays_a_change_by_hand(audit: dict[str, object]) -> None:
    [change] = compare(frank_config(), frank_actual(frank_us="operator"))[0]
    item = explain(change, [BCSYNC_ASSIGN], EMAILS, own_applies([audit]))
    assert item.cause is Cause.BY_HAND and item.attribution is not None
    assert item.attribution.applied is None


def test_own_applies_reads_what_the_audit_log_holds() -> None:
    [found] = own_applies([record(9, 0, "operator"), {"change": {}}, {}])
    assert found == OwnApply(
        time=datetime(2026, 11, 30, 9, 0, 1, 250000, tzinfo=UTC),
        bc_id=BC_ID,
        kind="grant",
        subject=FRANK,
        asset_id=US.id,
        op="assign",
        after="operator",
        plan_digest="sha256:" + "a" * 64,
        request_ids=("REQ-1",),
        actor="github:alice",
    )
