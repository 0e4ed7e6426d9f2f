"""JSON Schema validation of a Document, with every error turned into a located Problem.

jsonschema's messages name the schema, not the user's file; here each error becomes one line a
reviewer can act on: the line and column of the offending key or value, the path in the document,
what was expected, and a did-you-mean hint for misspelled keys and values. The schema's
`errorMessage` / `patternErrorMessage` annotations (which editors such as VS Code also show) give
the wording; `x-hint` adds a hint to unknown-key and pattern errors.

Speed: a valid config (the common case) is checked by jsonschema-rs, a compiled Rust validator
(about 0.02 s at TikTok's limits, against 4.5 s for jsonschema's interpreter); only a config it
rejects goes through jsonschema's full error collection, which locates every error. Both are
imported on first use, so `bcsync --help` pays for neither.
"""

from __future__ import annotations

import functools
import json
from collections import defaultdict
from collections.abc import Callable
from importlib import resources
from typing import TYPE_CHECKING, Any

from bcsync.config.document import DocPath, Document, did_you_mean, join_hints, short_repr
from bcsync.errors import Problem

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

SCHEMA_FILE = "config.schema.json"


@functools.cache
def config_schema() -> dict[str, Any]:
    """The config JSON Schema shipped in the package."""
    text = resources.files("bcsync").joinpath("schemas", SCHEMA_FILE).read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@functools.cache
def _validator() -> Draft202012Validator:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(config_schema())


@functools.cache
def _fast_validator() -> Any:
    """jsonschema-rs's validator, or None where it is not installed (jsonschema alone then)."""
    try:
        import jsonschema_rs
    except ImportError:
        return None
    return jsonschema_rs.validator_for(config_schema())


def is_valid_fast(data: Any) -> bool:
    """True when the fast validator accepts `data`; False when it rejects or cannot read it."""
    validator = _fast_validator()
    if validator is None:
        return False
    try:
        return bool(validator.is_valid(data))
    except (ValueError, TypeError, OverflowError):
        # Values JSON has no word for (bytes from !!binary, NaN, lone surrogates): let
        # jsonschema decide and explain.
        return False


def check_schema(doc: Document) -> list[Problem]:
    """Every schema violation in the document, located."""
    if is_valid_fast(doc.data):
        return []
    errors = list(_validator().iter_errors(doc.data))
    suggested = _suggested_keys(errors)
    problems: list[Problem] = []
    for error in errors:
        problems.extend(_explain(doc, error, None, suggested))
    return _unique(problems)


def _unique(problems: list[Problem]) -> list[Problem]:
    seen: set[tuple[object, ...]] = set()
    out = []
    for p in problems:
        key = (p.line, p.col, p.path, p.message)
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out


def _suggested_keys(errors: list[ValidationError]) -> set[tuple[DocPath, str]]:
    """(path, key) pairs a misspelled key is probably meant to be: their 'missing' is noise."""
    found: set[tuple[DocPath, str]] = set()
    for error in _walk(errors):
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = list(_properties(error.schema))
            for extra in _extra_keys(error):
                hint = did_you_mean(extra, allowed)
                if hint:
                    found.add((tuple(error.absolute_path), hint.split("'")[1]))
    return found


def _walk(errors: list[ValidationError]) -> list[ValidationError]:
    out: list[ValidationError] = []
    for error in errors:
        out.append(error)
        out.extend(_walk(list(error.context or ())))
    return out


def _properties(schema: Any) -> dict[str, Any]:
    props = schema.get("properties", {}) if isinstance(schema, dict) else {}
    return props if isinstance(props, dict) else {}


def _extra_keys(error: ValidationError) -> list[str]:
    allowed = _properties(error.schema)
    instance = error.instance if isinstance(error.instance, dict) else {}
    return [k for k in instance if k not in allowed]


def _explain(
    doc: Document,
    error: ValidationError,
    fallback: str | None,
    suggested: set[tuple[DocPath, str]],
) -> list[Problem]:
    path: DocPath = tuple(error.absolute_path)
    validator = error.validator
    if validator == "additionalProperties" and error.validator_value is False:
        return _unknown_keys(doc, error, path)
    if "propertyNames" in error.relative_schema_path:
        return [_bad_key(doc, error, path)]
    if validator == "required":
        return _missing(doc, error, path, suggested)
    if validator in ("anyOf", "oneOf"):
        return _union(doc, error, path, suggested)
    if validator == "uniqueItems":
        return [_duplicate_item(doc, error, path)]
    message, hint = _message(error, fallback)
    return [doc.problem(path, message, hint)]


def _unknown_keys(doc: Document, error: ValidationError, path: DocPath) -> list[Problem]:
    allowed = list(_properties(error.schema))
    extra_hint = error.schema.get("x-hint") if isinstance(error.schema, dict) else None
    problems = []
    for extra in _extra_keys(error):
        hint = join_hints(did_you_mean(extra, allowed), extra_hint)
        if hint is None:
            hint = "allowed: " + ", ".join(allowed)
        problems.append(doc.problem((*path, extra), f"unknown key {extra!r}", hint, key=True))
    return problems


def _bad_key(doc: Document, error: ValidationError, path: DocPath) -> Problem:
    key = error.instance
    text = _own_message(error) or "invalid key"
    return doc.problem((*path, str(key)), f"{text}, got {short_repr(key)}", key=True)


def _missing(
    doc: Document,
    error: ValidationError,
    path: DocPath,
    suggested: set[tuple[DocPath, str]],
) -> list[Problem]:
    instance = error.instance if isinstance(error.instance, dict) else {}
    required = error.validator_value if isinstance(error.validator_value, list) else []
    return [
        doc.problem(path, f"missing required key {name!r}", key=True)
        for name in required
        if name not in instance and (path, name) not in suggested
    ]


def _union(
    doc: Document,
    error: ValidationError,
    path: DocPath,
    suggested: set[tuple[DocPath, str]],
) -> list[Problem]:
    """anyOf/oneOf: explain the branch whose type fits the value, else the union's message."""
    branches: dict[object, list[ValidationError]] = defaultdict(list)
    for sub in error.context or ():
        branches[sub.relative_schema_path[0] if sub.relative_schema_path else None].append(sub)
    fitting = [subs for subs in branches.values() if not any(_type_mismatch(s) for s in subs)]
    own = _own_message(error)
    if len(fitting) == 1:
        problems: list[Problem] = []
        for sub in fitting[0]:
            problems.extend(_explain(doc, sub, own, suggested))
        return problems
    message = f"{own or 'invalid value'}, got {_describe(error.instance)}"
    return [doc.problem(path, message, _quote_hint(error))]


def _type_mismatch(error: ValidationError) -> bool:
    """True when an error says the value has the wrong type for a branch (at the branch root)."""
    if error.relative_path:
        return False
    if error.validator == "type":
        return True
    if error.validator in ("anyOf", "oneOf") and error.context:
        branches: dict[object, list[ValidationError]] = defaultdict(list)
        for sub in error.context:
            branches[sub.relative_schema_path[0] if sub.relative_schema_path else None].append(sub)
        return all(any(_type_mismatch(s) for s in subs) for subs in branches.values())
    return False


def _duplicate_item(doc: Document, error: ValidationError, path: DocPath) -> Problem:
    items = error.instance if isinstance(error.instance, list) else []
    seen: list[Any] = []
    for index, item in enumerate(items):
        if item in seen:
            return doc.problem((*path, index), f"duplicate entry {short_repr(item)}")
        seen.append(item)
    return doc.problem(path, "duplicate entries")


def _own_message(error: ValidationError) -> str | None:
    schema = error.schema if isinstance(error.schema, dict) else {}
    if error.validator == "pattern" and "patternErrorMessage" in schema:
        return str(schema["patternErrorMessage"])
    message = schema.get("errorMessage")
    return str(message) if message else None


def _message(error: ValidationError, fallback: str | None) -> tuple[str, str | None]:
    """Message and hint for a keyword error on one value."""
    validator, value, instance = error.validator, error.validator_value, error.instance
    own = _own_message(error) or (fallback if not error.relative_path else None)
    got = _describe(instance)
    if validator == "enum" and isinstance(value, list):
        choices = [str(v) for v in value]
        hint = did_you_mean(str(instance), choices) if isinstance(instance, str) else None
        text = own or "expected one of " + ", ".join(choices)
        return f"{text}, got {got}", hint
    if own and validator in ("type", "const", "pattern", "enum"):
        return f"{own}, got {got}", _quote_hint(error) or _schema_hint(error)
    simple = {
        "type": lambda: f"expected {_type_words(value)}, got {got}",
        "const": lambda: f"expected {value!r}, got {got}",
        "pattern": lambda: f"{got} does not match {value}",
        "minimum": lambda: f"must be at least {value}, got {got}",
        "maximum": lambda: f"must be at most {value}, got {got}",
        "minItems": lambda: "must not be empty" if value == 1 else f"needs at least {value} items",
        "minLength": lambda: "must not be empty",
        "maxItems": lambda: f"too many items: at most {value}, got {len(instance)}",
        "minProperties": lambda: "must not be empty",
        "maxProperties": lambda: f"too many entries: at most {value}, got {len(instance)}",
        "maxLength": lambda: f"too long: at most {value} characters",
        "false": lambda: "not allowed here",
    }
    maker: Callable[[], str] | None = simple.get(str(validator))
    text = maker() if maker else error.message
    return text, _quote_hint(error) if validator == "type" else None


def _schema_hint(error: ValidationError) -> str | None:
    hint = error.schema.get("x-hint") if isinstance(error.schema, dict) else None
    return str(hint) if hint else None


def _quote_hint(error: ValidationError) -> str | None:
    """YAML reads 123 as a number: suggest quoting where a string (an id) fits."""
    instance = error.instance
    number = isinstance(instance, int | float) and not isinstance(instance, bool)
    return f'quote it: "{instance}"' if number and _wants_string(error.schema) else None


def _wants_string(schema: Any) -> bool:
    """True for free-form strings such as ids, not for enums (quoting 5 cannot make a role)."""
    if not isinstance(schema, dict) or "enum" in schema:
        return False
    if schema.get("type") == "string":
        return True
    if "$ref" in schema:
        target = _resolve(str(schema["$ref"]))
        return target is not schema and _wants_string(target)
    return any(_wants_string(s) for s in schema.get("anyOf", []))


def _resolve(ref: str) -> Any:
    node: Any = config_schema()
    for part in ref.removeprefix("#/").split("/"):
        node = node.get(part, {}) if isinstance(node, dict) else {}
    return node


def _type_words(value: Any) -> str:
    names = value if isinstance(value, list) else [value]
    words = {
        "object": "a mapping",
        "array": "a list",
        "string": "a string",
        "integer": "an integer",
        "number": "a number",
        "boolean": "true or false",
        "null": "null",
    }
    return " or ".join(words.get(str(n), str(n)) for n in names)


def _describe(instance: Any) -> str:
    if instance is None:
        return "an empty value"
    if isinstance(instance, bool):
        return f"boolean {str(instance).lower()}"
    if isinstance(instance, int):
        return f"integer {instance}"
    if isinstance(instance, float):
        return f"number {instance}"
    if isinstance(instance, str):
        return short_repr(instance)
    if isinstance(instance, dict):
        return "a mapping"
    if isinstance(instance, list):
        return "a list"
    return f"{type(instance).__name__} data"
