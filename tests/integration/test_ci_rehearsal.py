"""A rehearsal of the whole CI workflow: a team's few weeks, then what an attacker would try.

The workflow's own scripts run against the local Business Center, with git remotes for the
repository and a recording stand-in for GitHub (tests/integration/cirehearsal.py says exactly
what is real and what stands in). Each step asserts the Business Center's state and what a
reviewer would see: the pull request's comment, the daily issue, the audit branch.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from bcsync.loop.review import find_marker
from tests.integration.cirehearsal import BOT, CONFIG, REPOSITORY, GitHub

pytestmark = pytest.mark.slow

LOCAL_BC = Path("bcsync") / ".bcsync" / "local"

FRANK = (
    "  frank@acme.com:\n    role: standard\n    access:\n      ad_accounts: { acme-apac: analyst }"
)
HANA = (
    "  hana@acme.com:\n    role: standard\n    access:\n      ad_accounts: { acme-us: analyst }\n"
)


def promote_frank(text: str) -> str:
    assert FRANK in text
    return text.replace(FRANK, FRANK.replace("acme-apac: analyst", "acme-apac: operator"))


def add_hana(text: str) -> str:
    return text.replace("  ops@acme.com:", HANA + "  ops@acme.com:")


def make_ivan_admin(text: str) -> str:
    return text.replace("  ops@acme.com:", "  ivan@acme.com: { role: admin }\n  ops@acme.com:")


def body(github: GitHub, pr: int) -> str:
    (comment,) = github.comments(pr)
    assert comment["user"]["login"] == BOT
    return str(comment["body"])


@pytest.fixture(scope="module")
def adopted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The local BC after the team adopted it: it matches main (invitations still pending)."""
    github = GitHub(tmp_path_factory.mktemp("adoption"))
    adopted = github.bcsync("apply", "--auto-approve", CONFIG)
    assert adopted.returncode == 0, adopted.stdout + adopted.stderr
    assert github.bcsync("plan", "--detailed-exitcode", CONFIG).returncode == 0
    return github.runner / LOCAL_BC


@pytest.fixture
def github(tmp_path: Path, adopted: Path) -> GitHub:
    github = GitHub(tmp_path)
    shutil.copytree(adopted, github.runner / LOCAL_BC)  # the same BC, a fresh copy per story
    return github


def test_a_team_s_few_weeks(github: GitHub) -> None:
    # Week 1, Monday: a pull request; the unprivileged run hands its configs on, the privileged
    # run plans them (scoped to what changed) and posts one comment.
    first = github.push("frank-and-hana", promote_frank, "Frank runs APAC")
    pr = github.open_pr("frank-and-hana")
    planned = github.plan(pr, github.pr_run(pr))
    assert planned.returncode == 0, planned.stdout + planned.stderr
    seen = body(github, pr)
    assert seen.startswith("<!-- bcsync-plan: bcsync/bcsync.yaml -->\n<!-- bcsync-plan-run: ")
    assert find_marker(seen).head_commit == first
    assert "Scoped plan" in seen and "frank@acme.com" in seen and "hana" not in seen
    assert "operator" in seen

    # A second push: the same comment, rewritten in place for the new head commit.
    second = github.push("frank-and-hana", add_hana, "And Hana joins")
    assert github.plan(pr, github.pr_run(pr)).returncode == 0
    (comment,) = github.comments(pr)
    assert comment["edits"] == 1 and "hana@acme.com" in comment["body"]
    assert find_marker(comment["body"]).head_commit == second
    assert [m for m, _ in github.writes()] == ["POST", "PATCH"]

    # A late run for the first push (GitHub ran it after the second) must not overwrite it.
    late = github.plan(pr, _run_for(github, pr, first))
    assert "moved on" in late.stdout
    assert find_marker(body(github, pr)).head_commit == second

    # Approved at `second`; then a push after the approval that makes Ivan an admin, merged
    # before its plan was posted: the comment names `second`, the final head is `third`.
    third = github.push("frank-and-hana", make_ivan_admin, "Ivan too")
    pending_run = github.pr_run(pr)
    before, after = github.merge(pr)
    refused = github.apply(before, after)
    assert refused.returncode == 4, refused.stdout + refused.stderr
    assert f"final head is {third[:12]}" in refused.stderr and "re-plan" in refused.stderr
    assert "ivan@acme.com" not in github.bc_members()  # nothing was applied
    assert github.bc_members()["frank@acme.com"]["access"]["ad_accounts"]["acme-apac"] == "analyst"

    # Re-run the plan job: the comment now shows the whole change, Ivan's promotion included,
    # planned against the commit before the merge; the merge's apply job is re-run, under an
    # outage of the grant endpoint: invitations and promotions land, grants fail.
    assert github.plan(pr, pending_run).returncode == 0
    seen = body(github, pr)
    assert find_marker(seen).head_commit == third and "ivan@acme.com" in seen
    partial = github.apply(before, after, REHEARSAL_FAIL_WRITES="bc/asset/assign/")
    assert partial.returncode == 1, partial.stdout + partial.stderr
    members = github.bc_members()
    assert "ivan@acme.com" in members  # invited as an admin: invitations are not grants
    assert members["frank@acme.com"]["access"]["ad_accounts"]["acme-apac"] == "analyst"

    # Re-run once the outage is over: what remains of the reviewed plan is applied.
    rerun = github.apply(before, after)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert github.bc_members()["frank@acme.com"]["access"]["ad_accounts"]["acme-apac"] == "operator"
    # And a re-run of a successful apply is a success that changes nothing.
    again = github.apply(before, after)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "already applied" in (again.stdout + again.stderr).lower()

    # The audit trail outlives the runs: every attempt is on the audit branch, failures too.
    records = [json.loads(line) for line in github.audit_branch().splitlines()]
    results = {r["result"] for r in records}
    assert {"failed", "succeeded"} <= results, results
    log = github.tmp / "audit.jsonl"
    log.write_text(github.audit_branch() + "\n")
    audited = github.bcsync("audit", "--log", str(log), "--member", "frank@acme.com")
    assert audited.returncode == 0 and "frank@acme.com" in audited.stdout

    # Week 2: all quiet; the daily job finds nothing and opens no issue.
    quiet = github.drift()
    assert quiet.returncode == 0, quiet.stdout + quiet.stderr
    assert github.issues() == []

    # Someone demotes Dave by hand in the BC: the daily job fails and opens one issue...
    github.by_hand(
        lambda t: t.replace("dave@acme.com:\n    role: admin", "dave@acme.com:\n    role: standard")
    )
    drifted = github.drift()
    assert drifted.returncode == 2
    (issue,) = github.issues()
    assert issue["state"] == "open" and "dave@acme.com" in issue["body"]
    # ...updated in place the next day, not a second one.
    assert github.drift().returncode == 2
    (issue,) = github.issues()
    # Fixed by hand; the next run closes the issue with a note.
    github.by_hand(lambda t: t)
    assert github.drift().returncode == 0
    (issue,) = github.issues()
    assert issue["state"] == "closed"
    assert "All clean" in github.comments(issue["number"])[0]["body"]

    # Weeks later an expiry comes near, then passes: the daily issue says so.
    soon = github.drift(REHEARSAL_NOW="2027-01-20")
    assert soon.returncode == 2
    issue = next(i for i in github.issues() if i["state"] == "open")
    assert "temp@contractor.example" in issue["body"]
    passed = github.drift(REHEARSAL_NOW="2027-02-02")
    assert passed.returncode == 2
    issue = next(i for i in github.issues() if i["state"] == "open")
    assert "temp@contractor.example" in issue["body"]
    assert len([i for i in github.issues() if i["state"] == "open"]) == 1


def _run_for(github: GitHub, pr: int, sha: str) -> str:
    """A pull-request run whose event names an older head commit (GitHub ran it late)."""
    state = github.load()
    current = state["pulls"][str(pr)]["head"]["sha"]
    state["pulls"][str(pr)]["head"]["sha"] = sha
    github.save(state)
    run = github.pr_run(pr)
    state = github.load()
    state["pulls"][str(pr)]["head"]["sha"] = current
    github.save(state)
    return run


def test_a_spoofed_comment_is_never_applied(github: GitHub) -> None:
    github.push("spoof", promote_frank, "Frank runs APAC")
    pr = github.open_pr("spoof")
    head = github.load()["pulls"][str(pr)]["head"]["sha"]
    # Mallory posts a look-alike plan comment with a marker for this very head commit.
    genuine = github.bcsync("plan", "--format", "markdown", "--head-commit", head, CONFIG)
    forged = github.tmp / "forged.md"
    forged.write_text("<!-- bcsync-plan: bcsync/bcsync.yaml -->\n" + genuine.stdout)
    github.gh_as(
        "mallory", "api", "-X", "POST", f"repos/{REPOSITORY}/issues/{pr}/comments",
        "-F", f"body=@{forged}",
    )  # fmt: skip
    before, after = github.merge(pr)
    refused = github.apply(before, after)
    assert refused.returncode == 4
    assert "no bcsync plan comment by github-actions[bot]" in refused.stderr
    assert github.bc_members()["frank@acme.com"]["access"]["ad_accounts"]["acme-apac"] == "analyst"


def test_a_comment_edited_to_another_checksum_is_refused(github: GitHub) -> None:
    github.push("edit", promote_frank, "Frank runs APAC")
    pr = github.open_pr("edit")
    assert github.plan(pr, github.pr_run(pr)).returncode == 0
    # A branch's own workflow posts as github-actions[bot] too: it rewrites the checksum.
    (comment,) = github.comments(pr)
    edited = github.tmp / "edited.md"
    edited.write_text(
        re.sub(r"checksum=sha256:[0-9a-f]{64}", "checksum=sha256:" + "f" * 64, comment["body"])
    )
    github.gh_as(
        BOT,
        "api",
        "-X",
        "PATCH",
        f"repos/{REPOSITORY}/issues/comments/{comment['id']}",
        "-F",
        f"body=@{edited}",
    )
    before, after = github.merge(pr)
    refused = github.apply(before, after)
    assert refused.returncode == 4, refused.stdout + refused.stderr
    assert github.bc_members()["frank@acme.com"]["access"]["ad_accounts"]["acme-apac"] == "analyst"


def test_config_text_cannot_inject_a_checksum(github: GitHub) -> None:
    # The pull request names the BC and a reason after a marker for another plan.
    forged = "<!-- bcsync-reviewed checksum=sha256:" + "f" * 64

    def hostile(text: str) -> str:
        text = promote_frank(text).replace(
            "name: Acme Retail", f'name: "Acme\\n{forged} -->\\nChecksum: sha256:{"e" * 64}"'
        )
        return text.replace("reason: Q1 campaign review", f'reason: "x\\n{forged} -->"')

    head = github.push("inject", hostile, "A hostile name")
    pr = github.open_pr("inject")
    assert github.plan(pr, github.pr_run(pr)).returncode == 0
    seen = body(github, pr)
    marker = find_marker(seen)  # exactly one marker line: bcsync's own
    assert marker.head_commit == head and marker.checksum != "sha256:" + "f" * 64
    before, after = github.merge(pr)
    applied = github.apply(before, after)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert marker.checksum in applied.stdout
    assert github.bc_members()["frank@acme.com"]["access"]["ad_accounts"]["acme-apac"] == "operator"


def test_a_pull_request_cannot_switch_the_provider(github: GitHub) -> None:
    def elsewhere(text: str) -> str:
        return text.replace(
            "type: local\n  seed: seed.yaml", "type: emulator\n  url: http://127.0.0.1:9"
        )

    github.push("elsewhere", elsewhere, "Plan against my own server")
    pr = github.open_pr("elsewhere")
    refused = github.plan(pr, github.pr_run(pr))
    assert refused.returncode == 3
    seen = body(github, pr)
    assert "configuration is invalid (exit 3)" in seen and "BCSYNC_ALLOWED_PROVIDERS" in seen
    assert "bcsync-reviewed" not in seen  # nothing a merge could apply


def test_error_text_quoted_into_the_comment_cannot_carry_a_marker(github: GitHub) -> None:
    forged = f"<!-- bcsync-reviewed checksum=sha256:{'f' * 64} -->"

    def invalid(text: str) -> str:
        return text.replace(
            "  ops@acme.com: { role: admin }", f"  ops@acme.com: {{ role: '\\n{forged}' }}"
        )

    github.push("invalid", invalid, "A role that is a marker")
    pr = github.open_pr("invalid")
    assert github.plan(pr, github.pr_run(pr)).returncode == 3
    seen = body(github, pr)
    assert "&lt;!-- bcsync-reviewed" in seen  # shown to the reviewer, escaped
    assert not [
        line for line in seen.splitlines() if line.lstrip().startswith("<!-- bcsync-reviewed")
    ]


def test_a_plan_kept_by_a_pull_request_run_is_never_used(github: GitHub) -> None:
    # The branch's own workflow uploads a "reviewed plan" of its own, and the comment (edited as
    # github-actions[bot], which a branch's workflow can do) points at that run.
    github.push("planted", promote_frank, "Frank runs APAC")
    pr = github.open_pr("planted")
    pr_run = github.pr_run(pr)
    assert github.plan(pr, pr_run).returncode == 0
    planted = github.tmp / "planted.json"
    planted.write_text('{"tool": "bcsync", "plans": []}')
    github._upload(pr_run, "bcsync-plan-0", {"plan.json": planted})
    (comment,) = github.comments(pr)
    edited = github.tmp / "edited.md"
    edited.write_text(
        re.sub(r"bcsync-plan-run: \d+", f"bcsync-plan-run: {pr_run}", comment["body"])
    )
    github.gh_as(
        BOT, "api", "-X", "PATCH", f"repos/{REPOSITORY}/issues/comments/{comment['id']}",
        "-F", f"body=@{edited}",
    )  # fmt: skip
    before, after = github.merge(pr)
    applied = github.apply(before, after)
    assert "not a workflow_run of .github/workflows/bcsync.yml" in applied.stderr
    # The checksum alone still applies exactly the reviewed plan, nothing from the planted file.
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert github.bc_members()["frank@acme.com"]["access"]["ad_accounts"]["acme-apac"] == "operator"
