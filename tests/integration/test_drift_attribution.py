"""`bcsync drift` attributes a difference only to an activity-log entry about the same subject and
field, recognises bcsync's own applies from the audit log, and says when nothing matches.

Run as the README types it: no --state-dir, the audit log beside the config where apply wrote it.
"""

from __future__ import annotations

import asyncio
import json
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result

from bcsync.cli import cli
from bcsync.core.model import AssetKey, AssetType
from bcsync.core.operations import Assign
from bcsync.providers.tiktok.client import TikTokClient
from bcsync.providers.tiktok.limiter import RateLimit, RateLimiter
from bcsync.providers.tiktok.provider import TikTokProvider
from tests.examples import copy_example

from .conftest import NOW

ACME = "7012345678901234567"
CAROL = "6900000000000000005"
ACME_EU = AssetKey(AssetType.AD_ACCOUNT, "7100000000000000002")


def run(*args: str, lock_dir: Path) -> Result:
    env = {"NO_COLOR": "1", "BCSYNC_LOCK_DIR": str(lock_dir)}
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


@pytest.fixture
def applied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    copy_example("quickstart", tmp_path / "quickstart")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BCSYNC_STATE_DIR", raising=False)
    result = run("apply", "quickstart", "--auto-approve", "--now", NOW, lock_dir=tmp_path)
    assert result.exit_code == 0, result.output
    return tmp_path / "quickstart"


def by_hand(quickstart: Path) -> None:
    """ops@acme.com raises carol's role on acme-eu in the BC, outside bcsync (its own token)."""
    from bcsync.config import load_strict
    from bcsync.emulator import create_app
    from bcsync.providers.local import local_database

    [config] = load_strict([str(quickstart / "bcsync.yaml")], date.fromisoformat(NOW)).configs
    app = create_app(db_path=local_database(config))

    async def go() -> None:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as http:
            limiter = RateLimiter(RateLimit(qps=1000, qpm=None, margin=0.0))
            client = TikTokClient(
                http,
                token="local-acme-ops-token",
                limiter=limiter,
                base_url="http://local.bcsync/open_api/v1.3/",
                in_process=True,
            )
            await TikTokProvider(ACME, client).write(Assign(CAROL, "", ACME_EU, "admin"))

    try:
        asyncio.run(go())
    finally:
        app.state.emulator.close()


def drift(quickstart: Path) -> dict[tuple[str, str | None], dict[str, Any]]:
    result = run("drift", "quickstart", "--now", NOW, "--format", "json", lock_dir=quickstart)
    assert result.exit_code == 2, result.output
    [bc] = json.loads(result.stdout)["business_centers"]
    return {(d["subject"], d["asset_alias"]): d for d in bc["differences"]}


def test_each_difference_is_attributed_to_its_own_field_or_to_nobody(applied: Path) -> None:
    config = applied / "bcsync.yaml"
    text = config.read_text()
    # After the apply the config changes: frank is to be an admin, bob's shop role manager.
    text = text.replace(
        "  frank@acme.com:\n    role: standard\n", "  frank@acme.com:\n    role: admin\n"
    )
    text = text.replace("shops: { store: ad_promotion }", "shops: { store: manager }")
    config.write_text(text)
    by_hand(applied)
    found = drift(applied)
    # frank: the newest entries naming him are bcsync's, about a grant: not about his role.
    frank = found[("frank@acme.com", None)]
    assert (frank["cause"], frank["changed_by"], frank["applied_by_bcsync"]) == (
        "unknown",
        None,
        None,
    )
    # bob's shop grant is as bcsync applied it: recognised from the audit log, not "by hand".
    bob = found[("bob@acme.com", "store")]
    assert bob["cause"] == "by_bcsync" and bob["label"] != "changed outside bcsync"
    log = (applied / ".bcsync" / "audit.jsonl").read_text()
    records = [json.loads(line) for line in log.splitlines()]
    [assign] = [
        r
        for r in records
        if r["change"]["id"].endswith("7500000000000000001:bob@acme.com")
        and r["result"] == "succeeded"  # (then "confirmed", once a read showed it)
    ]
    assert bob["applied_by_bcsync"]["plan_digest"] == assign["plan_digest"]
    assert bob["applied_by_bcsync"]["request_ids"] == assign["request_ids"] != []
    # carol's acme-eu was changed by hand: named, with the entry.
    carol = found[("carol@acme.com", "acme-eu")]
    assert carol["cause"] == "by_hand" and carol["changed_by"]["who"] == "ops@acme.com"
    assert carol["label"] == "changed outside bcsync"
    out = run("drift", "quickstart", "--now", NOW, lock_dir=applied).stdout
    assert "no activity-log entry about this membership or role since" in out
    assert "applied by bcsync at " in out and f"(plan {assign['plan_digest']}" in out


def test_without_the_audit_log_bcsyncs_own_apply_cannot_be_told_and_is_named_as_logged(
    applied: Path,
) -> None:
    config = applied / "bcsync.yaml"
    config.write_text(
        config.read_text().replace("shops: { store: ad_promotion }", "shops: { store: manager }")
    )
    (applied / ".bcsync" / "audit.jsonl").rename(applied / "elsewhere.jsonl")
    bob = drift(applied)[("bob@acme.com", "store")]
    assert bob["cause"] == "by_hand" and bob["changed_by"]["who"] == "owner@acme.com"
    # --audit-log points at it.
    result = run(
        "drift",
        "quickstart",
        "--now",
        NOW,
        "--format",
        "json",
        "--audit-log",
        str(applied / "elsewhere.jsonl"),
        lock_dir=applied,
    )
    [bc] = json.loads(result.stdout)["business_centers"]
    assert bc["differences"][0]["cause"] == "by_bcsync"
