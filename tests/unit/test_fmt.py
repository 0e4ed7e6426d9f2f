"""`bcsync fmt`: canonical order and quoting, comments kept, meaning never changed."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from bcsync.cli import cli
from bcsync.config.build import build_config
from bcsync.config.canonical import plain_safe, quote
from bcsync.config.fmt import FormatError, format_text
from bcsync.config.loader import parse_document
from bcsync.core.model import State
from tests.examples import copy_example

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = sorted(
    [
        ROOT / "examples" / "quickstart" / "bcsync.yaml",
        *(p for p in (ROOT / "examples" / "agency").glob("*.yaml") if p.name != "seed.yaml"),
        *(ROOT / "tests" / "fixtures" / "valid").glob("*.yaml"),
    ]
)
NOW = date(2026, 11, 25)


def desired(text: str) -> State:
    return build_config(parse_document("x.yaml", text.encode()), NOW).desired


def comments(text: str) -> list[str]:
    return sorted(line.strip() for line in text.splitlines() if line.strip().startswith("#"))


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_fmt_never_changes_meaning_and_is_idempotent(path: Path) -> None:
    before = path.read_text()
    after = format_text(before)
    assert format_text(after) == after
    assert yaml.safe_load(after) == yaml.safe_load(before)
    old, new = desired(before), desired(after)
    assert (old.members, old.assets, old.grants, old.partners, old.shares) == (
        new.members,
        new.assets,
        new.grants,
        new.partners,
        new.shares,
    )
    assert comments(after) == comments(before)


def test_keys_are_ordered_and_comments_travel_with_their_key() -> None:
    text = """\
# header: stays on top
members:
  # zed is the last one
  zed@acme.com: { finance_role: manager, role: admin }  # owner
  amy@acme.com:
    access:
      ad_accounts: { b: operator, a: analyst }
    role: standard
version: 1
business_center: { name: Acme, id: "1" }
"""
    assert (
        format_text(text)
        == """\
# header: stays on top
version: 1

business_center: { id: "1", name: Acme }

members:
  amy@acme.com:
    role: standard
    access:
      ad_accounts: { a: analyst, b: operator }
  # zed is the last one
  zed@acme.com: { role: admin, finance_role: manager }  # owner
"""
    )


def test_quoting_is_canonical_but_types_never_change() -> None:
    text = """\
version: 1
business_center:
  id: '7012345678901234567'
  name: "Acme Retail"
policy:
  max_removals: "25%"
  min_admins: 2
  protected: ['owner@acme.com', "partner:agency-x"]
members:
  "owner@acme.com": { role: 'admin', expires: 2027-01-31, reason: "yes" }
"""
    out = format_text(text)
    assert '  id: "7012345678901234567"\n' in out
    assert "  name: Acme Retail\n" in out
    assert "  max_removals: 25%\n" in out
    assert "  min_admins: 2\n" in out
    assert '  protected: [owner@acme.com, "partner:agency-x"]\n' in out
    assert '  owner@acme.com: { role: admin, expires: 2027-01-31, reason: "yes" }\n' in out
    assert yaml.safe_load(out) == yaml.safe_load(text)


def test_an_unquoted_id_stays_a_number_for_validate_to_report() -> None:
    out = format_text("version: 1\nbusiness_center: { id: 7012345678901234567 }\n")
    assert "id: 7012345678901234567 }" in out


def test_block_scalars_and_multiline_strings_are_kept() -> None:
    text = """\
version: 1
members:
  b@acme.com:
    role: standard
    reason: |
      line one
      # not a comment

      line three
  a@acme.com: { role: admin }
"""
    out = format_text(text)
    assert yaml.safe_load(out) == yaml.safe_load(text)
    assert out.index("a@acme.com") < out.index("b@acme.com")


def test_anchors_are_left_alone() -> None:
    with pytest.raises(FormatError, match="anchors"):
        format_text("version: 1\ngroups:\n  g: &x { access: {} }\n  h: *x\n")


def test_crlf_and_missing_final_newline() -> None:
    assert format_text("version: 1\r\nbusiness_center: {id: '1'}") == (
        'version: 1\n\nbusiness_center: { id: "1" }\n'
    )


@pytest.mark.parametrize(
    ("text", "plain"),
    [
        ("bob@acme.com", True),
        ("Acme Retail", True),
        ("25%", True),
        ("3d-agency", True),
        ("o'brien", True),
        ("7012345678901234567", False),
        ("2027-01-31", False),
        ("1e3", False),
        ("0x1F", False),
        ("yes", False),
        ("Null", False),
        ("partner:agency-x", False),
        ("a #b", False),
        ("@acme", False),
        ("-x", False),
        ("a, b", False),
        (" padded", False),
        ("", False),
        ("it'", False),
    ],
)
def test_plain_is_safe_only_when_yaml_reads_the_same_string(text: str, plain: bool) -> None:
    assert plain_safe(text) is plain
    for doc in (f"k: {quote(text)}", f"k: [{quote(text)}]", f"k: {{ a: {quote(text)} }}"):
        loaded = yaml.safe_load(doc)["k"]
        value = loaded[0] if isinstance(loaded, list) else loaded
        value = value["a"] if isinstance(value, dict) else value
        assert value == text


# --- the command ---------------------------------------------------------------------------


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


UNSORTED = "version: 1\nbusiness_center: { id: '1' }\nmembers:\n  b@x.com: {role: admin}\n"


def test_check_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "bcsync.yaml"
    path.write_text(UNSORTED)
    code, output = run("fmt", "--check", str(path))
    assert code == 2 and "would reformat" in output
    assert path.read_text() == UNSORTED


def test_fmt_writes_then_check_passes(tmp_path: Path) -> None:
    path = tmp_path / "bcsync.yaml"
    path.write_text(UNSORTED)
    assert run("fmt", str(path))[0] == 0
    assert path.read_text() == format_text(UNSORTED)
    assert run("fmt", "--check", str(path)) == (0, "0 file(s) would reformat, 1 unchanged.\n")


def test_diff_shows_the_change(tmp_path: Path) -> None:
    path = tmp_path / "bcsync.yaml"
    path.write_text(UNSORTED)
    code, output = run("fmt", "--diff", str(path))
    assert code == 2
    assert "-business_center: { id: '1' }" in output and '+business_center: { id: "1" }' in output


def test_invalid_yaml_exits_3_and_a_directory_skips_its_seed(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("version: 1\nmembers: [\n")
    code, output = run("fmt", "--check", str(tmp_path / "bad.yaml"))
    assert code == 3 and "bad.yaml:" in output
    good = tmp_path / "dir"
    good.mkdir()
    seed_text = "version: 1\nusers: []\nbusiness_centers: []\n"
    (good / "seed.yaml").write_text(seed_text)
    (good / "bc.yaml").write_text(
        "version: 1\nbusiness_center: { id: '1' }\nprovider: { type: local, seed: seed.yaml }\n"
    )
    code, output = run("fmt", str(good))
    assert code == 0, output
    assert (good / "seed.yaml").read_text() == seed_text


def test_a_file_with_anchors_is_reported_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "bcsync.yaml"
    text = "version: 1\ngroups:\n  g: &x { access: {} }\n  h: *x\n"
    path.write_text(text)
    code, output = run("fmt", str(path))
    assert code == 4 and "anchors" in output  # refused: rewriting would change the file
    assert path.read_text() == text


def test_the_examples_are_in_canonical_shape(tmp_path: Path) -> None:
    """The examples are what users copy; the pre-commit hook must not complain about them."""
    copies = [copy_example(name, tmp_path / name) for name in ("quickstart", "agency")]
    code, output = run("fmt", "--check", *map(str, copies))
    assert code == 0, output
