"""Fixtures for the emulator's contract tests: a fresh world, an in-process app and a client."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from bcsync.emulator import create_app

from .world import CONTROL_TOKEN, SEED, client_for


@pytest.fixture
def seed() -> dict[str, Any]:
    """A fresh copy of the test world, to change freely."""
    return copy.deepcopy(SEED)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "emulator.db"


@pytest.fixture
def app(db: Path, seed: dict[str, Any]) -> Iterator[Starlette]:
    application = create_app(db, seed, control=True, control_token=CONTROL_TOKEN)
    yield application
    application.state.emulator.close()


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app) as c:
        yield c
