"""`validate` and `plan` cannot disagree on what a config means.

Which members are active (neither ignored nor expired), which are ignored, and the `min_admins`
in force are decided once, by the builder; the rules judge that built config. Here, for configs
drawn at random around those decisions: validate (no grants built) and plan (built in full) find
the same problems, and every number and name the rules state is the plan's own.
"""

from __future__ import annotations

import re
import tempfile
from datetime import date, timedelta
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from bcsync.config import load
from bcsync.config.build import build_located
from bcsync.config.loader import parse_document
from bcsync.core.model import MemberRole

NOW = date(2026, 1, 1)
EMAILS = (
    "owner@acme.com",
    "ops@acme.com",
    "bob@acme.com",
    "agent@help.example",
    "eve@help.example",
)
PATTERNS = ("*@help.example", "agent@*", "eve@*", "nobody@*")
ADMINS_STATED = re.compile(r"(\d+) admin\(s\) declared.* requires (\d+)")
EXPIRIES = (None, NOW - timedelta(days=3), NOW, NOW + timedelta(days=1), NOW + timedelta(days=90))


@st.composite
def configs(draw: st.DrawFn) -> str:
    lines = ["version: 1", 'business_center: { id: "7012345678901234567" }', "policy:"]
    min_admins = draw(st.none() | st.integers(min_value=1, max_value=4))
    if min_admins is not None:
        lines.append(f"  min_admins: {min_admins}")
    ignore = draw(st.lists(st.sampled_from(PATTERNS), unique=True, max_size=2))
    lines.append(f"  ignore_members: [{', '.join(repr(p) for p in ignore)}]")
    required = draw(st.lists(st.sampled_from(EMAILS), unique=True, max_size=2))
    lines.append(f"  required_admins: [{', '.join(required)}]")
    lines.append("members:")
    for email in draw(st.lists(st.sampled_from(EMAILS), unique=True, min_size=1)):
        role = draw(st.sampled_from(["admin", "standard"]))
        expires = draw(st.sampled_from(EXPIRIES))
        until = f", expires: {expires.isoformat()}" if expires else ""
        lines.append(f"  {email}: {{ role: {role}{until} }}")
    return "\n".join(lines) + "\n"


def problems(text: str, *, build: bool) -> tuple[list[str], list[object]]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bcsync.yaml"
        path.write_text(text, encoding="utf-8")
        result = load([str(path)], NOW, build=build)
        shown = [p.format().replace(str(path), "bcsync.yaml") for p in result.problems]
        return shown, list(result.configs)


@settings(max_examples=150, deadline=None)
@given(configs())
def test_validate_and_plan_agree_on_active_ignored_and_min_admins(text: str) -> None:
    validated, none = problems(text, build=False)
    planned, built = problems(text, build=True)
    assert validated == planned
    assert none == []
    located = build_located(parse_document("bcsync.yaml", text.encode()), NOW)
    config = located.config
    active_admins = [m for m in config.desired.members.values() if m.role is MemberRole.ADMIN]
    stated = [m for p in planned if (m := ADMINS_STATED.search(p))]
    if stated:  # the rule's numbers are the plan's: its active admins, its min_admins
        (found,) = stated
        assert (int(found[1]), int(found[2])) == (len(active_admins), config.policy.min_admins)
    else:
        assert len(active_admins) >= config.policy.min_admins
    # The members the rules call ignored are exactly those the plan leaves unmanaged.
    called_ignored = {p.split("'")[1] for p in planned if "matches ignore_members" in p}
    assert called_ignored == set(located.ignored)
    assert not any(config.policy.is_ignored(e) for e in config.desired.members)
    if built:  # a config plan accepts holds every required admin as an active admin
        (plan_config,) = built
        assert plan_config.desired == config.desired
        for email in config.policy.required_admins:
            assert config.desired.members[email].role is MemberRole.ADMIN
