"""Whether a JSON document read from a file is Unicode text, for every file bcsync reads as JSON.

JSON's `\\ud800` escape decodes to a lone surrogate: valid JSON, but no terminal or file encoding
can write it, so a plan file or an audit line holding one is refused where it is read, not when
it is printed.
"""

from __future__ import annotations

import json
from typing import Any


def is_unicode_text(doc: Any) -> bool:
    """Whether every string in a parsed JSON document is Unicode text (no lone surrogate)."""
    try:
        json.dumps(doc, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
