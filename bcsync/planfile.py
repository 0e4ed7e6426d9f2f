"""Saved plans on disk: written atomically, read back with schema validation."""

from __future__ import annotations

import json
import os
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from bcsync.errors import PlanFileError
from bcsync.plan import FORMAT_VERSION, Plan

SCHEMA_PATH = Path(__file__).parent / "schemas" / "plan.schema.json"


@cache
def _validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema)


def validate_document(doc: Any) -> list[str]:
    """Schema problems of a plan document, as `path: message` lines."""
    errors = sorted(_validator().iter_errors(doc), key=lambda e: list(e.absolute_path))
    return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in errors]


def write(path: str | Path, text: str) -> None:
    """Write a plan file atomically (a reader never sees half a plan)."""
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".bcsync-plan-", dir=str(target.parent))
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, target)
    except OSError as exc:
        raise PlanFileError(f"cannot write the plan file {target}: {exc.strerror or exc}") from exc


def read(path: str | Path) -> tuple[dict[str, Any], list[Plan]]:
    """The document and its plans; PlanFileError when it is not a valid bcsync plan."""
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PlanFileError(f"cannot read the plan file {source}: {exc}") from exc
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PlanFileError(
            f"{source}:{exc.lineno}:{exc.colno}: not a bcsync plan (invalid JSON: {exc.msg})",
            hint="save a plan with `bcsync plan --out FILE`",
        ) from exc
    if not isinstance(doc, dict) or doc.get("tool") != "bcsync":
        raise PlanFileError(
            f"{source}: not a bcsync plan", hint="save a plan with `bcsync plan --out FILE`"
        )
    if doc.get("format_version") != FORMAT_VERSION:
        raise PlanFileError(
            f"{source}: plan format_version {doc.get('format_version')!r} is not supported "
            f"by this bcsync (expects {FORMAT_VERSION})",
            hint="re-create the plan with this version of bcsync",
        )
    problems = validate_document(doc)
    if problems:
        raise PlanFileError(
            f"{source}: not a valid bcsync plan:\n  - " + "\n  - ".join(problems[:10]),
            hint="re-create it with `bcsync plan --out FILE`",
        )
    return doc, [Plan.from_json(p) for p in doc["plans"]]
