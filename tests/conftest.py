"""Suite-wide fixtures."""

from __future__ import annotations

import os

import pytest

TOKEN_VARIABLES = ("TIKTOK_ACCESS_TOKEN", "BCSYNC_TOKEN", "GITHUB_ACTOR")


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test can use or leak a real token; colour off for stable output."""
    for name in list(os.environ):
        if name in TOKEN_VARIABLES or name.endswith("_ACCESS_TOKEN"):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("FORCE_COLOR", raising=False)
