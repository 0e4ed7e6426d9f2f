""".ci/run reads the README's set-up commands at run time and checks the tree the tests leave."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def load_ci() -> ModuleType:
    spec = importlib.util.spec_from_file_location("ci_readme", ROOT / ".ci" / "readme.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ci = load_ci()


def test_the_readme_holds_the_main_job_then_the_tests() -> None:
    main_job, tests = ci.setup_commands((ROOT / "README.md").read_text(encoding="utf-8"))
    assert "bcsync plan examples/quickstart" in main_job
    assert "bcsync apply --auto-approve examples/quickstart" in main_job
    assert main_job.startswith("python3 -m venv .venv")  # a fresh machine: nothing installed
    assert tests == "bash scripts/test"
    assert "bash .ci/run" not in tests  # CI runs the README, not the other way round


def readme(*blocks: str, after: str = "") -> str:
    fenced = "".join(f"\n```sh\n{b}\n```\n" for b in blocks)
    return f"# x\n\n## Set up\n\nText.\n{fenced}\n## Commands\n{after}"


def test_blocks_after_the_section_do_not_count() -> None:
    text = readme("one", "two", after="\n```sh\nthree\n```\n")
    assert ci.setup_commands(text) == ["one", "two"]


@pytest.mark.parametrize(
    "text",
    [
        readme("only one"),
        readme("one", "two", "three"),
        readme("one", "two\nand more"),
        "# no set-up section\n```sh\none\n```\n```sh\ntwo\n```\n",
    ],
)
def test_anything_but_two_one_line_commands_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        ci.setup_commands(text)


def test_the_tree_fingerprint_sees_ignored_state_but_not_caches(tmp_path: Path) -> None:
    state = tmp_path / "examples" / "quickstart" / ".bcsync" / "local"
    state.mkdir(parents=True)
    (state / "seed.yaml.db").write_bytes(b"applied")
    (tmp_path / ".venv").mkdir()
    before = ci.tree_fingerprint(tmp_path)
    (tmp_path / ".venv" / "new").write_text("installed")
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "x.pyc").write_bytes(b"")
    assert ci.tree_fingerprint(tmp_path) == before
    (state / "seed.yaml.db").write_bytes(b"written by a test")
    assert ci.tree_fingerprint(tmp_path) != before
    (state / "seed.yaml.db").write_bytes(b"applied")
    (tmp_path / "examples" / "left-behind.json").write_text("{}")
    assert ci.tree_fingerprint(tmp_path) != before
