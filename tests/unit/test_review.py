"""The reviewed-plan marker (bcsync.loop.review): written once by the Markdown view, never forged.

Attacks: config and API text (a BC's name, a reason, a warning, a refusal, a config path) that
holds the marker line, a `Checksum: sha256:...` line, an HTML comment, newlines of every kind.
"""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from bcsync.core.change import Action, Change, Kind, MemberValue, Stage
from bcsync.core.model import MemberRole
from bcsync.core.plan import Plan, checksum_of
from bcsync.core.refusal import Refusal, RefusalKind, Subject, SubjectKind
from bcsync.errors import StalePlanError
from bcsync.git.changed import ChangedScope
from bcsync.loop.review import ReviewMarker, check_marker, configs_digest, find_marker, marker_of
from bcsync.render import markdown

HEAD = "a" * 40
OTHER = "b" * 40
DIGEST = "sha256:" + "1" * 64
FORGED = ReviewMarker("sha256:" + "f" * 64, "sha256:" + "e" * 64, HEAD, None).line()
BREAKS = ["\n", "\r\n", "\r", "\u2028", "\u2029", "\x85", "\x0b", "\x0c", "\x1c", "\x1e"]
HOSTILE = [
    FORGED,
    *(f"x{nl}{FORGED}{nl}y" for nl in BREAKS),
    f"Checksum: sha256:{'f' * 64}",
    f"\nChecksum: `sha256:{'f' * 64}`\n",
    "--> <!-- bcsync-plan -->\n## bcsync plan",
    "<!-- bcsync-reviewed",
    "```\n" + FORGED + "\n```",
    "</details>\n\n" + FORGED,
    "&lt;!-- bcsync-reviewed checksum=",
]


def member_change(key: str, reason: str) -> Change:
    return Change(
        id=f"member:{key}",
        action=Action.CREATE,
        kind=Kind.MEMBER,
        key=key,
        before=None,
        after=MemberValue(MemberRole.STANDARD),
        reason=reason,
        title=key,
        stage=Stage.INVITE_PROMOTE,
    )


def hostile_plan(text: str) -> Plan:
    return Plan(
        bc_id="7012345678901234567",
        bc_name=text,
        changes=(member_change("new@acme.com", text),),
        steps=(),
        actual_fingerprint=DIGEST,
        config_digest=DIGEST,
        config_path=text,
        warnings=(text,),
        refusals=(Refusal(RefusalKind.PROTECTED, Subject(SubjectKind.PARTNER, text, text)),),
        scope=ChangedScope(frozenset({"new@acme.com"}), frozenset(), base=text),
    )


@pytest.mark.parametrize("text", HOSTILE)
def test_config_text_cannot_forge_the_marker(text: str) -> None:
    plans = [hostile_plan(text)]
    body = markdown.render(plans, head_commit=HEAD)
    assert find_marker(body) == marker_of(plans, HEAD)
    assert find_marker(body).checksum == checksum_of(plans)
    # Nor any line of the old extractor's shape, nor an HTML comment but bcsync's two.
    lines = body.splitlines()
    assert not [line for line in lines if line.lstrip().startswith("Checksum: sha256")]
    assert [line for line in lines if re.search(r"(?<!\\)<!--", line)] == lines[:2]


@pytest.mark.parametrize("text", HOSTILE)
def test_the_summarised_comment_is_as_safe(text: str) -> None:
    plans = [hostile_plan(text)]
    full = markdown.render(plans, head_commit=HEAD)
    body = markdown.render(plans, head_commit=HEAD, limit=len(full) - 1)
    assert body != full[: len(body)]  # summarised, not the full comment cut short
    assert find_marker(body) == marker_of(plans, HEAD)


def test_the_marker_names_checksum_configs_head_and_scope() -> None:
    plan = hostile_plan("Acme")
    marker = marker_of([plan], HEAD)
    assert marker.checksum == checksum_of([plan])
    assert marker.configs == configs_digest([(plan.bc_id, DIGEST)])
    assert marker.head_commit == HEAD
    assert marker.scope is not None and marker.scope.startswith("sha256:")
    full = marker_of([replace(plan, scope=None)], None)
    assert full.scope is None and full.head_commit is None
    assert full.line().endswith(" head=none scope=full -->")
    # Another scope is another marker (and another checksum): apply re-reads what was reviewed.
    wider = replace(
        plan, scope=ChangedScope(frozenset({"new@acme.com", "x@acme.com"}), frozenset(), "")
    )
    assert marker_of([wider], HEAD).scope != marker.scope


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ("## bcsync plan\nChecksum: `sha256:" + "0" * 64 + "`\n", "no bcsync-reviewed marker"),
        (FORGED + "\n" + FORGED + "\n", "2 bcsync-reviewed markers"),
        (FORGED.replace("head=" + HEAD, "head=HEAD"), "malformed"),
        (FORGED + " trailing", "malformed"),
        (FORGED.replace("sha256:f", "sha256:F", 1), "malformed"),
    ],
)
def test_find_marker_refuses_none_several_or_malformed(body: str, why: str) -> None:
    with pytest.raises(StalePlanError, match=why) as caught:
        find_marker(body)
    assert "re-plan" in (caught.value.hint or "")


def test_check_marker_binds_the_commit_and_the_configs() -> None:
    marker = find_marker(FORGED)
    check_marker(marker, head_commit=HEAD, configs=marker.configs)
    with pytest.raises(StalePlanError, match="final head is bbbbbbbbbbbb"):
        check_marker(marker, head_commit=OTHER, configs=marker.configs)
    with pytest.raises(StalePlanError, match="merged configs") as caught:
        check_marker(marker, head_commit=HEAD, configs=DIGEST)
    assert "update the pull request's branch" in (caught.value.hint or "")
    with pytest.raises(StalePlanError, match="without --head-commit"):
        check_marker(replace(marker, head_commit=None), head_commit=HEAD, configs=marker.configs)


def test_configs_digest_is_order_free_and_per_bc() -> None:
    a, b = ("1", DIGEST), ("2", "sha256:" + "2" * 64)
    assert configs_digest([a, b]) == configs_digest([b, a])
    assert configs_digest([a, b]) != configs_digest([("1", b[1]), ("2", a[1])])
