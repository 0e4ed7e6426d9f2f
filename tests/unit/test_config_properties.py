"""Property tests: whatever the input, loading ends in a LoadResult, never an exception."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from bcsync.config import LoadResult, load
from bcsync.config.loader import LoadFailed, parse_document
from bcsync.config.schema import config_schema, is_valid_fast

NOW = date(2026, 1, 1)
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

WORDS = [
    "version", "business_center", "id", "name", "provider", "type", "seed", "url", "policy",
    "min_admins", "required_admins", "max_removals", "protected", "ignore_members", "assets",
    "ad_accounts", "catalogs", "tiktok_accounts", "shops", "lead_forms", "groups", "members",
    "partners", "access", "role", "expires", "reason", "bc_id", "finance_role", "<<", "token_env",
]  # fmt: skip
EMAILS = ["a@acme.com", "A@Acme.com", "b@acme.com", "x@support.io", "not-an-email", "c@a.io\n"]
ALIASES = ["us", "eu", "main", "brand", "bad alias"]
GROUPS = ["g1", "g2", "g3"]
ROLES = [
    *("admin", "standard", "analyst", "operator", "ad_promote", "post", "live", "manager"),
    *("access", "x", "admin\n"),
]
SECTIONS = ["ad_accounts", "catalogs", "tiktok_accounts", "shops", "lead_forms", "pixels", "other"]

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=12)
    | st.dates(min_value=date(2024, 1, 1), max_value=date(2028, 1, 1))
    | st.sampled_from(["2027-02-30", "25%", "1", "7012345678901234567", *ROLES])
)
documents = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(WORDS) | st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=30,
)
dates = st.dates(min_value=date(2025, 6, 1), max_value=date(2026, 3, 1)) | st.just("2027-02-30")
grant = (
    st.sampled_from(ROLES)
    | st.lists(st.sampled_from(["post", "live", "direct_message", "x"]), max_size=3)
    | st.fixed_dictionaries(
        {},
        optional={"role": st.sampled_from(ROLES), "expires": dates, "reason": st.text(max_size=5)},
    )
    | scalars
)
access = st.dictionaries(
    st.sampled_from(SECTIONS),
    st.dictionaries(st.sampled_from(ALIASES), grant, max_size=3) | scalars,
    max_size=3,
)
group_refs = st.lists(st.sampled_from([*GROUPS, "nope"]), max_size=3) | scalars
member = (
    st.fixed_dictionaries(
        {},
        optional={
            "role": st.sampled_from(["admin", "admin", "standard", "boss"]),
            "finance_role": st.sampled_from(["manager", "analyst", "x"]),
            "groups": group_refs,
            "access": access,
            "expires": dates,
        },
    )
    | documents
)
config_like = st.fixed_dictionaries(
    {
        "version": st.just(1) | scalars,
        "business_center": st.fixed_dictionaries({"id": st.sampled_from(["7012", "x", "1"])}),
    },
    optional={
        "provider": st.fixed_dictionaries(
            {"type": st.sampled_from(["local", "emulator", "tiktok", "x"])},
            optional={
                "seed": st.just("seed.yaml"),
                "url": st.sampled_from(["http://127.0.0.1:1", "https://x.io/\n", "ftp://x"]),
                "token_env": st.sampled_from(["TIKTOK_A", "BCSYNC_B", "AWS_KEY", "TIKTOK_A\n"]),
            },
        ),
        "policy": st.fixed_dictionaries(
            {},
            optional={
                "min_admins": st.integers(-1, 25) | scalars,
                "required_admins": st.lists(st.sampled_from(EMAILS), max_size=3),
                "max_removals": st.sampled_from(["25%", 5, "x", "150%"]),
                "protected": st.lists(
                    st.sampled_from([*EMAILS, "partner:p1", "partner:zz"]), max_size=3
                ),
                "ignore_members": st.lists(st.sampled_from(["*@support.io", "*", "["]), max_size=2),
            },
        ),
        "assets": st.dictionaries(
            st.sampled_from(SECTIONS),
            st.dictionaries(st.sampled_from(ALIASES), st.sampled_from(["1", "2", "3"]) | scalars),
            max_size=4,
        ),
        "groups": st.dictionaries(
            st.sampled_from(GROUPS),
            st.fixed_dictionaries({}, optional={"groups": group_refs, "access": access}),
            max_size=3,
        ),
        "members": st.dictionaries(st.sampled_from(EMAILS), member, max_size=5),
        "partners": st.dictionaries(
            st.sampled_from(["p1", "p2"]),
            st.fixed_dictionaries(
                {"bc_id": st.sampled_from(["7200", "7012", 7200])},
                optional={"access": access, "expires": dates},
            ),
            max_size=2,
        ),
    },
)


class NoAliasDumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True


def dump(value: Any) -> str:
    return yaml.dump(value, Dumper=NoAliasDumper, sort_keys=False, allow_unicode=True)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("properties")


def check_outcome(result: LoadResult, path: str) -> None:
    assert isinstance(result, LoadResult)
    for problem in result.problems:
        assert problem.file == path
        assert problem.line is None or problem.line >= 1
        assert problem.col is None or problem.col >= 1
        assert problem.message and problem.severity in ("error", "warning")
        assert problem.format().startswith(path)
    if result.errors:
        assert result.configs == []
    else:
        assert len(result.configs) == 1


@SETTINGS
@given(raw=st.binary(max_size=400))
def test_arbitrary_bytes(workdir: Path, raw: bytes) -> None:
    path = workdir / "bytes.yaml"
    path.write_bytes(raw)
    check_outcome(load([str(path)], now=NOW), str(path))


@SETTINGS
@given(
    text=st.text(alphabet=st.sampled_from(list("ab:-[]{}&*!|>'\"#%@`,? \n\t0\\~<")), max_size=80)
)
def test_arbitrary_yaml_punctuation(workdir: Path, text: str) -> None:
    path = workdir / "punctuation.yaml"
    path.write_text(text)
    check_outcome(load([str(path)], now=NOW), str(path))


@SETTINGS
@given(value=documents)
def test_arbitrary_yaml_documents(workdir: Path, value: Any) -> None:
    path = workdir / "document.yaml"
    path.write_text(dump(value))
    check_outcome(load([str(path)], now=NOW), str(path))


@SETTINGS
@given(value=config_like)
def test_config_shaped_documents(workdir: Path, value: Any) -> None:
    path = workdir / "config.yaml"
    path.write_text(dump(value))
    check_outcome(load([str(path)], now=NOW), str(path))


def normalize(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: normalize(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalize(v) for v in value]
    return value


@SETTINGS
@given(value=documents)
def test_loader_reads_what_pyyaml_reads_and_marks_every_value(value: Any) -> None:
    text = dump(value)
    try:
        doc = parse_document("t.yaml", text.encode())
    except LoadFailed as exc:
        # Only a document that is not a mapping (or is empty) may fail; pyyaml agrees.
        assert not isinstance(yaml.safe_load(text), dict), exc.problems
        return
    assert doc.data == normalize(yaml.safe_load(text))
    stack: list[tuple[tuple[Any, ...], Any]] = [((), doc.data)]
    while stack:
        path, node = stack.pop()
        assert path in doc.marks
        if isinstance(node, dict):
            for key, child in node.items():
                assert (*path, key) in doc.key_marks
                stack.append(((*path, key), child))
        elif isinstance(node, list):
            stack.extend(((*path, index), child) for index, child in enumerate(node))


@SETTINGS
@given(value=config_like | documents)
def test_fast_validator_agrees_with_jsonschema(value: Any) -> None:
    """The happy path's validator accepts exactly what jsonschema accepts, never more."""
    try:
        doc = parse_document("t.yaml", dump(value).encode())
    except LoadFailed:
        return
    full = Draft202012Validator(config_schema()).is_valid(doc.data)
    assert is_valid_fast(doc.data) == full, doc.data
