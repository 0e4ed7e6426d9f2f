"""git blame of config lines: committed, uncommitted, outside git, missing files."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from bcsync.blame import Blamer, parse_porcelain, split_ref

ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "Alice",
    "GIT_AUTHOR_EMAIL": "alice@example.com",
    "GIT_COMMITTER_NAME": "Alice",
    "GIT_COMMITTER_EMAIL": "alice@example.com",
}


def test_committed_and_uncommitted_lines(tmp_path: Path) -> None:
    config = tmp_path / "bcsync.yaml"
    config.write_text("a: 1\nb: 2\n")
    for args in (["init", "-q"], ["add", "bcsync.yaml"], ["commit", "-q", "-m", "first"]):
        subprocess.run(["git", *args], cwd=tmp_path, env=ENV, check=True, capture_output=True)
    config.write_text("a: 1\nb: 3\n")
    blamer = Blamer(tmp_path)
    first = blamer.line("bcsync.yaml", 1)
    assert first is not None and first.author == "Alice" and first.summary == "first"
    assert first.author_mail == "alice@example.com" and first.commit and len(first.commit) == 40
    second = blamer.line("bcsync.yaml", 2)
    assert second is not None and second.commit is None
    assert second.describe() == "not committed yet"
    assert blamer.line("bcsync.yaml", 99) is None and blamer.unavailable("bcsync.yaml") is None


def test_unavailable_says_why(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text("a: 1\n")
    blamer = Blamer(tmp_path)
    assert blamer.line("c.yaml", 1) is None
    assert blamer.unavailable("c.yaml") == "not in a git checkout"
    assert blamer.unavailable("missing/c.yaml") == "the file does not exist"


def test_parse_porcelain_ignores_garbage_and_split_ref() -> None:
    assert parse_porcelain("garbage\n\tline\n") == {}
    assert split_ref("dir/b.yaml:12") == ("dir/b.yaml", 12)
    assert split_ref("group media-buyers") is None and split_ref("b.yaml:x") is None
