"""The audit log is created 0600, like plan files; an existing file's mode is left alone."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from bcsync.auditor.auditquery import read_records
from bcsync.loop.audit import AuditLog


@pytest.fixture
def open_umask() -> Iterator[None]:
    """A umask that masks nothing: the mode bcsync asks for is the mode the file gets."""
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_audit_log_is_private(tmp_path: Path, open_umask: None) -> None:
    path = tmp_path / "state" / "audit.jsonl"
    with AuditLog(path, context={"actor": "t"}) as log:
        log.write({"result": "succeeded"})
    assert mode(path) == 0o600
    assert read_records(path)[0]["result"] == "succeeded"


@pytest.mark.parametrize("existing", [0o640, 0o600, 0o400 | 0o200])
def test_an_existing_audit_log_keeps_its_mode_and_records(
    tmp_path: Path, open_umask: None, existing: int
) -> None:
    path = tmp_path / "audit.jsonl"
    path.write_text('{"result": "earlier"}\n')
    path.chmod(existing)
    with AuditLog(path) as log:
        log.write({"result": "later"})
    assert mode(path) == existing
    assert [r["result"] for r in read_records(path)] == ["earlier", "later"]


def test_git_commit_and_dirty_flag_of_the_config_checkout(tmp_path: Path) -> None:
    """Audit records say which commit a config came from, and whether the tree was dirty."""
    import subprocess

    from bcsync.loop.audit import git_commit, git_dirty

    assert (git_commit(tmp_path), git_dirty(tmp_path)) == (None, None)  # not a checkout
    env = {"GIT_AUTHOR_NAME": "a", "GIT_AUTHOR_EMAIL": "a@x", "GIT_COMMITTER_NAME": "a"}
    env |= {"GIT_COMMITTER_EMAIL": "a@x", "PATH": "/usr/bin:/bin"}
    (tmp_path / "bcsync.yaml").write_text("version: 1\n")
    for args in (["init", "-q"], ["add", "bcsync.yaml"], ["commit", "-qm", "config"]):
        subprocess.run(["git", *args], cwd=tmp_path, env=env, check=True)
    commit = git_commit(tmp_path)
    assert commit is not None and len(commit) == 40
    assert git_dirty(tmp_path) is False
    (tmp_path / "bcsync.yaml").write_text("version: 2\n")
    assert git_dirty(tmp_path) is True
