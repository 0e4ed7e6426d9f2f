"""The composite action's hashed lock (examples/ci/requirements.lock) still fits pyproject.toml.

Every runtime dependency is pinned there with a version its specifier allows, every pin carries
hashes (pip's --require-hashes refuses anything else), and the build backend is pinned too (the
action installs bcsync with --no-build-isolation --no-index).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "examples" / "ci" / "requirements.lock"
PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^\s;\\]+)")


def pins() -> dict[str, tuple[str, str]]:
    """name -> (version, the requirement's text with its hash lines)."""
    found: dict[str, tuple[str, str]] = {}
    for block in re.split(r"\n(?=\S)", LOCK.read_text(encoding="utf-8")):
        match = PIN.match(block)
        if match:
            found[canonicalize_name(match.group(1))] = (match.group(2), block)
    return found


def test_every_dependency_is_pinned_within_its_specifier() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    locked = pins()
    for text in project["dependencies"]:
        requirement = Requirement(text)
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{name} is in pyproject.toml but not in {LOCK.name}"
        version, _ = locked[name]
        assert requirement.specifier.contains(version), f"{name}=={version} is not {requirement}"


def test_every_pin_has_hashes_and_the_build_backend_is_pinned() -> None:
    locked = pins()
    assert {"setuptools", "wheel"} <= set(locked)
    for name, (_, block) in locked.items():
        assert re.search(r"--hash=sha256:[0-9a-f]{64}", block), f"{name} has no hash"
    lines = [line for line in LOCK.read_text().splitlines() if line and not line.startswith(" ")]
    assert all(line.startswith("#") or PIN.match(line) for line in lines), "only pins and comments"
