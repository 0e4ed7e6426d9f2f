"""A local GitHub for rehearsing the CI workflow: git remotes, runs, artifacts, comments, issues.

What is real: git (an origin, a developer's clone, the runner's checkout), the workflow's own
scripts (examples/ci/scripts) and the unprivileged workflow's own `run:` step, bcsync, and the
local Business Center (its state beside the runner's config, so it persists between jobs like a
real BC). What stands in: `gh` (tests/integration/fakegh.py keeps pull requests, comments,
issues, runs and artifacts in a JSON file and records every call), the runners (a directory
reset between jobs), and the event payloads (built here from the fake pull requests, as GitHub
would). Not exercised: GitHub's own evaluation of the YAML (triggers, `if:`, permissions,
environments, concurrency), branch protection, reviews, and the real artifact and comment APIs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from tests.examples import copy_example

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "examples" / "ci" / "scripts"
HERE = Path(__file__).parent
REPOSITORY = "acme/permissions"
BOT = "github-actions[bot]"
CONFIG = "bcsync/bcsync.yaml"
NOW = "2026-11-25"
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Dev",
    "GIT_AUTHOR_EMAIL": "dev@acme.com",
    "GIT_COMMITTER_NAME": "Dev",
    "GIT_COMMITTER_EMAIL": "dev@acme.com",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
}


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args],
        cwd=cwd,
        env={**os.environ, **GIT_ENV},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


class GitHub:
    """One repository with the bcsync workflow, its runner and the Business Center it manages."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.origin = tmp / "origin.git"
        self.dev = tmp / "dev"
        self.runner = tmp / "runner"
        self.runs = tmp / "runs"
        self.runs.mkdir()
        git(tmp, "init", "-q", "--bare", "-b", "main", str(self.origin))
        git(tmp, "init", "-q", "-b", "main", str(self.dev))
        copy_example("quickstart", self.dev / "bcsync")
        (self.dev / ".gitignore").write_text(".bcsync/\n")
        git(self.dev, "add", "-A")
        git(self.dev, "commit", "-q", "-m", "Adopt the Business Center")
        git(self.dev, "remote", "add", "origin", str(self.origin))
        git(self.dev, "push", "-q", "origin", "main")
        git(tmp, "clone", "-q", str(self.origin), str(self.runner))
        bin_dir = tmp / "bin"
        bin_dir.mkdir()
        shim = bin_dir / "gh"
        shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{HERE / "fakegh.py"}" "$@"\n')
        shim.chmod(0o755)
        self.state_file = tmp / "github.json"
        self.save(
            {
                "repository": REPOSITORY,
                "login": BOT,
                "pulls": {},
                "comments": {},
                "issues": {},
                "runs": {},
                "calls": [],
                "next_id": 100,
            }
        )
        self.env = {
            **os.environ,
            **GIT_ENV,
            "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
            "FAKE_GH_STATE": str(self.state_file),
            "BCSYNC": f"{sys.executable} -P {HERE / 'ci_bcsync.py'}",
            "REHEARSAL_NOW": NOW,
            "BCSYNC_PATHS": CONFIG,
            "GITHUB_REPOSITORY": REPOSITORY,
            "GH_TOKEN": "gh-rehearsal-token",
            # As the workflow sets `tiktok`: the one provider this pipeline holds a token for.
            "BCSYNC_ALLOWED_PROVIDERS": "local",
            "NO_COLOR": "1",
            # Each rehearsal is its own runner: its own apply locks, never another run's (a
            # module fixture runs before the per-test lock directory is set).
            "BCSYNC_LOCK_DIR": str(tmp / "locks"),
        }
        self.env.pop("BCSYNC_STATE_DIR", None)
        self.next_run = 5000

    # -- state --------------------------------------------------------------------------------

    def load(self) -> dict[str, Any]:
        return dict(json.loads(self.state_file.read_text()))

    def save(self, state: dict[str, Any]) -> None:
        self.state_file.write_text(json.dumps(state))

    def comments(self, pr: int) -> list[dict[str, Any]]:
        return list(self.load()["comments"].get(str(pr), []))

    def issues(self) -> list[dict[str, Any]]:
        return list(self.load()["issues"].values())

    def writes(self) -> list[tuple[str, str]]:
        return [(c["method"], c["endpoint"]) for c in self.load()["calls"] if c["method"] != "GET"]

    def gh_as(self, login: str, *args: str) -> None:
        """`gh api ...` as another account (a person, or a branch's own workflow)."""
        state = self.load()
        state["login"] = login
        self.save(state)
        try:
            subprocess.run(["gh", *args], env=self.env, check=True, capture_output=True)
        finally:
            state = self.load()
            state["login"] = BOT
            self.save(state)

    # -- a developer ----------------------------------------------------------------------------

    def push(self, branch: str, edit: Callable[[str], str], message: str) -> str:
        """Commit an edit of the config on `branch` (made from main when new) and push it."""
        git(self.dev, "fetch", "-q", "origin")
        if branch in git(self.dev, "branch", "--list", branch):
            git(self.dev, "checkout", "-q", branch)
        else:
            git(self.dev, "checkout", "-q", "-b", branch, "origin/main")
        config = self.dev / CONFIG
        config.write_text(edit(config.read_text()))
        git(self.dev, "commit", "-q", "-am", message)
        git(self.dev, "push", "-q", "origin", branch)
        sha = git(self.dev, "rev-parse", "HEAD")
        state = self.load()
        for pull in state["pulls"].values():
            if pull["head"]["ref"] == branch:
                pull["head"]["sha"] = sha
                pull["commits"].append(sha)
        self.save(state)
        return sha

    def open_pr(self, branch: str) -> int:
        state = self.load()
        number = len(state["pulls"]) + 1
        sha = git(self.dev, "rev-parse", branch)
        state["pulls"][str(number)] = {
            "number": number,
            "head": {"ref": branch, "sha": sha},
            "base": {"ref": "main"},
            "merged_at": None,
            "merge_commit_sha": None,
            "commits": [sha],
        }
        self.save(state)
        return number

    def merge(self, pr: int) -> tuple[str, str]:
        """Merge the pull request into main (a merge commit); (main before, main after)."""
        branch = self.load()["pulls"][str(pr)]["head"]["ref"]
        git(self.dev, "fetch", "-q", "origin")
        git(self.dev, "checkout", "-q", "main")
        git(self.dev, "reset", "-q", "--hard", "origin/main")
        before = git(self.dev, "rev-parse", "HEAD")
        git(self.dev, "merge", "-q", "--no-ff", branch, "-m", f"Merge pull request #{pr}")
        git(self.dev, "push", "-q", "origin", "main")
        after = git(self.dev, "rev-parse", "HEAD")
        state = self.load()
        pull = state["pulls"][str(pr)]
        pull.update(merged_at="2026-11-25T10:00:00Z", merge_commit_sha=after)
        pull["commits"].append(after)
        self.save(state)
        return before, after

    # -- the workflows ------------------------------------------------------------------------

    def _new_run(self, event: str, path: str, head_sha: str) -> tuple[str, Path]:
        self.next_run += 1
        run_id = str(self.next_run)
        state = self.load()
        state["runs"][run_id] = {
            "id": int(run_id),
            "event": event,
            "path": path,
            "head_sha": head_sha,
            "artifacts": [],
        }
        self.save(state)
        folder = self.runs / run_id
        folder.mkdir()
        return run_id, folder

    def _upload(self, run_id: str, name: str, files: dict[str, Path]) -> None:
        """actions/upload-artifact: the files, zipped under their names."""
        archive = self.runs / run_id / f"{name}.zip"
        with zipfile.ZipFile(archive, "w") as zf:
            for arcname, path in files.items():
                zf.write(path, arcname)
        state = self.load()
        self.next_run += 1
        artifact = {"id": self.next_run, "name": name, "expired": False, "file": str(archive)}
        state["runs"][run_id]["artifacts"].append(artifact)
        self.save(state)

    def pr_run(self, pr: int) -> str:
        """The unprivileged `pull_request` workflow: its own `run:` step, then the upload."""
        head = self.load()["pulls"][str(pr)]["head"]["sha"]
        run_id, folder = self._new_run("pull_request", ".github/workflows/bcsync-pr.yml", head)
        checkout = folder / "checkout"
        checkout.mkdir()
        archive = subprocess.run(
            ["git", "archive", head], cwd=self.dev, capture_output=True, check=True
        ).stdout
        subprocess.run(["tar", "-x"], input=archive, cwd=checkout, check=True)
        workflow = yaml.safe_load((ROOT / "examples/ci/pull-request.yml").read_text())
        (step,) = [s for s in workflow["jobs"]["configs"]["steps"] if "run" in s]
        temp = folder / "temp"
        temp.mkdir()
        env = {**self.env, "RUNNER_TEMP": str(temp)}
        subprocess.run(["bash", "-c", step["run"]], cwd=checkout, env=env, check=True)
        self._upload(run_id, "bcsync-configs", {"configs.tar": temp / "configs.tar"})
        return run_id

    def _runner_at(self, ref: str) -> None:
        git(self.runner, "fetch", "-q", "origin")
        git(self.runner, "checkout", "-q", "-f", "--detach", ref)
        git(self.runner, "clean", "-q", "-fd")  # ignored files stay: the BC's local state

    def _script(self, name: str, folder: Path, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", str(SCRIPTS / name)],
            cwd=self.runner,
            env={
                **self.env,
                "GITHUB_OUTPUT": str(folder / "output"),
                "GITHUB_STEP_SUMMARY": str(folder / "summary.md"),
                "GITHUB_RUN_ID": folder.name,
                **env,
            },
            capture_output=True,
            text=True,
            timeout=600,
        )

    def plan(self, pr: int, pr_run: str) -> subprocess.CompletedProcess[str]:
        """The privileged `workflow_run` plan job: default branch checkout, event fields."""
        head = self.load()["runs"][pr_run]["head_sha"]  # github.event.workflow_run.head_sha
        run_id, folder = self._new_run("workflow_run", ".github/workflows/bcsync.yml", head)
        self._runner_at("origin/main")
        plan_out = folder / "plan.json"
        result = self._script(
            "plan.sh",
            folder,
            PR_NUMBER=str(pr),
            HEAD_SHA=head,
            PR_RUN_ID=pr_run,
            BCSYNC_PLAN_OUT=str(plan_out),
        )
        if plan_out.is_file():
            self._upload(run_id, "bcsync-plan-0", {"plan.json": plan_out})
        self._runner_at("origin/main")
        return result

    def apply(self, before: str, after: str, **env: str) -> subprocess.CompletedProcess[str]:
        """The push job (apply), then the audit job (append the records to the audit branch)."""
        _, folder = self._new_run("push", ".github/workflows/bcsync.yml", after)
        self._runner_at(after)
        audit = folder / "audit.jsonl"
        result = self._script(
            "apply.sh",
            folder,
            GITHUB_SHA=after,
            BCSYNC_BASE=before,
            BCSYNC_AUDIT_LOG=str(audit),
            **env,
        )
        pushed = self._script(
            "audit-push.sh",
            folder,
            BCSYNC_AUDIT_RECORDS=str(audit),
            BCSYNC_AUDIT_REMOTE=str(self.origin),
            GITHUB_SHA=after,
        )
        assert pushed.returncode == 0, pushed.stderr
        self._runner_at("origin/main")
        return result

    def drift(self, **env: str) -> subprocess.CompletedProcess[str]:
        _, folder = self._new_run("schedule", ".github/workflows/bcsync.yml", "main")
        self._runner_at("origin/main")
        return self._script("drift.sh", folder, **env)

    # -- looking at the Business Center -------------------------------------------------------

    def bcsync(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-P", str(HERE / "ci_bcsync.py"), *args],
            cwd=cwd or self.runner,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    def bc_members(self) -> dict[str, Any]:
        """The Business Center's members as `bcsync export` writes them (read through the API)."""
        out = self.tmp / "export.yaml"
        out.unlink(missing_ok=True)
        done = self.bcsync("export", "--from", CONFIG, "--out", str(out))
        assert done.returncode == 0, done.stderr
        return dict(yaml.safe_load(out.read_text())["members"])

    def by_hand(self, edit: Callable[[str], str]) -> None:
        """An admin changes the BC outside bcsync (here: through the API, from a scratch config)."""
        scratch = self.runner / "bcsync" / "by-hand.yaml"
        scratch.write_text(edit((self.runner / CONFIG).read_text()))
        try:
            done = self.bcsync("apply", "--auto-approve", "bcsync/by-hand.yaml")
            assert done.returncode == 0, done.stdout + done.stderr
        finally:
            scratch.unlink()

    def audit_branch(self, name: str = "bcsync_bcsync.yaml") -> str:
        git(self.runner, "fetch", "-q", "origin", "bcsync-audit")
        return git(self.runner, "show", f"FETCH_HEAD:audit/{name}.jsonl")
