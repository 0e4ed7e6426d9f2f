"""`bcsync doctor` and fail-closed reads as typed: the local BC, and a served variant."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from variant import each_item, on, reshaped, serve

from bcsync.emulator import create_app

from .conftest import Bcsync

OWNER_TOKEN = "local-acme-owner-token"  # examples/quickstart/seed.yaml
ENV = {"BCSYNC_EMULATOR_TOKEN": OWNER_TOKEN}


@pytest.fixture
def no_role(quickstart: Path, tmp_path: Path) -> Iterator[Path]:
    """quickstart's config pointed at a served emulator whose bc/get/ answers lack user_role."""
    seed = yaml.safe_load((quickstart / "seed.yaml").read_text())
    app = create_app(tmp_path / "variant.db", seed=seed)
    rewrite = on("bc/get/", each_item("list", lambda entry: entry.pop("user_role")))
    config = quickstart / "bcsync.yaml"
    text = config.read_text()
    with serve(reshaped(app, rewrite)) as url:
        served = text.replace("type: local\n  seed: seed.yaml", f"type: emulator\n  url: {url}")
        assert served != text
        config.write_text(served)
        yield quickstart
    app.state.emulator.close()


def test_doctor_confirms_the_local_business_center(bcsync: Bcsync, quickstart: Path) -> None:
    result = bcsync("doctor", str(quickstart))
    assert result.exit_code == 0, result.output
    assert "confirmed  GET /bc/member/get/" in result.output
    assert result.output.rstrip().endswith("Everything bcsync reads is confirmed.")


def test_doctor_json_is_a_report_to_attach(bcsync: Bcsync, quickstart: Path) -> None:
    result = bcsync("doctor", str(quickstart), "--format", "json")
    assert result.exit_code == 0, result.output
    report: dict[str, Any] = json.loads(result.stdout)
    assert report["verdict"] == "confirmed" and report["provider"] == "local"
    endpoints = {e["endpoint"] for e in report["business_centers"][0]["endpoints"]}
    assert "GET /bc/partner/asset/get/" in endpoints and "GET /changelog/get/" in endpoints
    assert "GET /bc/asset/partner/get/" in endpoints  # whom an asset is shared with (report)
    shares = [
        e["request"].get("share_type")
        for e in report["business_centers"][0]["endpoints"]
        if e["endpoint"] == "GET /bc/partner/asset/get/"
    ]
    assert sorted(set(shares)) == ["SHARED", "SHARING"]  # ours with them, and theirs with us
    assert "owner@acme.com" not in result.output and "7012345678901234567" not in result.output


def test_doctor_against_a_variant_that_differs_exits_1(bcsync: Bcsync, no_role: Path) -> None:
    result = bcsync("doctor", str(no_role), "--format", "json", env=ENV)
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert report["verdict"] == "differs"
    first = report["business_centers"][0]["endpoints"][0]
    assert (first["endpoint"], first["verdict"]) == ("GET /bc/get/", "differs")
    assert first["mismatches"][0]["key"] == "data.list[0].user_role"


def test_plan_against_a_variant_without_user_role_stops_never_assumes_admin(
    bcsync: Bcsync, no_role: Path
) -> None:
    result = bcsync("plan", str(no_role), env=ENV)
    assert result.exit_code == 1, result.output
    assert "GET /bc/get/ answered data.list[0].user_role: missing" in result.output
    assert "request id 20" in result.output  # the emulator's request ids start with the date
    assert OWNER_TOKEN not in result.output


def test_doctor_needs_only_the_bc_and_its_provider(bcsync: Bcsync, quickstart: Path) -> None:
    # Before the first export there is no config to speak of: a skeleton is enough.
    skeleton = quickstart / "skeleton"
    skeleton.mkdir()
    (skeleton / "bcsync.yaml").write_text(
        'version: 1\nbusiness_center: { id: "7012345678901234567" }\n'
        "provider: { type: local, seed: ../seed.yaml }\n"
    )
    assert bcsync("validate", str(skeleton)).exit_code == 3  # no admins: not a config to apply
    result = bcsync("doctor", str(skeleton))
    assert result.exit_code == 0, result.output
    assert "Everything bcsync reads is confirmed." in result.output
    bad = bcsync("doctor", str(quickstart / "missing.yaml"))
    assert bad.exit_code == 3 and "no such file or directory" in bad.output
