"""No access token in output, plan files, audit records or errors; the token goes only to TikTok."""

from __future__ import annotations

import contextlib
import re
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import NOW, Bcsync, Served, serve_emulator

SECRET = "tok-SECRET-do-not-leak-7f3a9"
WRONG = "tok-SECRET-wrong-token-b81c"
OWNER = "local-acme-owner-token"  # the quickstart seed's owner


def use_provider(config_dir: Path, provider: str) -> None:
    """Replace the quickstart's `local` provider block with `provider` (YAML flow mapping)."""
    config = config_dir / "bcsync.yaml"
    text = config.read_text().replace("provider:\n  type: local\n  seed: seed.yaml", provider)
    assert text != config.read_text()
    config.write_text(text)


@pytest.fixture
def secret_world(quickstart: Path, tmp_path: Path) -> Iterator[tuple[Path, Served]]:
    """The quickstart served with the owner's token replaced by a recognisable secret."""
    seed = tmp_path / "secret-seed.yaml"
    seed.write_text((quickstart / "seed.yaml").read_text().replace(OWNER, SECRET))
    (quickstart / "seed.yaml").unlink()
    server = serve_emulator(seed, tmp_path / "secret.db")
    use_provider(quickstart, f"provider: {{ type: emulator, url: {server.url}, qps: 200 }}")
    yield quickstart, server
    stop(server)


def stop(server: Served) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()


def test_token_never_leaks(bcsync: Bcsync, secret_world: tuple[Path, Served]) -> None:
    config_dir, _ = secret_world
    env = {"BCSYNC_EMULATOR_TOKEN": SECRET}
    plan_file = bcsync.workdir / "plan.json"
    audit = bcsync.workdir / "audit.jsonl"
    outputs = []
    for fmt in ("text", "json", "markdown"):
        result = bcsync("plan", str(config_dir), "--format", fmt, "--now", NOW, env=env)
        assert result.exit_code == 0, result.output
        outputs.append(result.output)
    result = bcsync("plan", str(config_dir), "--out", str(plan_file), "--now", NOW, env=env)
    outputs.append(result.output)
    result = bcsync("apply", str(plan_file), "--audit-log", str(audit), "--now", NOW, env=env)
    assert result.exit_code == 0, result.output
    outputs.append(result.output)

    # A wrong token: a clear auth error (exit 1), still without the token, even with --debug.
    for args in (("plan",), ("--debug", "plan")):
        wrong = bcsync(*args, str(config_dir), "--now", NOW, env={"BCSYNC_EMULATOR_TOKEN": WRONG})
        assert wrong.exit_code == 1, wrong.output
        assert "token" in wrong.output.lower()
        outputs.append(wrong.output)

    captured = "\n".join(outputs) + plan_file.read_text() + audit.read_text()
    assert SECRET not in captured
    assert WRONG not in captured
    # The token's tail alone is not printed either (no partial redaction).
    assert SECRET[-10:] not in captured
    assert WRONG[-10:] not in captured


def test_missing_token_says_what_to_do(bcsync: Bcsync, secret_world: tuple[Path, Served]) -> None:
    config_dir, _ = secret_world
    result = bcsync("plan", str(config_dir), "--now", NOW)
    assert result.exit_code == 1, result.output
    assert "BCSYNC_EMULATOR_TOKEN" in result.output
    assert "Traceback" not in result.output


def test_emulator_asks_for_its_own_variable_not_the_tiktok_token(
    bcsync: Bcsync, secret_world: tuple[Path, Served]
) -> None:
    config_dir, _ = secret_world
    result = bcsync("plan", str(config_dir), "--now", NOW, env={"TIKTOK_ACCESS_TOKEN": SECRET})
    assert result.exit_code == 1, result.output
    assert "$BCSYNC_EMULATOR_TOKEN is not set" in result.output
    assert SECRET not in result.output


class Listener:
    """A real socket on 127.0.0.1 that notes every connection made to it (and answers nothing)."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.received = b""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            self.connections += 1
            with conn:
                conn.settimeout(0.5)
                with contextlib.suppress(OSError):
                    self.received += conn.recv(65536)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.sock.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.close()


@pytest.mark.parametrize(
    "token_env", ["", ", token_env: TIKTOK_OTHER", ", token_env: AWS_SECRET_ACCESS_KEY"]
)
def test_config_cannot_send_the_token_elsewhere(
    bcsync: Bcsync, quickstart: Path, listener: Listener, token_env: str
) -> None:
    url = f"http://127.0.0.1:{listener.port}"
    use_provider(quickstart, f"provider: {{ type: tiktok, url: '{url}'{token_env} }}")
    env = {"TIKTOK_ACCESS_TOKEN": SECRET, "TIKTOK_OTHER": SECRET, "AWS_SECRET_ACCESS_KEY": SECRET}
    for command in (("plan",), ("apply", "--auto-approve")):
        result = bcsync(*command, str(quickstart), "--now", NOW, env=env)
        assert result.exit_code == 3, result.output
        assert "bcsync.yaml" in result.output and SECRET not in result.output
    listener.close()
    assert listener.connections == 0 and listener.received == b""


def test_untrusted_url_names_the_allow_list(
    bcsync: Bcsync, quickstart: Path, listener: Listener
) -> None:
    use_provider(
        quickstart, f"provider: {{ type: tiktok, url: 'http://127.0.0.1:{listener.port}' }}"
    )
    result = bcsync("plan", str(quickstart), "--now", NOW, env={"TIKTOK_ACCESS_TOKEN": SECRET})
    assert result.exit_code == 3, result.output
    assert "BCSYNC_ALLOWED_API_URLS" in result.output
    assert re.search(r"bcsync\.yaml.*provider\.url", result.output)


def test_allow_list_outside_the_config_lets_it_through(
    bcsync: Bcsync, quickstart: Path, tmp_path: Path
) -> None:
    server = serve_emulator(quickstart / "seed.yaml", tmp_path / "allowed.db")
    try:
        (quickstart / "seed.yaml").rename(tmp_path / "served-seed.yaml")
        use_provider(quickstart, f"provider: {{ type: tiktok, url: '{server.url}', qps: 200 }}")
        env = {"TIKTOK_ACCESS_TOKEN": OWNER, "BCSYNC_ALLOWED_API_URLS": f"{server.url}/"}
        result = bcsync("plan", str(quickstart), "--now", NOW, env=env)
        assert result.exit_code == 0, result.output
        assert "to add" in result.output
    finally:
        stop(server)


BAD_TOKENS = [
    "Zq8Xv3Lm\u200bPw7Rt2Ny",  # a zero-width space from copy and paste
    "Zq8Xv3Lm\nPw7Rt2Ny",
    "Zq8Xv3LmPw7Rt2Ny\n",
    "Zq8Xv3LmPw7Rt2Ny ",  # a trailing space
]


def fragments(token: str, size: int = 4) -> set[str]:
    """Every run of `size` visible characters of the token."""
    parts = re.split(r"[^!-~]", token)
    return {part[i : i + size] for part in parts for i in range(len(part) - size + 1)}


@pytest.mark.parametrize("token", BAD_TOKENS)
@pytest.mark.parametrize("debug", [(), ("--debug",)])
def test_a_token_a_header_cannot_carry_is_refused_unprinted(
    bcsync: Bcsync, quickstart: Path, listener: Listener, token: str, debug: tuple[str, ...]
) -> None:
    use_provider(
        quickstart, f"provider: {{ type: tiktok, url: 'http://127.0.0.1:{listener.port}' }}"
    )
    env = {
        "TIKTOK_ACCESS_TOKEN": token,
        "BCSYNC_ALLOWED_API_URLS": f"http://127.0.0.1:{listener.port}",
    }
    result = bcsync(*debug, "plan", str(quickstart), "--now", NOW, env=env)
    assert result.exit_code == 1, result.output
    assert "HTTP header cannot carry" in result.stderr and "Traceback" not in result.output
    shown = result.stdout + result.stderr
    assert fragments(token) and [f for f in fragments(token) if f in shown] == []
    listener.close()
    assert listener.connections == 0


def test_exported_tiktok_token_does_not_reach_the_local_provider(
    bcsync: Bcsync, quickstart: Path
) -> None:
    env = {"TIKTOK_ACCESS_TOKEN": SECRET, "BCSYNC_EMULATOR_TOKEN": "x\u200by"}
    result = bcsync("plan", str(quickstart), "--now", NOW, env=env)
    assert result.exit_code == 0, result.output
    assert "to add" in result.output and SECRET not in result.output
