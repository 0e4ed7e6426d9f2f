"""The terminal view of plans, Terraform-like: `+` create, `~` update, `-` delete, grouped by stage.

Colour is a parameter (the CLI decides from the terminal and NO_COLOR); with `color=False` the
output holds no escape codes. Names read from the API are shown with control characters escaped,
so a hostile partner name cannot drive the terminal.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bcsync.core.change import (
    STAGE_TITLES,
    WARNING_CAUSES,
    Action,
    Change,
    Kind,
    MemberValue,
    PartnerValue,
    RoleValue,
    Stage,
    Value,
)
from bcsync.core.emails import code_points
from bcsync.core.plan import Plan, checksum_of
from bcsync.render import total_summary

GREEN = "\x1b[32m"
YELLOW = "\x1b[33m"
RED = "\x1b[31m"
DIM = "\x1b[2m"
BOLD = "\x1b[1m"
RESET = "\x1b[0m"

SYMBOLS: Mapping[Action, tuple[str, str]] = {
    Action.CREATE: ("+", GREEN),
    Action.UPDATE: ("~", YELLOW),
    Action.DELETE: ("-", RED),
    Action.NOOP: ("=", DIM),
}
NO_CHANGES = "No changes. The Business Center matches the configuration."
LEGEND = "+ add   ~ change   - remove   = waiting or explained, not changed now"
KIND_NOUNS: Mapping[Kind, tuple[str, str]] = {
    Kind.MEMBER: ("member", "members"),
    Kind.GRANT: ("grant", "grants"),
    Kind.PARTNER: ("partner", "partners"),
    Kind.SHARE: ("partner share", "partner shares"),
    Kind.ASSET_GROUP: ("asset group", "asset groups"),
    Kind.GROUP_ASSET: ("ad account in a group", "ad accounts in groups"),
    Kind.GROUP_MEMBER: ("member in a group", "members in groups"),
}
# Wider titles are not padded, so one long name does not push every reason off the screen.
TITLE_WIDTH = 64
VALUE_WIDTH = 40


def render(plans: Sequence[Plan], *, color: bool = False) -> str:
    """The plans as terminal text, a legend first, a total when there are several, the checksum."""
    blocks = [_render_plan(plan, color) for plan in plans]
    if any(plan.changes for plan in plans):
        blocks.insert(0, _paint(LEGEND, DIM, color))
    if len(plans) > 1:
        total = total_summary(plans)
        line = f"Total for {len(plans)} Business Centers: {total.sentence().removeprefix('Plan: ')}"
        blocks.append(_paint(line, BOLD, color))
    blocks.append(f"Checksum: {checksum_of(plans)}")
    return "\n\n".join(blocks) + "\n"


# Incoming differences are information: no step of the plan, and apply changes none of them.
INCOMING_TITLE = "Incoming shares differ from the config (only the partner can change these)"


def incoming_sentence(count: int) -> str:
    """What partners share with the BC and the config does not declare: theirs, not unmanaged."""
    noun = "asset" if count == 1 else "assets"
    return f"incoming: {count} {noun} shared by partners (not declared in config; not this BC's)"


def unchanged_sentence(plan: Plan) -> str | None:
    """ "unchanged: 12 members, 40 grants" from the plan's counts; None when there are none."""
    counts = plan.unchanged
    parts = []
    for kind in Kind:
        n = counts.get(kind.value, 0)
        if n:
            one, many = KIND_NOUNS[kind]
            parts.append(f"{n} {one if n == 1 else many}")
    return f"unchanged: {', '.join(parts)}" if parts else None


def config_words(change: Change) -> str:
    """The config's own words for an entry: 'reason: "Q3 launch"; expires 2027-01-31'."""
    parts = []
    email = change.target.email
    if email is not None and not email.isascii():
        parts.append(f"email code points: {code_points(email)}")
    if change.note:
        parts.append(f'reason: "{change.note}"')
    if change.expires:
        parts.append(f"expires {change.expires}")
    return "; ".join(parts)


def takes_away_words(change: Change, limit: int | None = None) -> str:
    """ "takes away ad_accounts.acme-us operator, lead_forms.signup admin" for a removal.

    `limit` lists that many and counts the rest (the pull-request comment has a size limit)."""
    held = change.takes_away
    if not held:
        return ""
    shown = held if limit is None else held[:limit]
    words = ", ".join(f"{h.label} {h.role}" for h in shown)
    if len(held) > len(shown):
        words += f" and {len(held) - len(shown)} more"
    return f"takes away {words}"


def describe(kind: Kind, value: Value | None) -> str:
    """A short summary of one side of a change: "admin, finance manager", "operator"."""
    if isinstance(value, MemberValue):
        text = value.role.value
        if value.finance_role:
            text += f", finance {value.finance_role.value}"
        return text
    if isinstance(value, PartnerValue):
        shared = value.shared_assets
        if shared is None:
            return ""
        return f"{shared} shared asset" + ("" if shared == 1 else "s")
    return value.role if isinstance(value, RoleValue) else ""


def transition(change: Change) -> str:
    """Before → after, or the one side that exists."""
    before = describe(change.kind, change.before)
    after = describe(change.kind, change.after)
    if change.action is Action.DELETE:
        return before
    if change.action is Action.CREATE or not before or before == after:
        return after
    if isinstance(change.before, MemberValue) and isinstance(change.after, MemberValue):
        return _member_transition(change.before, change.after)
    return f"{before} → {after}"


def _member_transition(before: MemberValue, after: MemberValue) -> str:
    """Only what changes: "standard → admin", "standard, finance none → analyst"."""
    old, new = before.role.value, after.role.value
    parts = [f"{old} → {new}" if old != new else new]
    old_finance = before.finance_role.value if before.finance_role else None
    new_finance = after.finance_role.value if after.finance_role else None
    if old_finance != new_finance:
        parts.append(f"finance {old_finance or 'none'} → {new_finance or 'none'}")
    elif new_finance:
        parts.append(f"finance {new_finance}")
    return ", ".join(parts)


def printable(text: str) -> str:
    """Text with control and format characters escaped (\\x1b, \\u202e stay visible, inert)."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else _escaped(ch) for ch in text)


def terminal_text(text: str) -> str:
    """A whole text view for a terminal: each line's control and format characters escaped.

    For views that add no escape codes of their own (every text view but the coloured plan,
    which escapes each value): data from the audit log, git or the API cannot move the cursor,
    rewrite a line (\\r), set the title or reorder what follows (U+202E).
    """
    return "\n".join(printable(line) for line in text.split("\n"))


def _escaped(ch: str) -> str:
    code = ord(ch)
    return (
        f"\\x{code:02x}"
        if code < 0x100
        else f"\\u{code:04x}"
        if code < 0x10000
        else f"\\U{code:08x}"
    )


def _paint(text: str, code: str, color: bool) -> str:
    return f"{code}{text}{RESET}" if color and text else text


def _render_plan(plan: Plan, color: bool) -> str:
    name = printable(plan.bc_name or "(unnamed)")
    header = f"Business Center {name} ({printable(plan.bc_id)})"
    if plan.config_path:
        header += f"  config {printable(plan.config_path)}"
    lines = [_paint(header, BOLD, color)]
    if plan.scope is not None:  # `plan --changed`: say so before anything else
        lines.append(_paint(printable(plan.scope.sentence()), YELLOW, color))
    by_stage: dict[Stage, list[Change]] = {}
    noops: list[Change] = []
    for change in plan.changes:
        if change.is_change and change.stage is not None:
            by_stage.setdefault(change.stage, []).append(change)
        elif change.cause not in WARNING_CAUSES:  # those are listed under Warnings
            noops.append(change)
    # Stages appear in plan order, which `plan.order` made the apply order.
    for stage, changes in by_stage.items():
        lines += ["", _paint(STAGE_TITLES[stage], BOLD, color), *_change_lines(changes, color)]
    if noops:
        lines += ["", _paint("Waiting / deferred", BOLD, color), *_change_lines(noops, color)]
    if plan.warnings:
        lines += ["", _paint("Warnings", BOLD, color)]
        lines += [f"  {_paint('!', YELLOW, color)} {printable(w)}" for w in plan.warnings]
    if plan.unmanaged_assets:
        n = plan.unmanaged_assets
        noun = "asset" if n == 1 else "assets"
        lines += ["", f"unmanaged: {n} {noun} (not declared in config; left alone)"]
    if plan.incoming_assets:
        lines += ["", incoming_sentence(plan.incoming_assets)]
    if plan.incoming:
        lines += ["", _paint(INCOMING_TITLE, BOLD, color)]
        lines += [
            f"  {_paint('?', YELLOW, color)} {printable(d.sentence())}" for d in plan.incoming
        ]
    unchanged = unchanged_sentence(plan)
    if unchanged:
        lines += ["", unchanged]
    if plan.refusals:
        lines += [
            "",
            _paint("Refused by the safety guards (apply will not run this plan)", RED, color),
        ]
        lines += [f"  {_paint('x', RED, color)} {printable(r.sentence())}" for r in plan.refusals]
    lines += ["", plan.summary.sentence()]
    return "\n".join(lines)


def _change_lines(changes: Sequence[Change], color: bool) -> list[str]:
    rows = [(c, printable(c.title or c.key), printable(transition(c))) for c in changes]
    title_w = min(TITLE_WIDTH, max(len(title) for _, title, _ in rows))
    value_w = min(VALUE_WIDTH, max(len(value) for _, _, value in rows))
    lines = []
    for change, title, value in rows:
        symbol, code = SYMBOLS[change.action]
        text = f"  {_paint(symbol, code, color)} {title.ljust(title_w)}  {value.ljust(value_w)}"
        why = "; ".join(w for w in (change.reason, config_words(change)) if w)
        if why:
            text += "  " + _paint(f"# {printable(why)}", DIM, color)
        lines.append(text.rstrip())
        if change.takes_away:
            lines.append("      " + _paint(printable(takes_away_words(change)), RED, color))
    return lines
