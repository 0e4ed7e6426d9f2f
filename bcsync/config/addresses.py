"""Config rules for email addresses: each is one TikTok would deliver to, and no two look alike.

Every address the config writes (member keys, `required_admins`, `protected`) must be in the
accepted form (`bcsync.core.emails.problem`), and no two distinct addresses may share a confusable
skeleton (Unicode TS #39): `оwner@acme.com` with a Cyrillic о beside `owner@acme.com` is an error
at the later one, with both spellings' code points. Addresses the Business Center already has
are compared at plan time (`safety`), where the BC is read.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from bcsync.config.document import DocPath, Document, list_at, mapping_at
from bcsync.core.emails import problem, skeleton, visible
from bcsync.errors import Problem

# The schema's shape of an email (`$defs/email`): what fails it is reported there, once.
_SHAPE = re.compile(r"[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]+")


def _written(doc: Document) -> Iterator[tuple[str, DocPath, bool, str]]:
    """(address, its path, whether the key is meant, what it is) for every address written."""
    for email in mapping_at(doc.data, "members"):
        yield email, ("members", email), True, "member"
    for index, email in enumerate(list_at(doc.data, "policy", "required_admins")):
        if isinstance(email, str):
            yield email, ("policy", "required_admins", index), False, "required admin"
    for index, entry in enumerate(list_at(doc.data, "policy", "protected")):
        if isinstance(entry, str) and not entry.startswith("partner:"):
            yield entry, ("policy", "protected", index), False, "protected member"


def check_addresses(doc: Document) -> Iterator[Problem]:
    """Addresses not in the accepted form, and addresses that look like another one."""
    first: dict[str, tuple[str, DocPath, bool]] = {}
    for email, path, key, what in _written(doc):
        if not _SHAPE.fullmatch(email):
            continue
        wrong = problem(email)
        if wrong is not None:
            yield doc.problem(
                path,
                f"{what} {wrong}",
                "write the address as the mailbox's owner gives it: bcsync refuses invisible, "
                "direction and compatibility characters, and trailing or doubled dots",
                key=key,
            )
            continue
        lower = email.lower()
        shape = skeleton(lower)
        seen = first.setdefault(shape, (lower, path, key))
        if seen[0] == lower:
            continue
        mark = doc.locate(seen[1], key=seen[2])
        where = f" (line {mark[0]})" if mark else ""
        yield doc.problem(
            path,
            f"{what} {visible(email)} looks like {visible(seen[0])}{where}: their confusable "
            "skeletons (Unicode TS #39) are equal",
            "one person, one spelling: use exactly the address written first, or a clearly "
            "different one",
            key=key,
        )
