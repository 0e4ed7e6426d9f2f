"""Each fixture under tests/fixtures/invalid provokes one failure, located to the exact line/col."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bcsync.config import load

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
NOW = date(2026, 1, 1)

# fixture name, line, col, message substring, hint substring (or None), errors expected
INVALID = [
    # loader
    ("duplicate-key", 10, 3, "duplicate key 'bob@acme.com' (first defined at line 9)", None, 1),
    ("bad-yaml-syntax", 5, 1, "invalid YAML: did not find expected ',' or '}'", "line 4", 1),
    ("empty", 1, 1, "empty file", "version: 1", 1),
    ("comments-only", 1, 1, "empty file", None, 1),
    ("binary", 3, 1, "binary file (contains NUL bytes)", None, 1),
    ("latin1", 4, 6, "not UTF-8 text (byte 0xe9)", None, 1),
    ("not-a-mapping", 2, 1, "expected a mapping at the top level, got a list", None, 1),
    ("tab-indent", 4, 1, "invalid YAML: found character that cannot start", "tabs", 1),
    ("multiple-documents", 9, 1, "more than one YAML document", None, 1),
    ("unsupported-tag", 7, 19, "unsupported YAML tag", None, 1),
    ("undefined-alias", 7, 19, "undefined alias *admin", "&admin", 1),
    ("impossible-int-tag", 10, 15, "cannot read 'two' as int", None, 1),
    # schema
    ("unknown-top-level-key", 9, 1, "unknown key 'member'", "did you mean 'members'?", 1),
    ("wrong-version", 1, 10, "expected version: 1", None, 1),
    ("missing-version", 1, 1, "missing required key 'version'", None, 1),
    ("missing-business-center", 1, 1, "missing required key 'business_center'", None, 1),
    ("unquoted-bc-id", 2, 24, "quoted string of digits, got integer", 'quote it: "70', 1),
    ("bad-member-email", 9, 3, "expected an email address, got 'bob'", None, 1),
    ("invalid-member-role", 9, 25, "expected a member role", "did you mean 'admin'?", 1),
    ("misspelled-member-key", 9, 19, "unknown key 'rol'", "did you mean 'role'?", 1),
    ("missing-member-role", 9, 3, "missing required key 'role'", None, 1),
    ("empty-member", 9, 16, "expected a mapping, got an empty value", None, 1),
    ("role-invalid-for-asset-type", 12, 25, "expected a catalog role (ad_promote, admin)", None, 1),
    ("invalid-tiktok-permission", 11, 40, "got 'stream'", None, 1),
    ("unknown-access-section", 12, 7, "unknown key 'ad_account'", "'ad_accounts'", 1),
    ("grant-unknown-key", 13, 35, "unknown key 'until'", "allowed: role, expires", 1),
    ("grant-wrong-type", 12, 31, "role or a mapping {role, expires, reason}", None, 1),
    ("partner-unshareable-access", 13, 7, "unknown key 'tiktok_accounts'", "and catalogs", 1),
    ("partner-missing-bc-id", 10, 3, "missing required key 'bc_id'", None, 1),
    ("emulator-without-url", 3, 1, "missing required key 'url'", None, 1),
    ("unknown-provider-type", 3, 19, "expected a provider type", "did you mean 'local'?", 1),
    ("bad-max-removals", 10, 17, 'expected a percentage such as "25%"', None, 1),
    ("bad-date-format", 9, 45, "expected a date YYYY-MM-DD, got '31/01/2027'", None, 1),
    ("groups-not-a-list", 11, 43, "expected a list, got 'media-buyers'", None, 1),
    ("bad-asset-id", 4, 59, "expected an asset id", None, 1),
    ("duplicate-list-entry", 10, 51, "duplicate entry 'owner@acme.com'", None, 1),
    ("min-admins-zero", 10, 15, "must be at least 1", None, 1),
    # rules
    ("unknown-asset-alias", 12, 22, "unknown ad account alias 'acme-uk'", "'acme-us'", 1),
    ("alias-of-other-asset-type", 12, 22, "unknown ad account alias 'main'", "is a catalog", 1),
    ("duplicate-asset-id", 6, 15, "already declared as 'acme-us' at line 5", None, 1),
    ("unknown-group", 11, 44, "unknown group 'media-buyer'", "'media-buyers'", 1),
    ("group-cycle", 11, 14, "group cycle: buyers -> analysts -> buyers", None, 1),
    ("one-admin", 6, 1, "1 admin(s) declared; the default min_admins requires 2", None, 1),
    ("min-admins-unmet", 10, 15, "2 admin(s) declared; policy.min_admins requires 3", None, 1),
    ("expired-admin-breaks-min-admins", 6, 1, "1 admin(s) declared (1 more expired)", None, 1),
    ("required-admin-not-admin", 11, 21, "declared with role 'standard'", "line 9", 1),
    (
        "required-admin-undeclared",
        *(10, 21, "'owner@acme.co' is not declared"),
        "'owner@acme.com'?; removing a protected entry takes two deliberate edits",
        1,
    ),
    ("too-many-admins", 3, 1, "21 admins declared", "role: standard", 1),
    ("partner-unknown-ad-account", 12, 30, "unknown ad account alias 'acme-fr'", None, 1),
    ("partner-is-self", 11, 12, "is this Business Center", "its own partner", 1),
    ("partner-duplicate-bc-id", 14, 12, "already declared as 'agency-x' at line 10", None, 1),
    ("impossible-date", 9, 45, "'2027-02-30' is not a valid date", None, 1),
    ("ignored-member-declared", 9, 3, "matches ignore_members pattern", "narrow the pattern", 1),
    ("member-case-duplicate", 10, 3, "emails are case-insensitive", None, 1),
    ("seed-on-tiktok-provider", 5, 3, "'seed' does not apply to the tiktok provider", "local", 1),
    # protection cannot be deleted with the block it protects
    ("protected-partner-undeclared", 10, 31, "protected partner 'agency-x' is not", "two", 1),
    # identities, not spellings (README "Safety")
    ("protected-partner-by-alias", 10, 31, "'agency-x' is named by its alias", "partner:72", 1),
    ("protected-partner-retargeted", 9, 31, "'7200000000000000009' is not declared", "two", 1),
    ("member-lookalike", 8, 3, "[U+043E CYRILLIC SMALL LETTER O at 1] looks like owner@", None, 1),
    ("required-admin-lookalike", 10, 21, "U+043E CYRILLIC SMALL LETTER O at 1] looks", None, 2),
    ("member-invisible-character", 8, 3, "ops@acme.com\\u200b [U+200B ZERO WIDTH SPACE", None, 1),
    ("member-bidi-control", 8, 3, "[U+202E RIGHT-TO-LEFT OVERRIDE at 1]", None, 1),
    ("member-trailing-dot", 8, 3, "bob@acme.com. is not a deliverable address", None, 1),
    ("member-ligature", 8, 3, "[U+FB01 LATIN SMALL LIGATURE FI at 1] holds compat", "invisible", 1),
    ("protected-member-undeclared", 10, 31, "'ownr@acme.com' is not declared", "two", 1),
    # an ignored admin is no admin: it neither counts nor may be declared
    ("ignored-admin-not-counted", 5, 1, "1 admin(s) declared; the default", None, 2),
    # where the token may go
    ("token-env-foreign-variable", 5, 14, "named TIKTOK_* or BCSYNC_*, got 'AWS_SEC", "secret", 1),
    ("emulator-reads-tiktok-token", 6, 14, "must not read the TikTok token", "BCSYNC_EMULATOR", 1),
    # hostile input: Python's `$` matches before a final newline
    ("member-key-trailing-newline", 9, 3, "email address, got 'frank@acme.com\\n'", None, 1),
    # pixels
    ("pixel-role-not-access", 11, 23, "pixel access (access), got 'admin'", None, 1),
    ("unknown-pixel-alias", 11, 17, "unknown pixel alias 'sight'", "did you mean 'site'?", 1),
]

# fixture name, line, col, warning substring
WARNINGS = [
    ("expires-soon", 12, 57, "expires on 2026-01-10 (in 9 days)"),
    ("expired-grant", 12, 57, "expired on 2025-12-01, it will be revoked"),
    ("expired-member", 9, 45, "expired on 2026-01-01, the member will be removed"),
    ("tiktok-url-not-tiktok", 5, 8, "is not TikTok's API: plan and apply will refuse"),
    ("local-token-env-ignored", 5, 3, "the local provider reads no token"),
    ("partner-without-shares", 10, 3, "partner 'agency-x' has no active ad account share"),
]


def test_every_invalid_fixture_is_in_the_table() -> None:
    on_disk = {p.stem for p in (FIXTURES / "invalid").iterdir()}
    assert on_disk == {row[0] for row in INVALID}
    assert len(on_disk) >= 25


@pytest.mark.parametrize(("name", "line", "col", "message", "hint", "count"), INVALID)
def test_invalid_fixture_is_located(
    name: str, line: int, col: int, message: str, hint: str | None, count: int
) -> None:
    path = str(FIXTURES / "invalid" / f"{name}.yaml")
    result = load([path], now=NOW)
    errors = result.errors
    assert result.configs == []
    assert len(errors) == count, [p.format() for p in errors]
    matching = [p for p in errors if p.line == line and p.col == col and message in p.message]
    assert matching, [p.format() for p in errors]
    if hint is not None:
        assert hint in (matching[0].hint or "")
    assert matching[0].file == path


@pytest.mark.parametrize(("name", "line", "col", "message"), WARNINGS)
def test_warning_fixture_is_valid_and_warns(name: str, line: int, col: int, message: str) -> None:
    result = load([str(FIXTURES / "warnings" / f"{name}.yaml")], now=NOW)
    assert result.errors == []
    assert len(result.configs) == 1
    found = [(p.line, p.col, p.severity) for p in result.warnings if message in p.message]
    assert found == [(line, col, "warning")], [p.format() for p in result.problems]


def test_too_many_members(tmp_path: Path) -> None:
    lines = ["version: 1", 'business_center: { id: "1" }', "members:"]
    lines += [f"  admin{i}@acme.com: {{ role: admin }}" for i in range(2)]
    lines += [f"  user{i:04d}@acme.com: {{ role: standard }}" for i in range(3999)]
    path = tmp_path / "big.yaml"
    path.write_text("\n".join(lines) + "\n")
    result = load([str(path)], now=NOW)
    assert [(p.line, p.col, p.message) for p in result.errors] == [
        (3, 1, "4,001 members declared; a Business Center holds at most 4,000")
    ]


def test_same_bc_in_two_files_is_an_error() -> None:
    result = load([str(FIXTURES / "dirs" / "duplicate-bc")], now=NOW)
    assert [(Path(p.file).name, p.line, p.col) for p in result.errors] == [("b.yml", 3, 7)]
    assert "already declared in" in result.errors[0].message
    assert result.errors[0].message.endswith("a.yaml:2")
    assert [c.name for c in result.configs] == ["First"]
