"""The YAML loader: positions, duplicate keys, safe loading, limits, file discovery."""

from __future__ import annotations

import hashlib
import os
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from bcsync.config import load, load_strict
from bcsync.config import loader as loader_module
from bcsync.config.loader import LoadFailed, discover, parse_document
from bcsync.errors import ConfigError

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
NOW = date(2026, 1, 1)
VALID = (
    'version: 1\nbusiness_center: { id: "1" }\n'
    "members:\n  owner@acme.com: { role: admin }\n  ops@acme.com: { role: admin }\n"
)


def failure(raw: bytes) -> list[tuple[int | None, int | None, str]]:
    with pytest.raises(LoadFailed) as info:
        parse_document("t.yaml", raw)
    return [(p.line, p.col, p.message) for p in info.value.problems]


def test_marks_are_one_based_for_keys_and_values() -> None:
    doc = parse_document("t.yaml", b"a: 1\nmembers:\n  bob@x.io:\n    role: admin\n  l: [x, y]\n")
    assert doc.key_marks[("members", "bob@x.io", "role")] == (4, 5)
    assert doc.marks[("members", "bob@x.io", "role")] == (4, 11)
    assert doc.marks[("members", "l", 1)] == (5, 10)
    assert doc.locate(("members", "bob@x.io", "missing")) == (4, 5)
    assert doc.line_ref(("members", "bob@x.io")) == "t.yaml:3"


def test_every_duplicate_key_is_reported() -> None:
    raw = b"a: 1\nb:\n  x: 1\n  x: 2\na: 3\n"
    assert failure(raw) == [
        (4, 3, "duplicate key 'x' (first defined at line 3)"),
        (5, 1, "duplicate key 'a' (first defined at line 1)"),
    ]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"a: &x [*x]\n", "recursive alias *x"),
        (b"? [a]\n: b\n", "a mapping key must be a plain string"),
        (b"a: &k k\n*k : v\n", "an alias cannot be used as a mapping key"),
        (b"a: " + b"[" * 80 + b"]" * 80 + b"\n", "nested more than 64 levels deep"),
        (b"a: !!set {x}\n", "unsupported YAML tag"),
        (b"a: !!python/name:os.system x\n", "unsupported YAML tag"),
        (b"b: {x: 1}\na:\n  <<: 5\n", "a merge key '<<' needs a mapping"),
        (b"a: !!binary QQ=\n", "cannot read 'QQ=' as binary: failed to decode base64"),
    ],
)
def test_unsafe_or_unsupported_yaml_is_a_located_error(raw: bytes, message: str) -> None:
    problems = failure(raw)
    assert len(problems) == 1
    line, col, text = problems[0]
    assert message in text
    assert line is not None and line >= 1 and col is not None and col >= 1


def test_alias_bombs_are_bounded() -> None:
    lines = ["a0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 8)]
    [(_, _, message)] = failure("\n".join(lines).encode())
    assert message.startswith("document too large")


def test_merge_keys_and_aliases_are_supported() -> None:
    raw = b"base: &b {role: admin, finance_role: manager}\nm:\n  <<: *b\n  role: standard\n"
    doc = parse_document("t.yaml", raw)
    assert doc.data["m"] == {"role": "standard", "finance_role": "manager"}
    assert doc.key_marks[("m", "finance_role")] == (3, 3)


def test_scalars_keep_yaml_types_but_keys_and_dates_stay_text() -> None:
    doc = parse_document("t.yaml", b"1: yes\nno: 2027-01-31\nc: 2027-02-30\nd: 0x1f\ne: ~\n")
    assert doc.data == {"1": True, "no": "2027-01-31", "c": "2027-02-30", "d": 31, "e": None}


@pytest.mark.parametrize(
    "raw",
    [b"\xef\xbb\xbf" + VALID.encode(), "\ufeff".encode("utf-16-le") + VALID.encode("utf-16-le")],
)
def test_bom_encodings_are_read(raw: bytes) -> None:
    assert parse_document("t.yaml", raw).data["version"] == 1


def test_digest_is_the_sha256_of_the_bytes() -> None:
    raw = VALID.encode()
    assert parse_document("t.yaml", raw).digest == "sha256:" + hashlib.sha256(raw).hexdigest()


def test_control_character_is_located() -> None:
    assert failure(b"a: b\nc: d\x07\n") == [
        (2, 5, "unacceptable character #x0007: control characters are not allowed")
    ]


def test_file_over_the_size_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loader_module, "MAX_BYTES", 64)
    path = tmp_path / "big.yaml"
    path.write_text(VALID + "#" * 100)
    result = load([str(path)], now=NOW)
    [problem] = result.problems
    assert (problem.line, problem.col) == (None, None)
    assert problem.message.startswith("file too large")


def test_missing_path_is_located_to_the_file_only(tmp_path: Path) -> None:
    result = load(["nope.yaml"], now=NOW, cwd=str(tmp_path))
    [problem] = result.problems
    assert problem.format() == "nope.yaml: error: no such file or directory"


def deny(*_args: object, **_kwargs: object) -> None:
    raise PermissionError(13, "Permission denied")


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "c.yaml").write_text(VALID)
    with monkeypatch.context() as patch:
        patch.setattr(loader_module.os, "open", deny)  # root reads a chmod 000 file anyway
        [problem] = load(["c.yaml"], now=NOW, cwd=str(tmp_path)).problems
    assert problem.format() == "c.yaml: error: cannot read: Permission denied"


@pytest.mark.parametrize("named", [["conf"], []])
def test_unreadable_directory_is_an_error_not_an_empty_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, named: list[str]
) -> None:
    directory = tmp_path / ("conf" if named else "bcsync")
    directory.mkdir()
    (directory / "c.yaml").write_text(VALID)
    with monkeypatch.context() as patch:
        patch.setattr(Path, "iterdir", deny)
        [problem] = load(named, now=NOW, cwd=str(tmp_path)).problems
    assert problem.format() == f"{directory.name}: error: cannot list: Permission denied"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: os.mkfifo(p), "not a regular file"),
        (lambda p: os.symlink("/dev/zero", p), "not a regular file"),
        (lambda p: p.mkdir(), "not a regular file (a directory)"),
    ],
    ids=["fifo", "link-to-dev-zero", "directory"],
)
def test_only_regular_files_are_read(tmp_path: Path, make: Any, message: str) -> None:
    """Refused without reading: a FIFO would hang, /dev/zero would never end."""
    make(tmp_path / "c.yaml")
    # Named, and found in a directory (a directory named on the command line is listed).
    for paths in ([] if message.endswith("directory)") else [["c.yaml"]]) + [["."]]:
        [problem] = load(paths, now=NOW, cwd=str(tmp_path)).problems
        assert (Path(problem.file).name, problem.message) == ("c.yaml", message)


def test_directory_without_configs(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("x")
    [problem] = load(["."], now=NOW, cwd=str(tmp_path)).problems
    assert "no *.yaml or *.yml" in problem.message


@pytest.mark.parametrize(
    ("layout", "expected"),
    [
        ({"bcsync.yaml": VALID, "bcsync/a.yaml": "x"}, ["bcsync.yaml"]),
        ({"bcsync.yml": VALID}, ["bcsync.yml"]),
        (
            {"bcsync/b.yaml": VALID, "bcsync/a.yml": VALID, "bcsync/.hidden.yaml": "x"},
            ["bcsync/a.yml", "bcsync/b.yaml"],
        ),
    ],
)
def test_default_paths(tmp_path: Path, layout: dict[str, str], expected: list[str]) -> None:
    for name, text in layout.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    files, problems = discover([], cwd=str(tmp_path))
    assert problems == []
    assert [f.path for f in files] == expected


def test_no_default_config_says_what_was_looked_for(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_strict([], now=NOW, cwd=str(tmp_path))
    [problem] = info.value.problems
    assert "no configuration found" in problem.message
    assert "bcsync.yaml" in (problem.hint or "") and "bcsync/*.yaml" in (problem.hint or "")


def test_directory_skips_the_seed_its_configs_name() -> None:
    directory = FIXTURES / "dirs" / "with-seed"
    result = load([str(directory)], now=NOW)
    assert result.problems == []
    assert [Path(f).name for f in result.files] == ["bcsync.yaml"]
    # Named explicitly, the seed is read as a config (and is not one).
    explicit = load([str(directory / "seed.yaml")], now=NOW)
    assert explicit.errors


def test_directory_skips_an_unreferenced_seed_with_a_warning(tmp_path: Path) -> None:
    source = FIXTURES / "dirs" / "with-seed"
    config = (source / "bcsync.yaml").read_text()
    config = config.replace("type: local", "type: tiktok").replace("seed: seed.yaml", "")
    (tmp_path / "bcsync.yaml").write_text(config)
    (tmp_path / "seed.yaml").write_text((source / "seed.yaml").read_text())
    result = load([str(tmp_path)], now=NOW)
    assert result.errors == [], [p.format() for p in result.errors]
    [warning] = result.warnings
    assert warning.file.endswith("seed.yaml")
    assert "looks like an emulator seed" in warning.message
    assert [Path(f).name for f in result.files] == ["bcsync.yaml"]


def test_a_file_named_twice_is_read_once() -> None:
    path = FIXTURES / "valid" / "full.yaml"
    result = load([str(path), str(path.parent)], now=NOW)
    assert result.errors == []
    assert len(result.configs) == 1


def test_load_strict_returns_configs_or_raises_with_every_problem() -> None:
    configs = load_strict([str(FIXTURES / "valid" / "full.yaml")], now=NOW).configs
    assert [c.bc_id for c in configs] == ["7012345678901234567"]
    with pytest.raises(ConfigError) as info:
        load_strict([str(FIXTURES / "invalid" / "duplicate-key.yaml")], now=NOW)
    assert info.value.exit_code == 3
    assert len(info.value.problems) == 1


def test_four_thousand_members_load(tmp_path: Path) -> None:
    lines = ["version: 1", 'business_center: { id: "1" }', "assets:", "  ad_accounts:"]
    lines += [f'    a{i}: "71{i:05d}"' for i in range(50)]
    lines += ["groups:", "  g: { access: { ad_accounts: { a1: operator } } }", "members:"]
    for i in range(4000):
        role = "admin" if i < 2 else "standard"
        lines.append(
            f"  user{i}@acme.com: {{ role: {role}, groups: [g], access: {{ ad_accounts: "
            f"{{ a{i % 50}: analyst, a{(i + 7) % 50}: {{ role: operator, expires: 2030-01-01 }}"
            " } } }"
        )
    path = tmp_path / "big.yaml"
    path.write_text("\n".join(lines) + "\n")
    result = load([str(path)], now=NOW)
    assert result.problems == []
    assert len(result.configs[0].desired.members) == 4000
    # Three grants each, except where the group's a1 meets a member's own a1 (160 members).
    assert len(result.configs[0].desired.grants) == 4000 * 3 - 160


def test_a_missing_seed_is_a_warning(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text(VALID + "provider: { type: local, seed: world.yaml }\n")
    result = load(["c.yaml"], now=NOW, cwd=str(tmp_path))
    assert [(p.severity, p.line, p.col, p.message) for p in result.problems] == [
        ("warning", 6, 32, "seed file 'world.yaml' not found next to the config")
    ]
    (tmp_path / "world.yaml").write_text("version: 1\n")
    assert load(["c.yaml"], now=NOW, cwd=str(tmp_path)).problems == []


def big_seed() -> str:
    """A seed whose first keys say what it is; past 64 KiB it is not even YAML."""
    users = "".join(f"  - {{ user_id: '{i}', email: u{i}@acme.com }}\n" for i in range(3000))
    return "# seed\nversion: 1\nusers:\n" + users + "business_centers: [\x00\n"


@pytest.mark.parametrize("referenced", [True, False])
def test_a_seed_in_a_directory_is_recognised_without_parsing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, referenced: bool
) -> None:
    parsed: list[str] = []
    real_parse = loader_module.parse_document

    def spy(file: str, raw: bytes) -> Any:
        parsed.append(Path(file).name)
        return real_parse(file, raw)

    monkeypatch.setattr(loader_module, "parse_document", spy)
    provider = "provider: { type: local, seed: world.yaml }\n" if referenced else ""
    (tmp_path / "bcsync.yaml").write_text(VALID + provider)
    (tmp_path / "world.yaml").write_text(big_seed())
    assert len(big_seed()) > loader_module.SNIFF_BYTES
    result = load(["."], now=NOW, cwd=str(tmp_path))
    assert result.errors == [], [p.format() for p in result.errors]
    assert [Path(f).name for f in result.files] == ["bcsync.yaml"]
    assert parsed == ["bcsync.yaml"]
    warnings = [p.message for p in result.warnings]
    assert warnings == (
        [] if referenced else ["skipped: this looks like an emulator seed, not a config"]
    )


def test_a_config_with_a_seed_key_is_still_checked_as_a_config(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text(VALID + "users: [x]\n")
    [problem] = load(["."], now=NOW, cwd=str(tmp_path)).problems
    assert (problem.line, problem.message) == (6, "unknown key 'users'")


def test_checking_without_building_finds_the_same_problems() -> None:
    paths = [str(FIXTURES / "valid" / "full.yaml"), str(FIXTURES / "invalid" / "one-admin.yaml")]
    built = load(paths, now=NOW)
    checked = load(paths, now=NOW, build=False)
    assert checked.problems == built.problems and checked.files == built.files
    assert checked.checked == built.checked == [paths[0]] == [c.path for c in built.configs]
    assert checked.configs == []


def test_marks_behave_as_a_dict_of_paths() -> None:
    doc = parse_document("t.yaml", b"a:\n  b: [x, {c: 1}]\n")
    marks = doc.marks
    assert dict(marks) == {
        (): (1, 1),
        ("a",): (2, 3),
        ("a", "b"): (2, 6),
        ("a", "b", 0): (2, 7),
        ("a", "b", 1): (2, 10),
        ("a", "b", 1, "c"): (2, 14),
    }
    assert len(marks) == 6 and ("a", "b", 2) not in marks
    assert not marks.__contains__("a")  # a string is not a path
    assert marks.children(("a", "b")) == {0: (2, 7), 1: (2, 10)}
    assert dict(doc.key_marks) == {("a",): (1, 1), ("a", "b"): (2, 3), ("a", "b", 1, "c"): (2, 11)}


@pytest.mark.parametrize(
    ("head", "is_seed"),
    [
        (b"version: 1\nusers:\n  - email: a@x.com\n", True),
        (b'{"version": 1, "users": [{"email": "a@x.com"}]}', True),  # a seed written as JSON
        (b"version: 1\nbusiness_center: { id: '1' }\ngroups: { users: {} }\n", False),
        (b'{"version": 1, "business_center": {"id": "1"}, "groups": {"users": {}}}', False),
        (b"version: 1\nmembers: {}\n", False),
    ],
    ids=["yaml seed", "json seed", "config with a 'users' group", "json config", "config"],
)
def test_a_seed_is_recognised_from_its_first_keys(head: bytes, is_seed: bool) -> None:
    from bcsync.config.loader import looks_like_seed

    assert looks_like_seed(head) is is_seed
