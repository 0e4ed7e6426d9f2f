"""What expires soon and what has expired: windows, kinds, reasons, dropped entries."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from builders import AGENCY, Entry, bc_config, member, state

from bcsync.auditor.expiry import expiring, parse_within
from bcsync.core.model import (
    AssetKey,
    AssetType,
    BusinessCenterConfig,
    Grant,
    Partner,
    PartnerShare,
    Policy,
)

US = AssetKey(AssetType.AD_ACCOUNT, "7100000000000000001")
NOW = date(2026, 11, 25)


@pytest.mark.parametrize(
    ("text", "days"), [("30d", 30), ("30", 30), ("2w", 14), (" 7D ", 7), ("0d", 0)]
)
def test_parse_within(text: str, days: int) -> None:
    assert parse_within(text) == timedelta(days=days)


@pytest.mark.parametrize("text", ["", "30m", "-3d", "1e9", "30 days", "d"])
def test_parse_within_refuses_anything_else(text: str) -> None:
    with pytest.raises(ValueError, match="30d"):
        parse_within(text)


def config_with_dates() -> BusinessCenterConfig:
    temp = replace(member("temp@x.example"), expires=date(2026, 12, 10), reason="contract")
    entries: list[Entry] = [
        temp,
        member("owner@acme.com", "admin"),
        Grant(US, "temp@x.example", "analyst", ("bcsync.yaml:9",), date(2026, 12, 1), "Q1"),
        Partner(AGENCY, alias="agency-x", expires=date(2027, 6, 1)),
        PartnerShare(AGENCY, US, "analyst", expires=date(2026, 12, 20), reason="pilot"),
    ]
    expired: dict[object, date] = {
        "gone@acme.com": date(2026, 10, 1),
        (US, "owner@acme.com"): date(2026, 11, 1),
        "7200000000000000010": date(2026, 9, 1),
        ("7200000000000000010", US): date(2026, 9, 1),
    }
    return bc_config(
        state(entries, [US], {US: "acme-us"}),
        policy=Policy(),
        expired=expired,
        asset_aliases={US: "acme-us"},
        partner_aliases={AGENCY: "agency-x", "7200000000000000010": "old-agency"},
    )


def test_window_holds_what_ends_inside_it_and_everything_expired() -> None:
    found = expiring([config_with_dates()], NOW, timedelta(days=30))
    summary = [(e.kind, e.who, e.asset, e.expires, e.expired) for e in found]
    assert summary == [
        ("partner", "old-agency", None, date(2026, 9, 1), True),
        ("partner_share", "old-agency", "ad_accounts/acme-us", date(2026, 9, 1), True),
        ("member", "gone@acme.com", None, date(2026, 10, 1), True),
        ("grant", "owner@acme.com", "ad_accounts/acme-us", date(2026, 11, 1), True),
        ("grant", "temp@x.example", "ad_accounts/acme-us", date(2026, 12, 1), False),
        ("member", "temp@x.example", None, date(2026, 12, 10), False),
        ("partner_share", "agency-x", "ad_accounts/acme-us", date(2026, 12, 20), False),
    ]
    reasons = {(e.kind, e.who): e.reason for e in found if not e.expired}
    assert reasons[("grant", "temp@x.example")] == "Q1"
    assert reasons[("member", "temp@x.example")] == "contract"
    assert found[4].source == "bcsync.yaml:9" and found[4].days_left(NOW) == 6


def test_a_narrow_window_keeps_only_the_expired() -> None:
    found = expiring([config_with_dates()], NOW, timedelta(days=1))
    assert all(e.expired for e in found) and len(found) == 4


def test_nothing_without_dates() -> None:
    config = bc_config(state([member("a@b.example")], []), policy=Policy())
    assert expiring([config], NOW, timedelta(days=365)) == []
