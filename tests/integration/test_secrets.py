"""No access token in output, plan files, audit records or error messages."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from .conftest import NOW, Bcsync, Served, serve_emulator

SECRET = "tok-SECRET-do-not-leak-7f3a9"
WRONG = "tok-SECRET-wrong-token-b81c"


@pytest.fixture
def secret_world(quickstart: Path, tmp_path: Path) -> tuple[Path, Served]:
    """The quickstart served with the owner's token replaced by a recognisable secret."""
    seed = tmp_path / "secret-seed.yaml"
    seed.write_text(
        (quickstart / "seed.yaml").read_text().replace("local-acme-owner-token", SECRET)
    )
    (quickstart / "seed.yaml").unlink()
    server = serve_emulator(seed, tmp_path / "secret.db")
    config = quickstart / "bcsync.yaml"
    config.write_text(
        config.read_text().replace(
            "type: local\n  seed: seed.yaml", f"type: emulator\n  url: {server.url}\n  qps: 200"
        )
    )
    yield quickstart, server  # type: ignore[misc]
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()


def test_token_never_leaks(bcsync: Bcsync, secret_world: tuple[Path, Served]) -> None:
    config_dir, _ = secret_world
    env = {"TIKTOK_ACCESS_TOKEN": SECRET}
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
        wrong = bcsync(*args, str(config_dir), "--now", NOW, env={"TIKTOK_ACCESS_TOKEN": WRONG})
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
    assert "TIKTOK_ACCESS_TOKEN" in result.output
    assert "Traceback" not in result.output
