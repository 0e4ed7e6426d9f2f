"""Benchmark `bcsync history` and `bcsync diff` over 50 commits of the agency example.

    python tests/benchmarks/history_scale.py [--repeat N]

Builds a throw-away git repository holding examples/agency under configs/, then 50 commits of
edits (a member joins a group, leaves again, a group's permissions toggle, a partner share is
added and removed), and times the whole commands as a user runs them (a fresh `python -m bcsync`
process each time, start-up included): `history configs --format json` and
`diff configs --base HEAD~50 --head HEAD --format markdown`. Medians of --repeat runs.

Prints figures, then as the last line one JSON object with `history_50_s`, `diff_s`,
`commits_reported`, targets and whether they were met (both within 5 s on a 2-core machine).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from targets import Target, verdict  # noqa: E402

from tests.examples import copy_example  # noqa: E402

CONFIG = "configs/agency.yaml"
TARGETS = [Target("history_50_s", "<=", 5.0), Target("diff_s", "<=", 5.0)]


def git(root: Path, *args: str, when: str | None = None) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        GIT_AUTHOR_NAME="Bench",
        GIT_AUTHOR_EMAIL="bench@example.org",
        GIT_COMMITTER_NAME="Bench",
        GIT_COMMITTER_EMAIL="bench@example.org",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_CONFIG_NOSYSTEM="1",
    )
    if when:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = when
    subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True)


def edit(text: str, i: int) -> str:
    """The i-th edit: a cycle of joins, leaves, group changes and partner shares."""
    step = i % 4
    if step == 0:
        line = f"  user{i}@bright.example: {{ role: standard, groups: [strategists] }}\n"
        return text.replace("  intern@bright.example:", line + "  intern@bright.example:", 1)
    if step == 1:
        line = f"  user{i - 1}@bright.example: {{ role: standard, groups: [strategists] }}\n"
        return text.replace(line, "", 1)
    if step == 2:
        if "bright-brand: [post]" in text:
            return text.replace(
                "bright-brand: [post]", "bright-brand: [post, live, direct_message]"
            )
        return text.replace("bright-brand: [post, live, direct_message]", "bright-brand: [post]")
    if "bright-test: analyst }\n" in text.split("partners:")[1]:
        return text.replace(
            "ad_accounts: { bright-test: analyst }\n",
            "ad_accounts: { bright-test: analyst, bright-house: analyst }\n",
        )
    return text.replace(
        "ad_accounts: { bright-test: analyst, bright-house: analyst }\n",
        "ad_accounts: { bright-test: analyst }\n",
    )


def build_repo(root: Path, commits: int) -> None:
    copy_example("agency", root / "configs")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "agency", when="2026-11-01T00:00:00+00:00")
    path = root / CONFIG
    for i in range(commits):
        before = path.read_text()
        after = edit(before, i)
        assert after != before, f"edit {i} changed nothing"
        path.write_text(after)
        git(
            root,
            "commit",
            "-q",
            "-am",
            f"edit {i}",
            when=f"2026-11-02T{i // 60:02d}:{i % 60:02d}:00Z",
        )


def timed(root: Path, *args: str) -> tuple[float, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "bcsync", *args], cwd=root, env=env, capture_output=True, text=True
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"bcsync {' '.join(args)} failed ({done.returncode}): {done.stderr}")
    return seconds, done.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--commits", type=int, default=50)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "repo"
        root.mkdir()
        build_repo(root, options.commits)
        history_runs, diff_runs = [], []
        for _ in range(options.repeat):
            seconds, out = timed(root, "history", "configs", "--format", "json")
            history_runs.append(seconds)
            reported = len(json.loads(out)["commits"])
            base = f"HEAD~{options.commits}"
            seconds, _ = timed(
                root, "diff", "configs", "--base", base, "--head", "HEAD", "--format", "markdown"
            )
            diff_runs.append(seconds)
    history_s = statistics.median(history_runs)
    diff_s = statistics.median(diff_runs)
    print(f"history over {options.commits} commits: {history_s:.2f} s (runs {history_runs})")
    print(f"diff across them: {diff_s:.2f} s (runs {diff_runs})")
    result = {
        "history_50_s": round(history_s, 3),
        "diff_s": round(diff_s, 3),
        "commits": options.commits,
        "commits_reported": reported,
    }
    return verdict(result, TARGETS, sort_keys=True)


if __name__ == "__main__":
    sys.exit(main())
