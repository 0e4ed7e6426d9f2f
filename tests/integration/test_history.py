"""`bcsync history` and `bcsync diff` on a real git repository of the agency example."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from bcsync.cli import cli
from tests.examples import copy_example

from .gitrepo import GitRepo, agency_repo

BUYERS = ("lead-buyer", "buyer1", "buyer2", "buyer3")
BRIGHT_TEST = "7110000000000000002"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> GitRepo:
    made = agency_repo(tmp_path)
    monkeypatch.chdir(made.root)
    return made


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def history_json(*args: str) -> list[dict[str, Any]]:
    result = run("history", "configs", "--format", "json", *args)
    assert result.exit_code == 0, result.output
    commits: list[dict[str, Any]] = json.loads(result.output)["commits"]
    return commits


def keyed(changes: list[dict[str, Any]]) -> set[tuple[Any, ...]]:
    return {(c["effect"], c["kind"], c["subject"], c["asset_id"], c["after"]) for c in changes}


def test_a_group_edit_shows_every_members_gain_with_author_and_date(repo: GitRepo) -> None:
    repo.replace(
        "ad_accounts: { bright-house: operator, bright-test: operator }",
        "ad_accounts: { bright-house: operator, bright-test: admin }",
    )
    sha = repo.commit("buyers run bright-test", date="2026-11-20T10:00:00+00:00", author="Bob Boss")
    first, second = history_json()
    assert first["summary"]["gained"] > 30 and first["summary"]["lost"] == 0
    assert (second["sha"], second["author"], second["email"]) == (
        sha,
        "Bob Boss",
        "bob@example.org",
    )
    assert second["date"].startswith("2026-11-20T10:00:00")
    assert keyed(second["changes"]) == {
        ("raised", "grant", f"{who}@bright.example", BRIGHT_TEST, "admin") for who in BUYERS
    }
    assert all(c["sources"][0] == "group buyers" for c in second["changes"])


def test_text_and_filters(repo: GitRepo) -> None:
    repo.replace(
        "  intern@bright.example:\n",
        "  temp@bright.example: { role: standard, groups: [creators] }\n  intern@bright.example:\n",
    )
    repo.commit("temp joins creators")
    repo.replace("planner1@bright.example: { role: standard, groups: [strategists] }", "")
    repo.commit("planner1 leaves")
    text = run("history", "configs").output
    assert (
        "temp@bright.example gained direct_message,live,post on tiktok_accounts.bright-brand"
        in text
    )
    assert "- planner1@bright.example lost analyst on ad_accounts.bright-house (removed)" in text
    only = history_json("--member", "planner1@bright.example")
    assert [c["subject"] for e in only for c in e["changes"]] == ["planner1@bright.example"] * 6
    assert len(only) == 2  # the first commit (gained) and the removal (lost)
    on_brand = history_json("--asset", "bright-brand", "--since", "2026-11-01")
    assert {c["subject"] for e in on_brand[1:] for c in e["changes"]} == {"temp@bright.example"}


def test_an_invalid_revision_is_reported_and_skipped_not_a_crash(repo: GitRepo) -> None:
    good = repo.read()
    repo.write(good.replace("members:\n", "members:\n  broken: [\n"))
    bad = repo.commit("oops")
    repo.write(
        good.replace(
            "  ops@bright.example:",
            "  new@bright.example: { role: standard }\n  ops@bright.example:",
        )
    )
    repo.commit("fix, and add new@")
    _, broken, fixed = history_json()
    assert broken["sha"] == bad and broken["invalid"] and broken["changes"] == []
    assert broken["problems"][0]["file"] == "configs/agency.yaml"
    # Compared with the last valid revision: only new@ changed, nothing spurious.
    assert keyed(fixed["changes"]) == {("added", "member", "new@bright.example", None, "standard")}
    text = run("history", "configs").output
    assert "config invalid here" in text and "skipped" in text


def test_expiry_is_evaluated_on_each_commits_date(repo: GitRepo) -> None:
    # intern@ expires 2027-08-31; an unrelated edit after that must not blame intern's expiry on it.
    repo.replace(
        "  ops@bright.example:", "  late@bright.example: { role: standard }\n  ops@bright.example:"
    )
    repo.commit("late joins", date="2027-09-15T12:00:00+00:00")
    last = history_json()[-1]
    assert last["evaluated_on"] == "2027-09-15"
    assert keyed(last["changes"]) == {("added", "member", "late@bright.example", None, "standard")}
    # An expiry date already past when committed is a loss in that commit.
    repo.replace(
        "buyer1@bright.example: { role: standard, groups: [buyers] }",
        "buyer1@bright.example: { role: standard, groups: [buyers], expires: 2027-09-01 }",
    )
    repo.commit("buyer1 ended", date="2027-09-16T12:00:00+00:00")
    lost = history_json()[-1]["changes"]
    assert {c["subject"] for c in lost} == {"buyer1@bright.example"}
    assert all(c["direction"] == "lost" for c in lost) and len(lost) == 4
    # --now evaluates every revision on one day: before the expiry, buyer1's edit changes nothing.
    assert history_json("--now", "2027-01-01")[-1]["changes"] == []


def test_diff_defaults_to_merge_base_with_main_and_the_working_tree(repo: GitRepo) -> None:
    repo.git("checkout", "-q", "-b", "feature")
    repo.replace(
        "creator1@bright.example: { role: standard, groups: [creators] }",
        "creator1@bright.example: { role: admin, groups: [creators] }",
    )
    repo.commit("promote creator1")
    repo.replace("planner2@bright.example: { role: standard, groups: [strategists] }", "")
    result = run("diff", "configs", "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["base"]["how"] == "merge-base of HEAD and main" and doc["head"] == {
        "working_tree": True
    }
    assert {(c["subject"], c["effect"]) for c in doc["changes"]} == {
        ("creator1@bright.example", "raised"),
        ("planner2@bright.example", "removed"),
    }
    assert doc["summary"] == {"gained": 1, "lost": 3, "changed": 0}
    md = run("diff", "configs", "--format", "markdown").output
    assert (
        md.startswith("## bcsync diff: effective access")
        and "| + gained | creator1@bright.example | admin (was standard) |" in md
    )


def test_diff_between_dates_and_refs(repo: GitRepo) -> None:
    repo.replace(
        "  ops@bright.example:", "  oct@bright.example: { role: standard }\n  ops@bright.example:"
    )
    repo.commit("october", date="2026-11-10T09:00:00+00:00")
    repo.replace(
        "  ops@bright.example:", "  nov@bright.example: { role: standard }\n  ops@bright.example:"
    )
    repo.commit("november", date="2026-11-20T09:00:00+00:00")
    doc = json.loads(
        run("diff", "configs", "--base", "2026-11-15", "--head", "HEAD", "--format", "json").output
    )
    assert [c["subject"] for c in doc["changes"]] == ["nov@bright.example"]
    doc = json.loads(
        run(
            "diff", "configs", "--base", "2026-11-05", "--head", "2026-11-15", "--format", "json"
        ).output
    )
    assert [c["subject"] for c in doc["changes"]] == ["oct@bright.example"]
    assert "no change in effective access" in run("diff", "configs", "--base", "HEAD").output


def test_unknown_revision_and_no_commit_before_a_date(repo: GitRepo) -> None:
    result = run("diff", "configs", "--base", "no-such-branch")
    assert result.exit_code == 64
    assert "unknown git revision 'no-such-branch'" in result.output
    early = run("diff", "configs", "--base", "2020-01-01")
    assert early.exit_code == 64 and "no commit on HEAD before 2020-01-01" in early.output
    assert run("diff", "configs", "--base", "--upload-pack=evil").exit_code == 64


def test_an_invalid_side_of_a_diff_exits_3(repo: GitRepo) -> None:
    repo.write(repo.read().replace("version: 1", "version: 7"))
    result = run("diff", "configs")
    assert result.exit_code == 3
    assert "the config at the working tree is invalid" in result.output
    assert "configs/agency.yaml" in result.output and "Traceback" not in result.output


def test_outside_a_git_checkout_is_one_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = copy_example("quickstart", tmp_path / "plain")
    monkeypatch.chdir(plain)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    for command in ("history", "diff"):
        result = run(command)
        assert result.exit_code == 1, result.output
        assert "not inside a git checkout" in result.output and "Traceback" not in result.output


def test_hostile_text_is_escaped_in_markdown_and_csv(repo: GitRepo) -> None:
    repo.replace(
        "  ops@bright.example:",
        "  evil@bright.example: { role: standard, access: { ad_accounts: { bright-test: "
        '{ role: analyst, reason: "<img src=x onerror=alert(1)> | @team" } } } }\n'
        "  ops@bright.example:",
    )
    repo.commit("evil joins", author="=HYPERLINK(1) Mallory")
    md = run("diff", "configs", "--base", "HEAD~1", "--head", "HEAD", "--format", "markdown").output
    row = next(line for line in md.splitlines() if "evil@" in line and "bright-test" in line)
    # Escaped: no raw `<` opens HTML, no raw `|` splits the row (4 cells, 5 bars).
    assert "\\<img" in row and re.search(r"(?<!\\)<", row) is None
    assert len(re.findall(r"(?<!\\)\|", row)) == 5
    rows = list(csv.DictReader(io.StringIO(run("history", "configs", "--format", "csv").output)))
    evil = [r for r in rows if r["subject"] == "evil@bright.example" and r["kind"] == "grant"]
    assert [r["reason"] for r in evil] == ["<img src=x onerror=alert(1)> | @team"]
    assert evil[0]["author"] == "'=HYPERLINK(1) Mallory"


def test_fifty_commits_of_edits_are_each_reported_exactly(repo: GitRepo) -> None:
    expected = _fifty_commits(repo)
    entries = history_json()[1:]
    assert len(entries) == 50
    for entry, want in zip(entries, expected, strict=True):
        assert keyed(entry["changes"]) == want, entry["subject"]
    # The net of the 50 commits is what diff says between their ends.
    args = ("diff", "configs", "--base", "HEAD~50", "--format", "json")
    doc = json.loads(run(*args, "--head", "HEAD~1").output)
    assert {(c["subject"], c["effect"]) for c in doc["changes"]} == {
        ("user48@bright.example", "added")
    }
    assert json.loads(run(*args, "--head", "HEAD").output)["changes"] == []


def _fifty_commits(repo: GitRepo) -> list[set[tuple[Any, ...]]]:
    """Add a strategist, remove them, toggle the creators' permissions; what each one changes."""
    expected: list[set[tuple[Any, ...]]] = []
    full, post = "[post, live, direct_message]", "[post]"
    creators_full = True
    for i in range(50):
        want: set[tuple[Any, ...]]
        if i % 3 == 0:
            repo.replace(
                "  intern@bright.example:",
                f"  user{i}@bright.example: {{ role: standard, groups: [strategists] }}\n"
                "  intern@bright.example:",
            )
            who = f"user{i}@bright.example"
            want = {("added", "member", who, None, "standard")} | {
                ("added", "grant", who, aid, "analyst")
                for aid in ("7110000000000000001", BRIGHT_TEST)
            }
        elif i % 3 == 1:
            who = f"user{i - 1}@bright.example"
            repo.replace(f"  {who}: {{ role: standard, groups: [strategists] }}\n", "")
            want = {("removed", "member", who, None, None)} | {
                ("removed", "grant", who, aid, None) for aid in ("7110000000000000001", BRIGHT_TEST)
            }
        else:
            old, new = (full, post) if creators_full else (post, full)
            repo.replace(f"bright-brand: {old}", f"bright-brand: {new}")
            after = "post" if creators_full else "direct_message,live,post"
            effect = "lowered" if creators_full else "raised"
            creators_full = not creators_full
            want = {
                (effect, "grant", f"creator{n}@bright.example", "7410000000000000001", after)
                for n in (1, 2)
            }
        repo.commit(f"edit {i}")
        expected.append(want)
    return expected


def test_paths_are_relative_to_the_working_directory(
    repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo.replace(
        "  ops@bright.example:", "  sub@bright.example: { role: standard }\n  ops@bright.example:"
    )
    repo.commit("sub joins")
    from_root = history_json()
    monkeypatch.chdir(repo.root / "configs")
    result = run("history", ".", "--format", "json")
    assert result.exit_code == 0, result.output
    from_sub = json.loads(result.output)["commits"]
    assert [keyed(e["changes"]) for e in from_sub] == [keyed(e["changes"]) for e in from_root]
    outside = run("history", "../..")
    assert outside.exit_code == 1 and "outside the git checkout" in outside.output


def test_a_symbolic_link_at_a_revision_is_not_followed(repo: GitRepo, tmp_path: Path) -> None:
    secret = tmp_path / "secret.yaml"
    secret.write_text("version: 1\n")
    (repo.root / "configs" / "link.yaml").symlink_to(secret)
    sha = repo.commit("a link")
    last = history_json()[-1]
    assert last["sha"] == sha and last["invalid"]
    assert last["problems"][0]["message"] == "a symbolic link in git; not followed"


def test_history_of_dot_at_the_repository_root_lists_the_commits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "root"
    root.mkdir()
    quickstart = Path(__file__).parents[2] / "examples/quickstart"
    for name in ("bcsync.yaml", "seed.yaml"):
        (root / name).write_text((quickstart / name).read_text())
    made = GitRepo(root)
    made.git("init", "-q", "-b", "main")
    first = made.commit("quickstart")
    made.replace(
        "  ops@acme.com:", "  new@acme.com: { role: standard }\n  ops@acme.com:", "bcsync.yaml"
    )
    second = made.commit("new joins")
    monkeypatch.chdir(root)
    shas = []
    for paths in ((), ("bcsync.yaml",), (".",)):
        result = run("history", *paths, "--format", "json")
        assert result.exit_code == 0, result.output
        shas.append([c["sha"] for c in json.loads(result.output)["commits"]])
    assert shas == [[first, second]] * 3
