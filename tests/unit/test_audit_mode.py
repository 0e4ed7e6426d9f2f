"""The audit log is created 0600, like plan files; an existing file's mode is left alone."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from bcsync.audit import AuditLog
from bcsync.auditquery import read_records


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
