"""changed: which members and partners a `plan --changed` reads, and plans cut to that scope."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

import builders
import jsonschema
import pytest
from builders import AGENCY, Entry, bc_config, bound, member

from bcsync.core.change import Action, Kind
from bcsync.core.model import (
    AssetKey,
    AssetType,
    Grant,
    Partner,
    PartnerShare,
    Policy,
    State,
)
from bcsync.core.plan import Plan, checksum_of, make_plan
from bcsync.core.refusal import RefusalKind
from bcsync.git.changed import ChangedScope, changed_scope, restrict, scopes_between
from bcsync.render import json as render_json
from bcsync.render import markdown, text

US = AssetKey(AssetType.AD_ACCOUNT, "7100000000000000001")
EU = AssetKey(AssetType.AD_ACCOUNT, "7100000000000000002")
OWNER, OPS, BOB, CAROL, MALLORY = (
    "owner@acme.com",
    "ops@acme.com",
    "bob@acme.com",
    "carol@acme.com",
    "mallory@acme.com",
)
OTHER = "7200000000000000010"
SCHEMA = json.loads(
    (Path(__file__).resolve().parents[2] / "schemas" / "plan.schema.json").read_text()
)


def state(entries: Iterable[Entry]) -> State:
    return builders.state(entries, (US, EU))


def scope(members: Iterable[str] = (), partners: Iterable[str] = ()) -> ChangedScope:
    return ChangedScope(frozenset(members), frozenset(partners), base="abc1234567 (main)")


# -- which entries differ ----------------------------------------------------------------------

BASE: list[Entry] = [
    member(OWNER, "admin"),
    member(BOB),
    member(CAROL),
    Grant(US, BOB, "analyst"),
    Grant(US, CAROL, "operator"),
    Partner(AGENCY),
    PartnerShare(AGENCY, US, "analyst"),
]


@pytest.mark.parametrize(
    ("head", "members", "partners"),
    [
        pytest.param(BASE, set(), set(), id="nothing"),
        pytest.param(
            [replace(e, sources=("group x",)) if isinstance(e, Grant) else e for e in BASE],
            set(),
            set(),
            id="where-a-grant-comes-from-is-no-change",
        ),
        pytest.param(
            [*BASE[:3], Grant(US, BOB, "operator"), *BASE[4:]], {BOB}, set(), id="grant-role"
        ),
        pytest.param([*BASE[:3], *BASE[4:]], {BOB}, set(), id="grant-removed"),
        pytest.param([*BASE, Grant(EU, CAROL, "analyst")], {CAROL}, set(), id="grant-added"),
        pytest.param(
            [member(OWNER, "admin"), member(BOB, "admin"), *BASE[2:]], {BOB}, set(), id="role"
        ),
        pytest.param([*BASE, member("new@acme.com")], {"new@acme.com"}, set(), id="member-added"),
        pytest.param(
            [e for e in BASE if getattr(e, "member", None) != CAROL and e != member(CAROL)],
            {CAROL},
            set(),
            id="member-and-grants-removed",
        ),
        pytest.param(
            [*BASE[:6], PartnerShare(AGENCY, US, "operator")], set(), {AGENCY}, id="share-role"
        ),
        pytest.param([*BASE, Partner(OTHER)], set(), {OTHER}, id="partner-added"),
        pytest.param(BASE[:5], set(), {AGENCY}, id="partner-removed"),
    ],
)
def test_changed_scope_names_what_differs(
    head: list[Entry], members: set[str], partners: set[str]
) -> None:
    found = changed_scope(state(BASE), state(head), base="b")
    assert (set(found.members), set(found.partners)) == (members, partners)
    back = changed_scope(state(head), state(BASE), base="b")
    assert (back.members, back.partners) == (found.members, found.partners)


def test_a_group_edit_puts_every_member_of_it_in_scope() -> None:
    # Built states carry the group's grants on each member: one edit changes all of them.
    before = [*BASE, Grant(EU, BOB, "analyst"), Grant(EU, CAROL, "analyst")]
    after = [*BASE, Grant(EU, BOB, "operator"), Grant(EU, CAROL, "operator")]
    assert changed_scope(state(before), state(after), base="b").members == {BOB, CAROL}


def test_a_bc_without_a_config_at_the_base_is_read_whole() -> None:
    head = [bc_config(state(BASE), policy=Policy())]
    assert scopes_between([], head, label="b") == {builders.BC: None}
    scopes = scopes_between(head, head, label="b")
    assert scopes[builders.BC] == ChangedScope(frozenset(), frozenset(), "b")


def test_restrict_keeps_the_scope_and_every_asset() -> None:
    cut = restrict(state(BASE), scope([BOB], [AGENCY]))
    assert set(cut.members) == {BOB}
    assert set(cut.grants) == {(US, BOB)}
    assert set(cut.partners) == {AGENCY}
    assert set(cut.shares) == {(AGENCY, US)}
    assert set(cut.assets) == {US, EU}
    assert restrict(state(BASE), scope()).members == {}


# -- plans cut to the scope --------------------------------------------------------------------

POLICY = Policy(min_admins=2, required_admins=(OWNER,))
DESIRED: list[Entry] = [
    member(OWNER, "admin"),
    member(OPS, "admin"),
    member(BOB),
    Grant(US, BOB, "operator"),
    Partner(AGENCY),
    PartnerShare(AGENCY, US, "analyst"),
]
# What a scoped read of BOB returns: every admin, BOB, every partner; nobody else.
READ: list[Entry] = [
    bound(OWNER, "admin"),
    bound(OPS, "admin"),
    bound(BOB),
    Grant(US, BOB, "analyst"),
    Partner(AGENCY),
    Partner(OTHER),
]


def test_a_scoped_plan_changes_only_its_scope() -> None:
    # MALLORY (not in config) and OTHER (not a declared partner) would go in a full plan.
    actual = state([*READ, bound(MALLORY), Grant(US, MALLORY, "admin")])
    config = bc_config(state(DESIRED), policy=POLICY)
    full = make_plan(config, actual)
    assert {c.key for c in full.changes if c.action is Action.DELETE} >= {MALLORY, OTHER}
    scoped = make_plan(config, actual, scope=scope([BOB]))
    assert [(c.action, c.kind, c.key) for c in scoped.changes] == [
        (Action.UPDATE, Kind.GRANT, f"{US}:{BOB}")
    ]
    assert scoped.scope == scope([BOB])
    assert scoped.refusals == ()


def test_a_scoped_plan_never_removes_what_it_did_not_read() -> None:
    # The read lists admins and BOB only: CAROL, in config, is absent from it but out of scope.
    desired = [*DESIRED, member(CAROL), Grant(US, CAROL, "analyst")]
    config = bc_config(state(desired), policy=POLICY)
    scoped = make_plan(config, state(READ), scope=scope([BOB, MALLORY], [OTHER]))
    touched = {c.target.email or c.target.partner for c in scoped.changes}
    assert touched <= {BOB, MALLORY, OTHER}
    assert not any(c.action is Action.CREATE and c.key == CAROL for c in scoped.changes)


def test_a_scoped_plan_refuses_demoting_the_second_to_last_admin() -> None:
    # OWNER is not in scope, but the read lists every admin: the floor is counted on all of them.
    desired = [member(OWNER, "admin"), member(OPS), *DESIRED[2:]]
    config = bc_config(state(desired), policy=POLICY)
    scoped = make_plan(config, state(READ), scope=scope([OPS]))
    assert [c.key for c in scoped.changes if c.is_change] == [OPS]
    assert any(
        r.kind is RefusalKind.ADMIN_FLOOR and r.subject.id == OPS and r.limit == "2"
        for r in scoped.refusals
    )


def test_the_removal_limit_counts_members_the_scoped_read_did_not_list() -> None:
    gone = [f"gone{i}@acme.com" for i in range(12)]
    read = [bound(OWNER, "admin"), bound(OPS, "admin"), *(bound(e) for e in gone)]
    config = bc_config(state(DESIRED[:2]), policy=POLICY)
    alone = make_plan(config, state(read), scope=scope(gone))
    assert [(r.kind, r.count, r.total) for r in alone.refusals] == [
        (RefusalKind.REMOVAL_LIMIT, 12, 14)
    ]
    counted = make_plan(config, state(read), scope=scope(gone), unread_members=100)
    assert counted.refusals == ()


def test_the_checksum_covers_the_scope_not_its_description() -> None:
    config = bc_config(state(DESIRED), policy=POLICY)
    one = make_plan(config, state(READ), scope=scope([BOB]))
    wider = make_plan(config, state(READ), scope=scope([BOB, CAROL]))
    assert one.changes == wider.changes and one.steps == wider.steps
    assert one.checksum() != wider.checksum()
    relabelled = replace(one, scope=replace(one.scope, base="other")) if one.scope else one
    assert relabelled.checksum() == one.checksum()
    unscoped = replace(one, scope=None)
    assert unscoped.checksum() != one.checksum()
    assert "scope" not in unscoped.to_json()


def test_a_scoped_plan_round_trips_and_every_view_says_it_is_scoped() -> None:
    config = bc_config(state(DESIRED), policy=POLICY)
    plan = make_plan(config, state(READ), scope=scope([BOB], [OTHER]))
    doc = render_json.document(
        [plan], created_at="2026-11-25T00:00:00Z", tool_version="0", git_commit=None
    )
    jsonschema.validate(doc, SCHEMA)
    back = Plan.from_json(json.loads(render_json.dumps(doc))["plans"][0])
    assert back.scope == plan.scope
    assert back.checksum() == plan.checksum() and checksum_of([back]) == doc["checksum"]
    for view in (
        text.render([plan]),
        markdown.render([plan]),
        doc["plans"][0]["scope"]["sentence"],
    ):
        assert "Scoped plan" in view and BOB in view and OTHER in view
        assert "`bcsync plan`" in view.replace("\\`", "`")


def test_the_schema_refuses_a_malformed_scope() -> None:
    config = bc_config(state(DESIRED), policy=POLICY)
    plan = make_plan(config, state(READ), scope=scope([BOB]))
    doc = render_json.document(
        [plan], created_at="2026-11-25T00:00:00Z", tool_version="0", git_commit=None
    )
    doc["plans"][0]["scope"]["partners"] = ["not-an-id"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, SCHEMA)
    del doc["plans"][0]["scope"]["partners"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, SCHEMA)
