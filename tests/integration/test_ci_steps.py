"""The CI pipeline's shell steps (examples/ci/scripts), run locally against the local BC.

GitHub cannot be reached from here: a small fake `gh` on PATH keeps pull-request comments in a
JSON file and records every call. The workflows and action.yml are parsed and checked to run
only scripts that exist.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.examples import copy_example
from tests.integration.conftest import ROOT

# Real processes (the workflow scripts, bcsync): seconds each; `scripts/test --fast` skips them.
pytestmark = pytest.mark.slow

SCRIPTS = ROOT / "examples" / "ci" / "scripts"
WORKFLOWS = sorted((ROOT / "examples" / "ci").glob("*.yml"))
CHECKSUM = re.compile(r"Checksum:[*_ ]*`?(sha256:[0-9a-f]{64})")

FAKE_GH = r'''#!PYTHON
"""A fake `gh api` for the few REST calls the scripts make; state in $FAKE_GH_STATE."""
import json, os, sys

path = os.environ["FAKE_GH_STATE"]
state = json.load(open(path))
args = sys.argv[1:]
state["calls"].append(args)
assert args[0] == "api", args
method, fields, rest = "GET", {}, []
i = 1
while i < len(args):
    if args[i] == "-X":
        method, i = args[i + 1], i + 2
    elif args[i] == "-F":
        key, value = args[i + 1].split("=", 1)
        fields[key] = open(value[1:]).read() if value.startswith("@") else value
        i += 2
    elif args[i] == "--paginate":
        i += 1
    else:
        rest.append(args[i])
        i += 1
parts = rest[0].split("/")
out = None
if parts[3:5] == ["issues", "comments"] and method == "PATCH":
    for comments in state["comments"].values():
        for c in comments:
            if str(c["id"]) == parts[5]:
                c["body"] = fields["body"]
                out = c
elif parts[3] == "issues" and method == "POST":
    state["next_id"] += 1
    c = {"id": state["next_id"], "body": fields["body"], "user": {"login": state["login"]}}
    state["comments"].setdefault(parts[4], []).append(c)
    out = c
elif parts[3] == "issues":
    comments = state["comments"].get(parts[4], [])
    # Two comments a page, to exercise --paginate's one-array-per-page output.
    pages = [comments[i : i + 2] for i in range(0, len(comments), 2)] or [[]]
    out = None
    sys.stdout.write("".join(json.dumps(p) for p in pages))
elif parts[3] == "commits":
    out = [{"number": n} for n in state["pulls"].get(parts[4], [])]
json.dump(state, open(path, "w"))
if out is not None:
    sys.stdout.write(json.dumps(out))
'''


class Pipeline:
    """A repository of configs with a fake GitHub, to run the CI scripts in."""

    def __init__(self, tmp: Path) -> None:
        self.repo = tmp / "repo"
        copy_example("quickstart", self.repo / "bcsync")
        self.bin = tmp / "bin"
        self.bin.mkdir()
        gh = self.bin / "gh"
        gh.write_text(FAKE_GH.replace("PYTHON", sys.executable))
        gh.chmod(0o755)
        self.state_file = tmp / "gh.json"
        self.outputs = tmp / "outputs.txt"
        self.summary = tmp / "summary.md"
        self.write_state(
            {
                "comments": {},
                "pulls": {},
                "calls": [],
                "next_id": 100,
                "login": "github-actions[bot]",
            }
        )
        self.env = {
            **os.environ,
            "PATH": f"{self.bin}{os.pathsep}{os.environ['PATH']}",
            # -P: the repository's bcsync/ config directory must not shadow the package.
            "BCSYNC": f"{sys.executable} -P -m bcsync",
            "BCSYNC_PATHS": "bcsync/bcsync.yaml",
            "GITHUB_REPOSITORY": "acme/permissions",
            "GITHUB_OUTPUT": str(self.outputs),
            "GITHUB_STEP_SUMMARY": str(self.summary),
            "GH_TOKEN": "gh-test-token",
            "NO_COLOR": "1",
        }

    @property
    def config(self) -> Path:
        return self.repo / "bcsync" / "bcsync.yaml"

    def read_state(self) -> dict[str, Any]:
        return dict(json.loads(self.state_file.read_text()))

    def write_state(self, state: dict[str, Any]) -> None:
        self.state_file.write_text(json.dumps(state))
        self.env_extra = {"FAKE_GH_STATE": str(self.state_file)}

    def run(self, script: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", str(SCRIPTS / script)],
            cwd=self.repo,
            env={**self.env, **self.env_extra, **env},
            capture_output=True,
            text=True,
            timeout=300,
        )

    def bcsync(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-P", "-m", "bcsync", *args],
            cwd=self.repo,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    def comments(self, pr: str = "7") -> list[dict[str, Any]]:
        return list(self.read_state()["comments"].get(pr, []))

    def methods(self) -> list[str]:
        return [c[c.index("-X") + 1] for c in self.read_state()["calls"] if "-X" in c]


@pytest.fixture
def pipeline(tmp_path: Path) -> Pipeline:
    return Pipeline(tmp_path)


def test_the_plan_comment_is_created_once_then_updated_in_place(pipeline: Pipeline) -> None:
    first = pipeline.run("plan.sh", PR_NUMBER="7", GITHUB_SHA="c0ffee1")
    assert first.returncode == 0, first.stderr  # changes pending is a success for a PR
    (comment,) = pipeline.comments()
    assert comment["body"].startswith("<!-- bcsync-plan: bcsync/bcsync.yaml -->")
    checksum = CHECKSUM.search(comment["body"])
    assert checksum is not None
    assert f"checksum={checksum.group(1)}" in pipeline.outputs.read_text()
    # A second push changes the plan: the same comment is rewritten, no second one appears.
    text = pipeline.config.read_text()
    pipeline.config.write_text(
        text.replace(
            "ops@acme.com: { role: admin }", "ops@acme.com: { role: admin, finance_role: analyst }"
        )
    )
    second = pipeline.run("plan.sh", PR_NUMBER="7", GITHUB_SHA="c0ffee2")
    assert second.returncode == 0, second.stderr
    (updated,) = pipeline.comments()
    assert updated["id"] == comment["id"] and updated["body"] != comment["body"]
    assert "c0ffee2" in updated["body"]
    assert pipeline.methods() == ["POST", "PATCH"]


def test_a_refused_plan_is_still_posted_then_fails_the_job(pipeline: Pipeline) -> None:
    # The plan removes more entries than max_removals allows: refused (exit 4).
    text = pipeline.config.read_text()
    pipeline.config.write_text(text.replace("max_removals: 25%", "max_removals: 1"))
    result = pipeline.run("plan.sh", PR_NUMBER="7")
    assert result.returncode == 4, result.stderr
    (comment,) = pipeline.comments()
    assert "Refused (exit 4)" in comment["body"]
    assert "max_removals" in comment["body"]
    assert CHECKSUM.search(comment["body"])


def test_an_invalid_config_is_still_posted(pipeline: Pipeline) -> None:
    pipeline.config.write_text(pipeline.config.read_text().replace("role: admin }", "role: boss }"))
    result = pipeline.run("plan.sh", PR_NUMBER="7")
    assert result.returncode == 3
    (comment,) = pipeline.comments()
    assert "configuration is invalid (exit 3)" in comment["body"]
    assert "boss" in comment["body"]


def test_merge_applies_exactly_the_reviewed_plan(pipeline: Pipeline) -> None:
    assert pipeline.run("plan.sh", PR_NUMBER="7").returncode == 0
    reviewed = CHECKSUM.search(pipeline.comments()[0]["body"])
    assert reviewed is not None
    state = pipeline.read_state()
    state["pulls"]["m3rg3"] = [7]
    pipeline.write_state(state)
    result = pipeline.run("apply.sh", GITHUB_SHA="m3rg3")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Applying the reviewed plan {reviewed.group(1)}" in result.stdout
    after = pipeline.bcsync("plan", "--detailed-exitcode", "bcsync/bcsync.yaml")
    assert after.returncode == 0, after.stdout  # only invitations wait


def test_merge_refuses_when_the_plan_changed_after_review(pipeline: Pipeline) -> None:
    assert pipeline.run("plan.sh", PR_NUMBER="7").returncode == 0
    # Another change lands in the config after the review (or the BC changed meanwhile).
    text = pipeline.config.read_text()
    pipeline.config.write_text(
        text.replace("dave@acme.com:\n    role: admin", "dave@acme.com:\n    role: standard")
    )
    before = pipeline.bcsync("plan", "bcsync/bcsync.yaml").stdout
    result = pipeline.run("apply.sh", PR_NUMBER="7")
    assert result.returncode == 4, result.stdout + result.stderr
    assert "plan again" in result.stderr
    assert pipeline.bcsync("plan", "bcsync/bcsync.yaml").stdout == before  # nothing applied


def test_merge_trusts_only_the_bots_comment(pipeline: Pipeline) -> None:
    assert pipeline.bcsync("plan", "bcsync/bcsync.yaml").returncode == 0
    forged = pipeline.bcsync("plan", "bcsync/bcsync.yaml").stdout
    state = pipeline.read_state()
    state["login"] = "mallory"
    pipeline.write_state(state)
    body = pipeline.repo / "forged.md"
    body.write_text("<!-- bcsync-plan: bcsync/bcsync.yaml -->\n" + forged)
    subprocess.run(
        [
            "gh",
            "api",
            "-X",
            "POST",
            "repos/acme/permissions/issues/7/comments",
            "-F",
            f"body=@{body}",
        ],
        env={**pipeline.env, **pipeline.env_extra},
        check=True,
        capture_output=True,
    )
    result = pipeline.run("apply.sh", PR_NUMBER="7")
    assert result.returncode == 4
    assert "no bcsync plan comment" in result.stderr


def test_merge_without_a_pull_request_refuses(pipeline: Pipeline) -> None:
    result = pipeline.run("apply.sh", GITHUB_SHA="d1r3ct")
    assert result.returncode == 4
    assert "no pull request" in result.stderr


def test_drift_on_the_untouched_seed_needs_attention(pipeline: Pipeline) -> None:
    result = pipeline.run("drift.sh", BCSYNC_EXPIRING_WITHIN="1d")
    assert result.returncode == 2, result.stdout + result.stderr
    assert pipeline.summary.read_text().strip()


@pytest.mark.parametrize(
    ("drift", "expiring", "expected"),
    [(0, 0, 0), (2, 0, 2), (0, 2, 2), (2, 2, 2), (1, 2, 1), (0, 3, 3)],
)
def test_drift_combines_exit_codes(
    pipeline: Pipeline, drift: int, expiring: int, expected: int
) -> None:
    fake = pipeline.bin / "fake-bcsync"
    fake.write_text(
        '#!/usr/bin/env bash\necho "$@"\n'
        f'case "$1" in drift) exit {drift};; expiring) exit {expiring};; esac\n'
    )
    fake.chmod(0o755)
    result = pipeline.run("drift.sh", BCSYNC=str(fake))
    assert result.returncode == expected
    assert "expiring bcsync/bcsync.yaml --within 30d" in pipeline.summary.read_text()


# --- the workflow files ----------------------------------------------------------------------


def load_yaml(path: Path) -> dict[Any, Any]:
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict)
    return data


def test_the_action_runs_scripts_that_exist() -> None:
    action = load_yaml(ROOT / "action.yml")
    assert action["runs"]["using"] == "composite"
    run = "\n".join(s.get("run", "") for s in action["runs"]["steps"])
    commands = re.search(r"^\s*([a-z]+(?: \| [a-z]+)*)\) exec bash", run, re.M)
    assert commands is not None
    for command in commands.group(1).split(" | "):
        script = SCRIPTS / f"{command}.sh"
        assert script.is_file() and os.access(script, os.X_OK), script
    assert "examples/ci/scripts/$BCSYNC_COMMAND.sh" in run
    assert '"$GITHUB_ACTION_PATH"' in run and (ROOT / "pyproject.toml").is_file()
    # Inputs reach the shell through env, never pasted into the script text.
    assert "${{" not in run


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflows_use_only_known_commands_and_guard_the_token(path: Path) -> None:
    workflow = load_yaml(path)
    events = workflow[True] if True in workflow else workflow["on"]  # yaml 1.1 reads `on` as True
    assert "pull_request_target" not in events
    for name, job in workflow["jobs"].items():
        steps = job["steps"]
        text = yaml.safe_dump(job)
        for step in steps:
            if str(step.get("uses", "")).startswith("OWNER/bcsync@"):
                command = str(step["with"]["command"])
                assert set(re.findall(r"(?:&&|\|\|)\s*'([a-z]+)'", command)) <= {
                    "plan",
                    "apply",
                    "drift",
                } or (command in {"plan", "apply", "drift"}), command
        if "secrets." in text:
            assert job.get("environment") == "bcsync", name
            condition = str(job.get("if", ""))
            assert "head.repo.full_name == github.repository" in condition or (
                "pull_request" not in condition
            ), name


def test_the_scripts_parse() -> None:
    for script in SCRIPTS.glob("*.sh"):
        subprocess.run(["bash", "-n", str(script)], check=True)


def test_pre_commit_hooks_name_real_commands() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert {h["id"] for h in hooks} == {"bcsync-validate", "bcsync-fmt"}
    from bcsync.cli import cli

    for hook in hooks:
        assert hook["language"] == "python"
        program, command = hook["entry"].split()
        assert program == "bcsync" and command in cli.commands
        assert re.search(hook["files"], "bcsync/acme.yaml") and re.search(
            hook["files"], "bcsync.yaml"
        )
        assert not re.search(hook["files"], "src/app.yaml")
