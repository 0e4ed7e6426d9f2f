"""The export's pure core: aliases, groups, policy, and a config that builds back to the state."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
import yaml

from bcsync.adoption.export import (
    ExportOptions,
    asset_aliases,
    export_config,
    propose_groups,
    slug,
)
from bcsync.config import load
from bcsync.config.fmt import format_text
from bcsync.core.model import (
    Asset,
    AssetKey,
    AssetType,
    Grant,
    Member,
    MemberStatus,
    Partner,
    PartnerShare,
    State,
)
from tests.unit.builders import BC, bound, member

AD = AssetType.AD_ACCOUNT
NOW = date(2026, 11, 25)


def ad(n: int, name: str | None = None) -> Asset:
    return Asset(AssetKey(AD, f"71000000000000{n:05d}"), name=name)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Acme US", "acme-us"),
        ("@acme", "acme"),
        ("Café Crème – EU", "cafe-creme-eu"),
        ("  --Weird__Name!!  ", "weird-name"),
        ("", ""),
        (None, ""),
        ("!!!", ""),
        ("日本", ""),
        ("a" * 80, "a" * 64),
        ("x" * 63 + " y", "x" * 63),
    ],
)
def test_slug(name: str | None, expected: str) -> None:
    assert slug(name) == expected


def test_aliases_are_unique_readable_and_stable() -> None:
    assets = [ad(1, "Acme US"), ad(2, "Acme US"), ad(3, "Acme EU"), ad(4, None), ad(5, "日本")]
    aliases = asset_aliases(assets)
    assert aliases[assets[0].key] == "acme-us-0001"
    assert aliases[assets[1].key] == "acme-us-0002"
    assert aliases[assets[2].key] == "acme-eu"
    assert aliases[assets[3].key] == "ad-account-7100000000000000004"
    assert len(set(aliases.values())) == len(assets)
    # Another asset does not rename the others.
    more = asset_aliases([*assets, ad(6, "Acme APAC")])
    assert all(more[a.key] == aliases[a.key] for a in assets)


def test_aliases_never_clash_even_with_lookalike_names() -> None:
    assets = [ad(1, "x"), ad(2, "x"), ad(3, "x 0001"), ad(4, "x-0002")]
    aliases = asset_aliases(assets)
    assert len(set(aliases.values())) == 4


def test_aliases_are_per_type() -> None:
    catalog = Asset(AssetKey(AssetType.CATALOG, "1"), name="Main")
    aliases = asset_aliases([ad(1, "Main"), catalog])
    assert set(aliases.values()) == {"main"}


def test_groups_need_two_members_with_identical_access() -> None:
    same = {"ad_accounts": {"a": "operator"}}
    access = {
        "x@a.com": same,
        "y@a.com": {"ad_accounts": {"a": "operator"}},
        "z@a.com": {"ad_accounts": {"a": "analyst"}},
    }
    groups, member_group = propose_groups(access)
    assert groups == {"group-1": same}
    assert member_group == {"x@a.com": "group-1", "y@a.com": "group-1"}


def hostile_state() -> State:
    """Names and emails that would break naive YAML: quotes, colons, '#', newlines, 'yes'."""
    assets = [
        ad(1, 'Acme "US": main # primary'),
        ad(2, "yes"),
        ad(3, "null\nline two"),
        Asset(AssetKey(AssetType.TIKTOK_ACCOUNT, "7400000000000000001"), name="@acme"),
        Asset(AssetKey(AssetType.PIXEL, "7700000000000000001"), name="Site pixel"),
        Asset(AssetKey(AssetType.LEAD_FORM, "7600000000000000001"), name="2027-01-31"),
    ]
    members = [
        bound("owner@acme.com", "admin", "manager"),
        bound("o'brien+ads@acme.com"),
        bound("yes@no.example"),
        member("invited@acme.com", "standard", "analyst", status="pending"),
        Member("declined@acme.com", role=member("x@a.com").role, status=MemberStatus.REJECTED),
    ]
    grants = [
        Grant(assets[0].key, "o'brien+ads@acme.com", "operator"),
        Grant(assets[1].key, "o'brien+ads@acme.com", "analyst"),
        Grant(assets[3].key, "yes@no.example", "live,post"),
        Grant(assets[4].key, "yes@no.example", "access"),
        Grant(assets[5].key, "owner@acme.com", "admin"),
    ]
    partner = Partner("7200000000000000009", name="Agency: X #1")
    return State(
        bc_id=BC,
        members={m.email: m for m in members},
        assets={a.key: a for a in assets},
        grants={g.key: g for g in grants},
        partners={partner.bc_id: partner, "7200000000000000010": Partner("7200000000000000010")},
        shares={s.key: s for s in [PartnerShare("7200000000000000009", assets[0].key, "analyst")]},
    )


def build(text: str, tmp_path: Path) -> State:
    path = tmp_path / "bcsync.yaml"
    path.write_text(text)
    result = load([str(path)], now=NOW)
    assert not result.errors, [p.format() for p in result.errors]
    return result.configs[0].desired


@pytest.mark.parametrize("groups", [False, True])
def test_the_config_builds_back_to_the_state(tmp_path: Path, groups: bool) -> None:
    state = hostile_state()
    options = ExportOptions(bc_name="Acme: Retail", provider={"type": "tiktok"}, groups=groups)
    text = export_config(state, options)
    desired = build(text, tmp_path)
    exported = {e: m for e, m in state.members.items() if m.status is not MemberStatus.REJECTED}
    assert desired.members == exported
    assert set(desired.assets) == set(state.assets)
    assert desired.grants == state.grants
    assert set(desired.partners) == set(state.partners)
    assert desired.shares == state.shares
    assert yaml.safe_load(text)["business_center"] == {"id": BC, "name": "Acme: Retail"}
    assert format_text(text) == text


def test_min_admins_follows_a_bc_with_one_admin(tmp_path: Path) -> None:
    state = State(bc_id=BC, members={"solo@acme.com": bound("solo@acme.com", "admin")})
    text = export_config(state, ExportOptions())
    assert "  min_admins: 1\n" in text
    assert "raise this to 2" in text
    build(text, tmp_path)  # validates: one admin declared, one required


def test_min_admins_is_two_when_the_bc_has_two(tmp_path: Path) -> None:
    members = {e: bound(e, "admin") for e in ("a@acme.com", "b@acme.com", "c@acme.com")}
    text = export_config(State(bc_id=BC, members=members), ExportOptions())
    assert "  min_admins: 2\n" in text and "raise this" not in text


def test_pending_members_are_marked(tmp_path: Path) -> None:
    text = export_config(hostile_state(), ExportOptions())
    assert "invited@acme.com: { role: standard, finance_role: analyst }  # invited" in text
    assert "declined@acme.com" not in text


def test_provider_section_is_written_as_given() -> None:
    provider = {"type": "local", "seed": "../seeds/my seed.yaml"}
    text = export_config(State(bc_id=BC), ExportOptions(provider=provider))
    assert yaml.safe_load(text)["provider"] == provider


@pytest.mark.parametrize("name", ['Eve: "the boss" #1', "yes", "null\nline two", " padded "])
def test_a_joined_members_display_name_is_exported_and_builds_back(
    tmp_path: Path, name: str
) -> None:
    state = State(
        bc_id=BC,
        members={
            "owner@acme.com": bound("owner@acme.com", "admin"),
            "eve@acme.com": replace(bound("eve@acme.com", "admin"), name=name),
            "new@acme.com": replace(member("new@acme.com", status="pending"), name="Invitee"),
        },
    )
    text = export_config(state, ExportOptions())
    desired = build(text, tmp_path)
    assert desired.members["eve@acme.com"].name == name
    assert desired.members["new@acme.com"].name is None  # named once they have joined
    assert format_text(text) == text


def test_incoming_shares_become_expectations_that_build_back(tmp_path: Path) -> None:
    from bcsync.config import load as load_configs
    from bcsync.core.incoming import IncomingShare, differences_of

    state = hostile_state()
    partner = next(iter(state.partners))
    theirs = AssetKey(AD, "7199999999999999999")
    shares = [IncomingShare(partner, theirs, "operator", asset_name="Theirs")]
    text = export_config(state, ExportOptions(), shares)
    path = tmp_path / "bcsync.yaml"
    path.write_text(text)
    result = load_configs([str(path)], now=NOW)
    assert not result.errors, [p.format() for p in result.errors]
    config = result.configs[0]
    assert config.incoming is not None and set(config.incoming) == {(partner, theirs)}
    assert differences_of(config, shares) == ()  # it plans and drifts to nothing
    assert theirs not in config.desired.assets  # not declared as the BC's own
    assert format_text(text) == text


def test_an_incoming_share_without_a_named_partner_leaves_the_section_out() -> None:
    from bcsync.core.incoming import IncomingShare

    state = hostile_state()
    partner = next(iter(state.partners))
    shares = [
        IncomingShare(partner, AssetKey(AD, "7199999999999999998"), "analyst"),
        IncomingShare("", AssetKey(AD, "7199999999999999999"), None),
    ]
    text = export_config(state, ExportOptions(), shares)
    assert "\nincoming:" not in text
    assert "# incoming: not written: TikTok names no partner for 1 asset(s)" in text
    assert "7199999999999999999" in text and "7199999999999999998" not in text
