"""Member display names in the diff and the schedule: managed only where the config names one."""

from __future__ import annotations

from dataclasses import replace

from builders import bound, member
from test_diff import BOB, OWNER, actual, config

from bcsync.core.change import Action, MemberValue, NoopCause
from bcsync.core.diff import diff
from bcsync.core.model import Member
from bcsync.core.schedule import Op, UpdateMember, params_from_json, params_to_json


def named(m: Member, name: str) -> Member:
    return replace(m, name=name)


def test_a_declared_name_that_differs_is_an_update_carrying_it() -> None:
    changes = diff(
        config((member(OWNER, "admin"), named(member(BOB), "Bob B."))),
        actual(bound(OWNER, "admin"), named(bound(BOB), "Bob")),
    )
    (change,) = changes
    assert change.action is Action.UPDATE
    assert isinstance(change.before, MemberValue) and isinstance(change.after, MemberValue)
    assert (change.before.name, change.after.name) == ("Bob", "Bob B.")
    assert "name 'Bob' → 'Bob B.'" in change.reason


def test_no_declared_name_leaves_the_name_alone() -> None:
    changes = diff(
        config((member(OWNER, "admin"), member(BOB))),
        actual(bound(OWNER, "admin"), named(bound(BOB), "Bob")),
    )
    assert changes == []


def test_the_same_name_is_no_change() -> None:
    changes = diff(
        config((member(OWNER, "admin"), named(member(BOB), "Bob"))),
        actual(bound(OWNER, "admin"), named(bound(BOB), "Bob")),
    )
    assert changes == []


def test_a_pending_invitee_is_named_after_acceptance() -> None:
    changes = diff(
        config((member(OWNER, "admin"), named(member(BOB), "Bob B."))),
        actual(bound(OWNER, "admin"), member(BOB, status="pending")),
    )
    (change,) = changes
    assert change.action is Action.NOOP and change.cause is NoopCause.PENDING
    assert "the name is set after acceptance" in change.reason


def test_a_step_keeps_its_name_through_json_and_leaves_it_out_when_unset() -> None:
    step = UpdateMember("6900", BOB, member(BOB).role, None, "Bob B.")
    assert params_from_json(Op.UPDATE_MEMBER, params_to_json(step)) == step
    plain = UpdateMember("6900", BOB, member(BOB).role, None)
    assert "name" not in params_to_json(plain)
    assert params_from_json(Op.UPDATE_MEMBER, params_to_json(plain)) == plain
