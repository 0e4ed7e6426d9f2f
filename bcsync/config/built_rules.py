"""Rules on what a config means, judged on the built, typed config. Pure, no I/O.

Which members are active (neither ignored nor expired), which are ignored, and the `min_admins` in
force are decided once, by the builder; these rules read its decisions (`Located`: the built
config, the members it set aside, and where each is written), so `validate` and `plan` cannot
disagree on them. They run once a file has no schema or reference errors (`bcsync.config`):
only such a file can be built, and only such a file can be planned.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from bcsync.config.document import DocPath, did_you_mean, join_hints
from bcsync.config.located import Located
from bcsync.config.rules import TWO_EDITS
from bcsync.core.model import MAX_ADMINS, MAX_MEMBERS, MemberRole, matches_ignored
from bcsync.errors import Problem


def check_built(located: Located) -> list[Problem]:
    """Every problem with what a built config means (errors and warnings)."""
    problems: list[Problem] = []
    checks = (
        _check_admins,
        _check_required_admins,
        _check_ignored,
        _check_ignored_in_asset_groups,
        _check_partner_shares,
    )
    for check in checks:
        problems.extend(check(located))
    return problems


def _check_admins(located: Located) -> Iterator[Problem]:
    config = located.config
    active = config.desired.members
    admins = [m for m in active.values() if m.role is MemberRole.ADMIN]
    members_path: DocPath = ("members",) if "members" in located.doc.data else ()
    if len(active) > MAX_MEMBERS:
        yield located.problem(
            members_path,
            f"{len(active):,} members declared; a Business Center holds at most {MAX_MEMBERS:,}",
            key=True,
        )
    if len(admins) > MAX_ADMINS:
        yield located.problem(
            members_path,
            f"{len(admins)} admins declared; a Business Center allows at most {MAX_ADMINS}",
            "make some of them role: standard",
            key=True,
        )
    wanted = config.policy.min_admins
    if len(admins) < wanted:
        written = located.min_admins_written
        path: DocPath = ("policy", "min_admins") if written else members_path
        expired = sum(m.role is MemberRole.ADMIN for m in located.expired.values())
        note = f" ({expired} more expired)" if expired else ""
        source = "policy.min_admins" if written else "the default min_admins"
        yield located.problem(
            path,
            f"{len(admins)} admin(s) declared{note}; {source} requires {wanted}",
            "declare more members with role: admin, or lower policy.min_admins",
            key=not written,
        )


def _check_required_admins(located: Located) -> Iterator[Problem]:
    declared = located.member_keys
    for index, lower in enumerate(located.config.policy.required_admins):
        path = ("policy", "required_admins", index)
        email = located.written(path)
        member = located.declared(lower)
        if member is None:
            hint = join_hints(
                did_you_mean(lower, declared) or "declare it under members with role: admin",
                TWO_EDITS.format(list="required_admins"),
            )
            yield located.problem(path, f"required admin {email!r} is not declared", hint)
        elif member.role is not MemberRole.ADMIN:
            yield located.problem(
                path,
                f"required admin {email!r} is declared with role {member.role.value!r}",
                f"set role: admin{located.line_of(located.member_path(lower))}",
            )
        elif lower in located.expired:
            yield located.problem(
                path,
                f"required admin {email!r} expired on {member.expires}",
                "remove the expiry or the requirement",
            )


def _check_ignored(located: Located) -> Iterator[Problem]:
    """A declared member that `ignore_members` matches is never managed: say so where it is."""
    patterns = located.config.policy.ignore_members
    for lower in located.ignored:
        index = next(i for i, p in enumerate(patterns) if p and matches_ignored(lower, (p,)))
        line = located.line_of(("policy", "ignore_members", index))
        email = located.member_keys[lower]
        yield located.problem(
            located.member_path(lower),
            f"member {email!r} matches ignore_members pattern {patterns[index]!r}{line}",
            "ignored members are never managed: remove the member or narrow the pattern",
            key=True,
        )


def _check_ignored_in_asset_groups(located: Located) -> Iterator[Problem]:
    """An asset group may not name a member the build set aside as ignored (never managed)."""
    groups = located.doc.data.get("asset_groups")
    for name, entry in (groups or {}).items() if isinstance(groups, dict) else ():
        members = entry.get("members") if isinstance(entry, dict) else None
        for email in members if isinstance(members, dict) else ():
            if isinstance(email, str) and email.lower() in located.ignored:
                yield located.problem(
                    ("asset_groups", name, "members", email),
                    f"member {email!r} of asset group {name!r} matches policy.ignore_members",
                    "bcsync never changes an ignored member's access: drop one of the two",
                    key=True,
                )


def _check_partner_shares(located: Located) -> Iterator[Problem]:
    """An active partner without an active share cannot be added (partner/add shares one)."""
    desired = located.config.desired
    shared = Counter(share.partner for share in desired.shares.values())
    for bc_id, partner in desired.partners.items():
        if not shared[bc_id] and partner.alias is not None:
            yield located.problem(
                ("partners", partner.alias),
                f"partner {partner.alias!r} has no active ad account share",
                "the API cannot add a partner without sharing an asset; "
                "share an ad account or remove the partner",
                key=True,
                warning=True,
            )
