"""The access matrix: offline rows, every kind of difference with the BC, unmanaged access."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import date

import pytest
from builders import AGENCY, BC, Entry, bc_config, bound, member, state

from bcsync.auditor.access import (
    BC_ASSET,
    AccessReport,
    AccessRow,
    Kind,
    Observed,
    Provenance,
    Status,
    build_report,
    explain_source,
)
from bcsync.core.model import (
    Asset,
    AssetKey,
    AssetType,
    BusinessCenterConfig,
    Grant,
    Partner,
    PartnerShare,
    Policy,
)
from bcsync.render import report_data, report_html, report_text

US = AssetKey(AssetType.AD_ACCOUNT, "7100000000000000001")
EU = AssetKey(AssetType.AD_ACCOUNT, "7100000000000000002")
NOW = date(2026, 11, 25)
ALIASES = {US: "acme-us", EU: "acme-eu"}


@dataclass(frozen=True)
class GroupAccess:
    group_id: str
    group_name: str | None
    member: str
    asset: AssetKey
    role: str


def desired_config(policy: Policy | None = None) -> BusinessCenterConfig:
    owner = member("owner@acme.com", "admin")
    bob = replace(member("bob@acme.com"), source="bcsync.yaml:40")
    entries: list[Entry] = [
        owner,
        bob,
        Grant(US, "bob@acme.com", "operator", ("group media-buyers",)),
        Grant(EU, "bob@acme.com", "analyst", ("bcsync.yaml:44",), date(2027, 1, 31), "Q1 review"),
        Partner(AGENCY, alias="agency-x", name="Agency X", source="bcsync.yaml:60"),
        PartnerShare(AGENCY, US, "analyst", source="bcsync.yaml:62"),
    ]
    desired = state(entries, [US, EU], ALIASES)
    return bc_config(
        desired,
        policy=policy or Policy(ignore_members=("*@support.example",)),
        asset_aliases=ALIASES,
        partner_aliases={AGENCY: "agency-x"},
    )


def by_key(rows: list[AccessRow]) -> dict[tuple[str, str, str], AccessRow]:
    return {(r.principal, r.asset_type, r.asset_id): r for r in rows}


def test_offline_rows_come_from_config_with_sources_expiry_and_reason() -> None:
    report = build_report([desired_config()], None, NOW)
    rows = by_key([r for r in report.rows if r.status is not Status.ADMIN_ROLE])
    assert report.offline and {r.status for r in report.rows} == {Status.CONFIG, Status.ADMIN_ROLE}
    grant = rows[("bob@acme.com", "ad_accounts", EU.id)]
    assert (grant.role, grant.expires, grant.reason) == ("analyst", date(2027, 1, 31), "Q1 review")
    assert grant.sources == ("bcsync.yaml:44",)
    assert grant.asset_name == "acme-eu" and grant.actual_role is None
    via_group = rows[("bob@acme.com", "ad_accounts", US.id)]
    assert via_group.sources == ("group media-buyers (member bcsync.yaml:40)",)
    membership = rows[("owner@acme.com", BC_ASSET, BC)]
    assert membership.role == "admin" and membership.kind is Kind.MEMBER
    share = rows[(AGENCY, "ad_accounts", US.id)]
    assert share.kind is Kind.PARTNER and share.principal_name == "agency-x (Agency X)"
    assert len(rows) == 6


def test_every_difference_with_the_bc_is_marked() -> None:
    actual = state(
        [
            bound("owner@acme.com", "standard"),  # demoted by hand
            bound("mallory@acme.com"),  # added by hand
            bound("agent@support.example"),  # ignored by policy
            Grant(US, "bob@acme.com", "analyst"),  # bob is not a member yet, yet has a grant
            Grant(US, "agent@support.example", "analyst"),
            Grant(EU, "mallory@acme.com", "operator"),
            Partner(AGENCY),
            PartnerShare(AGENCY, EU, "operator"),
        ],
        [US, EU],
    )
    report = build_report([desired_config()], {BC: Observed(actual)}, NOW)
    rows = by_key(report.rows)
    status = {k: r.status for k, r in rows.items()}
    assert status[("owner@acme.com", BC_ASSET, BC)] is Status.ROLE_DIFFERS
    assert status[("bob@acme.com", BC_ASSET, BC)] is Status.MISSING
    assert status[("mallory@acme.com", BC_ASSET, BC)] is Status.NOT_IN_CONFIG
    assert status[("agent@support.example", BC_ASSET, BC)] is Status.IGNORED
    assert status[("agent@support.example", "ad_accounts", US.id)] is Status.IGNORED
    assert status[("bob@acme.com", "ad_accounts", US.id)] is Status.ROLE_DIFFERS
    assert status[("bob@acme.com", "ad_accounts", EU.id)] is Status.MISSING
    assert status[("mallory@acme.com", "ad_accounts", EU.id)] is Status.NOT_IN_CONFIG
    assert status[(AGENCY, BC_ASSET, BC)] is Status.OK
    assert status[(AGENCY, "ad_accounts", US.id)] is Status.MISSING
    assert status[(AGENCY, "ad_accounts", EU.id)] is Status.NOT_IN_CONFIG
    assert rows[("bob@acme.com", "ad_accounts", EU.id)].note == "not a member yet"
    assert rows[("owner@acme.com", BC_ASSET, BC)].actual_role == "standard"
    assert len(report.differences) == 8


def test_asset_group_access_and_named_unmanaged_assets_are_reported() -> None:
    legacy = Asset(AssetKey(AssetType.AD_ACCOUNT, "7100000000000000009"), name="Acme Legacy")
    actual = state([bound("owner@acme.com", "admin")], [US, EU])
    seen = Observed(
        actual,
        unmanaged_assets=(legacy,),
        group_access=[GroupAccess("g1", "Night shift", "carol@acme.com", EU, "operator")],
    )
    report = build_report([desired_config()], {BC: seen}, NOW)
    grouped = [r for r in report.rows if r.status is Status.ASSET_GROUP]
    assert [(r.principal, r.asset_name, r.actual_role) for r in grouped] == [
        ("carol@acme.com", "acme-eu", "operator")
    ]
    assert grouped[0].sources == ("asset group Night shift (g1)",)
    text = report_text.render_text(report)
    assert "Acme Legacy (7100000000000000009)" in " ".join(text.split())  # however it wraps
    doc = json.loads(report_data.render_json(report))
    assert doc["business_centers"][0]["unmanaged_assets"] == [
        {"type": "ad_accounts", "id": "7100000000000000009", "name": "Acme Legacy"}
    ]


def test_explain_source_names_the_member_line_only_for_groups() -> None:
    bob = member("bob@acme.com")
    assert explain_source("bcsync.yaml:3", bob) == "bcsync.yaml:3"
    assert explain_source("group g", None) == "group g"


def with_reason(reason: str) -> AccessReport:
    """The offline report of a config whose EU grant carries a hostile reason."""
    config = desired_config()
    evil = Grant(EU, "bob@acme.com", "analyst", ("x:1",), None, reason)
    desired = replace(config.desired, grants={**config.desired.grants, evil.key: evil})
    return build_report([replace(config, desired=desired)], None, NOW)


def test_html_escapes_config_values_and_needs_no_network() -> None:
    page = report_html.render_html(with_reason("</td><script>alert(1)</script>"))
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "http://" not in page and "https://" not in page and "src=" not in page
    assert page.count("<script>") == 2  # the table's script and the views'


def test_csv_neutralises_formulas_and_markdown_escapes_cells() -> None:
    report = with_reason("=HYPERLINK(1)|x")
    csv_text = report_data.render_csv(report)
    assert "'=HYPERLINK(1)|x" in csv_text
    markdown = report_text.render_markdown(report)
    assert "=HYPERLINK(1)\\|x" in markdown


def test_summary_counts_statuses() -> None:
    report = build_report([desired_config()], None, NOW)
    assert report.counts() == {"config": 6, "admin role": 2}
    assert "8 access entries in 1 Business Center(s)" in report_text.render_text(report)


@pytest.mark.parametrize("width", [60, 80, 100, 160])
def test_text_fits_the_width_it_is_given(width: int) -> None:
    report = with_reason("a long reason that has to wrap onto more lines than one " * 3)
    text = report_text.render_text(report, width)
    assert max(len(line) for line in text.splitlines()) <= width
    assert "bob@acme.com" in text  # an email is not split while other columns can give


def test_fitted_wraps_a_long_cell_inside_its_column() -> None:
    table = [["Who", "Asset"], ["bob@acme.com", "ad account with a very long name indeed"]]
    head, row = report_text.fitted(table, 30)
    assert head == ["Who           Asset"]
    assert row == [
        "bob@acme.com  ad account with",
        "              a very long name",
        "              indeed",
    ]


def test_provenance_cannot_break_out_of_its_csv_comment_or_html() -> None:
    config = replace(desired_config(), name="Acme\n=HYPERLINK(1)\r</dd><script>x</script>")
    prov = Provenance("0.1.0", "2026-11-25T00:00:00.000Z", "c" * 40, True)
    report = build_report([config], None, NOW, prov)
    lines = report_data.render_csv(report).splitlines()
    head = lines[: lines.index(next(line for line in lines if not line.startswith("#")))]
    assert len(head) == 4 and all(line.startswith("# ") for line in head)
    assert lines[len(head)].startswith("BC id,")
    assert "# Commit: " + "c" * 40 + " (uncommitted changes in the checkout)" in head
    page = report_html.render_html(report)
    assert "<script>x</script>" not in page and "&lt;script&gt;x" in page


def test_the_report_uses_the_one_definition_of_managed_members() -> None:
    """A declined invitee or former member is not a member: no 'not in config' row (apply
    removes nothing), and a declared one is missing, not present with a role."""
    actual = state(
        [
            bound("owner@acme.com", "admin"),
            member("bob@acme.com", status="rejected"),  # declared, declined the invitation
            member("gone@acme.com", "admin", status="unbound"),  # a former member
        ],
        [US, EU],
    )
    report = build_report([desired_config()], {BC: Observed(actual)}, NOW)
    rows = by_key(report.rows)
    assert ("gone@acme.com", BC_ASSET, BC) not in rows
    bob = rows[("bob@acme.com", BC_ASSET, BC)]
    assert (bob.status, bob.actual_role, bob.note) == (Status.MISSING, None, "invitation rejected")
