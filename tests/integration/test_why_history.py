"""`bcsync why` answers from the effective-access history, on a git history built to mislead blame.

The history: a group edited for somebody else, a flow map reformatted into a block map with the
members reordered, an asset alias renamed, the config file renamed, a group renamed, a branch
merged with --no-ff, and an uncommitted edit. Each grant must be credited to the commit where it
took its current value, whoever touched its lines since.
"""

from __future__ import annotations

import json
import shutil
from typing import Any

import pytest
from click.testing import CliRunner

from bcsync.cli import cli
from tests.examples import EXAMPLES

from .gitrepo import GitRepo

OLD, NEW = "configs/acme.yaml", "configs/acme-retail.yaml"
NOW = "2026-11-25"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[GitRepo, dict[str, str]]:
    root = tmp_path_factory.mktemp("why") / "repo"
    (root / "configs").mkdir(parents=True)
    shutil.copy(EXAMPLES / "quickstart" / "bcsync.yaml", root / OLD)
    shutil.copy(EXAMPLES / "quickstart" / "seed.yaml", root / "configs" / "seed.yaml")
    repo = GitRepo(root)
    repo.git("init", "-q", "-b", "main")
    shas = {"first": repo.commit("Acme as code", author="Alice Admin")}
    # Bob adds APAC to the group: the line that grants grace acme-us is now Bob's.
    repo.replace(
        "ad_accounts: { acme-eu: analyst, acme-us: operator }",
        "ad_accounts: { acme-eu: analyst, acme-us: operator, acme-apac: analyst }",
        OLD,
    )
    shas["apac"] = repo.commit("media buyers get APAC", author="Bob Buyer")
    # Carol reformats: the flow map becomes a block map, grace's entry moves to the top.
    repo.replace(
        "      ad_accounts: { acme-eu: analyst, acme-us: operator, acme-apac: analyst }\n",
        "      ad_accounts:\n        acme-apac: analyst\n        acme-eu: analyst\n"
        "        acme-us: operator\n",
        OLD,
    )
    repo.replace("  grace@acme.com:\n    role: standard\n    groups: [media-buyers]\n", "", OLD)
    repo.replace(
        "members:\n",
        "members:\n  grace@acme.com:\n    role: standard\n    groups: [media-buyers]\n",
        OLD,
    )
    shas["reformat"] = repo.commit("fmt", author="Carol Cleaner")
    # Dave renames the alias acme-us everywhere it is used.
    repo.write(repo.read(OLD).replace("acme-us", "us-main"), OLD)
    shas["alias"] = repo.commit("rename acme-us to us-main", author="Dave Dev")
    repo.git("mv", OLD, NEW)
    shas["move"] = repo.commit("one file per BC, named for it", author="Dave Dev")
    # A branch gives frank the catalog; meanwhile main raises cfo's finance role.
    repo.git("checkout", "-q", "-b", "feature")
    repo.replace(
        "      ad_accounts: { acme-apac: analyst }\n",
        "      ad_accounts: { acme-apac: analyst }\n      catalogs: { main: admin }\n",
        NEW,
    )
    shas["feature"] = repo.commit("frank runs the catalog", author="Erin Feature")
    repo.git("checkout", "-q", "main")
    repo.replace(
        "cfo@acme.com: { role: standard, finance_role: analyst }",
        "cfo@acme.com: { role: standard, finance_role: manager }",
        NEW,
    )
    shas["cfo"] = repo.commit("cfo manages finance", author="Frank Finance")
    repo.git("merge", "-q", "--no-ff", "-m", "Merge feature", "feature", author="Gina Merger")
    shas["merge"] = repo.git("rev-parse", "HEAD")
    # The group is renamed, and its members' lists with it.
    repo.write(repo.read(NEW).replace("media-buyers", "buyers"), NEW)
    shas["group"] = repo.commit("shorter group name", author="Hank Renamer")
    # The owner's finance role changes: their membership changed, their admin reach did not.
    repo.replace(
        "owner@acme.com: { role: admin, finance_role: manager }",
        "owner@acme.com: { role: admin, finance_role: analyst }",
        NEW,
    )
    shas["finance"] = repo.commit("owner reads finance only", author="Ivy Finance")
    return repo, shas


def why(repo: GitRepo, *args: str) -> dict[str, Any]:
    result = CliRunner().invoke(
        cli, ["why", *args, NEW, "--now", NOW, "--format", "json"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    doc: dict[str, Any] = json.loads(result.output)
    return doc


def gained(doc: dict[str, Any], asset: str) -> dict[str, Any]:
    found: dict[str, Any] = next(a for a in doc["access"] if a["asset_name"] == asset)["gained"]
    return found


@pytest.fixture
def repo(built: tuple[GitRepo, dict[str, str]], monkeypatch: pytest.MonkeyPatch) -> GitRepo:
    monkeypatch.chdir(built[0].root)
    return built[0]


@pytest.fixture
def shas(built: tuple[GitRepo, dict[str, str]]) -> dict[str, str]:
    return built[1]


def test_a_group_grant_is_credited_to_its_first_commit_not_the_last_line_edit(
    repo: GitRepo, shas: dict[str, str]
) -> None:
    doc = why(repo, "grace@acme.com")
    us = gained(doc, "us-main")
    assert (us["commit"], us["author"], us["subject"]) == (
        shas["first"],
        "Alice Admin",
        "Acme as code",
    )
    # Through the group as it was then: reformatting, renames and moves did not change it.
    assert us["via"] == ["group media-buyers"] and us["merged_in"] is None
    apac = gained(doc, "acme-apac")
    assert (apac["commit"], apac["author"]) == (shas["apac"], "Bob Buyer")
    member = gained(doc, "Acme Retail")
    assert member["commit"] == shas["first"] and member["via"][0].startswith(f"{OLD}:")


def test_a_grant_from_a_merged_branch_names_its_commit_and_the_merge(
    repo: GitRepo, shas: dict[str, str]
) -> None:
    catalog = gained(why(repo, "frank@acme.com", "main"), "main")
    assert (catalog["commit"], catalog["author"]) == (shas["feature"], "Erin Feature")
    assert catalog["merged_in"]["commit"] == shas["merge"]
    assert catalog["via"][0].startswith(f"{NEW}:")
    cfo = gained(why(repo, "cfo@acme.com"), "Acme Retail")
    assert (cfo["commit"], cfo["merged_in"]) == (shas["cfo"], None)


def test_the_answer_agrees_with_history(repo: GitRepo, shas: dict[str, str]) -> None:
    result = CliRunner().invoke(
        cli, ["history", NEW, "--member", "grace@acme.com", "--now", NOW, "--format", "json"]
    )
    commits = json.loads(result.output)["commits"]
    gains = {(c["asset_alias"], e["sha"]) for e in commits for c in e["changes"] if c["asset_id"]}
    assert ("acme-us", shas["first"]) in gains and ("acme-apac", shas["apac"]) in gains
    # No later commit is credited with grace's acme-us in history either.
    assert {sha for alias, sha in gains if alias in ("acme-us", "us-main")} == {shas["first"]}


def test_text_names_commit_author_date_and_the_lines_now(
    repo: GitRepo, shas: dict[str, str]
) -> None:
    result = CliRunner().invoke(cli, ["why", "grace@acme.com", "us-main", NEW, "--now", NOW])
    assert result.exit_code == 0, result.output
    assert (
        f"    gained in {shas['first'][:10]} 2026-11-01 Alice Admin <alice@example.org> "
        "'Acme as code' via group media-buyers\n"
    ) in result.output
    assert f"    now: group buyers grants it: {NEW}:" in result.output


def test_an_uncommitted_grant_says_so(repo: GitRepo) -> None:
    text = repo.read(NEW)
    try:
        repo.write(
            text.replace(
                "grace@acme.com:\n    role: standard\n",
                "grace@acme.com:\n    role: standard\n    access: { shops: { store: manager } }\n",
            ),
            NEW,
        )
        doc = why(repo, "grace@acme.com", "store")
        assert gained(doc, "store") == {
            "commit": None,
            "committed": False,
            "via": [],
            "merged_in": None,
        }
    finally:
        repo.write(text, NEW)


def test_an_admins_reach_to_an_asset_dates_from_the_admin_role_not_a_finance_edit(
    repo: GitRepo, shas: dict[str, str]
) -> None:
    doc = why(repo, "owner@acme.com", "us-main")
    rows = {a["asset_type"]: a for a in doc["access"]}
    assert rows["business_center"]["gained"]["commit"] == shas["finance"]
    reach = rows["ad_accounts"]
    assert reach["status"] == "admin role" and reach["gained"]["commit"] == shas["first"]
    assert reach["lines"][0]["label"] == "admin role reaches every asset"
