"""Views of drift (`bcsync drift`): text, Markdown, JSON. Pure.

Drift is seen from the config: `+` the BC has access the config does not give, `-` the config
gives access the BC lacks, `~` the role differs. Each line says what it is ("changed outside
bcsync", "as bcsync applied it; the config changed since", "no activity-log entry about it")
and, where an activity-log entry about it was found, who made the change and when.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

from bcsync.auditor.access_diff import AccessChange, Kind
from bcsync.render.access import MARKS
from bcsync.render.markdown import GITHUB_COMMENT_LIMIT, escape
from bcsync.render.text import terminal_text

if TYPE_CHECKING:
    from bcsync.auditor.drift import Attribution, DriftItem, DriftReport

FORMAT_VERSION = 1
# What an incoming difference is: the partner's doing, which bcsync can neither make nor undo.
INCOMING_CAUSE = "incoming share: only the partner can change it"


def describe(change: AccessChange) -> str:
    """`operator on ad_accounts.acme-us in the BC, analyst in the config`."""
    on = f" on {change.asset_label}" if change.kind in (Kind.GRANT, Kind.SHARE) else ""
    config, bc = change.before, change.after
    if config is None:
        return f"{bc}{on} in the BC, not in the config"
    if bc is None:
        return f"{config}{on} in the config, not in the BC"
    return f"{bc}{on} in the BC, {config} in the config"


_FIELDS = {Kind.MEMBER: "membership or role", Kind.GRANT: "grant", Kind.PARTNER: "partnership"}


def attribution_text(
    attribution: Attribution | None, since: date | None = None, change: AccessChange | None = None
) -> str:
    if attribution is None:
        field = f" {_FIELDS.get(change.kind, 'share')}" if change is not None else ""
        about = f" about this{field}" if field else ""
        return f"no activity-log entry{about}" + (f" since {since}" if since else "")
    when = f" at {attribution.when:%Y-%m-%d %H:%M:%S} UTC" if attribution.when else ""
    applied = attribution.applied
    if applied is not None:
        ids = ", ".join(applied.request_ids) or "none recorded"
        return (
            f"applied by bcsync{when} (plan {applied.plan_digest}, request id(s) {ids}, "
            f"run by {applied.actor or 'unknown'}): {attribution.text}"
        )
    return f"last change by {attribution.who}{when}: {attribution.text}"


def _line(item: DriftItem, log: bool, since: date | None) -> str:
    c = item.change
    text = f"{MARKS[c.effect.direction]} {c.subject_label}: {describe(c)} ({item.label})"
    return text + (f"\n      {attribution_text(item.attribution, since, c)}" if log else "")


def _title(report: DriftReport) -> str:
    return f"{report.bc_name} ({report.bc_id})" if report.bc_name else report.bc_id


def _log_note(report: DriftReport) -> str | None:
    if report.changelog_unavailable is None:
        return None
    return (
        f"the activity log did not answer ({report.changelog_unavailable}); "
        "differences are not attributed"
    )


def text(reports: Sequence[DriftReport]) -> str:
    out = []
    for r in reports:
        state = f"{r.count} difference(s)" if r.has_drift else "no drift"
        out.append(f"{_title(r)} [{r.path}]: {state}")
        note = _log_note(r)
        if note and r.items:
            out.append(f"  note: {note}")
        out.extend(f"  {_line(i, note is None, r.changelog_since)}" for i in r.items)
        out.extend(f"  ? incoming: {d.sentence()} ({INCOMING_CAUSE})" for d in r.incoming)
        if r.pending:
            out.append(f"  pending invitations (not drift): {', '.join(r.pending)}")
    total = sum(r.count for r in reports)
    out.append(
        f"Drift: {total} difference(s) in {sum(r.has_drift for r in reports)} of "
        f"{len(reports)} Business Center(s)."
        if total
        else f"No drift in {len(reports)} Business Center(s)."
    )
    return terminal_text("\n".join(out) + "\n")


def markdown(reports: Sequence[DriftReport], limit: int = GITHUB_COMMENT_LIMIT) -> str:
    total = sum(r.count for r in reports)
    out = ["## bcsync drift", "", f"**{total} difference(s)** between the BCs and the config.", ""]
    for r in reports:
        out.append(f"### {escape(_title(r))}")
        note = _log_note(r)
        if note and r.items:
            out.append(f"_Note: {escape(note)}_")
        if not r.has_drift:
            out.append("No drift.")
        else:
            out += ["", "| | who | differs | cause | by |", "|---|---|---|---|---|"]
            for i in r.items:
                c = i.change
                who = "not attributed"
                if note is None:
                    who = attribution_text(i.attribution, r.changelog_since, c)
                cells = (MARKS[c.effect.direction], c.subject_label, describe(c), i.label, who)
                out.append("| " + " | ".join(escape(x) for x in cells) + " |")
            for d in r.incoming:
                cells = ("?", d.partner_label, d.sentence(), INCOMING_CAUSE, "the partner")
                out.append("| " + " | ".join(escape(x) for x in cells) + " |")
        out.append("")
    body = "\n".join(out)
    if len(body) > limit:
        cut = body[: limit - 120].rsplit("\n", 1)[0]
        body = cut + "\n\n_… cut to fit a comment; run `bcsync drift` for every difference._\n"
    return body


def to_json(reports: Sequence[DriftReport]) -> str:
    doc = {
        "format_version": FORMAT_VERSION,
        "kind": "bcsync.auditor.drift",
        "drift": any(r.has_drift for r in reports),
        "business_centers": [
            {
                "bc_id": r.bc_id,
                "bc_name": r.bc_name,
                "path": r.path,
                "changelog": {
                    "available": r.changelog_unavailable is None,
                    "reason": r.changelog_unavailable,
                    "since": r.changelog_since.isoformat() if r.changelog_since else None,
                },
                "pending": r.pending,
                "differences": [_item_json(i) for i in r.items],
                "incoming": [d.to_json() for d in r.incoming],
            }
            for r in reports
        ],
    }
    return json.dumps(doc, indent=2) + "\n"


def _item_json(item: DriftItem) -> dict[str, object]:
    doc = item.change.to_json()
    doc["config"] = doc.pop("before")
    doc["bc"] = doc.pop("after")
    doc["label"] = item.label
    doc["cause"] = item.cause.name.lower()
    a = item.attribution
    doc["changed_by"] = (
        {"who": a.who, "when": a.when.isoformat() if a.when else None, "log": a.text} if a else None
    )
    applied = a.applied if a else None
    doc["applied_by_bcsync"] = (
        {
            "time": applied.time.isoformat(),
            "plan_digest": applied.plan_digest,
            "request_ids": list(applied.request_ids),
            "op": applied.op,
            "actor": applied.actor,
        }
        if applied
        else None
    )
    return doc
