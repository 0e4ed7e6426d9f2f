"""The shared readers every hostile file goes through: config, seed and plan files alike."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from bcsync.files.composer import ComposeFailed, Rules, compose
from bcsync.files.reader import (
    BadText,
    FileTooLarge,
    NotRegularFile,
    decode_utf8,
    read_regular,
)


def test_a_regular_file_is_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x" * 10)
    assert read_regular(path, 10) == b"x" * 10


def test_one_byte_over_the_cap_is_refused_with_its_size(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x" * 11)
    with pytest.raises(FileTooLarge) as caught:
        read_regular(path, 10)
    assert (caught.value.size, caught.value.limit) == (11, 10)


def test_a_head_read_takes_the_first_bytes_of_a_big_file(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"abc" * 1000)
    assert read_regular(path, 5, head=True) == b"abcab"


@pytest.mark.parametrize(
    ("make", "is_dir"),
    [
        (lambda p: os.mkfifo(p), False),
        (lambda p: os.symlink("/dev/zero", p), False),
        (lambda p: p.mkdir(), True),
    ],
    ids=["fifo", "link to /dev/zero", "directory"],
)
def test_anything_but_a_regular_file_is_refused_unopened(
    tmp_path: Path, make: Callable[[Path], object], is_dir: bool
) -> None:
    path = tmp_path / "f"
    make(path)
    with pytest.raises(NotRegularFile) as caught:
        read_regular(path, 1 << 20)
    assert caught.value.is_dir is is_dir


def test_a_missing_file_is_the_os_error() -> None:
    with pytest.raises(FileNotFoundError):
        read_regular("/nonexistent/bcsync/file", 10)


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"], ids=["plain", "with BOM"])
def test_bad_utf8_is_located_after_any_byte_order_mark(bom: bytes) -> None:
    with pytest.raises(BadText) as caught:
        decode_utf8(bom + b"a: 1\nb: caf\xe9\n")
    assert (caught.value.byte, caught.value.line, caught.value.column) == (0xE9, 2, 7)


def test_the_composer_records_every_position() -> None:
    composer = compose("a:\n  b: [1, x]\n")
    assert composer.data == {"a": {"b": [1, "x"]}}
    assert composer.marks[("a", "b", 1)] == (2, 10)
    assert composer.key_marks[("a", "b")] == (2, 3)


def test_duplicate_keys_are_all_reported_and_composing_goes_on() -> None:
    composer = compose("a: 1\na: 2\nb: 1\nb: 2\n")
    assert [(p.line, p.message[:17]) for p in composer.problems] == [
        (2, "duplicate key 'a'"),
        (4, "duplicate key 'b'"),
    ]


SEEDLIKE = Rules(max_int_digits=5, finite_floats=True, encodable_text=True, max_alias_values=3)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: 123456\n", "more than 5 digits"),
        ("a: .inf\n", "not a finite number"),
        ('a: "x\\ud800"\n', "not valid Unicode text"),
        ("a: &x [1, 2]\nb: [*x, *x]\n", "aliases expand to more than 3 values"),
    ],
)
def test_rules_refuse_what_a_kind_of_file_may_not_hold(text: str, message: str) -> None:
    # pyyaml's own parser: libyaml already refuses the surrogate escape itself.
    compose(text, parser=yaml.SafeLoader)  # the default rules accept each of these
    with pytest.raises(ComposeFailed) as caught:
        compose(text, SEEDLIKE, yaml.SafeLoader)
    assert message in caught.value.problems[-1].message
    assert caught.value.problems[-1].line is not None


def test_the_node_cap_bounds_alias_bombs() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 8)]
    with pytest.raises(ComposeFailed, match="more than 1,000 nodes"):
        compose("\n".join(lines) + "\n", Rules(max_nodes=1000))


def test_dates_stay_the_text_written() -> None:
    assert compose("d: 2027-01-31\n").data == {"d": "2027-01-31"}
