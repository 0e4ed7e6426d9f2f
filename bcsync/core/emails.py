"""Email addresses as TikTok would deliver to them, and visibly so. Pure, no I/O.

The accepted form (README "Safety"): an address is plain ASCII (RFC 5321 dot-atom local part,
a domain of letter-digit-hyphen labels), or an internationalised address (RFC 6531) that
email-validator accepts: NFC-normalised, its domain valid under IDNA 2008 / UTS #46 and written in
Unicode (not as xn-- punycode, so one mailbox has one spelling), with no
control, format (invisible, bidirectional) or space characters and no leading, trailing or
doubled dots. Compatibility characters (ligatures such as "ﬁ", full-width letters) are refused too:
NFKC would change them, so two spellings could reach one mailbox.

Two addresses collide when their confusable skeletons (Unicode TS #39, section 4) are equal:
`skeleton` maps each character of the NFD form to its prototype in Unicode's confusables data
(as shipped by confusable-homoglyphs) and normalises again. `visible` shows an address's
code points wherever it is not plain ASCII, so a lookalike never reads as the original.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from functools import cache

_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_PLAIN = re.compile(rf"{_ATEXT}(?:\.{_ATEXT})*@(?:{_LABEL}\.)+{_LABEL}")


def problem(email: str) -> str | None:
    """Why the address is not one TikTok would deliver to (with its code points), or None."""
    punycode = "xn--" in email.rpartition("@")[2].lower()
    if email.isascii() and not punycode and _PLAIN.fullmatch(email):
        return None  # the common case: no library call for 4,000 plain addresses
    composed = unicodedata.normalize("NFC", email)
    if composed != email:
        return f"{visible(email)} is not in normal form (NFC): write {visible(composed)}"
    if unicodedata.normalize("NFKC", email) != email:
        compatible = unicodedata.normalize("NFKC", email)
        return (
            f"{visible(email)} holds compatibility characters (ligatures, full-width or styled "
            f"letters): it reads as {visible(compatible)}"
        )
    from email_validator import EmailNotValidError, validate_email  # only for the rare ones

    try:
        found = validate_email(email, check_deliverability=False, allow_quoted_local=False)
    except EmailNotValidError as error:
        return f"{visible(email)} is not a deliverable address: {error}"
    if found.normalized.lower() != email.lower():
        return f"{visible(email)} is not in normal form: write {visible(found.normalized)}"
    return None


def code_points(text: str) -> str:
    """The non-ASCII characters of `text`: "U+043E CYRILLIC SMALL LETTER O at 1, ..."."""
    return ", ".join(
        f"U+{ord(c):04X} {unicodedata.name(c, 'UNNAMED')} at {i}"
        for i, c in enumerate(text, 1)
        if not c.isascii() or not c.isprintable()
    )


def visible(email: str) -> str:
    """The address, with its code points named wherever it is not plain printable ASCII.

    Invisible and control characters (categories C and Z) are written as escapes, so that
    neither a terminal nor a Markdown view can hide or reorder them."""
    if email.isascii() and email.isprintable():
        return email
    shown = "".join(f"\\u{ord(c):04x}" if unicodedata.category(c)[0] in "CZ" else c for c in email)
    return f"{shown} [{code_points(email)}]"


@cache
def _prototypes() -> Mapping[str, str]:
    """Character -> its TS #39 prototype, from confusable-homoglyphs' copy of confusables.txt.

    The library keeps each source -> prototype line in both directions; a prototype is never a
    source (the mapping is idempotent), so a character listing several others is a prototype, and
    one listing a single other is that one's source. Where a pair lists only each other, both
    map to the smaller, which keeps skeleton equality exact.
    """
    from confusable_homoglyphs.confusables import confusables_data

    def strip(text: str) -> str:
        return text.replace("\u200e", "")  # the library wraps right-to-left entries in LRM

    found: dict[str, str] = {}
    for key, entries in confusables_data.items():
        char = strip(key)
        if len(char) != 1 or len(entries) != 1:
            continue
        target = strip(entries[0]["c"])
        if len(target) > 1 or len(confusables_data.get(target, ())) > 1:
            found[char] = target
        else:
            found[char] = min(char, target)
    return found


# The ASCII rows of `_prototypes()`, so that plain addresses need not load the data (60 ms);
# a unit test keeps this equal to what the library's data says.
ASCII_PROTOTYPES: Mapping[str, str] = {
    '"': "''",
    "%": "º/₀",
    "0": "O",
    "1": "l",
    "I": "l",
    "`": "'",
    "m": "rn",
    "|": "l",
}
_ASCII_TABLE = str.maketrans(dict(ASCII_PROTOTYPES))


def skeleton(email: str) -> str:
    """The confusable skeleton (TS #39) of a lower-cased address."""
    if email.isascii():
        return email.lower().translate(_ASCII_TABLE)
    table = _prototypes()
    text = unicodedata.normalize("NFD", email.lower())
    return unicodedata.normalize("NFD", "".join(table.get(c, c) for c in text))


def lookalikes(emails: Iterable[str]) -> dict[str, list[str]]:
    """Skeleton -> the distinct lower-cased addresses sharing it, where two or more do."""
    groups: dict[str, list[str]] = {}
    for email in dict.fromkeys(e.lower() for e in emails):
        groups.setdefault(skeleton(email), []).append(email)
    return {k: v for k, v in groups.items() if len(v) > 1}
