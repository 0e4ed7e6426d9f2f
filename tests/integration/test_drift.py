"""`bcsync drift` against the local Business Center: none after apply, then a change by hand."""

from __future__ import annotations

import asyncio
import json
from datetime import date
from pathlib import Path

import httpx
import pytest

from bcsync.core.model import AssetKey, AssetType
from bcsync.core.operations import Assign
from bcsync.providers.tiktok.client import TikTokClient
from bcsync.providers.tiktok.limiter import RateLimit, RateLimiter
from bcsync.providers.tiktok.provider import TikTokProvider

from .conftest import NOW, Bcsync

BRIGHT = "7020000000000000001"
BUYER1 = "6910000000000000004"  # buyer1@bright.example in the agency seed
BRIGHT_HOUSE = AssetKey(AssetType.AD_ACCOUNT, "7110000000000000001")
OPS_TOKEN = "local-bright-ops-token"
LOCAL = "http://local.bcsync/open_api/v1.3/"


def change_by_hand(agency: Path) -> None:
    """ops@bright.example makes buyer1 an admin of bright-house, outside bcsync (its own token)."""
    from bcsync.config import load_strict
    from bcsync.emulator import create_app
    from bcsync.providers.local import local_database

    [config] = load_strict([str(agency / "agency.yaml")], date.fromisoformat(NOW)).configs
    app = create_app(db_path=local_database(config))  # the database `apply` created, as it is

    async def go() -> None:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as http:
            limiter = RateLimiter(RateLimit(qps=1000, qpm=None, margin=0.0))
            client = TikTokClient(
                http, token=OPS_TOKEN, limiter=limiter, base_url=LOCAL, in_process=True
            )
            await TikTokProvider(BRIGHT, client).write(Assign(BUYER1, "", BRIGHT_HOUSE, "admin"))

    try:
        asyncio.run(go())
    finally:
        app.state.emulator.close()


@pytest.fixture
def applied(agency: Path, bcsync: Bcsync) -> Path:
    result = bcsync("apply", "--auto-approve", str(agency), "--now", NOW)
    assert result.exit_code == 0, result.output
    return agency


def test_no_drift_after_apply_then_a_change_by_hand_is_attributed(
    applied: Path, bcsync: Bcsync
) -> None:
    clean = bcsync("drift", str(applied), "--now", NOW)
    assert clean.exit_code == 0, clean.output
    assert "No drift in 3 Business Center(s)." in clean.output
    assert "pending invitations (not drift): buyer3@bright.example" in clean.output

    change_by_hand(applied)
    result = bcsync("drift", str(applied), "--now", NOW)
    assert result.exit_code == 2, result.output
    assert (
        "+ buyer1@bright.example: admin on ad_accounts.bright-house in the BC, operator in the "
        "config (changed outside bcsync)" in result.output
    )
    assert "last change by ops@bright.example at " in result.output
    assert "did not answer" not in result.output

    doc = json.loads(bcsync("drift", str(applied), "--now", NOW, "--format", "json").output)
    assert doc["drift"] is True
    [bright] = [bc for bc in doc["business_centers"] if bc["differences"]]
    [diff] = bright["differences"]
    assert (diff["subject"], diff["config"], diff["bc"]) == (
        "buyer1@bright.example",
        "operator",
        "admin",
    )
    assert diff["label"] == "changed outside bcsync"
    assert diff["changed_by"]["who"] == "ops@bright.example"
    assert "7110000000000000001" in diff["changed_by"]["log"]
    md = bcsync("drift", str(applied), "--now", NOW, "--format", "markdown").output
    assert md.startswith("## bcsync drift") and "ops@bright.example" in md


def test_drift_without_an_activity_log_says_so_once_and_carries_on(
    applied: Path, bcsync: Bcsync, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A server without the (undocumented) endpoint: the emulator answers 404 for unknown routes.
    monkeypatch.setattr("bcsync.providers.tiktok.changelog.CHANGELOG_PATH", "changelog/absent/")
    change_by_hand(applied)
    result = bcsync("drift", str(applied), "--now", NOW)
    assert result.exit_code == 2, result.output
    assert result.output.count("the activity log did not answer") == 1
    assert "HTTP 404" in result.output
    assert "buyer1@bright.example: admin on ad_accounts.bright-house" in result.output
    assert "last change by" not in result.output


def test_drift_reads_only(applied: Path, bcsync: Bcsync) -> None:
    change_by_hand(applied)
    for _ in range(2):
        assert bcsync("drift", str(applied), "--now", NOW).exit_code == 2
    plan = bcsync("plan", str(applied), "--now", NOW)
    assert "buyer1@bright.example" in plan.output


def test_drift_of_an_invalid_config_exits_3(agency: Path, bcsync: Bcsync) -> None:
    (agency / "agency.yaml").write_text("version: 1\nbusiness_center: {}\n")
    result = bcsync("drift", str(agency / "agency.yaml"), "--now", NOW)
    assert result.exit_code == 3 and "Traceback" not in result.output
