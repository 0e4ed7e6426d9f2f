"""Suite-wide fixtures."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

TOKEN_VARIABLES = (
    "TIKTOK_ACCESS_TOKEN",
    "BCSYNC_TOKEN",
    "BCSYNC_EMULATOR_TOKEN",
    "BCSYNC_ALLOWED_API_URLS",
    "GITHUB_ACTOR",
)


@pytest.fixture(autouse=True)
def clean_environ(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """No test can use or leak a real token; colour off for stable output.

    Apply locks are per machine, so each test gets its own lock directory: two test runs (or a
    developer's apply) on one machine must not hold each other's locks.
    """
    for name in list(os.environ):
        if name in TOKEN_VARIABLES or name.endswith("_ACCESS_TOKEN") or _a_setting(name):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.setenv("BCSYNC_LOCK_DIR", str(tmp_path_factory.mktemp("locks")))


def _a_setting(name: str) -> bool:
    """A developer's own BCSYNC_* setting (BCSYNC_STATE_DIR, ...): tests meet bcsync's defaults."""
    return name.startswith("BCSYNC_") and name != "BCSYNC_UPDATE_GOLDEN"


GOLDEN_DIR = Path(__file__).resolve().parent / "golden"


def assert_golden(name: str, actual: str) -> None:
    """Compare with tests/golden/NAME; rewrite it instead when BCSYNC_UPDATE_GOLDEN=1."""
    path = GOLDEN_DIR / name
    if os.environ.get("BCSYNC_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(actual.encode("utf-8"))
    assert path.read_bytes().decode("utf-8") == actual


@pytest.fixture
def golden() -> Callable[[str, str], None]:
    """`golden(name, text)`: golden-file comparison (BCSYNC_UPDATE_GOLDEN=1 rewrites)."""
    return assert_golden
