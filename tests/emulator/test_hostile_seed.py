"""Hostile seed files: refused with a located SeedError (exit 3), never a hang, crash or flood."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from bcsync.emulator import EmulatorError, SeedError, create_app, load_seed, seedfile

from .world import SEED

SECRET = "tok-VERY-SECRET-0123"


def refused(file: Path) -> str:
    """The SeedError text for `file`, which must come within five seconds."""
    outcome: dict[str, Any] = {}

    def load() -> None:
        try:
            load_seed(file)
        except Exception as exc:  # handed to the test thread to assert on
            outcome["error"] = exc

    worker = threading.Thread(target=load, daemon=True)  # a hang must not hang the suite
    worker.start()
    worker.join(timeout=5)
    assert not worker.is_alive(), f"loading {file} hangs"
    error = outcome.get("error")
    assert isinstance(error, SeedError), repr(error)
    text = str(error)
    assert len(text) < 5000, "the error floods the terminal"
    return text


def write(tmp_path: Path, text: str | bytes, name: str = "seed.yaml") -> Path:
    file = tmp_path / name
    file.write_bytes(text.encode() if isinstance(text, str) else text)
    return file


def test_a_fifo_is_refused_without_being_opened(tmp_path: Path) -> None:
    fifo = tmp_path / "seed.yaml"
    os.mkfifo(fifo)  # opening it for reading would wait for a writer forever
    assert "not a regular file" in refused(fifo)


def test_a_link_to_dev_zero_is_refused_without_reading(tmp_path: Path) -> None:
    link = tmp_path / "seed.yaml"
    link.symlink_to("/dev/zero")
    started = time.perf_counter()
    assert "not a regular file" in refused(link)
    assert time.perf_counter() - started < 2


def test_a_directory_is_refused(tmp_path: Path) -> None:
    assert "not a regular file" in refused(tmp_path)


def test_size_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(seedfile, "MAX_BYTES", 1000)
    file = write(tmp_path, "version: 1\n" + "# padding\n" * 200)
    assert "larger than 1,000 bytes" in refused(file)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("version: 1\nusers: " + "[" * 200_000 + "]" * 200_000 + "\n", "seed.yaml:2:"),
        ("version: 1\nusers: " + "{a: " * 100 + "1" + "}" * 100 + "\n", "nested more than 64"),
        ("version: 1\nusers:\n" + "- " * 100 + "x\n", "nested more than 64"),
    ],
    ids=["flow-200k", "mappings-100", "block-100"],
)
def test_deep_nesting_is_refused_located(tmp_path: Path, text: str, fragment: str) -> None:
    # pyyaml's C composer segfaults on the first one; the error must name where, not crash.
    message = refused(write(tmp_path, text))
    assert fragment in message and "nested more than 64 levels" in message


def test_a_5000_digit_number_is_refused(tmp_path: Path) -> None:
    message = refused(write(tmp_path, "version: 1\nusers:\n  - user_id: " + "9" * 5000 + "\n"))
    assert "seed.yaml:3:" in message and "more than 40 digits" in message
    assert "9" * 100 not in message


@pytest.mark.parametrize("value", [".inf", "-.inf", ".nan", "1.0e+999"])
def test_non_finite_numbers_are_refused(tmp_path: Path, value: str) -> None:
    text = f"version: 1\nsettings:\n  invite_accept_after_seconds: {value}\n"
    assert "seed.yaml:3:32: not a finite number" in refused(write(tmp_path, text))


def test_utf8_errors_are_located(tmp_path: Path) -> None:
    file = write(tmp_path, b"version: 1\nusers:\n  - name: caf\xe9\n")
    assert "seed.yaml:3:14: not UTF-8 (byte 0xe9)" in refused(file)


def test_an_alias_bomb_is_refused_small_and_fast(tmp_path: Path) -> None:
    lines = ["version: 1", f"a0: &a0 [{', '.join(['lol'] * 9)}]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    started = time.perf_counter()
    message = refused(write(tmp_path, "\n".join(lines) + "\n"))
    assert "aliases expand to more than 100,000 values" in message
    assert time.perf_counter() - started < 3
    assert "lol" not in message


def test_modest_aliases_and_merges_still_work(tmp_path: Path) -> None:
    seed = yaml.safe_dump(SEED, sort_keys=False)
    seed = seed.replace("name: Test Co\n", "name: &co Test Co\n", 1)
    seed += "settings: &s {invite_accept_after_seconds: 5}\n"
    file = write(tmp_path, seed)
    assert load_seed(file)["settings"]["invite_accept_after_seconds"] == 5
    merged = "defaults: &d {a: 1, b: 2}\nthing:\n  <<: *d\n  b: 3\n"
    assert seedfile.parse(merged, "m.yaml")["thing"] == {"a": 1, "b": 3}


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("version: 1\n---\nversion: 1\n", "seed.yaml:2:1: more than one YAML document"),
        ("version: !!python/object:os.system x\n", "seed.yaml:1:10: unsupported YAML tag"),
        ("version: !custom [1]\n", "seed.yaml:1:10: unsupported YAML tag !custom"),
        ("version: 1\nusers: *nowhere\n", "seed.yaml:2:8: undefined alias *nowhere"),
        ("a: &x [*x]\n", "refers to itself"),
        ("? [a]\n: 1\n", "a mapping key must be a plain string"),
        ("users:\n  - a: 1\n    a: 2\n", "seed.yaml:3:5: duplicate key 'a'"),
        ("version: 1\n\tusers: []\n", "seed.yaml:2:1: invalid YAML"),
        ("version: 1\x07\n", "seed.yaml:1:11: unacceptable character #x0007: control characters"),
    ],
)
def test_yaml_problems_are_located(tmp_path: Path, text: str, fragment: str) -> None:
    assert fragment in refused(write(tmp_path, text))


def _with_token(users: Any) -> dict[str, Any]:
    return {"version": 1, "users": users, "business_centers": []}


@pytest.mark.parametrize(
    "data",
    [
        _with_token({"user_id": "1", "email": "a@b.example", "name": "A", "token": SECRET}),
        _with_token([{"user_id": "1", "email": "a@b.example", "name": "A", "token": [SECRET]}]),
        _with_token([{"user_id": 1, "email": "a@b.example", "name": SECRET, "token": SECRET}]),
        _with_token([{"user_id": "1", "email": SECRET, "name": "A", "token": SECRET}]),
    ],
    ids=["users-not-a-list", "token-not-text", "name-equals-token", "bad-email"],
)
def test_seed_tokens_are_never_printed(tmp_path: Path, data: dict[str, Any]) -> None:
    message = refused(write(tmp_path, yaml.safe_dump(data)))
    assert SECRET not in message and "VERY-SECRET" not in message


def test_a_short_token_is_not_echoed(tmp_path: Path) -> None:
    user = {"user_id": "1", "email": "a@b.example", "name": "A", "token": "sh0rt"}
    message = refused(write(tmp_path, yaml.safe_dump(_with_token([user]))))
    assert "sh0rt" not in message and "users[0].token" in message


def test_many_problems_are_capped(tmp_path: Path) -> None:
    users = [{"user_id": "x", "email": "a@b.example", "name": "A"} for _ in range(500)]
    message = refused(write(tmp_path, yaml.safe_dump(_with_token(users))))
    assert "more problem(s)" in message


def test_the_app_refuses_a_hostile_seed_and_creates_nothing(tmp_path: Path) -> None:
    fifo = tmp_path / "seed.yaml"
    os.mkfifo(fifo)
    with pytest.raises(EmulatorError, match="not a regular file"):
        create_app(tmp_path / "e.db", fifo)
    with pytest.raises(EmulatorError, match="holds no emulator database yet"):
        create_app(tmp_path / "e.db")


def test_a_lone_surrogate_in_a_dict_seed_is_refused() -> None:
    seed = {**SEED, "users": [{**SEED["users"][0], "name": "Ann \udc00"}, *SEED["users"][1:]]}
    with pytest.raises(SeedError, match=r"users\[0\]\.name: not valid Unicode text"):
        load_seed(seed)


@pytest.mark.parametrize("loader", ["libyaml", "pure-python"])
def test_a_lone_surrogate_escape_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, loader: str
) -> None:
    if loader == "pure-python":  # libyaml refuses the escape itself; pyyaml's reader does not
        monkeypatch.setattr(seedfile, "_Parser", yaml.SafeLoader)
    message = refused(write(tmp_path, 'version: 1\nusers:\n  - name: "a\\ud800b"\n'))
    assert "seed.yaml:3:" in message and "Unicode" in message
