"""Golden files: the text and Markdown plans of the examples against their seeds."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from .conftest import NOW, Bcsync


@pytest.mark.parametrize("fmt, suffix", [("text", "txt"), ("markdown", "md")])
@pytest.mark.parametrize("example", ["quickstart", "agency"])
def test_example_plans_match_golden_files(
    bcsync: Bcsync,
    quickstart: Path,
    agency: Path,
    golden: Callable[[str, str], None],
    example: str,
    fmt: str,
    suffix: str,
) -> None:
    # Relative paths keep the temporary directory out of the output.
    result = bcsync("plan", example, "--format", fmt, "--now", NOW)
    assert result.exit_code == 0, result.output
    golden(f"{example}.plan.{suffix}", result.output)
