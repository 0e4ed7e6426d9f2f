"""Effective access gained and lost, computed from built configs (groups expanded, expiry)."""

from __future__ import annotations

from datetime import date

import pytest

from bcsync.auditor.access_diff import AccessChange, Effect, Kind, between, role_effect, summary
from bcsync.config import load_sources
from bcsync.config.loader import SourceFile
from bcsync.core.model import AssetKey, AssetType, BusinessCenterConfig
from bcsync.render import access

NOW = date(2026, 11, 25)
ACME_US = AssetKey(AssetType.AD_ACCOUNT, "7100000000000000001")
ACME_EU = AssetKey(AssetType.AD_ACCOUNT, "7100000000000000002")
BRAND = AssetKey(AssetType.TIKTOK_ACCOUNT, "7400000000000000001")

BASE = """\
version: 1
business_center: { id: "7012345678901234567", name: Acme Retail }
provider: { type: tiktok }
policy: { min_admins: 2 }
assets:
  ad_accounts: { acme-us: "7100000000000000001", acme-eu: "7100000000000000002" }
  tiktok_accounts: { brand: "7400000000000000001" }
groups:
  buyers:
    access: { ad_accounts: { acme-us: operator, acme-eu: analyst } }
members:
  owner@acme.com: { role: admin }
  ops@acme.com: { role: admin }
  bob@acme.com: { role: standard, groups: [buyers] }
  amy@acme.com: { role: standard, groups: [buyers], access: { ad_accounts: { acme-eu: operator } } }
  cat@acme.com: { role: standard, access: { tiktok_accounts: { brand: [post, live] } } }
partners:
  agency-x:
    bc_id: "7200000000000000009"
    access: { ad_accounts: { acme-us: analyst } }
"""


def build(text: str, now: date = NOW) -> list[BusinessCenterConfig]:
    result = load_sources([(SourceFile("bcsync.yaml"), text.encode())], now)
    assert not result.errors, [p.format() for p in result.errors]
    return result.configs


def changes(old: str, new: str, now: date = NOW) -> list[AccessChange]:
    return between(build(old, now), build(new, now))


def keyed(found: list[AccessChange]) -> set[tuple[str, str, str, str | None, str | None]]:
    return {(c.kind.value, c.effect.value, c.subject, c.before, c.after) for c in found}


def test_same_config_reformatted_is_no_change() -> None:
    shuffled = BASE.replace("  bob@acme.com: { role: standard, groups: [buyers] }\n", "").replace(
        "members:\n", "members:\n  bob@acme.com:\n    groups: [buyers]\n    role: standard\n"
    )
    assert changes(BASE, shuffled + "# a comment\n") == []


def test_editing_a_group_changes_every_members_effective_access() -> None:
    new = BASE.replace("acme-us: operator, acme-eu: analyst", "acme-us: analyst, acme-eu: analyst")
    found = changes(BASE, new)
    assert keyed(found) == {
        ("grant", "lowered", "bob@acme.com", "operator", "analyst"),
        ("grant", "lowered", "amy@acme.com", "operator", "analyst"),
    }
    assert all(c.asset == ACME_US and c.sources == ("group buyers",) for c in found)


def test_own_grant_stronger_than_the_group_masks_a_group_edit() -> None:
    # amy holds operator on acme-eu herself: the group going analyst -> operator changes only bob.
    new = BASE.replace(
        "acme-us: operator, acme-eu: analyst", "acme-us: operator, acme-eu: operator"
    )
    assert keyed(changes(BASE, new)) == {
        ("grant", "raised", "bob@acme.com", "analyst", "operator"),
    }


def test_joining_a_group_gains_all_its_grants() -> None:
    new = BASE.replace(
        "cat@acme.com: { role: standard,", "cat@acme.com: { role: standard, groups: [buyers],"
    )
    found = changes(BASE, new)
    assert {(c.subject, c.asset, c.after, c.effect) for c in found} == {
        ("cat@acme.com", ACME_US, "operator", Effect.ADDED),
        ("cat@acme.com", ACME_EU, "analyst", Effect.ADDED),
    }
    assert summary(found) == {"gained": 2, "lost": 0, "changed": 0}


def test_member_removed_loses_membership_and_every_grant() -> None:
    new = BASE.replace("  bob@acme.com: { role: standard, groups: [buyers] }\n", "")
    found = changes(BASE, new)
    assert keyed(found) == {
        ("member", "removed", "bob@acme.com", "standard", None),
        ("grant", "removed", "bob@acme.com", "operator", None),
        ("grant", "removed", "bob@acme.com", "analyst", None),
    }
    assert all(c.effect.lost for c in found)


def test_member_role_and_finance_role_changes() -> None:
    new = BASE.replace("ops@acme.com: { role: admin }", "ops@acme.com: { role: standard }")
    new = new.replace(
        "owner@acme.com: { role: admin }", "owner@acme.com: { role: admin, finance_role: manager }"
    )
    new = new.replace(
        "  bob@acme.com: { role: standard, groups",
        "  zed@acme.com: { role: admin }\n  bob@acme.com: { role: standard, groups",
    )
    assert keyed(changes(BASE, new)) == {
        ("member", "lowered", "ops@acme.com", "admin", "standard"),
        ("member", "raised", "owner@acme.com", "admin", "admin (finance manager)"),
        ("member", "added", "zed@acme.com", None, "admin"),
    }


def test_permission_sets_gain_lose_or_change() -> None:
    more = BASE.replace("brand: [post, live]", "brand: [post, live, direct_message]")
    swap = BASE.replace("brand: [post, live]", "brand: [post, direct_message]")
    assert [c.effect for c in changes(BASE, more)] == [Effect.RAISED]
    assert [c.effect for c in changes(more, BASE)] == [Effect.LOWERED]
    [lateral] = changes(BASE, swap)
    assert (lateral.effect, lateral.effect.direction) == (Effect.CHANGED, "changed")
    assert (lateral.before, lateral.after) == ("live,post", "direct_message,post")


def test_partner_and_share_gained_and_lost() -> None:
    more = BASE.replace(
        "access: { ad_accounts: { acme-us: analyst } }",
        "access: { ad_accounts: { acme-us: analyst, acme-eu: operator } }",
    )
    assert keyed(changes(BASE, more)) == {
        ("share", "added", "7200000000000000009", None, "operator"),
    }
    gone = BASE.split("partners:")[0]
    found = changes(BASE, gone)
    assert keyed(found) == {
        ("partner", "removed", "7200000000000000009", "partner", None),
        ("share", "removed", "7200000000000000009", "analyst", None),
    }
    assert {c.subject_alias for c in found} == {"agency-x"}


def test_expiry_is_evaluated_on_the_day_given() -> None:
    timed = BASE.replace(
        "bob@acme.com: { role: standard, groups: [buyers] }",
        "bob@acme.com: { role: standard, groups: [buyers], expires: 2026-12-31 }",
    )
    # Before the date the expiry changes nothing effective; after it, bob is gone.
    assert changes(BASE, timed, date(2026, 12, 1)) == []
    lost = changes(BASE, timed, date(2027, 1, 1))
    assert {c.subject for c in lost} == {"bob@acme.com"} and all(c.effect.lost for c in lost)


def test_a_bc_on_one_side_only_is_all_gained_or_lost() -> None:
    found = between([], build(BASE))
    assert found and all(c.effect is Effect.ADDED for c in found)
    assert {c.kind for c in found} == set(Kind)
    assert between(build(BASE), []) and all(c.effect.lost for c in between(build(BASE), []))


@pytest.mark.parametrize(
    ("old", "new", "effect"),
    [
        (None, "analyst", Effect.ADDED),
        ("admin", None, Effect.REMOVED),
        ("analyst", "admin", Effect.RAISED),
        ("admin", "operator", Effect.LOWERED),
    ],
)
def test_role_effect_ranks_ad_account_roles(
    old: str | None, new: str | None, effect: Effect
) -> None:
    assert role_effect(AssetType.AD_ACCOUNT, old, new) is effect


def test_filters_match_member_alias_and_asset() -> None:
    new = BASE.replace("acme-us: operator, acme-eu: analyst", "acme-us: analyst, acme-eu: analyst")
    found = changes(BASE, new)
    assert [c.subject for c in found if c.matches(member="BOB@acme.com")] == ["bob@acme.com"]
    assert len([c for c in found if c.matches(asset="acme-us")]) == 2
    assert [c for c in found if c.matches(asset="acme-eu")] == []
    assert len([c for c in found if c.matches(asset=ACME_US.id)]) == 2


def test_sentence_names_who_what_and_where_from() -> None:
    new = BASE.replace("acme-us: operator, acme-eu: analyst", "acme-us: analyst, acme-eu: analyst")
    lines = sorted(access.sentence(c) for c in changes(BASE, new))
    assert lines[0] == (
        "- amy@acme.com lost analyst on ad_accounts.acme-us (was operator) [group buyers]"
    )
