"""Renderers: golden text and Markdown, colour, the comment limit, the JSON document and schema.

Regenerate the golden files (tests/golden/plan.txt, plan.md) after an intended output change with
`BCSYNC_UPDATE_GOLDEN=1 python -m pytest tests/unit/test_render.py` (the `golden` fixture of
tests/conftest.py), then review the diff.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import bcsync
from bcsync.core.change import (
    Action,
    Change,
    Kind,
    MemberValue,
    NoopCause,
    PartnerValue,
    Stage,
    Target,
    value_from_json,
)
from bcsync.core.model import (
    Asset,
    AssetKey,
    AssetType,
    BusinessCenterConfig,
    Grant,
    Member,
    MemberRole,
    MemberStatus,
    Partner,
    PartnerShare,
    Policy,
    ProviderSettings,
    State,
)
from bcsync.core.plan import Plan, checksum_of, make_plan, order
from bcsync.core.refusal import Act, Refusal, RefusalKind, Subject, SubjectKind
from bcsync.core.schedule import schedule
from bcsync.loop import planfile
from bcsync.render import markdown, text

SCHEMA = Path(bcsync.__file__).resolve().parent / "schemas" / "plan.schema.json"
FINGERPRINT = "sha256:" + "a" * 64
DIGEST = "sha256:" + "b" * 64
ACME = "7012345678901234567"
US, EU, APAC = ("7100000000000000001", "7100000000000000002", "7100000000000000003")
AGENCY, MEASURE, OLD = ("7200000000000000009", "7200000000000000010", "7200000000000000011")
CAT, SHOP, TT = ("7300000000000000001", "7500000000000000001", "7400000000000000001")


def member_doc(role: str, finance: str | None = None, **extra: str) -> dict[str, Any]:
    return {"role": role, "finance_role": finance, **extra}


def change(
    action: str,
    kind: Kind,
    key: str,
    title: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    reason: str,
    stage: Stage | None,
    **target: Any,
) -> Change:
    prefix = {Kind.MEMBER: "member", Kind.GRANT: "grant", Kind.PARTNER: "partner"}.get(
        kind, "share"
    )
    cause = target.pop("cause", None)
    return Change(
        id=f"{prefix}:{key}",
        action=Action(action),
        kind=kind,
        key=key,
        before=value_from_json(kind, before),
        after=value_from_json(kind, after),
        reason=reason,
        title=title,
        stage=stage,
        target=make_target(**target),
        cause=cause,
    )


def make_target(
    email: str | None = None,
    user_id: str | None = None,
    asset_type: str | None = None,
    asset_id: str | None = None,
    partner_bc_id: str | None = None,
    with_invite: bool = False,
) -> Target:
    asset = AssetKey(AssetType(asset_type), asset_id) if asset_type and asset_id else None
    return Target(email, user_id, asset, partner_bc_id, with_invite)


def grant(
    action: str,
    email: str,
    alias: str,
    asset: tuple[str, str],
    before: str | None,
    after: str | None,
    reason: str,
    stage: Stage | None,
    **extra: Any,
) -> Change:
    asset_type, asset_id = asset
    return change(
        action,
        Kind.GRANT,
        f"{asset_type}/{asset_id}:{email}",
        f"{email} on {asset_type}.{alias}",
        {"role": before} if before else None,
        {"role": after} if after else None,
        reason,
        stage,
        email=email,
        asset_type=asset_type,
        asset_id=asset_id,
        user_id=None if extra.get("with_invite") else f"uid-{email}",
        **extra,
    )


def share(
    action: str,
    partner: str,
    alias: str,
    asset: str,
    name: str,
    before: str | None,
    after: str | None,
    reason: str,
) -> Change:
    return change(
        action,
        Kind.SHARE,
        f"{partner}:ad_accounts/{asset}",
        f"ad_accounts.{name} shared with {alias} ({partner})",
        {"role": before} if before else None,
        {"role": after} if after else None,
        reason,
        Stage.SHARE if action != "delete" else Stage.REVOKE,
        partner_bc_id=partner,
        asset_type="ad_accounts",
        asset_id=asset,
    )


INVITE = "invite: in config, not in the Business Center"
NOT_FOUND = "asset not found in the Business Center; check its id in config"
AD, CATALOG, TTA, SHOPS = "ad_accounts", "catalogs", "tiktok_accounts", "shops"
S = Stage

ACME_CHANGES = [
    change(
        "create",
        Kind.MEMBER,
        "grace@acme.com",
        "grace@acme.com",
        None,
        member_doc("standard"),
        INVITE,
        S.INVITE_PROMOTE,
        email="grace@acme.com",
    ),
    change(
        "update",
        Kind.MEMBER,
        "dave@acme.com",
        "dave@acme.com",
        member_doc("standard", status="bound"),
        member_doc("admin"),
        "role standard → admin",
        S.INVITE_PROMOTE,
        email="dave@acme.com",
        user_id="uid-dave",
    ),
    grant(
        "create",
        "grace@acme.com",
        "acme-us",
        (AD, US),
        None,
        "operator",
        "with the invitation (from group media-buyers)",
        S.INVITE_PROMOTE,
        with_invite=True,
    ),
    change(
        "update",
        Kind.MEMBER,
        "cfo@acme.com",
        "cfo@acme.com",
        member_doc("standard", status="bound"),
        member_doc("standard", "analyst"),
        "finance role none → analyst",
        S.GRANT,
        email="cfo@acme.com",
        user_id="uid-cfo",
    ),
    grant(
        "create", "bob@acme.com", "store", (SHOPS, SHOP), None, "ad_promotion", "in config", S.GRANT
    ),
    grant(
        "update",
        "bob@acme.com",
        "acme-eu",
        (AD, EU),
        "analyst",
        "operator",
        "role analyst → operator",
        S.GRANT,
    ),
    grant(
        "update",
        "erin@acme.com",
        "brand",
        (TTA, TT),
        "live,post",
        "direct_message,live,post",
        "role live,post → direct_message,live,post (from group social)",
        S.GRANT,
    ),
    change(
        "create",
        Kind.PARTNER,
        MEASURE,
        f"partner measurement-co ({MEASURE})",
        None,
        {"bc_id": MEASURE, "name": "Measurement | Co *beta*"},
        "in config, not a partner yet",
        S.SHARE,
        partner_bc_id=MEASURE,
    ),
    share("create", MEASURE, "measurement-co", APAC, "acme-apac", None, "analyst", "in config"),
    share(
        "update",
        AGENCY,
        "agency-x",
        EU,
        "acme-eu",
        "analyst",
        "operator",
        "role analyst → operator",
    ),
    grant(
        "delete",
        "temp@contractor.example",
        "acme-us",
        (AD, US),
        "analyst",
        None,
        "expired 2027-01-31",
        S.REVOKE,
    ),
    change(
        "delete",
        Kind.PARTNER,
        OLD,
        f"partner Old | <b>Agency</b> ({OLD})",
        {"bc_id": OLD, "name": "Old | <b>Agency</b>", "shared_assets": 2},
        None,
        "not in config",
        S.REVOKE,
        partner_bc_id=OLD,
    ),
    change(
        "delete",
        Kind.MEMBER,
        "mallory@acme.com",
        "mallory@acme.com",
        member_doc("standard", status="bound"),
        None,
        "not in config",
        S.REMOVE_MEMBER,
        email="mallory@acme.com",
        user_id="uid-mallory",
    ),
    change(
        "delete",
        Kind.MEMBER,
        "pending@acme.com",
        "pending@acme.com",
        member_doc("standard", status="pending"),
        None,
        "not in config; revoke the pending invitation",
        S.REMOVE_MEMBER,
        email="pending@acme.com",
        user_id=None,
    ),
    change(
        "delete",
        Kind.MEMBER,
        "exadmin@acme.com",
        "exadmin@acme.com",
        member_doc("admin", "manager", status="bound"),
        None,
        "expired 2026-12-31",
        S.DEMOTE_ADMIN,
        email="exadmin@acme.com",
        user_id="uid-exadmin",
    ),
    change(
        "no-op",
        Kind.MEMBER,
        "henry@acme.com",
        "henry@acme.com",
        member_doc("standard", status="pending"),
        member_doc("standard"),
        "waiting for henry@acme.com to accept the invitation",
        None,
        cause=NoopCause.PENDING,
    ),
    grant(
        "no-op",
        "grace@acme.com",
        "main",
        (CATALOG, CAT),
        None,
        "admin",
        "deferred: assigned after grace@acme.com accepts the invitation",
        None,
        cause=NoopCause.DEFERRED,
    ),
    grant(
        "no-op",
        "frank@acme.com",
        "old",
        (AD, "7100000000000000099"),
        None,
        "analyst",
        NOT_FOUND,
        None,
        cause=NoopCause.ASSET_MISSING,
    ),
]


def acme_plan() -> Plan:
    changes = order(ACME_CHANGES)
    return Plan(
        bc_id=ACME,
        bc_name="Acme Retail",
        changes=changes,
        steps=schedule(changes),
        actual_fingerprint=FINGERPRINT,
        config_digest=DIGEST,
        unmanaged_assets=3,
        config_path="examples/quickstart/bcsync.yaml",
        warnings=(f"frank@acme.com on ad_accounts.old: {NOT_FOUND}",),
    )


def quiet_plan() -> Plan:
    return Plan(
        bc_id="7012345678901234999",
        bc_name="Harbor Foods",
        changes=(),
        steps=(),
        actual_fingerprint=FINGERPRINT,
        config_digest=DIGEST,
        unmanaged_assets=1,
        config_path="examples/agency/harbor.yaml",
    )


PLANS = [acme_plan(), quiet_plan()]


def test_text_golden(golden: Callable[[str, str], None]) -> None:
    golden("plan.txt", text.render(PLANS, color=False))


def test_markdown_golden(golden: Callable[[str, str], None]) -> None:
    golden("plan.md", markdown.render(PLANS))


def test_text_colour_only_when_asked() -> None:
    plain = text.render(PLANS, color=False)
    coloured = text.render(PLANS, color=True)
    assert "\x1b" not in plain
    for code in ("\x1b[32m+\x1b[0m", "\x1b[33m~\x1b[0m", "\x1b[31m-\x1b[0m", "\x1b[2m# "):
        assert code in coloured
    # Without the escape codes both say the same.
    stripped = coloured
    for code in (text.GREEN, text.YELLOW, text.RED, text.DIM, text.BOLD, text.RESET):
        stripped = stripped.replace(code, "")
    assert stripped == plain


@pytest.mark.parametrize(
    ("plans", "last_line"),
    [
        ([quiet_plan()], "No changes. The Business Center matches the configuration."),
        (
            [acme_plan()],
            "Plan: 5 to add, 5 to change, 5 to remove; 1 waiting for acceptance.",
        ),
        (
            [acme_plan(), acme_plan()],
            "Total for 2 Business Centers: 10 to add, 10 to change, 10 to remove; "
            "2 waiting for acceptance.",
        ),
    ],
    ids=["no changes", "one plan", "several plans"],
)
def test_text_ends_with_the_summary_and_checksum(plans: list[Plan], last_line: str) -> None:
    lines = text.render(plans).splitlines()
    assert lines[-3] == last_line
    assert lines[-1] == f"Checksum: {checksum_of(plans)}"


def test_text_escapes_control_characters_from_the_api() -> None:
    hostile = Change(
        id="partner:1",
        action=Action.DELETE,
        kind=Kind.PARTNER,
        key="1",
        before=PartnerValue("1"),
        after=None,
        reason="not in config",
        title="partner Evil\x1b[2J\x07 (1)",
        stage=Stage.REVOKE,
    )
    out = text.render([Plan(ACME, "Evil\x1b]0;x", (hostile,), (), FINGERPRINT, DIGEST)])
    assert "\x1b" not in out and "\x07" not in out
    assert "partner Evil\\x1b[2J\\x07 (1)" in out
    assert "Business Center Evil\\x1b]0;x" in out


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("a|b", "a\\|b"),
        ("*bold* _it_", "\\*bold\\* \\_it\\_"),
        ("<b>x</b>", "\\<b\\>x\\</b\\>"),
        ("[link](http://x)", "\\[link\\](http://x)"),
        ("`code`", "\\`code\\`"),
        ("back\\slash", "back\\\\slash"),
        ("two\nlines", "two lines"),
        ("bob@acme.com", "bob@acme.com"),
        ("@org/team", "@\u200borg/team"),
        ("ping (@someone)", "ping (@\u200bsomeone)"),
    ],
)
def test_markdown_escape(raw: str, escaped: str) -> None:
    assert markdown.escape(raw) == escaped


def test_markdown_has_summary_first_and_folded_tables() -> None:
    out = markdown.render(PLANS)
    assert out.index("| Business Center | add | change | remove | waiting |") < out.index(
        "<details>"
    )
    assert out.count("<details><summary>") == 4
    assert "<summary>Members: 1 to add, 2 to change, 3 to remove, 1 no-op</summary>" in out
    assert "| - remove | partner Old \\| \\<b\\>Agency\\</b\\> (7200000000000000011) |" in out


def generated_plan(n: int, bc: int = 0) -> Plan:
    changes = tuple(
        Change(
            id=f"member:user{i}@acme.com",
            action=(Action.CREATE, Action.UPDATE, Action.DELETE)[i % 3],
            kind=Kind.MEMBER,
            key=f"user{i}@acme.com",
            before=None if i % 3 == 0 else MemberValue(MemberRole.STANDARD),
            after=None if i % 3 == 2 else MemberValue(MemberRole.ADMIN),
            reason="generated",
            title=f"user{i}@acme.com",
            stage=Stage.GRANT,
        )
        for i in range(n)
    )
    return Plan(f"70{bc:017d}", f"BC {bc}", changes, (), FINGERPRINT, DIGEST)


@pytest.mark.parametrize(
    ("plans", "limit", "notes"),
    [
        ([generated_plan(5000)], 65536, ["5000 more changes not shown; run `bcsync plan`"]),
        (
            [generated_plan(10, bc) for bc in range(200)],
            4000,
            ["more Business Centers not shown", "2000 more changes not shown"],
        ),
        ([generated_plan(50)], 100, []),
    ],
    ids=["5,000 changes", "200 BCs", "tiny limit"],
)
def test_markdown_never_exceeds_the_limit(plans: list[Plan], limit: int, notes: list[str]) -> None:
    out = markdown.render(plans, limit=limit)
    assert len(out) <= limit
    assert len(markdown.render(plans, limit=10**9)) > limit  # the limit really was in play
    for note in notes:
        assert note in out


def test_markdown_summarised_counts_per_kind() -> None:
    out = markdown.render([generated_plan(5000)])
    first, marker, title = out.split("\n")[:3]
    assert (first, title) == ("<!-- bcsync-plan -->", "## bcsync plan")
    assert marker.startswith("<!-- bcsync-reviewed checksum=")
    assert f"Checksum: `{checksum_of([generated_plan(5000)])}`" in out
    assert "| BC 0 (7000000000000000000) | members | 1667 | 1667 | 1666 | 0 |" in out


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def real_plan() -> Plan:
    """A plan from make_plan over hand-built states: every kind and stage."""

    def ad(n: int) -> AssetKey:
        return AssetKey(AssetType.AD_ACCOUNT, f"710000000000000000{n}")

    def bound(email: str, role: str = "standard") -> Member:
        return Member(email, MemberRole(role), status=MemberStatus.BOUND, user_id=f"uid-{email}")

    desired = State(
        ACME,
        members={
            "o@a.com": Member("o@a.com", MemberRole.ADMIN),
            "n@a.com": Member("n@a.com", MemberRole.STANDARD),
            "p@a.com": Member("p@a.com", MemberRole.ADMIN),
        },
        assets={ad(n): Asset(ad(n)) for n in range(4)},
        grants={(ad(1), "n@a.com"): Grant(ad(1), "n@a.com", "analyst")},
        partners={AGENCY: Partner(AGENCY)},
        shares={(AGENCY, ad(1)): PartnerShare(AGENCY, ad(1), "operator")},
    )
    actual = State(
        ACME,
        members={
            "o@a.com": bound("o@a.com", "admin"),
            "p@a.com": bound("p@a.com"),
            "x@a.com": bound("x@a.com", "admin"),
        },
        assets={ad(n): Asset(ad(n)) for n in range(4)},
        grants={(ad(2), "p@a.com"): Grant(ad(2), "p@a.com", "admin")},
        partners={OLD: Partner(OLD)},
        shares={(OLD, ad(3)): PartnerShare(OLD, ad(3), "analyst")},
    )
    config = BusinessCenterConfig(
        "bcsync.yaml", ACME, "Acme", ProviderSettings(), Policy(min_admins=1), desired, DIGEST
    )
    return make_plan(config, actual, unmanaged_assets=2)


def make_document(plans: list[Plan]) -> dict[str, Any]:
    return planfile.document(
        plans, created_at="2026-05-01T12:00:00.000Z", tool_version="0.1.0", git_commit="c" * 40
    )


@pytest.mark.parametrize(
    "plans",
    [[real_plan()], PLANS, [generated_plan(3)], []],
    ids=["real plan", "representative", "generated", "no plans"],
)
def test_json_document_is_valid(
    plans: list[Plan], validator: jsonschema.Draft202012Validator
) -> None:
    doc = json.loads(planfile.dumps(make_document(plans)))
    assert list(validator.iter_errors(doc)) == []
    assert [Plan.from_json(p) for p in doc["plans"]] == plans


def test_json_document_fields_and_totals() -> None:
    doc = make_document(PLANS)
    assert {k: doc[k] for k in ("format_version", "tool", "tool_version", "git_commit")} == {
        "format_version": 2,
        "tool": "bcsync",
        "tool_version": "0.1.0",
        "git_commit": "c" * 40,
    }
    assert doc["summary"] == {
        "add": 5,
        "change": 5,
        "remove": 5,
        "waiting": 1,
        "total": 15,
        "business_centers": 2,
    }


def test_json_dumps_is_compact_and_round_trips() -> None:
    doc = make_document([real_plan()])
    out = planfile.dumps(doc)
    assert json.loads(out) == json.loads(json.dumps(doc))
    assert out.count("\n") == 1  # one line, so the C encoder writes it all
    assert '"summary":{"add":' in out


def test_json_dumps_is_stable_sorted_and_ends_with_a_newline() -> None:
    doc = make_document([real_plan()])
    out = planfile.dumps(doc)
    assert out == planfile.dumps(make_document([real_plan()]))
    assert out.endswith("}\n") and out.startswith('{"checksum"')
    assert "→" in out  # reasons stay readable
    assert "token" not in out.lower()


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (["plans", 0, "changes", 0, "action"], "replace"),
        (["plans", 0, "changes", 0, "kind"], "user"),
        (["plans", 0, "steps", 0, "op"], "invite_all"),
        (["plans", 0, "actual_fingerprint"], "md5:abc"),
        (["plans", 0, "bc_id"], "acme"),
        (["plans", 0, "changes", 0, "stage"], 7),
        (["format_version"], 1),
        (["tool"], "terraform"),
        (["plans", 0, "access_token"], "secret"),
    ],
)
def test_schema_rejects(
    path: list[Any], value: Any, validator: jsonschema.Draft202012Validator
) -> None:
    doc = json.loads(planfile.dumps(make_document([real_plan()])))
    node = doc
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    assert list(validator.iter_errors(doc)) != []


def test_schema_rejects_an_oversized_invite(validator: jsonschema.Draft202012Validator) -> None:
    doc = json.loads(planfile.dumps(make_document([real_plan()])))
    (invite,) = [s for s in doc["plans"][0]["steps"] if s["op"] == "invite"]
    invite["params"]["emails"] = [f"u{i}@a.com" for i in range(51)]
    assert list(validator.iter_errors(doc)) != []


PROTECTED_OWNER = Refusal(
    RefusalKind.PROTECTED,
    Subject(SubjectKind.MEMBER, "owner@acme.com", user_id="6900000000000000001"),
    Act.REMOVE,
)


def test_a_refused_plan_says_so_first_in_every_view() -> None:
    refused = replace(acme_plan(), refusals=(PROTECTED_OWNER,))
    sentence = PROTECTED_OWNER.sentence()
    assert "owner@acme.com" in sentence and "6900000000000000001" in sentence
    md = markdown.render([refused])
    caution = md.index("Refused by the safety guards")
    assert caution < md.index("**Plan:")
    assert markdown.escape(sentence) in md
    out = text.render([refused])
    assert "Refused by the safety guards" in out
    assert sentence in out
    doc = make_document([refused])
    assert doc["plans"][0]["refusals"] == [PROTECTED_OWNER.to_json()]
    assert doc["plans"][0]["refusals"][0]["override"] is None


def test_config_reasons_and_expiries_reach_every_view() -> None:
    base = acme_plan()
    noted = replace(base.changes[0], note="Q3 launch", expires="2027-01-31")
    plan = replace(base, changes=(noted, *base.changes[1:]))
    for out in (text.render([plan]), markdown.render([plan])):
        assert 'reason: "Q3 launch"' in out
        assert "expires 2027-01-31" in out
    body = make_document([plan])["plans"][0]["changes"][0]
    assert (body["note"], body["expires"]) == ("Q3 launch", "2027-01-31")


def test_unchanged_counts_and_legend() -> None:
    plan = replace(acme_plan(), unchanged={"member": 3, "grant": 1})
    out = text.render([plan])
    assert "unchanged: 3 members, 1 grant" in out
    assert out.startswith(text.LEGEND)
    assert markdown.LEGEND in markdown.render([plan])


def test_markdown_escapes_control_and_direction_characters() -> None:
    """A BC or partner name from the API must not drive a terminal or reorder a review."""
    hostile = replace(acme_plan(), bc_name="Acme\x1b[2J\u202eevil")
    out = markdown.render([hostile])
    assert "\x1b" not in out and "\u202e" not in out
    assert "\\\\x1b" in out and "\\\\u202e" in out


@pytest.mark.parametrize("value", ['=HYPERLINK("x")', "+1", "-2", "@SUM(A1)", "\tx"])
def test_csv_cells_never_start_a_formula(value: str) -> None:
    from bcsync.render.csvtext import csv_text

    line = csv_text(["a"], [[value]]).splitlines()[1]
    assert line.lstrip('"').startswith("'"), line


@pytest.mark.parametrize(
    "value",
    [
        "\n=cmd|'/c calc'!A0",  # a line feed first: the cell's text starts on its second line
        "\r\n=1+1",
        " =1+1",
        "\u00a0=1+1",  # a no-break space
        "\u2003@SUM(A1)",  # an em space
        "\u200b=1+1",  # a zero-width space
        "\ufeff+1",  # a byte-order mark
        "\t \n -2",
        "\uff1d1+1",  # a full-width equals sign
        "\x0b=1",
    ],
    ids=repr,
)
def test_csv_cells_never_start_a_formula_after_white_space(value: str) -> None:
    """What a spreadsheet skips before a formula is skipped here too: the cell is text."""
    from bcsync.render.csvtext import safe_cell

    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize(
    "value", ["a=b", "owner@acme.com", " x", "\nline", "", "7100000000000000001"]
)
def test_csv_cells_that_are_no_formula_stay_as_they_are(value: str) -> None:
    from bcsync.render.csvtext import safe_cell

    assert safe_cell(value) == value


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=12))
@settings(max_examples=300, deadline=None)
def test_no_csv_cell_reaches_a_formula_character_first(value: str) -> None:
    """Whatever the value: after what a spreadsheet skips, a formula sign never comes first."""
    from bcsync.render.csvtext import FORMULA_STARTS, safe_cell

    cell = safe_cell(value)
    visible = cell.lstrip("".join(ch for ch in cell if ch.isspace() or not ch.isprintable()))
    assert not visible.startswith(FORMULA_STARTS)


@pytest.mark.parametrize("hostile", ["\x1b]0;pwned\x07", "\x1b[2J", "\r", "\u202e", "\x9b31m"])
def test_terminal_text_escapes_control_characters_line_by_line(hostile: str) -> None:
    from bcsync.render.text import terminal_text

    out = terminal_text(f"first {hostile} line\nsecond line\n")
    assert out.split("\n")[1:] == ["second line", ""]
    assert out.isascii() and all(ch.isprintable() for ch in out.replace("\n", ""))
    assert hostile not in out


def lookalike_plan() -> Plan:
    """A plan inviting an address with a Cyrillic "о", refused because the BC has owner@a.com."""
    lookalike = "\u043ewner@a.com"
    desired = State(
        ACME,
        members={
            "owner@a.com": Member("owner@a.com", MemberRole.ADMIN),
            lookalike: Member(lookalike, MemberRole.STANDARD),
        },
    )
    actual = State(
        ACME,
        members={
            "owner@a.com": Member(
                "owner@a.com", MemberRole.ADMIN, status=MemberStatus.BOUND, user_id="u1"
            )
        },
    )
    config = BusinessCenterConfig(
        "bcsync.yaml", ACME, "Acme", ProviderSettings(), Policy(min_admins=1), desired, DIGEST
    )
    return make_plan(config, actual)


def test_every_view_shows_a_non_ascii_emails_code_points(
    validator: jsonschema.Draft202012Validator,
) -> None:
    plan = lookalike_plan()
    (refusal,) = plan.refusals
    assert refusal.kind is RefusalKind.LOOKALIKE
    points = "U+043E CYRILLIC SMALL LETTER O at 1"
    out = text.render([plan])
    md = markdown.render([plan])
    # The change line and the refusal both name the code points, in text and in Markdown.
    assert out.count(points) >= 2 and md.count(points) >= 2
    doc = json.loads(planfile.dumps(make_document([plan])))
    assert list(validator.iter_errors(doc)) == []
    (invite,) = [c for c in doc["plans"][0]["changes"] if c["action"] == "create"]
    assert invite["target"]["email_code_points"] == points
    assert points in doc["plans"][0]["refusals"][0]["message"]
    assert [Plan.from_json(p) for p in doc["plans"]] == [plan]
