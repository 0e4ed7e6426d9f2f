"""Drift's comparison and attribution (pure): what counts as drift, and who made it."""

from __future__ import annotations

from datetime import UTC, datetime

from builders import AGENCY, bc_config, bound, member, state

from bcsync.access_diff import Effect, Kind
from bcsync.drift import LABEL, ChangelogEntry, DriftItem, DriftReport, attribute, compare
from bcsync.model import (
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


def entry(text: str, operator: str, hour: int) -> ChangelogEntry:
    return ChangelogEntry(datetime(2026, 11, 30, hour, tzinfo=UTC), "ACCOUNT", operator, text)


def test_attribution_takes_the_newest_entry_naming_subject_and_asset() -> None:
    config = desired_config()
    actual = state([bound("owner@acme.com", "admin"), Grant(US, "bob@acme.com", "analyst")], [US])
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
    log.append(entry("ops@acme.com removed owner@acme.com (1) and 0 asset assignment(s)", "2", 8))
    found = attribute(removed_owner, log, {"1": "owner@acme.com", "2": "ops@acme.com"})
    assert found is not None and found.who == "ops@acme.com"
    # An operator who is no longer a member is named by user id.
    unknown = attribute(removed_owner, log[1:], {})
    assert unknown is not None and unknown.who == "user 2"


def test_views_label_each_difference_and_say_once_when_the_log_is_missing() -> None:
    config = desired_config()
    actual = state([bound("owner@acme.com", "admin"), bound("bob@acme.com")], [US])
    changes, _ = compare(config, actual)
    items = [DriftItem(c) for c in changes]
    report = DriftReport(config.bc_id, "Acme Retail", "bcsync.yaml", items, [], "HTTP 404")
    text = view.text([report])
    assert text.count(f"({LABEL})") == len(items) > 0
    assert text.count("the activity log did not answer (HTTP 404)") == 1
    assert "bob@acme.com: operator on ad_accounts.acme-us in the config, not in the BC" in text
    assert '"drift": true' in view.to_json([report])
