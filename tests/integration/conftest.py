"""Fixtures for end-to-end tests: example copies, a CLI runner, a served emulator."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result

from bcsync.cli import cli
from tests.examples import copy_example

ROOT = Path(__file__).resolve().parents[2]
NOW = "2026-11-25"


@dataclass
class Bcsync:
    """Runs `bcsync` in-process from `workdir`, with no setting a newcomer would not have.

    Only the lock directory is private (tests/conftest.py sets it for the whole test): the state
    directory, the audit log and the rest are bcsync's defaults, as the README types commands.
    """

    workdir: Path

    @property
    def lock_dir(self) -> Path:
        return self.workdir / "locks"

    def __call__(self, *args: str, env: dict[str, str] | None = None) -> Result:
        runner = CliRunner()
        full_env = {
            "BCSYNC_LOCK_DIR": str(self.lock_dir),
            "NO_COLOR": "1",
            **(env or {}),
        }
        return runner.invoke(cli, list(args), env=full_env, catch_exceptions=False)


@pytest.fixture
def quickstart(tmp_path: Path) -> Path:
    """A private copy of examples/quickstart (config + seed)."""
    return copy_example("quickstart", tmp_path / "quickstart")


@pytest.fixture
def agency(tmp_path: Path) -> Path:
    return copy_example("agency", tmp_path / "agency")


@pytest.fixture
def bcsync(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Bcsync:
    monkeypatch.chdir(tmp_path)
    return Bcsync(tmp_path)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# The served emulator's control token (its own, never a TikTok token): set for the process.
CONTROL_TOKEN = "integration-control-token"
CONTROL_HEADERS = {"Emulator-Control-Token": CONTROL_TOKEN}


@dataclass
class Served:
    url: str
    process: subprocess.Popen[bytes]
    db: Path


def serve_emulator(seed: Path, db: Path, *extra: str) -> Served:
    """Start `bcsync emulator serve` on a free loopback port and wait until it answers."""
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "bcsync",
        "emulator",
        "serve",
        "--seed",
        str(seed),
        "--db",
        str(db),
        "--port",
        str(port),
        "--control",
        *extra,
    ]
    env = {**os.environ, "BCSYNC_EMULATOR_CONTROL_TOKEN": CONTROL_TOKEN}
    process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/_emulator/stats", headers=CONTROL_HEADERS, timeout=0.5)
            return Served(url, process, db)
        except httpx.TransportError:
            if process.poll() is not None:
                raise RuntimeError("the emulator exited during start-up") from None
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the emulator did not start within 20 s")


@pytest.fixture
def served(quickstart: Path, tmp_path: Path) -> Iterator[Served]:
    server = serve_emulator(quickstart / "seed.yaml", tmp_path / "served.db")
    yield server
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every end-to-end test is `slow`: `scripts/test --fast` runs the rest, for a tight loop."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(pytest.mark.slow)
