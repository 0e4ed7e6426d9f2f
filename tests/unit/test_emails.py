"""emails: the accepted form of an address, its code points, and its TS #39 skeleton."""

from __future__ import annotations

import pytest

from bcsync.core import emails


def test_the_ascii_fast_path_is_the_librarys_data() -> None:
    table = emails._prototypes()
    derived = {c: table[c] for c in map(chr, range(128)) if c in table and table[c] != c}
    assert derived == emails.ASCII_PROTOTYPES


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("owner@acme.com", "\u043ewner@acme.com"),  # Cyrillic о
        ("paypal@acme.com", "p\u0430ypal@acme.com"),  # Cyrillic а
        ("mary@acme.com", "rnary@acme.com"),  # m and rn
        ("bob1@acme.com", "bobl@acme.com"),
        ("fi@acme.com", "\ufb01@acme.com"),  # the ligature
        ("Owner@Acme.com", "owner@acme.com"),  # case is not a difference
    ],
)
def test_lookalikes_share_a_skeleton(a: str, b: str) -> None:
    assert emails.skeleton(a) == emails.skeleton(b)
    assert emails.lookalikes([a, b]) == (
        {} if a.lower() == b.lower() else {emails.skeleton(a): [a.lower(), b.lower()]}
    )


@pytest.mark.parametrize(
    ("a", "b"), [("owner@acme.com", "0wner@acme.com"), ("user12@acme.com", "user21@acme.com")]
)
def test_different_addresses_have_different_skeletons(a: str, b: str) -> None:
    assert emails.skeleton(a) != emails.skeleton(b)


@pytest.mark.parametrize(
    ("email", "words"),
    [
        ("owner@acme.com\u200b", "U+200B ZERO WIDTH SPACE"),
        ("\u202eowner@acme.com", "U+202E RIGHT-TO-LEFT OVERRIDE"),
        ("owner@acme.com.", "cannot end with a period"),
        ("owner..x@acme.com", "two periods"),
        ("\ufb01nance@acme.com", "compatibility characters"),
        ("\uff4fwner@acme.com", "U+FF4F FULLWIDTH LATIN SMALL LETTER O"),
        ("o\u0308wner@acme.com", "not in normal form"),  # a combining diaeresis, not NFC
        ("bob@xn--bcher-kva.de", "write bob@bücher.de"),  # one mailbox, one spelling
    ],
)
def test_addresses_tiktok_would_not_deliver_to_are_refused(email: str, words: str) -> None:
    found = emails.problem(email)
    assert found is not None and words in found


@pytest.mark.parametrize(
    "email",
    ["bob@acme.com", "Temp.Person+x@agency.example", "δοκιμή@παράδειγμα.δοκιμή", "jörg@bücher.de"],
)
def test_deliverable_addresses_are_accepted(email: str) -> None:
    assert emails.problem(email) is None


def test_visible_names_code_points_and_escapes_invisible_ones() -> None:
    assert emails.visible("bob@acme.com") == "bob@acme.com"
    shown = emails.visible("\u043ewner@acme.com\u200b")
    assert "\u200b" not in shown and "\\u200b" in shown
    assert "U+043E CYRILLIC SMALL LETTER O at 1" in shown
    assert "U+200B ZERO WIDTH SPACE at 15" in shown
