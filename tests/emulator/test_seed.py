"""Seeds: the JSON Schema, located problems, cross-checks, and the examples' seeds."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from bcsync.emulator import EmulatorError, create_app, load_seed
from bcsync.emulator.errors import SeedError
from bcsync.emulator.seed import SCHEMA_PATH
from tests.examples import copy_example

from .world import SEED


def test_the_schema_is_draft_2020_12_with_descriptions() -> None:
    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            for name, prop in node.get("properties", {}).items():
                assert prop.get("description"), f"{path}.{name} has no description"
            for key, value in node.items():
                walk(value, f"{path}.{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{path}[{i}]")

    walk(schema, "$")


def test_load_seed_normalises(seed: dict[str, Any]) -> None:
    loaded = load_seed(seed)
    assert loaded["users"][0]["email"] == "admin1@test.example"
    assert loaded["settings"] == {"invite_accept_after_seconds": None}
    assert loaded["business_centers"][1]["grants"] == []
    assert loaded["business_centers"][0]["members"][0]["status"] == "BOUND"
    assert seed["users"][0]["email"] == "Admin1@Test.example"  # the caller's dict is untouched


Edit = Callable[[dict[str, Any]], None]


def _set(path: str, value: Any) -> Edit:
    def edit(seed: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = seed
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        node[int(last) if last.isdigit() else last] = value

    return edit


BC0 = "business_centers.0"
CASES: list[tuple[Edit, str, str]] = [
    (_set("version", 2), "version", "1 was expected"),
    (_set(f"{BC0}.members.1.role", "OWNER"), "business_centers[0].members[1].role", "'OWNER'"),
    (_set(f"{BC0}.colour", "red"), "business_centers[0]", "'colour' was unexpected"),
    (_set("users.0.user_id", 6000), "users[0].user_id", "quote ids"),
    (_set("users.0.user_id", "60a"), "users[0].user_id", "not an id"),
    (_set("users.1.email", "admin1@TEST.example"), "users[1].email", "duplicate user email"),
    (_set("users.1.token", "tok-admin1-secret"), "users[1].token", "duplicate token"),
    (_set(f"{BC0}.members.2.email", "ghost@test.example"), "business_centers[0].members[2].email",
     "is BOUND but not one of users"),
    (_set(f"{BC0}.grants.3.role", "OPERATOR"), "business_centers[0].grants[3].role",
     "not a CATALOG role"),
    (_set(f"{BC0}.grants.1.role", "ADMIN"), "business_centers[0].grants[1].role",
     "TT_ACCOUNT takes a non-empty list"),
    (_set(f"{BC0}.grants.1.role", "POST"), "business_centers[0].grants[1].role",
     "for TT_ACCOUNT a list"),
    (_set(f"{BC0}.grants.0.asset_id", "7100000000000000009"),
     "business_centers[0].grants[0].asset_id", "is not an asset of"),
    (_set(f"{BC0}.grants.4.asset_type", "CATALOG"), "business_centers[0].grants[4].email",
     "pending invitations carry ADVERTISER grants only"),
    (_set(f"{BC0}.grants.0.email", "nobody@test.example"), "business_centers[0].grants[0].email",
     "not a member"),
    (_set(f"{BC0}.partners.0.bc_id", "7299"), "business_centers[0].partners[0].bc_id",
     "unknown Business Center 7299"),
    (_set(f"{BC0}.partners.0.shares.0.asset_id", "7100000000000000009"),
     "business_centers[0].partners[0].shares[0].asset_id", "is not owned by"),
    # Catalogs can be shared too (read and stopped through the API): an ad account's id is no
    # catalog of this BC, and an advertiser role is no catalog role.
    (_set(f"{BC0}.partners.0.shares.0.asset_type", "CATALOG"),
     "business_centers[0].partners[0].shares[0].asset_id", "CATALOG 71000000000000000"),
    (_set(f"{BC0}.partners.0.shares.0.asset_type", "DOMAIN"),
     "business_centers[0].partners[0].shares[0].asset_type", "is not one of"),
    # A pixel can be shared (asset/partner/get lists it), but TikTok reports no role for it.
    (_set(f"{BC0}.partners.0.shares.0.asset_type", "PIXEL"),
     "business_centers[0].partners[0].shares[0].role", "a PIXEL share has no role"),
    (_set("business_centers.1.bc_id", "7000000000000000001"), "business_centers[1].bc_id",
     "duplicate Business Center"),
    (_set("business_centers.1.assets.ADVERTISER.0.id", "7100000000000000001"),
     "business_centers[1].assets.ADVERTISER[0].id", "already owned by"),
    (_set("settings", {"invite_accept_after_seconds": -1}),
     "settings.invite_accept_after_seconds", "minimum"),
]  # fmt: skip


@pytest.mark.parametrize(("edit", "path", "fragment"), CASES)
def test_problems_are_located_in_the_yaml_file(
    tmp_path: Path, edit: Edit, path: str, fragment: str
) -> None:
    seed = copy.deepcopy(SEED)
    edit(seed)
    file = tmp_path / "seed.yaml"
    file.write_text(yaml.safe_dump(seed, sort_keys=False))
    with pytest.raises(SeedError) as caught:
        load_seed(file)
    lines = len(file.read_text().splitlines())
    found = []
    for problem in caught.value.problems:  # every problem is located: FILE:LINE:COL: PATH: ...
        location, where, message = problem.split(": ", 2)
        name, line, col = location.rsplit(":", 2)
        assert name == str(file) and 1 <= int(line) <= lines and int(col) >= 1
        found.append((where, message))
    assert any(where == path and fragment in message for where, message in found), found
    assert "secret" not in str(caught.value)  # never a token in a message


def test_the_line_and_column_point_at_the_value(tmp_path: Path) -> None:
    file = tmp_path / "seed.yaml"
    file.write_text(
        "version: 1\n"
        "users:\n"
        "  - { user_id: '1', email: a@b.example, name: A }\n"
        "business_centers:\n"
        "  - bc_id: '7'\n"
        "    name: Seven\n"
        "    members:\n"
        "      - email: a@b.example\n"
        "        role: OWNER\n"
    )
    with pytest.raises(SeedError) as caught:
        load_seed(file)
    assert caught.value.problems[0].startswith(f"{file}:9:15: business_centers[0].members[0].role:")


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    seed = copy.deepcopy(SEED)
    seed["version"] = 3
    seed["users"][0]["name"] = ""
    with pytest.raises(SeedError) as caught:
        load_seed(seed)
    assert len(caught.value.problems) == 2
    assert str(caught.value).startswith("invalid seed <seed>: 2 problem(s)")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (
            "version: 1\nversion: 1\nusers: []\nbusiness_centers: []\n",
            ":2:1: duplicate key 'version'",
        ),
        ("version: [1\n", "seed.yaml:2:1:"),
        ("- just\n- a list\n", "must be a mapping"),
    ],
)
def test_yaml_problems(tmp_path: Path, text: str, fragment: str) -> None:
    file = tmp_path / "seed.yaml"
    file.write_text(text)
    with pytest.raises(SeedError, match=None) as caught:
        load_seed(file)
    assert fragment in str(caught.value)


def test_a_missing_seed_file(tmp_path: Path) -> None:
    with pytest.raises(EmulatorError, match="seed file not found"):
        load_seed(tmp_path / "nope.yaml")


def test_an_invalid_seed_creates_no_database(tmp_path: Path) -> None:
    with pytest.raises(SeedError):
        create_app(tmp_path / "e.db", {"version": 1})
    with pytest.raises(EmulatorError, match="give a seed"):
        create_app(tmp_path / "e.db")


def _configs(directory: Path) -> list[dict[str, Any]]:
    return [
        yaml.safe_load(p.read_text())
        for p in sorted(directory.glob("*.yaml"))
        if p.name != "seed.yaml"
    ]


@pytest.mark.parametrize("example", ["quickstart", "agency"])
def test_example_seeds_fit_their_configs(tmp_path: Path, example: str) -> None:
    directory = copy_example(example, tmp_path / example)
    app = create_app(tmp_path / "e.db", directory / "seed.yaml")
    emulator = app.state.emulator
    try:
        world = emulator.snapshot()
    finally:
        emulator.close()
    bcs = {bc["bc_id"]: bc for bc in world["business_centers"]}
    configs = _configs(directory)
    statuses = {m["status"] for bc in world["business_centers"] for m in bc["members"]}
    assert "PENDING" in statuses  # a pending invitation to show
    assert {c["business_center"]["id"] for c in configs} == set(bcs)
    for config in configs:
        bc = bcs[config["business_center"]["id"]]
        seeded = {m["email"]: m for m in bc["members"]}
        wanted = {email.lower(): spec for email, spec in config["members"].items()}
        kept_admins = [
            email
            for email, m in seeded.items()
            if m["status"] == "BOUND"
            and m["role"] == "ADMIN"
            and wanted.get(email, {}).get("role") == "admin"
        ]
        assert len(kept_admins) >= 2, bc["name"]
        first_admin = next(
            e for e, m in seeded.items() if m["status"] == "BOUND" and m["role"] == "ADMIN"
        )
        assert first_admin in kept_admins
        for required in config["policy"].get("required_admins", []):
            assert seeded[required]["role"] == "ADMIN"
        assert set(wanted) - set(seeded), f"{bc['name']}: nobody to invite"
        assert set(seeded) - set(wanted), f"{bc['name']}: nobody to remove"
        assert (
            any(m["status"] == "PENDING" for m in seeded.values())
            or bc["name"] == "Northwind Foods"
        )
        declared = {
            asset_id for section in config["assets"].values() for asset_id in section.values()
        }
        owned = {a["id"] for items in bc["assets"].values() for a in items}
        assert declared <= owned, f"{bc['name']}: the config declares assets the seed lacks"
