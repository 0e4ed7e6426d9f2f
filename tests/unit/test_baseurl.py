"""One base-URL check: what `validate` accepts is what `plan` accepts and what httpx can read."""

from __future__ import annotations

import json
from datetime import date

import httpx
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from bcsync.config.composer import LoadFailed
from bcsync.config.loader import parse_document
from bcsync.config.rules import check_rules
from bcsync.core.baseurl import BaseUrlError, parse_base_url
from bcsync.errors import ProviderError
from bcsync.providers.tiktok.client import check_base_url

NOW = date(2026, 1, 1)
HEAD = 'version: 1\nbusiness_center: { id: "5" }\n'
ADMINS = "members:\n  o@x.io: { role: admin }\n  p@x.io: { role: admin }\n"

HOSTS = [
    "business-api.tiktok.com",
    "xn--business-api.tiktok.com",
    "xn--fiqs8s.icom.museum",
    "xn--.example",
    "XN--BUSINESS-API.tiktok.com",
    "127.0.0.1",
    "127.0.0.999",
    "[::1]",
    "[::1",
    "[fe80::1%25eth0]",
    "localhost",
    "localhost.",
    "a..b",
    "-a.example",
    "exa_mple.com",
    "%zz",
    "bücher.example",
    "",
    "a" * 64 + ".example",
]
PORTS = ["", ":", ":0", ":443", ":8443", ":65535", ":65536", ":99999", ":-1", ":x", ":1.5"]
PATHS = ["", "/", "/open_api/v1.3/", "/a b", "/?q=1", "/#f", "/%", "/\u202e", "/\x00"]


def url_problems(url: str, kind: str) -> list[tuple[str, str]]:
    body = f"provider: {{ type: {kind}, url: {json.dumps(url, ensure_ascii=False)} }}\n" + ADMINS
    try:
        doc = parse_document("t.yaml", (HEAD + body).encode("utf-8", "surrogatepass"))
    except LoadFailed:
        assume(False)  # a string YAML cannot hold never reaches the rules
    return [(p.severity, p.message) for p in check_rules(doc, NOW) if p.path == "provider.url"]


def plan_accepts(url: str) -> bool:
    try:
        check_base_url(url)
    except ProviderError:
        return False
    return True


urls = st.one_of(
    st.builds(
        lambda scheme, host, port, path: f"{scheme}://{host}{port}{path}",
        st.sampled_from(["https", "http", "HTTPS", "ftp", ""]),
        st.one_of(st.sampled_from(HOSTS), st.text("abxn-.019[]:%@_", max_size=24)),
        st.sampled_from(PORTS),
        st.sampled_from(PATHS),
    ),
    st.text(max_size=40),
)


@given(url=urls, kind=st.sampled_from(["tiktok", "emulator"]))
@settings(max_examples=200, deadline=None)
@example(url="https://xn--business-api.tiktok.com/", kind="tiktok")
@example(url="http://10.0.0.5:8321", kind="emulator")
@example(url="https://business-api.tiktok.com:99999/", kind="tiktok")
def test_validate_errs_exactly_where_plan_refuses(url: str, kind: str) -> None:
    errors = [m for severity, m in url_problems(url, kind) if severity == "error"]
    assert bool(errors) is not plan_accepts(url), (url, errors)


@given(url=urls)
@settings(max_examples=200, deadline=None)
def test_an_accepted_url_is_one_httpx_reads_as_it_was_checked(url: str) -> None:
    try:
        base = parse_base_url(url)
    except BaseUrlError:
        return
    parsed = httpx.URL(base.text)
    assert parsed.host  # decoding an xn-- host raises for an invalid one: never here
    assert parsed.raw_host.decode("ascii") == base.host
    assert (parsed.scheme, parsed.port) == (base.scheme, base.port)


@pytest.mark.parametrize("kind", ["tiktok", "emulator"])
def test_an_idna_invalid_host_is_a_located_error_not_a_warning(kind: str) -> None:
    """`xn--business-api` decodes to U+0080...: plan used to crash on it (exit 70)."""
    body = f"provider: {{ type: {kind}, url: https://xn--business-api.tiktok.com/ }}\n"
    doc = parse_document("t.yaml", (HEAD + body + ADMINS).encode())
    (problem,) = [p for p in check_rules(doc, NOW) if p.path == "provider.url"]
    assert (problem.severity, problem.line, problem.col) == (
        "error",
        3,
        26 + len(kind),  # the URL's first character
    )
    assert "not valid IDNA" in problem.message
    with pytest.raises(ProviderError, match="not valid IDNA"):
        check_base_url("https://xn--business-api.tiktok.com/")
