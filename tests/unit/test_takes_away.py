"""A removal says what it takes away: the member's grants or the partner's shares, as read now."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from builders import AGENCY, bc_config, bound, state

import bcsync
from bcsync.core.change import Action, Change
from bcsync.core.model import AssetKey, AssetType, Grant, Partner, PartnerShare, Policy
from bcsync.core.plan import Plan, make_plan
from bcsync.errors import StalePlanError
from bcsync.loop.reconcile import Progress, first_difference, progress_of
from bcsync.render import json as render_json
from bcsync.render import markdown, text

US = AssetKey(AssetType.AD_ACCOUNT, "7100000000000000001")
EU = AssetKey(AssetType.AD_ACCOUNT, "7100000000000000002")
TT = AssetKey(AssetType.TIKTOK_ACCOUNT, "7400000000000000001")
LEADS = AssetKey(AssetType.LEAD_FORM, "7600000000000000001")
UNDECLARED = AssetKey(AssetType.AD_ACCOUNT, "7100000000000000077")
ALIASES = {US: "acme-us", EU: "acme-eu", TT: "brand", LEADS: "signup"}
SCHEMA = Path(bcsync.__file__).resolve().parent / "schemas" / "plan.schema.json"
ERIN = (
    Grant(TT, "erin@acme.com", "direct_message,post"),
    Grant(LEADS, "erin@acme.com", "admin"),
    Grant(US, "erin@acme.com", "analyst"),
)


def plan_removing_erin_and_agency(
    extra_grants: int = 0, *, made: bool = False, erin: tuple[Grant, ...] | None = None
) -> Plan:
    """Owner's US grant revoked, erin and agency-x removed; `made`: the revocation was made."""
    owner = bound("owner@acme.com", "admin")
    desired = state([owner], ALIASES, ALIASES)
    erins = ERIN if erin is None else erin
    grants = [
        *erins,
        *([] if made else [Grant(US, "owner@acme.com", "admin")]),
        *(
            Grant(AssetKey(AssetType.AD_ACCOUNT, f"79{i:017d}"), "erin@acme.com", "analyst")
            for i in range(extra_grants)
        ),
    ]
    shares = [PartnerShare(AGENCY, EU, "operator"), PartnerShare(AGENCY, UNDECLARED, "analyst")]
    actual = state(
        [owner, bound("erin@acme.com"), Partner(AGENCY, name="Agency X"), *grants, *shares],
        [*ALIASES, UNDECLARED],
        ALIASES,
    )
    config = bc_config(desired, policy=Policy(min_admins=1), asset_aliases=ALIASES)
    return make_plan(config, actual, allow_removals=True)


def removal(plan: Plan, change_id: str) -> Change:
    found = next(c for c in plan.changes if c.id == change_id)
    assert found.action is Action.DELETE
    return found


def test_a_members_removal_lists_every_grant_it_takes_away_from_the_actual_state() -> None:
    erin = removal(plan_removing_erin_and_agency(), "member:erin@acme.com")
    assert [(h.label, h.role) for h in erin.takes_away] == [
        ("ad_accounts.acme-us", "analyst"),
        ("tiktok_accounts.brand", "direct_message,post"),
        ("lead_forms.signup", "admin"),
    ]
    # Her grants are not planned as separate revocations: the removal takes them.
    plan = plan_removing_erin_and_agency()
    assert [c.id for c in plan.changes if c.target.email == "erin@acme.com"] == [erin.id]


def test_a_partners_removal_lists_its_shares_declared_or_not() -> None:
    agency = removal(plan_removing_erin_and_agency(), f"partner:{AGENCY}")
    assert [(h.label, h.role) for h in agency.takes_away] == [
        ("ad_accounts.acme-eu", "operator"),
        (f"ad_accounts/{UNDECLARED.id}", "analyst"),
    ]


def test_nothing_else_carries_a_takes_away_list() -> None:
    plan = plan_removing_erin_and_agency()
    kept = [c for c in plan.changes if c.id not in ("member:erin@acme.com", f"partner:{AGENCY}")]
    assert kept and all(c.takes_away == () for c in kept)
    assert all("takes_away" not in c.to_json() for c in kept)


def test_text_and_markdown_say_what_goes_with_the_removal() -> None:
    plan = plan_removing_erin_and_agency()
    out = text.render([plan])
    assert (
        "  - erin@acme.com  standard  # not in config\n"
        "      takes away ad_accounts.acme-us analyst, tiktok_accounts.brand direct_message,post, "
        "lead_forms.signup admin\n"
    ) in out
    md = markdown.render([plan])
    assert (
        "| - remove | erin@acme.com | standard |  | not in config; takes away "
        "ad\\_accounts.acme-us analyst, tiktok\\_accounts.brand direct\\_message,post, "
        "lead\\_forms.signup admin |"
    ) in md


def test_markdown_lists_a_few_and_counts_the_rest_within_the_comment_limit() -> None:
    plan = plan_removing_erin_and_agency(extra_grants=500)
    md = markdown.render([plan])
    assert f"and {503 - markdown.TAKES_AWAY_SHOWN} more |" in md
    # The terminal shows all of them.
    line = next(
        t for t in text.render([plan]).splitlines() if "takes away ad_accounts.acme-us" in t
    )
    assert line.count(" analyst") == 501 and "more" not in line
    small = markdown.render([plan], limit=1500)
    assert len(small) <= 1500
    assert "2 removal(s) of members or partners take away 505 grant(s) or share(s)" in small


def test_json_carries_it_per_the_schema_and_round_trips() -> None:
    plan = plan_removing_erin_and_agency()
    doc = json.loads(
        render_json.dumps(
            render_json.document(
                [plan], created_at="2026-11-25T00:00:00Z", tool_version="0", git_commit=None
            )
        )
    )
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(doc)) == []
    erin = next(c for c in doc["plans"][0]["changes"] if c["id"] == "member:erin@acme.com")
    assert erin["takes_away"][1] == {
        "asset_type": "tiktok_accounts",
        "asset_id": TT.id,
        "asset": "tiktok_accounts.brand",
        "role": "direct_message,post",
    }
    assert Plan.from_json(doc["plans"][0]) == plan


@pytest.mark.parametrize("edit", ["drop", "lower"])
def test_a_saved_plan_whose_takes_away_was_edited_is_not_the_reviewed_one(edit: str) -> None:
    plan = plan_removing_erin_and_agency()
    saved = json.loads(json.dumps(plan.to_json()))
    erin = next(c for c in saved["changes"] if c["id"] == "member:erin@acme.com")
    if edit == "drop":
        erin["takes_away"].pop()
    else:
        erin["takes_away"][0]["role"] = (
            "analyst" if erin["takes_away"][0]["role"] != "analyst" else "x"
        )
    found = first_difference(saved, plan)
    assert found is not None and "takes_away" in found


def test_what_remains_may_take_away_less_than_reviewed_never_more() -> None:
    reviewed = plan_removing_erin_and_agency()
    # An earlier apply revoked the owner's grant; erin lost her lead form meanwhile: fewer.
    less = plan_removing_erin_and_agency(made=True, erin=(ERIN[0], ERIN[2]))
    assert progress_of(reviewed, less).progress is Progress.REMAINDER
    more = plan_removing_erin_and_agency(
        made=True, erin=(*ERIN, Grant(EU, "erin@acme.com", "admin"))
    )
    with pytest.raises(StalePlanError, match="takes_away"):
        progress_of(reviewed, more)
