"""The emulator opens and overwrites only its own SQLite files."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from bcsync.cli import cli
from bcsync.emulator import EmulatorError, create_app
from bcsync.emulator.store import APPLICATION_ID

from .world import SEED


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def foreign(tmp_path: Path) -> Path:
    """Someone else's SQLite database, with a `users` table the emulator would have dropped."""
    path = tmp_path / "app.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
        conn.execute("INSERT INTO users (name) VALUES ('precious')")
    conn.close()
    return path


@pytest.mark.parametrize("reset", [False, True])
def test_a_foreign_sqlite_database_is_refused_untouched(foreign: Path, reset: bool) -> None:
    before = digest(foreign)
    with pytest.raises(EmulatorError, match=r"did not create .*tables: users"):
        create_app(foreign, SEED, reset=reset)
    assert digest(foreign) == before
    assert not Path(f"{foreign}-wal").exists()
    with sqlite3.connect(foreign) as conn:
        assert conn.execute("SELECT name FROM users").fetchall() == [("precious",)]
    conn.close()


def test_a_foreign_table_called_meta_is_still_foreign(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE meta (id INTEGER)")
    conn.close()
    with pytest.raises(EmulatorError, match="did not create"):
        create_app(path, SEED, reset=True)


def test_a_file_that_is_not_sqlite_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("my notes, not a database\n" * 100)
    before = digest(path)
    with pytest.raises(EmulatorError, match="not an emulator database"):
        create_app(path, SEED, reset=True)
    assert digest(path) == before


def test_a_fifo_as_database_is_refused_without_a_hang(tmp_path: Path) -> None:
    fifo = tmp_path / "e.db"
    os.mkfifo(fifo)
    outcome: dict[str, Any] = {}

    def open_it() -> None:
        try:
            create_app(fifo, SEED)
        except EmulatorError as err:
            outcome["error"] = err.message

    worker = threading.Thread(target=open_it, daemon=True)
    worker.start()
    worker.join(timeout=5)
    assert not worker.is_alive()
    assert "not a regular file" in outcome["error"]


def test_its_own_database_is_marked_and_reopens(tmp_path: Path) -> None:
    path = tmp_path / "e.db"
    create_app(path, SEED).state.emulator.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    conn.close()
    again = create_app(path)  # no seed: the existing state is used
    assert again.state.emulator.created is False
    again.state.emulator.close()


def test_an_empty_sqlite_file_may_become_the_database(tmp_path: Path) -> None:
    path = tmp_path / "e.db"
    sqlite3.connect(path).close()  # zero bytes, or a header and no tables: nothing to lose
    app = create_app(path, SEED)
    assert app.state.emulator.created
    app.state.emulator.close()


def test_an_older_emulator_database_is_recognised_and_can_be_reset(tmp_path: Path) -> None:
    path = tmp_path / "e.db"
    create_app(path, SEED).state.emulator.close()
    with sqlite3.connect(path) as conn:  # as written before the header mark existed
        conn.execute("PRAGMA application_id = 0")
        conn.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    conn.close()
    with pytest.raises(EmulatorError, match="another emulator version"):
        create_app(path)
    app = create_app(path, SEED, reset=True)
    assert app.state.emulator.created
    app.state.emulator.close()


@pytest.mark.parametrize("command", ["serve", "reset"])
def test_the_cli_refuses_a_foreign_database_with_exit_1(
    tmp_path: Path, foreign: Path, command: str
) -> None:
    seed = tmp_path / "seed.yaml"
    seed.write_text(yaml.safe_dump(SEED))
    args = ["emulator", command, "--seed", str(seed), "--db", str(foreign)]
    result = CliRunner().invoke(cli, [*args, "--reset"] if command == "serve" else args)
    assert result.exit_code == 1, result.output
    assert "did not create" in result.stderr and "Traceback" not in result.output


def test_the_cli_refuses_a_hostile_seed_with_exit_3_and_no_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # without --db, reset would make .bcsync/emulator.db here
    seed = tmp_path / "seed.yaml"
    user = {"user_id": "1", "email": "a@b.example", "name": "A", "token": "tok-NEVER-SHOWN"}
    seed.write_text(yaml.safe_dump({"version": 1, "users": user, "business_centers": []}))
    result = CliRunner().invoke(cli, ["emulator", "reset", "--seed", str(seed)])
    assert result.exit_code == 3, result.output
    assert "seed.yaml:3:3: users:" in result.stderr and "NEVER-SHOWN" not in result.output
