"""The local Business Center's state: beside the config, reset and accept through the CLI."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .conftest import NOW, Bcsync

DB = Path(".bcsync") / "local" / "seed.yaml.db"


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory that is neither the config's nor the state dir's."""
    where = tmp_path / "elsewhere"
    where.mkdir()
    monkeypatch.chdir(where)
    return where


def plan(bcsync: Bcsync, config_dir: Path) -> tuple[int, str]:
    result = bcsync("plan", str(config_dir), "--detailed-exitcode", "--now", NOW)
    assert result.exit_code in (0, 2), result.output
    return result.exit_code, result.output


def apply(bcsync: Bcsync, config_dir: Path) -> None:
    result = bcsync("apply", str(config_dir), "--auto-approve", "--now", NOW)
    assert result.exit_code == 0, result.output


def test_state_lives_beside_the_config_whatever_the_cwd(
    bcsync: Bcsync, quickstart: Path, elsewhere: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    apply(bcsync, quickstart)
    assert (quickstart / DB).is_file()
    assert not any(p.suffix == ".db" for p in elsewhere.rglob("*"))
    assert not any(p.suffix == ".db" for p in (bcsync.workdir / ".bcsync").rglob("*"))
    # From the config's own directory, by a relative path: the same state (applied, so fewer
    # changes than the seed's).
    monkeypatch.chdir(quickstart)
    code, output = plan(bcsync, Path("."))
    assert code == 0 and "waiting for acceptance" in output
    assert sorted(p.name for p in (quickstart / DB).parent.iterdir()) == ["seed.yaml.db"]


def test_accept_then_apply_converges_and_reset_starts_over(
    bcsync: Bcsync, quickstart: Path, elsewhere: Path
) -> None:
    apply(bcsync, quickstart)
    for email in ("grace@acme.com", "temp@contractor.example"):
        accepted = bcsync("emulator", "accept", email, str(quickstart))
        assert accepted.exit_code == 0, accepted.output
        assert f"{email} joined Business Center 7012345678901234567" in accepted.output
    code, output = plan(bcsync, quickstart)
    assert code == 2 and "grace@acme.com" in output  # grants that waited for her to join
    apply(bcsync, quickstart)
    code, output = plan(bcsync, quickstart)
    assert code == 0 and "waiting" not in output

    reset = bcsync("emulator", "reset", str(quickstart))
    assert reset.exit_code == 0, reset.output
    assert f"Reset {quickstart / DB} from {quickstart / 'seed.yaml'}" in reset.output
    code, output = plan(bcsync, quickstart)
    assert code == 2 and "mallory@acme.com" in output


def test_reset_from_the_config_directory_by_default(
    bcsync: Bcsync, quickstart: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(quickstart)
    apply(bcsync, Path("bcsync.yaml"))
    reset = bcsync("emulator", "reset")
    assert reset.exit_code == 0, reset.output
    assert reset.output.startswith(f"Reset {DB} from seed.yaml: 1 Business Center(s)")
    assert plan(bcsync, Path("bcsync.yaml"))[0] == 2


def test_agency_resets_one_world_for_three_business_centers(
    bcsync: Bcsync, agency: Path, elsewhere: Path
) -> None:
    reset = bcsync("emulator", "reset", str(agency))
    assert reset.exit_code == 0, reset.output
    assert reset.output.count("Reset ") == 1 and "3 Business Center(s)" in reset.output


def test_accept_names_what_is_pending_when_the_email_is_not(
    bcsync: Bcsync, quickstart: Path, elsewhere: Path
) -> None:
    result = bcsync("emulator", "accept", "nobody@acme.com", str(quickstart))
    assert result.exit_code == 1, result.output
    assert "no pending invitation of 'nobody@acme.com'" in result.output
    assert "pending: temp@contractor.example" in result.output


def test_decline(bcsync: Bcsync, quickstart: Path, elsewhere: Path) -> None:
    result = bcsync("emulator", "accept", "TEMP@contractor.example", str(quickstart), "--decline")
    assert result.exit_code == 0, result.output
    assert "temp@contractor.example declined the invitation" in result.output
    again = bcsync("emulator", "accept", "temp@contractor.example", str(quickstart))
    assert again.exit_code == 1, again.output


def test_seed_setting_accepts_invitations_automatically(
    bcsync: Bcsync, quickstart: Path, elsewhere: Path
) -> None:
    seed = quickstart / "seed.yaml"
    text = seed.read_text().replace(
        "invite_accept_after_seconds: null", "invite_accept_after_seconds: 0"
    )
    assert text != seed.read_text()
    seed.write_text(text)
    apply(bcsync, quickstart)
    apply(bcsync, quickstart)  # the grants that wait for a joined member
    code, output = plan(bcsync, quickstart)
    assert code == 0 and "waiting" not in output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("reset", "{q}", "--seed", "{q}/seed.yaml"), "not both"),
        (("reset", "--db", "x.db"), "--db goes with --seed"),
        (("reset", "{served}"), "no local Business Center"),
        (("accept", "grace@acme.com", "{served}"), "no local Business Center"),
    ],
)
def test_usage_mistakes_exit_64(
    bcsync: Bcsync, quickstart: Path, tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    served = tmp_path / "served"
    served.mkdir()
    (served / "bcsync.yaml").write_text(
        (quickstart / "bcsync.yaml")
        .read_text()
        .replace("type: local\n  seed: seed.yaml", "type: emulator\n  url: http://127.0.0.1:9")
    )
    filled = [a.format(q=quickstart, served=served) for a in args]
    result = bcsync("emulator", *filled)
    assert result.exit_code == 64, result.output
    assert message in result.output


def test_reset_with_seed_and_db_still_resets_a_served_database(
    bcsync: Bcsync, quickstart: Path, tmp_path: Path
) -> None:
    db = tmp_path / "served.db"
    result = bcsync("emulator", "reset", "--seed", str(quickstart / "seed.yaml"), "--db", str(db))
    assert result.exit_code == 0, result.output
    assert db.is_file() and not (quickstart / DB).exists()


def test_local_state_directory_is_private(bcsync: Bcsync, quickstart: Path) -> None:
    old = os.umask(0o022)
    try:
        assert bcsync("emulator", "reset", str(quickstart)).exit_code == 0
    finally:
        os.umask(old)
    assert (quickstart / DB).parent.stat().st_mode & 0o077 == 0


def test_a_database_of_another_emulator_version_says_how_to_reset(
    bcsync: Bcsync, quickstart: Path, elsewhere: Path
) -> None:
    import sqlite3

    apply(bcsync, quickstart)
    db = quickstart / ".bcsync" / "local" / "seed.yaml.db"
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    refused = bcsync("plan", str(quickstart), "--now", NOW)
    assert refused.exit_code == 1, refused.output
    assert f"bcsync emulator reset {quickstart}" in refused.output
    assert "Traceback" not in refused.output
    assert bcsync("emulator", "reset", str(quickstart)).exit_code == 0
    assert plan(bcsync, quickstart)[0] == 2  # a fresh world: the seed's changes are pending again
