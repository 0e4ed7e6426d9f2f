"""Inputs that once ended in exit 70 (issue 17), each refused for its reason, through the CLI.

Each case names the input, the exit code it must get (3: invalid input, located; 64: a usage
error) and where the message points. The fuzz tests (tests/unit/test_cli_fuzz.py) keep the
general promise; these pin the cases the issue reported and their variants.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from .conftest import NOW, Bcsync

IDNA_INVALID = "https://xn--business-api.tiktok.com/"


def use_provider(config: Path, provider: str) -> None:
    """Replace the quickstart's provider block with `provider` (one flow mapping)."""
    text = config.read_text()
    text = re.sub(r"provider:\n  type: local\n  seed: seed.yaml\n", f"provider: {provider}\n", text)
    config.write_text(text)


def line_of(config: Path, needle: str) -> int:
    return next(i for i, line in enumerate(config.read_text().splitlines(), 1) if needle in line)


@pytest.mark.parametrize(
    "url",
    [
        IDNA_INVALID,
        "https://xn--.tiktok.com/",
        "https://business-api.tiktok.com:99999/",
        "https://[::1/",
        "https://user@business-api.tiktok.com/",
        "https://exa mple.com/",
        "http://10.0.0.5/",  # plain http off this machine: plan always refused it
    ],
)
def test_a_provider_url_plan_would_refuse_is_a_located_validate_error(
    bcsync: Bcsync, quickstart: Path, url: str
) -> None:
    config = quickstart / "bcsync.yaml"
    use_provider(config, json.dumps({"type": "tiktok", "url": url}))
    line = line_of(config, "provider:")
    checked = bcsync("validate", str(quickstart))
    assert checked.exit_code == 3, checked.output
    assert f"bcsync.yaml:{line}:" in checked.output and "error: provider.url:" in checked.output
    planned = bcsync("plan", str(quickstart), "--now", NOW, env={"TIKTOK_ACCESS_TOKEN": "t0ken"})
    assert planned.exit_code == 3, planned.output
    assert "provider.url" in planned.output and "Internal error" not in planned.output
    assert "t0ken" not in planned.output


def test_the_allow_list_cannot_make_an_idna_invalid_url_usable(
    bcsync: Bcsync, quickstart: Path
) -> None:
    use_provider(quickstart / "bcsync.yaml", json.dumps({"type": "tiktok", "url": IDNA_INVALID}))
    env = {"TIKTOK_ACCESS_TOKEN": "t0ken", "BCSYNC_ALLOWED_API_URLS": IDNA_INVALID}
    planned = bcsync("plan", str(quickstart), "--now", NOW, env=env)
    assert planned.exit_code == 3, planned.output
    assert "not valid IDNA" in planned.output


@pytest.mark.parametrize(
    ("now", "why"),
    [
        ("9999-12-31", "out of range"),  # + 14 days of expiry warnings overflowed: exit 70
        ("0001-01-01", "out of range"),
        ("8000-01-01", "out of range"),
        ("2026-02-30", "expected YYYY-MM-DD"),
        ("2026-01-01T25:00:00Z", "expected YYYY-MM-DD"),  # once cut to its first 10 characters
        ("2026-01-01junk", "expected YYYY-MM-DD"),
        ("\x1b[2J", "expected YYYY-MM-DD"),
    ],
)
@pytest.mark.parametrize("command", ["validate", "plan", "expiring", "report"])
def test_now_out_of_range_or_malformed_is_a_usage_error(
    bcsync: Bcsync, quickstart: Path, command: str, now: str, why: str
) -> None:
    result = bcsync(command, str(quickstart), "--now", now)
    assert result.exit_code == 64, result.output
    assert "--now" in result.output and why in result.output
    assert "\x1b" not in result.output


def test_the_last_day_now_accepts_still_computes(bcsync: Bcsync, quickstart: Path) -> None:
    """7999-12-31 plus the widest --within window (99,999 weeks) still fits in a date."""
    result = bcsync("expiring", str(quickstart), "--now", "7999-12-31", "--within", "99999w")
    assert result.exit_code in (0, 2), result.output


def test_an_hour_25_expiry_is_formatted_as_written_and_refused_by_validate(
    bcsync: Bcsync, quickstart: Path
) -> None:
    """`fmt` leaves dates as written (it used to crash building one); validate locates it."""
    config = quickstart / "bcsync.yaml"
    config.write_text(
        config.read_text().replace("expires: 2027-06-30", "expires: 2026-01-01T25:00:00Z")
    )
    line = line_of(config, "2026-01-01T25:00:00Z")
    formatted = bcsync("fmt", "--check", str(config))
    assert formatted.exit_code == 0, formatted.output
    assert "expires: 2026-01-01T25:00:00Z" in config.read_text()
    checked = bcsync("validate", str(config))
    assert checked.exit_code == 3, checked.output
    assert f"bcsync.yaml:{line}:14: error: members.temp@contractor.example.expires:" in (
        checked.output
    )


def test_an_audit_line_with_a_5000_digit_number_is_a_located_warning(
    bcsync: Bcsync, tmp_path: Path
) -> None:
    log = tmp_path / "audit.jsonl"
    good = {"time": "2026-11-25T10:00:00.000Z", "bc_id": "1", "op": "assign", "result": "succeeded"}
    log.write_text(
        json.dumps(good) + "\n" + '{"time": ' + "9" * 5000 + "}\n" + json.dumps(good) + "\n"
    )
    result = bcsync("audit", "--log", str(log))
    assert result.exit_code == 0, result.output
    assert f"{log}:2: warning: a number too long to read; skipped" in result.output
    assert "2 record(s)" in result.output


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (("audit", "--since", "0001-01-01T00:00:00+01:00"), "--since"),
        (("audit", "--since", "9999-12-31"), "--since"),
        (("audit", "--since", "2026-13-01"), "--since"),
        (("history", "--since", "0001-01-01"), "--since"),
    ],
)
def test_since_out_of_range_is_a_usage_error(
    bcsync: Bcsync, tmp_path: Path, args: tuple[str, ...], option: str
) -> None:
    (tmp_path / "audit.jsonl").write_text("")
    result = (
        bcsync(*args, "--log", str(tmp_path / "audit.jsonl"))
        if args[0] == "audit"
        else (bcsync(*args))
    )
    assert result.exit_code == 64, result.output
    assert option in result.output


def test_control_characters_in_audit_records_and_git_authors_reach_the_terminal_escaped(
    bcsync: Bcsync, quickstart: Path, tmp_path: Path
) -> None:
    hostile = "\x1b]0;pwned\x07\x1b[2J\r\u202e"
    raw = {"\x1b", "\x07", "\r", "\u202e"}
    log = tmp_path / "audit.jsonl"
    record = {"time": "2026-11-25T10:00:00.000Z", "bc_id": "1", "op": "assign"}
    record |= {"actor": hostile, "result": "failed", "error": hostile}
    log.write_text(json.dumps(record) + "\n")
    shown = bcsync("audit", "--log", str(log))
    assert shown.exit_code == 0, shown.output
    assert not raw & set(shown.output)
    assert "\\x1b]0;pwned\\x07\\x1b[2J" in shown.output and "\\u202e" in shown.output

    git = ["git", "-C", str(tmp_path), "-c", f"user.name=Eve{hostile}", "-c", "user.email=e@x.io"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "quickstart"], check=True)
    subprocess.run([*git, "commit", "-qm", f"add {hostile}"], check=True)
    history = bcsync("history", str(quickstart), "--now", NOW)
    assert history.exit_code == 0, history.output
    assert not raw & set(history.output)
    assert "Eve\\x1b]0;pwned" in history.output
