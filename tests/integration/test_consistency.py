"""Reading your own writes, through the CLI, against a served emulator whose reads lag its writes.

`bcsync emulator serve --read-lag SECONDS` answers reads from a copy that replays writes SECONDS
late; its after-page hook changes the BC between two pages of a read, as another admin would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from .conftest import CONTROL_HEADERS, NOW, Served, serve_emulator

pytestmark = pytest.mark.slow

BC_ID = "7012345678901234567"
OWNER = "owner@acme.com"
OWNER_TOKEN = "local-acme-owner-token"


def point_at(config_dir: Path, url: str) -> Path:
    """The example's config, talking to the served emulator instead of its in-process one."""
    config = config_dir / "bcsync.yaml"
    text = config.read_text().replace(
        "type: local\n  seed: seed.yaml", f"type: emulator\n  url: {url}\n  qps: 200"
    )
    config.write_text(text)
    (config_dir / "seed.yaml").rename(config_dir.parent / "served-seed.yaml")
    return config


def cli(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`bcsync ARGS` as a separate process, as a pipeline runs it (no BCSYNC_* settings)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BCSYNC_")}
    env.update(BCSYNC_EMULATOR_TOKEN=OWNER_TOKEN, NO_COLOR="1")
    env["BCSYNC_LOCK_DIR"] = os.environ["BCSYNC_LOCK_DIR"]  # per test (tests/conftest.py)
    return subprocess.run(
        [sys.executable, "-m", "bcsync", *args, "--now", NOW],
        cwd=tmp,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def control(served: Served, path: str, body: dict[str, Any]) -> None:
    answer = httpx.post(
        f"{served.url}/_emulator/{path}", json=body, headers=CONTROL_HEADERS, timeout=5
    )
    assert answer.status_code == 200, answer.text


def writes(served: Served) -> int:
    stats = httpx.get(f"{served.url}/_emulator/stats", headers=CONTROL_HEADERS, timeout=5)
    by_endpoint = stats.json()["by_endpoint"]
    reads = ("get/", "list/")
    return sum(n for path, n in by_endpoint.items() if not path.endswith(reads))


@pytest.fixture
def lagging(quickstart: Path, tmp_path: Path) -> Any:
    server = serve_emulator(quickstart / "seed.yaml", tmp_path / "lag.db", "--read-lag", "30")
    point_at(quickstart, server.url)
    yield server
    server.process.terminate()
    server.process.wait(timeout=10)


def test_a_reviewed_plan_applied_again_within_the_lag_sends_nothing(
    lagging: Served, quickstart: Path, tmp_path: Path
) -> None:
    plan = tmp_path / "plan.json"
    assert cli(tmp_path, "plan", str(quickstart), "--out", str(plan)).returncode == 0
    first = cli(tmp_path, "apply", str(plan), "--settle-timeout", "1")
    # Every change was made; none shows to a read within the lag: said, and exit 5.
    assert first.returncode == 5, first.stdout + first.stderr
    assert "not yet visible" in first.stdout
    sent = writes(lagging)
    assert sent > 0

    again = cli(tmp_path, "apply", str(plan), "--settle-timeout", "1")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "Already applied at" in again.stdout
    # A fresh, unreviewed apply right after: the read still shows the old state, the ledger
    # says what was made, and nothing is sent again.
    fresh = cli(tmp_path, "apply", str(quickstart), "--auto-approve", "--settle-timeout", "1")
    assert fresh.returncode == 0, fresh.stdout + fresh.stderr
    assert "not yet visible" in fresh.stdout and "Nothing to apply" in fresh.stdout
    shown = cli(tmp_path, "plan", str(quickstart), "--format", "json")
    (body,) = json.loads(shown.stdout)["plans"]
    waiting = [c for c in body["changes"] if c.get("cause") == "applied_not_visible"]
    assert len(waiting) == sum(1 for c in body["changes"] if c["action"] == "no-op") - 4
    assert writes(lagging) == sent


def test_lost_answers_under_lag_are_settled_by_reading_not_resent(
    quickstart: Path, tmp_path: Path
) -> None:
    seed = quickstart / "seed.yaml"
    server = serve_emulator(
        seed, tmp_path / "lost.db", "--read-lag", "1", "--lost-response-rate", "1"
    )
    try:
        point_at(quickstart, server.url)
        plan = tmp_path / "plan.json"
        assert cli(tmp_path, "plan", str(quickstart), "--out", str(plan)).returncode == 0
        steps = len(json.loads(plan.read_text())["plans"][0]["steps"])
        done = cli(tmp_path, "apply", str(plan), "--settle-timeout", "20")
        assert done.returncode == 0, done.stdout + done.stderr
        assert "0 failed" in done.stdout
        assert writes(server) == steps  # every write once, though every answer was lost
        log = quickstart / ".bcsync" / "audit.jsonl"
        records = [json.loads(line) for line in log.read_text().splitlines()]
        notes = {r["note"] for r in records if r["result"] == "succeeded"}
        assert notes == {"took effect; its answer was lost (confirmed by reading)"}
    finally:
        server.process.terminate()
        server.process.wait(timeout=10)


def crowded(quickstart: Path) -> None:
    """25 more joined members, in the seed and the config: the member list has two pages."""
    seed_path = quickstart / "seed.yaml"
    seed = yaml.safe_load(seed_path.read_text())
    extra = [f"crew{i:02d}@acme.com" for i in range(25)]
    seed["users"] += [
        {"user_id": f"68{i:017d}", "email": e, "name": e} for i, e in enumerate(extra)
    ]
    seed["business_centers"][0]["members"] += [{"email": e, "role": "STANDARD"} for e in extra]
    seed_path.write_text(yaml.safe_dump(seed, sort_keys=False))
    config = quickstart / "bcsync.yaml"
    lines = "".join(f"  {e}: {{ role: standard }}\n" for e in extra)
    config.write_text(config.read_text().replace("\nmembers:\n", f"\nmembers:\n{lines}", 1))


def test_a_page_shift_while_reading_never_invites_someone_who_was_there(
    quickstart: Path, tmp_path: Path
) -> None:
    crowded(quickstart)
    server = serve_emulator(quickstart / "seed.yaml", tmp_path / "shift.db")
    try:
        point_at(quickstart, server.url)
        baseline = cli(tmp_path, "plan", str(quickstart), "--format", "json")
        assert baseline.returncode == 0, baseline.stderr
        # Another admin revokes the pending invitation (page 1) and invites someone new while
        # page 2 is read: the total stays the same and page 2 starts one member later.
        control(server, "after-page", {
            "path": "bc/member/get/", "page": 1, "as": OWNER, "calls": [
                {"path": "bc/member/delete/",
                 "body": {"bc_id": BC_ID, "user_email": "temp@contractor.example"}},
                {"path": "bc/member/invite/",
                 "body": {"bc_id": BC_ID, "emails": ["walk-in@acme.com"], "asset_ids": []}},
            ],
        })  # fmt: skip
        shifted = cli(tmp_path, "plan", str(quickstart), "--format", "json")
        assert shifted.returncode == 0, shifted.stderr
        (body,) = json.loads(shifted.stdout)["plans"]
        invites = {c["key"] for c in body["changes"] if c["id"].startswith("member:")
                   and c["action"] == "create"}  # fmt: skip
        # Only temp (whose invitation was revoked) and grace (never invited) are invited.
        assert invites == {"temp@contractor.example", "grace@acme.com"}
        removals = {c["key"] for c in body["changes"] if c["id"].startswith("member:")
                    and c["action"] == "delete"}  # fmt: skip
        assert "walk-in@acme.com" in removals
    finally:
        server.process.terminate()
        server.process.wait(timeout=10)


def test_a_member_removed_during_the_read_is_planned_without_blaming_the_config(
    quickstart: Path, served: Served, tmp_path: Path
) -> None:
    point_at(quickstart, served.url)
    # carol leaves right after the member list is read, before her grants are.
    carol = "6900000000000000005"
    control(served, "after-page", {
        "path": "bc/member/get/", "page": 1, "as": OWNER,
        "calls": [{"path": "bc/member/delete/", "body": {"bc_id": BC_ID, "user_id": carol}}],
    })  # fmt: skip
    result = cli(tmp_path, "plan", str(quickstart), "--format", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "check the ids in the config" not in result.stderr
    (body,) = json.loads(result.stdout)["plans"]
    carol_changes = {c["id"]: c["action"] for c in body["changes"] if "carol@acme.com" in c["id"]}
    assert carol_changes.get("member:carol@acme.com") == "create"  # in config, gone: invited
