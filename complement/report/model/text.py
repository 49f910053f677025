"""Text safety shared by the renderers: control characters made visible.

Titles, ids, paths and reasons come from the user's files. Before any renderer shows them,
every control character (C0 and C1, DEL, line and paragraph separators) and every bidirectional
override is replaced by its escape (``\\x1b``, ``\\r``, ``\\n``, ``\\u202e``), so a title can
neither move the cursor nor start an ANSI/OSC sequence in a terminal, break a Markdown row, or
reorder the text around it. Markup escaping (Rich, HTML, Markdown) is each renderer's own job.
"""

from __future__ import annotations

import unicodedata
from typing import Any

__all__ = ["visible"]

#: format characters that reorder text (bidirectional embeddings, overrides and isolates)
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _escape(ch: str) -> str:
    code = ord(ch)
    named = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
    if ch in named:
        return named[ch]
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: Any) -> str:
    """``str(text)`` with control characters and bidi overrides replaced by their escapes."""
    value = str(text)
    if value.isprintable():
        return value
    return "".join(
        _escape(ch) if ch in _BIDI or unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch
        for ch in value
    )
