"""`serve` stops within seconds of SIGTERM, even with slow requests in flight."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from .world import BC, CONTROL_HEADERS, CONTROL_TOKEN, SEED, TOKENS

# Real processes and sockets: seconds each; `scripts/test --fast` skips them.
pytestmark = pytest.mark.slow

STOP_WITHIN = 8.0  # seconds; the server allows 2 for requests in flight to finish


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """`bcsync emulator serve` on 127.0.0.1 whose every request takes 30 seconds."""
    seed_file = tmp_path / "seed.yaml"
    seed_file.write_text(yaml.safe_dump(SEED, sort_keys=False))
    command = [
        sys.executable, "-m", "bcsync", "emulator", "serve", "--seed", str(seed_file),
        "--db", str(tmp_path / "served.db"), "--port", "0", "--control", "--latency-ms", "30000",
    ]  # fmt: skip
    env = {**os.environ, "BCSYNC_EMULATOR_CONTROL_TOKEN": CONTROL_TOKEN}
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=tmp_path, env=env
    )
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=_read, args=(process.stdout, lines), daemon=True)
    reader.start()
    try:
        printed: list[str] = []
        while not (printed and printed[-1].startswith("Listening on")):
            line = lines.get(timeout=20)  # bounded wait for the server to come up
            assert line, "serve exited early:\n" + "".join(printed)
            printed.append(line)
        yield process, printed[-1].split()[2]
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        reader.join(timeout=10)
        assert process.stdout is not None
        process.stdout.close()


def _read(stream: Any, into: queue.Queue[str]) -> None:
    for line in iter(stream.readline, ""):
        into.put(line)
    into.put("")


def _slow_request(url: str, outcome: list[str]) -> None:
    try:
        httpx.get(
            f"{url}/open_api/v1.3/bc/get/",
            params={"bc_id": BC},
            headers={"Access-Token": TOKENS["admin1"]},
            timeout=60,
        )
        outcome.append("answered")
    except httpx.HTTPError as exc:
        outcome.append(type(exc).__name__)


def test_sigterm_stops_serve_with_requests_in_flight(
    served: tuple[subprocess.Popen[str], str],
) -> None:
    process, url = served
    outcome: list[str] = []
    clients = [
        threading.Thread(target=_slow_request, args=(url, outcome), daemon=True) for _ in range(3)
    ]
    for client in clients:
        client.start()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # until the server holds the three requests
        stats = httpx.get(f"{url}/_emulator/stats", headers=CONTROL_HEADERS, timeout=5)
        if stats.json()["total"] >= 3:
            break
        time.sleep(0.05)
    assert stats.json()["total"] >= 3
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STOP_WITHIN)
    except subprocess.TimeoutExpired:
        pytest.fail(f"serve still running {STOP_WITHIN} s after SIGTERM")
    assert time.monotonic() - started < STOP_WITHIN
    for client in clients:
        client.join(timeout=10)
    assert len(outcome) == 3  # every client got an answer or a closed connection, none hangs
