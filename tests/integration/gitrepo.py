"""A throw-away git repository of the agency example, edited and committed on chosen dates."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.examples import copy_example

AGENCY = "configs/agency.yaml"


@dataclass
class GitRepo:
    root: Path
    ticks: int = 0

    def git(self, *args: str, date: str | None = None, author: str = "Ann Auditor") -> str:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("GIT_")},
            "GIT_AUTHOR_NAME": author,
            "GIT_AUTHOR_EMAIL": f"{author.split()[0].lower()}@example.org",
            "GIT_COMMITTER_NAME": author,
            "GIT_COMMITTER_EMAIL": f"{author.split()[0].lower()}@example.org",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_CONFIG_NOSYSTEM": "1",
        }
        if date:
            env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = date
        done = subprocess.run(
            ["git", *args], cwd=self.root, env=env, capture_output=True, text=True, check=True
        )
        return done.stdout.strip()

    def read(self, path: str = AGENCY) -> str:
        return (self.root / path).read_text()

    def write(self, text: str, path: str = AGENCY) -> None:
        (self.root / path).write_text(text)

    def replace(self, old: str, new: str, path: str = AGENCY) -> None:
        text = self.read(path)
        assert old in text, old
        self.write(text.replace(old, new, 1), path)

    def commit(self, message: str, *, date: str | None = None, author: str = "Ann Auditor") -> str:
        """Commit everything; by default one minute after the previous commit (2026-11-01 on)."""
        self.ticks += 1
        when = date or f"2026-11-01T{self.ticks // 60:02d}:{self.ticks % 60:02d}:00+00:00"
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message, date=when, author=author)
        return self.git("rev-parse", "HEAD")


def agency_repo(tmp: Path) -> GitRepo:
    """examples/agency under configs/, committed once (2026-11-01 00:01 UTC)."""
    root = tmp / "repo"
    copy_example("agency", root / "configs")
    repo = GitRepo(root)
    repo.git("init", "-q", "-b", "main")
    repo.commit("agency example")
    return repo
