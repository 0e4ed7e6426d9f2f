"""Rules the schema cannot express, on small in-memory documents."""

from __future__ import annotations

from datetime import date

import httpx
import pytest

from bcsync.config import load_sources
from bcsync.config.build import build_located
from bcsync.config.built_rules import check_built
from bcsync.config.document import Document
from bcsync.config.loader import SourceFile, parse_document
from bcsync.config.rules import check_rules, is_loopback_url, is_tiktok_api_url
from bcsync.config.schema import check_schema
from bcsync.providers.tiktok.client import is_loopback, is_tiktok_api

NOW = date(2026, 1, 1)
HEAD = 'version: 1\nbusiness_center: { id: "5" }\n'
ADMINS = "members:\n  o@x.io: { role: admin }\n  p@x.io: { role: admin }\n"


def parse(body: str) -> Document:
    return parse_document("t.yaml", (HEAD + body).encode())


def problems(body: str) -> list[tuple[int | None, int | None, str, str]]:
    """The rules' problems: the document's, and the built config's once the schema allows a build
    (as `bcsync.config` runs them; the schema's own problems are not these tests' subject)."""
    doc = parse(body)
    found = check_rules(doc, NOW)
    if not any(p.is_error for p in check_schema(doc)):
        found += check_built(build_located(doc, NOW, grants=False))
    return sorted((p.line, p.col, p.severity, p.message) for p in found)


def every_problem(body: str) -> list[tuple[int | None, int | None, str, str]]:
    """Every problem `validate` reports for the file."""
    result = load_sources([(SourceFile("t.yaml"), (HEAD + body).encode())], NOW)
    return sorted((p.line, p.col, p.severity, p.message) for p in result.problems)


def test_each_group_cycle_is_reported_once_at_the_closing_reference() -> None:
    body = (
        "groups:\n"
        "  a: { groups: [a] }\n"
        "  b: { groups: [c] }\n"
        "  c: { groups: [d] }\n"
        "  d: { groups: [b, a] }\n"
        "  e: { groups: [b] }\n" + ADMINS
    )
    assert problems(body) == [
        (4, 17, "error", "group cycle: a -> a"),
        (7, 17, "error", "group cycle: b -> c -> d -> b"),
    ]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # a required admin whose membership expired
        (
            "policy: { required_admins: [o@x.io] }\n"
            "members:\n  o@x.io: { role: admin, expires: 2025-01-01 }\n"
            "  p@x.io: { role: admin }\n  q@x.io: { role: admin }\n",
            [
                (3, 29, "error", "required admin 'o@x.io' expired on 2025-01-01"),
                (5, 35, "warning", "expired on 2025-01-01, the member will be removed"),
            ],
        ),
        # required admins compare case-insensitively
        ("policy: { required_admins: [O@X.io] }\n" + ADMINS, []),
        # the URL of an emulator provider is fine; a seed is not
        (
            'provider: { type: emulator, url: "http://127.0.0.1:9", seed: s.yaml }\n' + ADMINS,
            [(3, 56, "error", "'seed' does not apply to the emulator provider")],
        ),
        # the local provider reads no token: a token_env there is ignored, with a warning
        (
            "provider: { type: local, token_env: X }\n" + ADMINS,
            [(3, 26, "warning", "the local provider reads no token: token_env is ignored")],
        ),
        # ... and takes no URL
        (
            'provider: { type: local, url: "http://127.0.0.1:9" }\n' + ADMINS,
            [(3, 26, "error", "'url' does not apply to the local provider")],
        ),
        # the emulator may read a BCSYNC_ variable, never a TIKTOK_ one
        ('provider: { type: emulator, url: "http://[::1]:9", token_env: BCSYNC_E }\n' + ADMINS, []),
        (
            'provider: { type: emulator, url: "http://[::1]:9", token_env: TIKTOK_X }\n' + ADMINS,
            [(3, 63, "error", "the emulator provider must not read the TikTok token ($TIKTOK_X)")],
        ),
        # TikTok's API and its sandbox take the token; another URL is a warning
        ('provider: { type: tiktok, url: "https://sandbox-ads.tiktok.com/v1/" }\n' + ADMINS, []),
        (
            'provider: { type: tiktok, url: "http://127.0.0.1:9" }\n' + ADMINS,
            [
                (
                    3,
                    32,
                    "warning",
                    "'http://127.0.0.1:9' is not TikTok's API: plan and apply will refuse to send "
                    "the TikTok token there",
                )
            ],
        ),
        # a protected partner may be named by its BC id
        (
            'policy: { protected: ["partner:7200"] }\nassets: { ad_accounts: { a: "1" } }\n'
            'partners:\n  p: { bc_id: "7200", access: { ad_accounts: { a: analyst } } }\n' + ADMINS,
            [],
        ),
        # the same ad account shared and granted: fine
        (
            'assets: { ad_accounts: { a: "1" }, catalogs: { a: "1" } }\n' + ADMINS,
            [],
        ),
    ],
)
def test_rules(body: str, expected: list[tuple[int, int, str, str]]) -> None:
    assert problems(body) == expected


def test_rules_skip_what_the_schema_reports() -> None:
    # Wrong shapes everywhere: the schema reports them; the rules must not crash or repeat them,
    # and what the file means (its admins) is judged once it has a shape to build.
    body = (
        "assets: [1]\ngroups: 5\nmembers:\n  o@x.io: [admin]\n  p@x.io: { access: 3 }\n"
        "partners: { p: 1 }\npolicy: { required_admins: 7, protected: [1], min_admins: x }\n"
    )
    assert check_rules(parse(body), NOW) == []
    assert all("admin(s) declared" not in p[3] for p in every_problem(body))
    assert problems("members:\n  o@x.io: { role: admin }\n") == [
        (3, 1, "error", "1 admin(s) declared; the default min_admins requires 2")
    ]


def test_rules_on_the_built_config_run_beside_reference_errors() -> None:
    # An unknown alias does not hide that the file declares too few admins: both in one pass.
    body = (
        'assets: { ad_accounts: { a: "1" } }\n'
        'partners:\n  p: { bc_id: "72", access: { ad_accounts: { b: analyst } } }\n'
        "members:\n  o@x.io: { role: admin, access: { ad_accounts: { b: analyst } } }\n"
    )
    assert every_problem(body) == [
        # the share names no declared ad account: the partner has nothing it can be added with
        (5, 3, "warning", "partner 'p' has no active ad account share"),
        (5, 46, "error", "unknown ad account alias 'b'"),
        (6, 1, "error", "1 admin(s) declared; the default min_admins requires 2"),
        (7, 51, "error", "unknown ad account alias 'b'"),
    ]


@pytest.mark.parametrize(
    ("url", "tiktok"),
    [
        ("https://business-api.tiktok.com/open_api/v1.3/", True),
        ("https://sandbox-ads.tiktok.com/open_api/v1.3/", True),
        ("https://Business-API.TikTok.com", True),
        ("https://business-api.tiktok.com:443/open_api/", True),
        ("http://business-api.tiktok.com/open_api/", False),
        ("https://business-api.tiktok.com:8443/", False),
        ("https://business-api.tiktok.com.example.net/", False),
        ("https://business-api.tiktok.com@example.net/", False),
        ("https://user:pw@business-api.tiktok.com/", False),
        ("https://example.net/business-api.tiktok.com/", False),
        ("https://business-api.tiktok.com:99999/", False),
        ("https://[::1]/", False),
        ("https://tiktok.com/", False),
    ],
)
def test_only_tiktoks_api_hosts_are_tiktok(url: str, tiktok: bool) -> None:
    assert is_tiktok_api_url(url) is tiktok
    # validate warns exactly where plan and apply refuse (the client's own check, over httpx)
    try:
        refused = not is_tiktok_api(url)
    except httpx.InvalidURL:
        refused = True
    assert refused is not tiktok


@pytest.mark.parametrize(
    ("url", "here"),
    [
        ("http://127.0.0.1:8321", True),
        ("http://127.8.9.10/", True),
        ("http://localhost:9", True),
        ("http://[::1]:9/", True),
        ("https://10.0.0.5:8321", False),
        ("https://emulator.example:8321", False),
        ("https://127.0.0.1.example.net/", False),
        ("https://localhost.example.net/", False),
    ],
)
def test_an_emulator_off_this_machine_is_a_warning(url: str, here: bool) -> None:
    body = f'provider: {{ type: emulator, url: "{url}" }}\n' + ADMINS
    found = [(p.severity, p.message.split(": ")[-1]) for p in check_rules(parse(body), NOW)]
    expected = [("warning", "plan and apply will refuse to send the emulator token there")]
    assert found == ([] if here else expected)
    assert is_loopback_url(url) is here
    assert is_loopback(httpx.URL(url).host) is here
