"""A saved plan edited by an attacker is never applied: the tamper suite, through the real CLI.

Each test edits one field of a plan that `bcsync plan --out` saved for a copy of
examples/quickstart (the local Business Center), usually re-sealing its checksums as an attacker
would, then runs `bcsync apply`. Each must be refused (exit 3 or 4) and the local Business
Center's database must be byte for byte what it was before.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from bcsync.cli import cli
from bcsync.core.plan import Plan, checksum_of
from bcsync.core.refusal import Act, Refusal, RefusalKind, Subject, SubjectKind
from bcsync.loop.reconcile import bc_lock
from bcsync.providers.tiktok.client import DEFAULT_BASE_URL
from tests.examples import copy_example

from .conftest import NOW

pytestmark = pytest.mark.slow

BC = "7012345678901234567"
OWNER = "owner@acme.com"
OWNER_UID = "6900000000000000001"

Doc = dict[str, Any]


@dataclass
class Quickstart:
    """A private copy of examples/quickstart, its local BC and a runner for `bcsync`."""

    root: Path
    lock_dir: Path

    @property
    def config(self) -> Path:
        return self.root / "quickstart"

    @property
    def database(self) -> Path:
        return self.config / ".bcsync" / "local" / "seed.yaml.db"

    def __call__(self, *args: str) -> Result:
        env = {"BCSYNC_LOCK_DIR": str(self.lock_dir), "NO_COLOR": "1"}
        return CliRunner().invoke(cli, [*args, "--now", NOW], env=env, catch_exceptions=False)

    def snapshot(self) -> str:
        """Every table of the local BC (the changelog included: any write shows)."""
        return self.snapshot_of(self.database)

    @staticmethod
    def snapshot_of(database: Path) -> str:
        with closing(sqlite3.connect(database)) as db:
            return "\n".join(db.iterdump())

    def save_plan(self, name: str, *extra: str) -> tuple[Path, Result]:
        out = self.root / name
        return out, self("plan", str(self.config), "--out", str(out), *extra)


def make_quickstart(root: Path) -> Quickstart:
    copy_example("quickstart", root / "quickstart")
    return Quickstart(root, root / "locks")


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Quickstart, Doc, str]]:
    """One quickstart copy and its saved plan, shared: a refused apply changes nothing."""
    qs = make_quickstart(tmp_path_factory.mktemp("tamper"))
    path, made = qs.save_plan("plan.json")
    assert made.exit_code == 0, made.output
    yield qs, json.loads(path.read_text(encoding="utf-8")), qs.snapshot()


@pytest.fixture
def quickstart(tmp_path: Path) -> Quickstart:
    return make_quickstart(tmp_path)


def reseal(doc: Doc) -> Doc:
    """Recompute the checksums as an attacker would, so only the content can give it away."""
    try:
        plans = [Plan.from_json(p) for p in doc["plans"]]
    except (KeyError, TypeError, ValueError, AssertionError):
        return doc  # not even a plan any more: the file check refuses it
    for body, plan in zip(doc["plans"], plans, strict=True):
        body["checksum"] = plan.checksum()
    doc["checksum"] = checksum_of(plans)
    return doc


def step_of(doc: Doc, op: str) -> Doc:
    return next(s for s in doc["plans"][0]["steps"] if s["op"] == op)


def change_of(doc: Doc, cid: str) -> Doc:
    return next(c for c in doc["plans"][0]["changes"] if c["id"] == cid)


def body(doc: Doc) -> Doc:
    return doc["plans"][0]


def owner_removal(doc: Doc) -> None:
    steps = body(doc)["steps"]
    steps.append(
        {
            "id": f"s{len(steps) + 1}",
            "stage": 6,
            "op": "remove_member",
            "params": {"email": OWNER, "user_id": OWNER_UID},
            "changes": [f"member:{OWNER}"],
            "depends_on": [],
        }
    )


def duplicate_id(doc: Doc) -> None:
    steps = body(doc)["steps"]
    steps[1]["id"] = steps[0]["id"]


def op_swap(doc: Doc) -> None:
    """An unassign becomes a remove_member of the same user, with parameters that fit."""
    step = step_of(doc, "unassign")
    step["op"] = "remove_member"
    step["params"] = {"email": step["params"]["email"], "user_id": step["params"]["user_id"]}


MEMBER_UPDATE = "member:dave@acme.com"
GRANT_UPDATE = "grant:ad_accounts/7100000000000000001:bob@acme.com"

# A refusal claiming an override exists for protection: apply must not care what it says.
FORGED_REFUSAL = Refusal(
    RefusalKind.PROTECTED,
    Subject(SubjectKind.MEMBER, OWNER, user_id=OWNER_UID),
    Act.REMOVE,
    override="--allow-removals",
)

EDITS: dict[str, Callable[[Doc], None]] = {
    "a change's action": lambda d: change_of(d, GRANT_UPDATE).update(action="create"),
    "a role in a change": lambda d: change_of(d, GRANT_UPDATE)["after"].update(role="admin"),
    "a role in a step": lambda d: step_of(d, "assign")["params"].update(role="admin"),
    "a member's role in a step": lambda d: step_of(d, "update_member")["params"].update(
        role="standard"
    ),
    "an email": lambda d: step_of(d, "remove_member")["params"].update(email=OWNER),
    "a user id": lambda d: step_of(d, "remove_member")["params"].update(user_id=OWNER_UID),
    "a change's target": lambda d: change_of(d, MEMBER_UPDATE)["target"].update(user_id=OWNER_UID),
    "a step's op": op_swap,
    "a step's stage": lambda d: step_of(d, "remove_member").update(stage=1),
    "a step's dependencies": lambda d: step_of(d, "remove_member").update(depends_on=["s1"]),
    "a duplicate step id": duplicate_id,
    "a duplicated step": lambda d: body(d)["steps"].append(copy.deepcopy(body(d)["steps"][-1])),
    "an appended remove_member step": owner_removal,
    "a dropped step": lambda d: body(d)["steps"].pop(0),
    "the BC id": lambda d: body(d).update(bc_id="7012345678901234568"),
    "an empty config_digest": lambda d: body(d).update(config_digest=""),
    "another config_digest": lambda d: body(d).update(config_digest="sha256:" + "a" * 64),
    "the format_version": lambda d: d.update(format_version=1),
    "a refusal added": lambda d: body(d).update(refusals=[FORGED_REFUSAL.to_json()]),
    "a refusal in words only": lambda d: body(d).update(refusals=["refusing nothing"]),
    "the target": lambda d: body(d).update(target="local:/elsewhere/.bcsync/local/seed.yaml.db"),
    "the target removed": lambda d: body(d).pop("target"),
    "the target as an API URL": lambda d: body(d).update(target=DEFAULT_BASE_URL),
}

# Why each edit is refused: the exit code and what the message names (the field, the step or
# change and its old and new value), so an edit refused for the wrong reason fails the test.
WHY: dict[str, tuple[int, str]] = {
    "a change's action": (3, r"not a valid bcsync plan:.*changes/4/before"),
    "a role in a change": (
        4,
        r"change 5 differs \(bob@acme.com on ad_accounts.acme-us: after.role",
    ),
    "a role in a step": (4, r"step 4 differs \(s4: params.role: 'admin' → 'operator'"),
    "a member's role in a step": (4, r"step 1 differs \(s1: params.role: 'standard' → 'admin'"),
    "an email": (4, r"step 11 differs \(s11: params.email: 'owner@acme.com' → 'mallory@"),
    "a user id": (4, r"step 11 differs \(s11: params.user_id: '6900000000000000001' → "),
    "a change's target": (4, r"change 1 differs \(dave@acme.com: target.user_id"),
    "a step's op": (4, r"step 9 differs \(s9: op: 'remove_member' → 'unassign'"),
    "a step's stage": (4, r"step 11 differs \(s11: stage: 1 → 5\)"),
    "a step's dependencies": (4, r"step 11 differs \(s11: depends_on"),
    "a duplicate step id": (4, r"step 2 differs \(s2: id: 's1' → 's2'\)"),
    "a duplicated step": (4, r"it has more steps \(12\) than a fresh plan \(11\)"),
    "an appended remove_member step": (4, r"it has more steps \(12\) than a fresh plan \(11\)"),
    "a dropped step": (4, r"not what would run now: .*differs"),
    "the BC id": (4, r"covers Business Centers \['7012345678901234568'\]"),
    "an empty config_digest": (3, r"config_digest: '' does not match"),
    "another config_digest": (4, r"the config .*bcsync.yaml changed since it was made"),
    "the format_version": (3, r"plan format_version 1 is not supported"),
    "a refusal added": (4, r"it was refused by the safety guards when it was made"),
    "a refusal in words only": (3, r"refusals/0: 'refusing nothing' is not of type 'object'"),
    "the target": (4, r"made for the Business Center at local:/elsewhere/"),
    "the target removed": (4, r"made for the Business Center at \(no target named\)"),
    "the target as an API URL": (4, r"made for the Business Center at https://business-api"),
}

UNSEALED: dict[str, Callable[[Doc], None]] = {
    "the document checksum": lambda d: d.update(checksum="sha256:" + "0" * 64),
    "a plan's checksum": lambda d: body(d).update(checksum="sha256:" + "0" * 64),
    "a step's role, checksums left": lambda d: step_of(d, "assign")["params"].update(role="admin"),
}


def refused(qs: Quickstart, doc: Doc, name: str, before: str, *extra: str) -> Result:
    path = qs.root / name
    path.write_text(json.dumps(doc), encoding="utf-8")
    result = qs("apply", str(path), *extra)
    assert result.exit_code in (3, 4), result.output
    assert "Traceback" not in result.output
    assert qs.snapshot() == before
    return result


@pytest.mark.parametrize("name", list(EDITS))
def test_an_edited_and_resealed_plan_is_refused(
    saved: tuple[Quickstart, Doc, str], name: str
) -> None:
    qs, doc, before = saved
    tampered = copy.deepcopy(doc)
    EDITS[name](tampered)
    assert tampered != doc
    result = refused(qs, reseal(tampered), "tampered.json", before)
    code, why = WHY[name]
    assert result.exit_code == code, result.output
    assert re.search(why, " ".join(result.output.split()), re.S), result.output


def test_every_edit_says_why_it_is_refused() -> None:
    assert set(WHY) == set(EDITS)


@pytest.mark.parametrize("edit", list(UNSEALED.values()), ids=list(UNSEALED))
def test_a_plan_whose_checksum_does_not_match_is_refused(
    saved: tuple[Quickstart, Doc, str], edit: Callable[[Doc], None]
) -> None:
    qs, doc, before = saved
    tampered = copy.deepcopy(doc)
    edit(tampered)
    result = refused(qs, tampered, "unsealed.json", before)
    assert result.exit_code == 4


def test_the_untouched_resealed_plan_applies(quickstart: Quickstart) -> None:
    """The control: the suite's refusals come from the edits, not from resealing or staleness."""
    path, made = quickstart.save_plan("plan.json")
    assert made.exit_code == 0, made.output
    doc = reseal(json.loads(path.read_text(encoding="utf-8")))
    path.write_text(json.dumps(doc), encoding="utf-8")
    before = quickstart.snapshot()
    applied = quickstart("apply", str(path))
    assert applied.exit_code == 0, applied.output
    assert quickstart.snapshot() != before


def restrict_removals(qs: Quickstart) -> None:
    config = qs.config / "bcsync.yaml"
    config.write_text(config.read_text().replace("max_removals: 25%", "max_removals: 1"))


def test_a_refused_plan_is_saved_marked_refused_and_never_applied(quickstart: Quickstart) -> None:
    restrict_removals(quickstart)
    before = quickstart.snapshot() if quickstart.database.exists() else None
    path, made = quickstart.save_plan("refused.json")
    assert made.exit_code == 4, made.output
    doc = json.loads(path.read_text(encoding="utf-8"))
    (saved_refusal,) = body(doc)["refusals"]
    assert saved_refusal["kind"] == "removal_limit"
    assert saved_refusal["override"] == "--allow-removals"
    assert saved_refusal["limit"] == "1" and saved_refusal["count"] > 1
    before = before or quickstart.snapshot()
    refused(quickstart, doc, "refused.json", before)
    # Emptying the refusals does not help: the guards run again on the fresh plan.
    body(doc)["refusals"] = []
    result = refused(quickstart, reseal(doc), "emptied.json", before)
    assert result.exit_code == 4 and "--allow-removals" in result.output


def test_a_plan_made_with_allow_removals_needs_it_to_apply(quickstart: Quickstart) -> None:
    restrict_removals(quickstart)
    path, made = quickstart.save_plan("allowed.json", "--allow-removals")
    assert made.exit_code == 0, made.output
    assert body(json.loads(path.read_text(encoding="utf-8")))["refusals"] == []
    before = quickstart.snapshot()
    without = quickstart("apply", str(path))
    assert without.exit_code == 4, without.output
    assert "--allow-removals" in without.output
    assert quickstart.snapshot() == before
    with_flag = quickstart("apply", str(path), "--allow-removals")
    assert with_flag.exit_code == 0, with_flag.output
    assert quickstart.snapshot() != before


def printed_checksum(result: Result) -> str:
    (line,) = [x for x in result.output.splitlines() if x.startswith("Checksum: ")]
    return line.removeprefix("Checksum: ")


def test_apply_paths_with_the_reviewed_checksum(quickstart: Quickstart) -> None:
    planned = quickstart("plan", str(quickstart.config))
    assert planned.exit_code == 0, planned.output
    checksum = printed_checksum(planned)
    before = quickstart.snapshot()
    wrong = "sha256:" + ("0" if checksum[-1] != "0" else "1") * 64
    refused_run = quickstart("apply", str(quickstart.config), "--checksum", wrong)
    assert refused_run.exit_code == 4, refused_run.output
    assert quickstart.snapshot() == before
    malformed = quickstart("apply", str(quickstart.config), "--checksum", "md5:abc")
    assert malformed.exit_code == 64, malformed.output
    applied = quickstart("apply", str(quickstart.config), "--checksum", checksum)
    assert applied.exit_code == 0, applied.output
    assert quickstart.snapshot() != before
    settled = quickstart("plan", str(quickstart.config), "--detailed-exitcode")
    assert settled.exit_code == 0, settled.output
    # The same checksum again: the BC moved on, so it is no longer the plan that would run.
    again = quickstart("apply", str(quickstart.config), "--checksum", checksum)
    assert again.exit_code == 4, again.output


@pytest.mark.parametrize("state_dirs", [("a", "a"), ("a", "b")], ids=["same", "different"])
def test_a_held_lock_refuses_apply_whatever_the_state_dir(
    quickstart: Quickstart, state_dirs: tuple[str, str]
) -> None:
    before_dir, apply_dir = (quickstart.root / d for d in state_dirs)
    planned = quickstart("plan", str(quickstart.config), "--state-dir", str(before_dir))
    assert planned.exit_code == 0, planned.output
    before = quickstart.snapshot()
    with bc_lock(quickstart.lock_dir, BC):
        result = quickstart(
            "apply",
            str(quickstart.config),
            "--auto-approve",
            "--lock-timeout",
            "0.1",
            "--state-dir",
            str(apply_dir),
        )
    assert result.exit_code == 4, result.output
    assert "lock" in result.output
    assert quickstart.snapshot() == before


def test_a_saved_plan_applies_only_to_the_business_center_it_was_made_for(
    quickstart: Quickstart,
) -> None:
    """The local BC is chosen by where the config lies, which the config digest does not cover.

    A copy of the directory, local database included, is the same config and the same state, so
    a plan whose config_path is pointed at the copy (re-sealed) re-plans change for change and
    step for step; only the target it names tells the two Business Centers apart.
    """
    path, made = quickstart.save_plan("plan.json")
    assert made.exit_code == 0, made.output
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert body(doc)["target"] == f"local:{quickstart.database.resolve()}"
    copy_dir = quickstart.root / "copy"
    shutil.copytree(quickstart.config, copy_dir)  # its local state too: the same world
    copy_db = copy_dir / ".bcsync" / "local" / "seed.yaml.db"
    body(doc)["config_path"] = str(copy_dir / "bcsync.yaml")
    before, copy_before = quickstart.snapshot(), Quickstart.snapshot_of(copy_db)
    result = refused(quickstart, reseal(doc), "moved.json", before)
    assert result.exit_code == 4, result.output
    assert f"it was made for the Business Center at local:{quickstart.database.resolve()}" in (
        " ".join(result.output.split())
    )
    assert f"now reaches local:{copy_db.resolve()}" in " ".join(result.output.split())
    assert Quickstart.snapshot_of(copy_db) == copy_before
    # The control: from its own place, the same plan applies.
    assert quickstart("apply", str(path)).exit_code == 0


# -- config edits that move a protected identity (README "Safety": identities, not spellings) --

LOOKALIKE_OWNER = "\u043ewner@acme.com"  # a Cyrillic "о"


def edit_config(qs: Quickstart, old: str, new: str) -> None:
    """Edit the config as a pull request would, after the local BC was made from the seed."""
    if not qs.database.exists():
        assert qs("plan", str(qs.config)).exit_code == 0
    config = qs.config / "bcsync.yaml"
    text = config.read_text(encoding="utf-8")
    assert old in text
    config.write_text(text.replace(old, new), encoding="utf-8")


def refusal_kinds(result: Result) -> set[tuple[str, str]]:
    doc = json.loads(result.stdout)
    return {(r["kind"], r["subject"]["id"]) for p in doc["plans"] for r in p["refusals"]}


def untouched_after_apply(qs: Quickstart, code: int) -> Result:
    before = qs.snapshot()
    result = qs("apply", str(qs.config), "--auto-approve")
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    assert qs.snapshot() == before
    return result


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('bc_id: "7200000000000000009"', 'bc_id: "7200000000000000077"', "is not declared"),
        ('"partner:7200000000000000009"', '"partner:agency-x"', "is named by its alias"),
    ],
    ids=["alias retargeted", "protected by alias"],
)
def test_a_protected_partner_cannot_be_moved_by_its_alias(
    quickstart: Quickstart, old: str, new: str, message: str
) -> None:
    edit_config(quickstart, old, new)
    checked = quickstart("validate", str(quickstart.config))
    assert checked.exit_code == 3 and message in checked.output, checked.output
    untouched_after_apply(quickstart, 3)


@pytest.mark.parametrize(
    ("new", "kinds"),
    [
        (
            LOOKALIKE_OWNER,
            {("lookalike", LOOKALIKE_OWNER), ("identity_moved", OWNER)},
        ),
        ("0wner@acme.com", {("identity_moved", OWNER)}),
    ],
    ids=["lookalike", "another address"],
)
def test_rewriting_the_owners_address_everywhere_is_refused(
    quickstart: Quickstart, new: str, kinds: set[tuple[str, str]]
) -> None:
    """The config stays valid (it can't know the BC); the plan sees the owner leave."""
    edit_config(quickstart, OWNER, new)
    assert quickstart("validate", str(quickstart.config)).exit_code == 0
    planned = quickstart("plan", str(quickstart.config), "--format", "json")
    assert planned.exit_code == 4, planned.output
    assert kinds <= refusal_kinds(planned)
    result = untouched_after_apply(quickstart, 4)
    assert new.isascii() or "U+043E CYRILLIC SMALL LETTER O" in result.output


@pytest.mark.parametrize(
    "new",
    ["owner@acme.com\u200b", "owner@acme.com.", "own\u202eer@acme.com", "\ufb00owner@acme.com"],
    ids=["zero-width space", "trailing dot", "bidi override", "ligature"],
)
def test_an_owner_address_that_is_not_what_tiktok_delivers_to_is_invalid(
    quickstart: Quickstart, new: str
) -> None:
    edit_config(quickstart, OWNER, new)
    checked = quickstart("validate", str(quickstart.config))
    assert checked.exit_code == 3, checked.output
    assert "is not a deliverable address" in checked.output or "compatibility" in checked.output
    assert "[U+" in checked.output or new.endswith(".")
    untouched_after_apply(quickstart, 3)
