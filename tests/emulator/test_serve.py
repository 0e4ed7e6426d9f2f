"""`bcsync emulator serve|reset`: a real socket on 127.0.0.1, clear errors, exit codes."""

from __future__ import annotations

import queue
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from click.testing import CliRunner

from bcsync.cli import cli
from bcsync.emulator.serve import is_loopback

from .world import BC, SEED, TOKENS

# Real processes and sockets: seconds each; `scripts/test --fast` skips them.
pytestmark = pytest.mark.slow


@pytest.fixture
def seed_file(tmp_path: Path) -> Path:
    file = tmp_path / "seed.yaml"
    file.write_text(yaml.safe_dump(SEED, sort_keys=False))
    return file


def _lines(stream: Any, into: queue.Queue[str]) -> None:
    for line in iter(stream.readline, ""):
        into.put(line)
    into.put("")


def test_serve_answers_over_a_real_socket(tmp_path: Path, seed_file: Path) -> None:
    command = [
        sys.executable, "-m", "bcsync", "emulator", "serve", "--seed", str(seed_file),
        "--db", str(tmp_path / "served.db"), "--port", "0", "--control",
    ]  # fmt: skip
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=tmp_path
    )
    output: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=_lines, args=(process.stdout, output), daemon=True)
    reader.start()
    try:
        printed = []
        while not (printed and printed[-1].startswith("Listening on")):
            line = output.get(timeout=20)  # bounded wait for the server to come up
            assert line, "serve exited early:\n" + "".join(printed)
            printed.append(line)
        url = printed[-1].split()[2]
        assert url.startswith("http://127.0.0.1:")
        text = "".join(printed)
        assert (
            f"{url}/open_api/v1.3/" in text and f"{BC} Test Co: admin admin1@test.example" in text
        )
        assert "secret" not in text  # tokens are hinted at, never printed
        # No control token was given: a new one is written beside the database, never printed.
        token_file = tmp_path / "served.db.control-token"
        control = {"Emulator-Control-Token": token_file.read_text().strip()}
        assert token_file.stat().st_mode & 0o777 == 0o600
        assert control["Emulator-Control-Token"] not in text and str(token_file) in text

        response = httpx.get(
            f"{url}/open_api/v1.3/bc/member/get/",
            params={"bc_id": BC, "page_size": 50},
            headers={"Access-Token": TOKENS["admin1"]},
            timeout=10,
        )
        body = response.json()
        assert (response.status_code, body["code"]) == (200, 0)
        assert body["data"]["page_info"]["total_number"] == 6
        assert httpx.get(f"{url}/_emulator/stats", headers=control, timeout=10).json()["total"] == 1
        assert httpx.get(f"{url}/_emulator/stats", timeout=10).status_code == 401
        slashless = httpx.get(f"{url}/open_api/v1.3/bc/get", timeout=10)
        assert (slashless.status_code, slashless.text) == (404, "404 page not found")
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        reader.join(timeout=10)
        assert process.stdout is not None
        process.stdout.close()


def test_reset_recreates_the_database(tmp_path: Path, seed_file: Path) -> None:
    db = tmp_path / "state" / "e.db"
    runner = CliRunner()
    result = runner.invoke(cli, ["emulator", "reset", "--seed", str(seed_file), "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"Reset {db} from {seed_file}: 2 Business Center(s), 7 user(s), 8 member(s).\n"
    )
    assert db.exists()


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (["serve", "--db", "missing.db"], 1, "Error: no database at missing.db yet; pass --seed"),
        (["serve", "--reset", "--db", "e.db"], 1, "Error: --reset needs --seed FILE"),
        (["serve", "--seed", "bad.yaml", "--db", "e.db"], 3, "bad.yaml:1:10: version:"),
        (["reset", "--seed", "bad.yaml", "--db", "e.db"], 3, "invalid seed bad.yaml"),
        (["reset", "--seed", "nothere.yaml"], 1, "Error: seed file not found: nothere.yaml"),
        (["serve", "--seed", "seed.yaml", "--accept-invites-after", "soon"], 64, "'never'"),
        (["serve", "--seed", "seed.yaml", "--error-rate", "2"], 64, "--error-rate"),
    ],
)
def test_cli_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed_file: Path, args: list[str],
    code: int, fragment: str,
) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)
    Path("bad.yaml").write_text("version: 2\nusers: []\nbusiness_centers: []\n")
    result = CliRunner().invoke(cli, ["emulator", *args])
    assert result.exit_code == code, result.output
    assert fragment in result.stderr
    assert "Traceback" not in result.output


def test_serve_says_when_the_port_is_taken(tmp_path: Path, seed_file: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(
            cli,
            [
                "emulator",
                "serve",
                "--seed",
                str(seed_file),
                "--db",
                str(tmp_path / "e.db"),
                "--port",
                str(port),
            ],
        )
    assert result.exit_code == 1
    assert f"Error: cannot listen on 127.0.0.1:{port}" in result.stderr


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("::1", True), ("localhost", True), ("0.0.0.0", False),
     ("192.168.1.5", False), ("example.com", False)],
)  # fmt: skip
def test_loopback_detection(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
