"""Building the desired State: groups, the stronger role, sources, expiry, policy, provider."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from bcsync.config import load
from bcsync.config.build import build_config, parse_removal_limit
from bcsync.config.document import format_path
from bcsync.config.loader import parse_document
from bcsync.config.rules import check_rules
from bcsync.core.model import (
    AssetKey,
    AssetType,
    BusinessCenterConfig,
    FinanceRole,
    MemberRole,
    ProviderType,
    RemovalLimit,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
FULL = FIXTURES / "valid" / "full.yaml"
NOW = date(2026, 1, 1)
US = AssetKey(AssetType.AD_ACCOUNT, "7100000000000000001")
EU = AssetKey(AssetType.AD_ACCOUNT, "7100000000000000002")
CATALOG = AssetKey(AssetType.CATALOG, "7300000000000000001")
BRAND = AssetKey(AssetType.TIKTOK_ACCOUNT, "7400000000000000001")
STORE = AssetKey(AssetType.SHOP, "7500000000000000001")
SIGNUP = AssetKey(AssetType.LEAD_FORM, "7600000000000000001")
SITE = AssetKey(AssetType.PIXEL, "7700000000000000001")
AGENCY, OLD_AGENCY = "7200000000000000009", "7200000000000000010"


@pytest.fixture(scope="module")
def full() -> BusinessCenterConfig:
    result = load([str(FULL)], now=NOW)
    assert result.errors == []
    [config] = result.configs
    return config


def test_identity_digest_and_aliases(full: BusinessCenterConfig) -> None:
    assert (full.bc_id, full.name, full.path) == ("7012345678901234567", "Full Fixture", str(FULL))
    assert full.digest.startswith("sha256:") and len(full.digest) == 7 + 64
    assert full.asset_aliases[US] == "acme-us" and full.asset_aliases[SIGNUP] == "signup"
    assert set(full.desired.assets) == {US, EU, CATALOG, BRAND, STORE, SIGNUP, SITE}
    assert full.partner_aliases == {AGENCY: "agency-x", OLD_AGENCY: "old-agency"}


def test_members_are_lower_cased_and_expired_ones_dropped(full: BusinessCenterConfig) -> None:
    members = full.desired.members
    assert sorted(members) == [
        "bob@acme.com",
        "carol@acme.com",
        "ops@acme.com",
        "owner@acme.com",
        "pat@acme.com",
    ]
    owner = members["owner@acme.com"]
    assert (owner.role, owner.finance_role, owner.reason) == (
        MemberRole.ADMIN,
        FinanceRole.MANAGER,
        None,
    )
    assert owner.source == f"{FULL}:29"
    assert members["pat@acme.com"].reason == "runs the site's tracking"
    assert full.expired["gone@acme.com"] == date(2025, 11, 30)
    assert full.expired[(US, "gone@acme.com")] == date(2025, 11, 30)


@pytest.mark.parametrize(
    ("asset", "role", "sources"),
    [
        # group buyers' operator beats the included analysts' analyst
        (US, "operator", ("group buyers", "group analysts (via buyers)")),
        # the member's own admin beats the group's analyst
        (EU, "admin", ("FULL:35", "group analysts (via buyers)")),
        # permission sets are unions: own [live] + group post
        (BRAND, "live,post", ("FULL:36", "group buyers")),
        (CATALOG, "ad_promote", ("FULL:37",)),
        (STORE, "manager", ("FULL:38",)),
        (SIGNUP, "admin", ("FULL:39",)),
    ],
)
def test_grants_expand_groups_and_remember_sources(
    full: BusinessCenterConfig, asset: AssetKey, role: str, sources: tuple[str, ...]
) -> None:
    grant = full.desired.grants[(asset, "bob@acme.com")]
    assert grant.role == role
    assert grant.sources == tuple(s.replace("FULL", str(FULL)) for s in sources)


def test_grant_expiry(full: BusinessCenterConfig) -> None:
    assert full.desired.grants[(STORE, "bob@acme.com")].expires == date(2026, 6, 30)
    assert (US, "carol@acme.com") not in full.desired.grants
    assert full.expired[(US, "carol@acme.com")] == date(2025, 12, 1)
    assert {g.member for g in full.desired.grants.values()} == {"bob@acme.com", "pat@acme.com"}


def test_reasons_are_carried_into_the_model(full: BusinessCenterConfig) -> None:
    grants = full.desired.grants
    assert grants[(STORE, "bob@acme.com")].reason == "launch"
    # A grant from a group and the member's own line keeps the own line's reason.
    pat_us = grants[(US, "pat@acme.com")]
    assert (pat_us.role, pat_us.reason) == ("operator", "campaign ops")
    assert pat_us.sources == (f"{FULL}:53", "group buyers", "group analysts (via buyers)")
    assert grants[(US, "bob@acme.com")].reason is None
    assert full.desired.partners[AGENCY].reason == "runs paid social (contract 2026-07)"
    assert full.desired.shares[(AGENCY, US)].reason == "weekly reporting"


def test_single_role_types_pixels_and_lead_forms(full: BusinessCenterConfig) -> None:
    pixel = full.desired.grants[(SITE, "pat@acme.com")]
    assert (pixel.role, pixel.sources, pixel.reason) == ("access", (f"{FULL}:51",), None)
    assert full.asset_aliases[SITE] == "site"
    # The mapping form may leave out the only role; its expiry and reason are kept.
    form = full.desired.grants[(SIGNUP, "pat@acme.com")]
    assert (form.role, form.expires, form.reason) == ("admin", date(2026, 9, 30), "autumn campaign")


def test_partners_and_shares(full: BusinessCenterConfig) -> None:
    assert list(full.desired.partners) == [AGENCY]
    partner = full.desired.partners[AGENCY]
    assert (partner.alias, partner.name) == ("agency-x", "Agency X")
    [share] = full.desired.shares.values()
    assert (share.partner, share.asset, share.role) == (AGENCY, US, "analyst")
    assert share.source == f"{FULL}:61"
    assert full.expired[(AGENCY, EU)] == date(2025, 10, 1)
    assert full.expired[OLD_AGENCY] == date(2025, 9, 30)
    assert full.expired[(OLD_AGENCY, US)] == date(2025, 9, 30)


def test_policy_and_provider(full: BusinessCenterConfig) -> None:
    policy = full.policy
    assert policy.min_admins == 2
    assert policy.required_admins == ("owner@acme.com",)
    assert policy.max_removals == RemovalLimit(10, percent=False)
    assert policy.protected == ("owner@acme.com", "partner:7200000000000000009")
    assert policy.is_protected_partner(AGENCY, "agency-x")
    assert policy.ignore_members == ("*@tiktok-support.example",)
    assert full.provider.type is ProviderType.LOCAL
    assert full.provider.seed == str(FULL.parent / "seeds" / "world.yaml")
    assert full.provider.token_env == "TIKTOK_ACCESS_TOKEN"


@pytest.mark.parametrize(
    ("provider", "token_env"),
    [
        ("{ type: tiktok }", "TIKTOK_ACCESS_TOKEN"),
        ("{ type: tiktok, token_env: TIKTOK_OTHER_BC }", "TIKTOK_OTHER_BC"),
        # The emulator never reads the TikTok token: its own variable by default.
        ('{ type: emulator, url: "http://127.0.0.1:9" }', "BCSYNC_EMULATOR_TOKEN"),
        # The local provider reads no token: a token_env there (a warning) is not kept.
        ("{ type: local, token_env: BCSYNC_X }", "TIKTOK_ACCESS_TOKEN"),
    ],
)
def test_token_variable_per_provider_type(provider: str, token_env: str) -> None:
    raw = f'version: 1\nbusiness_center: {{ id: "5" }}\nprovider: {provider}\n'.encode()
    assert build_config(parse_document("t.yaml", raw), NOW).provider.token_env == token_env


def test_defaults_when_sections_are_absent() -> None:
    doc = parse_document("t.yaml", b'version: 1\nbusiness_center: { id: "5" }\n')
    config = build_config(doc, NOW)
    assert config.policy.min_admins == 2
    assert config.policy.max_removals == RemovalLimit(25.0)
    assert config.provider.type is ProviderType.LOCAL and config.provider.seed is None
    assert config.desired.members == {} and config.name is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("25%", RemovalLimit(25.0, True)),
        ("12.5%", RemovalLimit(12.5, True)),
        ("100%", RemovalLimit(100.0, True)),
        (10, RemovalLimit(10.0, False)),
        (0, RemovalLimit(0.0, False)),
    ],
)
def test_parse_removal_limit(value: object, expected: RemovalLimit) -> None:
    assert parse_removal_limit(value) == expected


def test_ignored_members_are_dropped_even_unchecked() -> None:
    raw = (
        b'version: 1\nbusiness_center: { id: "5" }\npolicy: { ignore_members: ["*@support.io"] }\n'
        b"members:\n  a@support.io: { role: admin }\n  b@acme.com: { role: admin }\n"
    )
    config = build_config(parse_document("t.yaml", raw), NOW)
    assert list(config.desired.members) == ["b@acme.com"]


def test_stronger_role_across_two_groups_and_provider_settings() -> None:
    raw = b"""version: 1
business_center: { id: "5" }
provider: { type: emulator, url: "http://127.0.0.1:8080", token_env: BCSYNC_EMU, qps: 5, qpm: 100 }
assets: { ad_accounts: { a: "1" }, tiktok_accounts: { t: "2" } }
groups:
  low: { access: { ad_accounts: { a: analyst }, tiktok_accounts: { t: [post] } } }
  high: { access: { ad_accounts: { a: admin }, tiktok_accounts: { t: direct_message } } }
members:
  x@acme.com: { role: standard, groups: [low, high] }
"""
    config = build_config(parse_document("t.yaml", raw), NOW)
    grants = config.desired.grants
    assert grants[(AssetKey(AssetType.AD_ACCOUNT, "1"), "x@acme.com")].role == "admin"
    tiktok = grants[(AssetKey(AssetType.TIKTOK_ACCOUNT, "2"), "x@acme.com")]
    assert tiktok.role == "direct_message,post"
    assert tiktok.sources == ("group low", "group high")
    provider = config.provider
    assert (provider.type, provider.url, provider.token_env) == (
        ProviderType.EMULATOR,
        "http://127.0.0.1:8080",
        "BCSYNC_EMU",
    )
    assert (provider.qps, provider.qpm) == (5, 100)


@pytest.mark.parametrize(
    ("days", "kept", "warning"),
    [
        (-1, False, "expired on"),
        (0, False, "expired on"),  # the expiry date itself is the first day without access
        (1, True, "expires on"),
        (14, True, "expires on"),
        (15, True, None),
    ],
)
def test_expiry_boundaries(days: int, kept: bool, warning: str | None) -> None:
    expires = NOW + timedelta(days=days)
    raw = (
        'version: 1\nbusiness_center: { id: "5" }\nassets: { ad_accounts: { a: "1" } }\n'
        "members:\n  o@acme.com: { role: admin }\n  p@acme.com: { role: admin }\n"
        f"  t@acme.com:\n    role: standard\n    access:\n"
        f"      ad_accounts: {{ a: {{ role: analyst, expires: {expires} }} }}\n"
    ).encode()
    doc = parse_document("t.yaml", raw)
    problems = check_rules(doc, NOW)
    assert [p.message.split(" 20")[0] for p in problems] == ([warning] if warning else [])
    assert all(p.severity == "warning" and (p.line, p.col) == (10, 51) for p in problems)
    grants = build_config(doc, NOW).desired.grants
    assert ((AssetKey(AssetType.AD_ACCOUNT, "1"), "t@acme.com") in grants) is kept


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ((), ""),
        (("members", "bob@acme.com", "access", "ad_accounts", "acme-eu"), None),
        (("policy", "protected", 1), "policy.protected[1]"),
        (("a", 0, 2, "b"), "a[0][2].b"),
    ],
)
def test_format_path(path: tuple[str | int, ...], text: str | None) -> None:
    expected = text if text is not None else "members.bob@acme.com.access.ad_accounts.acme-eu"
    assert format_path(path) == expected
