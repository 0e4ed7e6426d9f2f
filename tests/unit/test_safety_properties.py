"""Property: a plan the guards accept keeps the owners in, at every step of the way.

For generated configs and actual states (a few members, random roles, statuses and policies),
whenever `make_plan` has no refusals, its steps are replayed one by one on the actual state (the
shared fake's `simulate`, invitees staying pending) and after every step:
- at least `min_admins` joined, non-ignored admins remain, unless the BC already had fewer and
  the step took none away;
- every required admin who is an admin stays one;
- no protected member or partner loses access (removed, demoted, a grant or share revoked or
  weakened, a finance role taken away).
"""

from __future__ import annotations

from collections.abc import Iterable

import hypothesis.strategies as st
from builders import BC, bc_config
from fake_provider import simulate
from hypothesis import given, settings

from bcsync.core.model import (
    ROLES,
    Asset,
    AssetKey,
    AssetType,
    FinanceRole,
    Grant,
    Member,
    MemberRole,
    MemberStatus,
    Partner,
    PartnerShare,
    Policy,
    RemovalLimit,
    State,
)
from bcsync.core.plan import make_plan

US = AssetKey(AssetType.AD_ACCOUNT, "7100000000000000001")
EU = AssetKey(AssetType.AD_ACCOUNT, "7100000000000000002")
CAT = AssetKey(AssetType.CATALOG, "7300000000000000001")
ASSETS = (US, EU, CAT)
EMAILS = ("a@acme.com", "b@acme.com", "c@acme.com", "d@acme.com", "bot@support.example")
IGNORE = ("*@support.example",)
PARTNERS = ("7200000000000000009", "7200000000000000010")
FINANCE_RANK = {None: 0, FinanceRole.ANALYST: 1, FinanceRole.MANAGER: 2}

roles = st.sampled_from(MemberRole)
finances = st.sampled_from([None, *FinanceRole])


def asset_roles(asset: AssetKey) -> st.SearchStrategy[str]:
    return st.sampled_from(ROLES[asset.type])


@st.composite
def grants_of(draw: st.DrawFn, emails: Iterable[str]) -> list[Grant]:
    found = []
    for email in emails:
        for asset in ASSETS:
            if draw(st.booleans()):
                found.append(Grant(asset, email, draw(asset_roles(asset))))
    return found


@st.composite
def partners_and_shares(draw: st.DrawFn) -> tuple[list[Partner], list[PartnerShare]]:
    partners, shares = [], []
    for bc_id in PARTNERS:
        if draw(st.booleans()):
            partners.append(Partner(bc_id))
            for asset in (US, EU):
                if draw(st.booleans()):
                    shares.append(PartnerShare(bc_id, asset, draw(asset_roles(asset))))
    return partners, shares


def as_state(
    members: Iterable[Member],
    grants: Iterable[Grant],
    partners: Iterable[Partner],
    shares: Iterable[PartnerShare],
    assets: Iterable[AssetKey] = ASSETS,
) -> State:
    return State(
        BC,
        {m.email: m for m in members},
        {a: Asset(a) for a in assets},
        {g.key: g for g in grants},
        {p.bc_id: p for p in partners},
        {s.key: s for s in shares},
    )


@st.composite
def actual_states(draw: st.DrawFn) -> State:
    members = []
    for email in EMAILS:
        status = draw(st.sampled_from([None, *MemberStatus]))
        if status is None:
            continue
        user_id = f"uid-{email}" if status is MemberStatus.BOUND else None
        members.append(Member(email, draw(roles), draw(finances), status, user_id))
    joined = [m.email for m in members if m.status is MemberStatus.BOUND]
    partners, shares = draw(partners_and_shares())
    # Now and then the BC lacks a declared asset (its grants become explained no-ops).
    assets = ASSETS if draw(st.booleans()) else (US, EU)
    grants = [g for g in draw(grants_of(joined)) if g.asset in assets]
    return as_state(members, grants, partners, shares, assets)


@st.composite
def desired_states(draw: st.DrawFn) -> State:
    members = [
        Member(email, draw(roles), draw(finances))
        for email in EMAILS
        if not email.endswith("support.example") and draw(st.booleans())
    ]
    partners, shares = draw(partners_and_shares())
    return as_state(members, draw(grants_of(m.email for m in members)), partners, shares)


@st.composite
def policies(draw: st.DrawFn) -> Policy:
    managed = [e for e in EMAILS if not e.endswith("support.example")]
    protected = draw(st.lists(st.sampled_from([*managed, *(f"partner:{p}" for p in PARTNERS)])))
    return Policy(
        min_admins=draw(st.integers(0, 3)),
        required_admins=tuple(draw(st.lists(st.sampled_from(managed), max_size=2))),
        # Emails match case-insensitively; the schema allows only a lower-case "partner:".
        protected=tuple(p.upper() if "@" in p and draw(st.booleans()) else p for p in protected),
        ignore_members=IGNORE,
    )


def admins(state: State, policy: Policy) -> set[str]:
    return {
        e
        for e, m in state.members.items()
        if m.status is MemberStatus.BOUND
        and m.role is MemberRole.ADMIN
        and not policy.is_ignored(e)
    }


def weaker(asset: AssetKey, new: str, old: str) -> bool:
    order = ROLES[asset.type]
    return order.index(new) < order.index(old)


def member_losses(before: State, after: State, email: str) -> list[str]:
    """How a member lost access between two states (empty when it did not)."""
    had, has = before.members.get(email), after.members.get(email)
    if had is None or had.status in (MemberStatus.REJECTED, MemberStatus.UNBOUND):
        return []
    if has is None:
        return [f"{email} removed"]
    lost = []
    if had.role is MemberRole.ADMIN and has.role is not MemberRole.ADMIN:
        lost.append(f"{email} demoted")
    if FINANCE_RANK[has.finance_role] < FINANCE_RANK[had.finance_role]:
        lost.append(f"{email} lost finance role {had.finance_role}")
    for key, grant in before.grants.items():
        if grant.member != email:
            continue
        now = after.grants.get(key)
        if now is None or weaker(grant.asset, now.role, grant.role):
            lost.append(f"{email} lost {grant.asset} {grant.role}")
    return lost


def partner_losses(before: State, after: State, bc_id: str) -> list[str]:
    if bc_id not in before.partners:
        return []
    if bc_id not in after.partners:
        return [f"partner {bc_id} removed"]
    lost = []
    for key, share in before.shares.items():
        now = after.shares.get(key)
        if share.partner == bc_id and (now is None or weaker(share.asset, now.role, share.role)):
            lost.append(f"partner {bc_id} lost {share.asset} {share.role}")
    return lost


def violations(before: State, after: State, start: State, policy: Policy) -> list[str]:
    found = []
    count_before, count_after = len(admins(before, policy)), len(admins(after, policy))
    if count_after < policy.min_admins and count_after < count_before:
        found.append(f"{count_after} admins left, min_admins {policy.min_admins}")
    for email in {r.lower() for r in policy.required_admins} & admins(start, policy):
        if email not in admins(after, policy):
            found.append(f"required admin {email} is no longer an admin")
    for name in policy.protected:
        if name.lower().startswith("partner:"):
            found.extend(partner_losses(before, after, name.split(":", 1)[1]))
        else:
            found.extend(member_losses(before, after, name.lower()))
    return found


@settings(max_examples=200, deadline=None)
@given(desired=desired_states(), actual=actual_states(), policy=policies())
def test_accepted_plans_keep_every_guard_at_every_step(
    desired: State, actual: State, policy: Policy
) -> None:
    config = bc_config(desired, policy=policy)
    plan = make_plan(config, actual)
    if plan.refusals:
        return
    state = actual
    for step in plan.steps:
        after = simulate(state, step.params)
        problems = violations(state, after, actual, policy)
        assert not problems, f"after {step.id} {step.params}: {problems}"
        state = after


@settings(max_examples=100, deadline=None)
@given(desired=desired_states(), actual=actual_states(), policy=policies())
def test_the_verdict_does_not_depend_on_allow_removals_except_for_the_limit(
    desired: State, actual: State, policy: Policy
) -> None:
    """--allow-removals lifts the removal limit only: every other refusal stays."""
    config = bc_config(desired, policy=policy)
    strict = make_plan(config, actual).refusals
    lenient = make_plan(config, actual, allow_removals=True).refusals
    assert set(lenient) <= set(strict)
    assert all(r.override == "--allow-removals" for r in set(strict) - set(lenient))
    assert all(r.override is None for r in lenient)


# -- the removal limit -----------------------------------------------------------------------

MANY = (*(f"m{i}@acme.com" for i in range(12)), "bot@support.example", "ops@support.example")


@st.composite
def crowded_states(draw: st.DrawFn) -> State:
    """A BC with joined, pending, declined, former and ignored members (up to 14)."""
    members = []
    for email in MANY:
        status = draw(st.sampled_from([None, *MemberStatus]))
        if status is None:
            continue
        user_id = f"uid-{email}" if status in (MemberStatus.BOUND, MemberStatus.UNBOUND) else None
        members.append(Member(email, draw(roles), draw(finances), status, user_id))
    # Grants are read for whoever the BC lists on a declared asset: former members' too.
    listed = [m.email for m in members if m.user_id]
    partners, shares = draw(partners_and_shares())
    return as_state(members, draw(grants_of(listed)), partners, shares)


@st.composite
def keeping_some(draw: st.DrawFn, actual: State) -> State:
    """A desired state that keeps a random part of the BC (so the plan removes the rest)."""
    kept = [
        Member(e, m.role, m.finance_role)
        for e, m in actual.members.items()
        if not e.endswith("support.example") and draw(st.booleans())
    ]
    emails = {m.email for m in kept}
    grants = [g for g in actual.grants.values() if g.member in emails and draw(st.booleans())]
    partners = [p for p in actual.partners.values() if draw(st.booleans())]
    ids = {p.bc_id for p in partners}
    shares = [s for s in actual.shares.values() if s.partner in ids and draw(st.booleans())]
    return as_state(kept, grants, partners, shares)


def managed_entries(state: State) -> set[object]:
    """What the removal limit is about, defined here apart from the code: joined or invited,
    not ignored members, their grants, partners and shares."""
    members = {
        e
        for e, m in state.members.items()
        if m.status in (MemberStatus.BOUND, MemberStatus.PENDING) and not e.endswith("example")
    }
    return {
        *(("member", e) for e in members),
        *(("grant", k) for k, g in state.grants.items() if g.member in members),
        *(("partner", p) for p in state.partners),
        *(("share", k) for k in state.shares),
    }


@settings(max_examples=200, deadline=None)
@given(
    data=st.data(),
    actual=crowded_states(),
    limit=st.one_of(
        st.builds(RemovalLimit, st.integers(0, 100).map(float)),
        st.builds(RemovalLimit, st.integers(0, 6).map(float), st.just(False)),
    ),
    floor=st.integers(0, 12),
)
def test_an_accepted_plan_removes_no_more_than_max_removals(
    data: st.DataObject, actual: State, limit: RemovalLimit, floor: int
) -> None:
    """Whatever the BC holds (pending, declined, former, ignored members), a plan the guards
    accept removes at most `max_removals` of the managed entries that exist."""
    desired = data.draw(keeping_some(actual))
    policy = Policy(
        min_admins=0, max_removals=limit, removal_threshold_floor=floor, ignore_members=IGNORE
    )
    plan = make_plan(bc_config(desired, policy=policy), actual)
    if plan.refusals:
        return
    state = actual
    for step in plan.steps:
        state = simulate(state, step.params)
    existing = managed_entries(actual)
    removed = existing - managed_entries(state)
    if len(existing) >= floor:
        assert limit.allows(len(removed), len(existing)), (
            f"removed {len(removed)} of {len(existing)} under {limit}: {sorted(map(str, removed))}"
        )
