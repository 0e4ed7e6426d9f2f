"""The config JSON Schema itself, and how its errors read."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from jsonschema import Draft202012Validator

from bcsync.config import load
from bcsync.config.loader import parse_document
from bcsync.config.schema import check_schema, config_schema, is_valid_fast
from bcsync.core.model import ROLES, AssetType

ROOT = Path(__file__).resolve().parent.parent.parent
NOW = date(2026, 1, 1)
HEAD = 'version: 1\nbusiness_center: { id: "5" }\n'


def subschemas(node: Any, path: str = "#") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from subschemas(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from subschemas(value, f"{path}/{index}")


def test_schema_is_valid_draft_2020_12_with_an_id() -> None:
    schema = config_schema()
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"].endswith("/config.schema.json")


def test_every_property_has_a_description() -> None:
    missing = [
        f"{path}/{name}"
        for path, node in subschemas(config_schema())
        if isinstance(node.get("properties"), dict)
        and not path.endswith("/properties")
        and "/if" not in path
        for name, prop in node["properties"].items()
        if "description" not in prop
    ]
    assert missing == []


def test_every_object_rejects_unknown_keys() -> None:
    open_objects = [
        path
        for path, node in subschemas(config_schema())
        if "properties" in node
        and node.get("additionalProperties") is not False
        and not path.endswith("/properties")
        and "/if" not in path  # a condition, not an object definition
    ]
    assert open_objects == []


def test_patterns_compile() -> None:
    for _, node in subschemas(config_schema()):
        if isinstance(node.get("pattern"), str):
            re.compile(node["pattern"])


def patterns() -> list[tuple[str, str, list[str]]]:
    """(where, pattern, examples) for every `pattern` in the schema."""
    return [
        (path, node["pattern"], node.get("examples", []))
        for path, node in subschemas(config_schema())
        if isinstance(node.get("pattern"), str)
    ]


def fast_search(pattern: str) -> Any:
    """The fast validator's reading of a pattern, as check_schema runs it."""
    return jsonschema_rs.validator_for({"type": "string", "pattern": pattern}).is_valid


def test_the_schema_has_patterns_to_check() -> None:
    assert len(patterns()) >= 9


@pytest.mark.parametrize(("where", "pattern", "examples"), patterns())
def test_every_pattern_rejects_a_trailing_newline(
    where: str, pattern: str, examples: list[str]
) -> None:
    # Python's `$` matches before a final newline: "frank@acme.com\n" passed as an email.
    assert examples, f"{where}: add `examples` so this test can exercise the pattern"
    fast = fast_search(pattern)
    for example in examples:
        assert re.search(pattern, example) and fast(example), (where, example)
        for bad in (example + "\n", example + "\r\n", example + "\n\n"):
            assert not re.search(pattern, bad), (where, bad)
            assert not fast(bad), (where, bad)


# Characters where regex engines are known to differ (whitespace and separators beyond ASCII).
ODD_CHARS = [chr(c) for c in range(0x100)] + [
    *"\u1680\u180e\u2000\u2001\u2007\u200a\u200b\u2028\u2029\u202f\u205f\u3000\ufeff",
]


@pytest.mark.parametrize(("where", "pattern", "examples"), patterns())
def test_both_validators_read_every_pattern_alike(
    where: str, pattern: str, examples: list[str]
) -> None:
    """The fast validator must never accept what jsonschema (Python's re) rejects, nor differ."""
    fast = fast_search(pattern)
    for example in examples:
        for char in ODD_CHARS:
            for probe in (char + example, example[:1] + char + example[1:], example + char):
                assert bool(re.search(pattern, probe)) == fast(probe), (where, probe)


def fixture_files() -> list[Path]:
    return sorted((ROOT / "tests" / "fixtures").rglob("*.yaml"))


def test_fast_and_full_validators_agree_on_every_fixture() -> None:
    full = Draft202012Validator(config_schema())
    checked = 0
    for path in fixture_files():
        try:
            doc = parse_document(path.name, path.read_bytes())
        except Exception:  # fixtures the loader refuses never reach the schema
            continue
        assert is_valid_fast(doc.data) == full.is_valid(doc.data), path
        checked += 1
    assert checked >= 60


def test_values_json_cannot_hold_fall_back_to_the_full_check() -> None:
    # !!binary makes bytes, which jsonschema-rs cannot read: jsonschema explains instead.
    doc = parse_document("t.yaml", (HEAD + "policy: { max_removals: !!binary QUJD }\n").encode())
    assert is_valid_fast(doc.data) is False
    [problem] = check_schema(doc)
    assert (problem.line, problem.col) == (3, 25)


def test_repository_schemas_path_is_the_packaged_schema() -> None:
    shipped = ROOT / "bcsync" / "schemas" / "config.schema.json"
    assert (ROOT / "schemas" / "config.schema.json").read_bytes() == shipped.read_bytes()


@pytest.mark.parametrize("example", ["quickstart/bcsync.yaml", "agency/agency.yaml"])
def test_examples_point_editors_at_the_schema(example: str) -> None:
    path = ROOT / "examples" / example
    first = path.read_text().splitlines()[0]
    match = re.fullmatch(r"# yaml-language-server: \$schema=(\S+)", first)
    assert match, first
    schema = ROOT / "schemas" / "config.schema.json"
    assert (path.parent / match.group(1)).resolve() == schema.resolve()


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # the value is a string, so the role branch of the union explains it
        (
            'assets: { ad_accounts: { a: "1" } }\nmembers:\n'
            "  x@acme.com: { role: standard, access: { ad_accounts: { a: operater } } }\n",
            (5, 61, "expected an ad account role", "did you mean 'operator'?"),
        ),
        # the value is a mapping, so the mapping branch explains it, at the inner key
        (
            'assets: { ad_accounts: { a: "1" } }\nmembers:\n'
            "  x@acme.com: { role: standard, access: { ad_accounts: { a: { role: admn } } } }\n",
            (5, 69, "expected an ad account role", "did you mean 'admin'?"),
        ),
        # a list of TikTok permissions: the bad item is located
        (
            'assets: { tiktok_accounts: { t: "1" } }\nmembers:\n'
            "  x@acme.com: { role: standard, access: { tiktok_accounts: { t: [live, pots] } } }\n",
            (5, 72, "TikTok account permission", "did you mean 'post'?"),
        ),
        ("assets: { ad_accounts: { a: 17 } }\n", (3, 29, "expected an asset id", 'quote it: "17"')),
        ("policy: { max_removals: yes }\n", (3, 25, "got boolean true", None)),
        ("groups: { bad group: {} }\n", (3, 11, "expected a name of letters", None)),
    ],
)
def test_error_messages(body: str, expected: tuple[int, int, str, str | None]) -> None:
    problems = check_schema(parse_document("t.yaml", (HEAD + body).encode()))
    assert len(problems) == 1, [p.format() for p in problems]
    line, col, message, hint = expected
    [problem] = problems
    assert (problem.line, problem.col) == (line, col)
    assert message in problem.message
    assert problem.hint == hint or (hint is not None and hint in (problem.hint or ""))


def test_schema_and_rule_problems_come_out_together(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        HEAD + "members:\n  owner@acme.com: { role: admin, colour: red }\n"
        "  bob@acme.com: { role: standard, groups: [nope] }\n"
    )
    result = load([str(path)], now=NOW)
    assert [(p.line, p.message.split(" '")[0]) for p in result.errors] == [
        (3, "1 admin(s) declared; the default min_admins requires 2"),
        (4, "unknown key"),
        (5, "unknown group"),
    ]


def test_schema_roles_match_the_model() -> None:
    """The schema's role enums and model.ROLES must not drift apart."""
    schema = json.loads((Path(__file__).parents[2] / "schemas/config.schema.json").read_text())
    defs = schema["$defs"]
    names = {
        AssetType.AD_ACCOUNT: "adAccountRole",
        AssetType.CATALOG: "catalogRole",
        AssetType.TIKTOK_ACCOUNT: "tiktokAccountPermission",
        AssetType.SHOP: "shopRole",
        AssetType.LEAD_FORM: "leadFormRole",
        AssetType.PIXEL: "pixelRole",
    }
    for asset_type, name in names.items():
        assert set(defs[name]["enum"]) == set(ROLES[asset_type]), name
