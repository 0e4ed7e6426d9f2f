"""The local Business Center: an independent emulator of the TikTok Business API.

It imports nothing from bcsync's core or providers, so a misreading of the wire contract cannot
hide on both sides at once (tests/emulator/test_independence.py enforces it).
"""

from __future__ import annotations

from .app import Emulator, create_app
from .control import CONTROL_HEADER, CONTROL_TOKEN_ENV
from .errors import EmulatorError, SeedError
from .faults import Faults
from .seed import load_seed

__all__ = [
    "CONTROL_HEADER",
    "CONTROL_TOKEN_ENV",
    "Emulator",
    "EmulatorError",
    "Faults",
    "SeedError",
    "create_app",
    "load_seed",
]
