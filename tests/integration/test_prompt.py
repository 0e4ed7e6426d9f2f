"""The apply prompt on a real terminal: a declined prompt exits 4 and changes nothing."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import NOW

# Real processes and sockets: seconds each; `scripts/test --fast` skips them.
pytestmark = pytest.mark.slow


def apply_on_a_terminal(config_dir: Path, answer: str) -> tuple[int, str]:
    """Run `bcsync apply` with a pseudo-terminal as stdin and type `answer` at the prompt."""
    master, slave = pty.openpty()
    env = {**os.environ, "NO_COLOR": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "bcsync", "apply", str(config_dir), "--now", NOW],
        stdin=slave,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=config_dir.parent,
    )
    os.close(slave)
    os.write(master, answer.encode() + b"\n")
    out, _ = process.communicate(timeout=60)
    os.close(master)
    return process.returncode, out.decode()


def plan_exit(config_dir: Path) -> int:
    args = ["plan", str(config_dir), "--detailed-exitcode", "--now", NOW]
    return subprocess.run([sys.executable, "-m", "bcsync", *args], cwd=config_dir.parent,
                          check=False, capture_output=True).returncode  # fmt: skip


@pytest.mark.parametrize(("answer", "code", "pending"), [("n", 4, 2), ("y", 0, 0)])
def test_prompt_answer_decides(
    quickstart: Path, tmp_path: Path, answer: str, code: int, pending: int
) -> None:
    returncode, out = apply_on_a_terminal(quickstart, answer)
    assert "Apply these changes?" in out
    assert returncode == code, out
    assert plan_exit(quickstart) == pending
