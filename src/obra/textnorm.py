"""Text normalisation for search: accent-, case- and width-insensitive, script-preserving.

"Canción", "CANCION" and "cancion" all become ``cancion``; full-width Latin and
half-width katakana are folded by NFKC; CJK characters are kept as they are (they carry
no case or accents), so 月亮代表我的心 is searchable by any substring of itself.
"""

from __future__ import annotations

import re
import unicodedata

_SPACE = re.compile(r"\s+")
_PUNCT = re.compile(r"[^\w\s]", re.UNICODE)


def normalize_text(value: str | None) -> str:
    """Fold accents, case and width; drop punctuation; collapse whitespace."""
    if not value:
        return ""
    text = unicodedata.normalize("NFKC", value)
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    # Letters such as ø, ł, đ, ß have no decomposition: fold them explicitly.
    stripped = stripped.translate(_EXTRA)
    folded = unicodedata.normalize("NFC", stripped).casefold()
    return _SPACE.sub(" ", _PUNCT.sub(" ", folded)).strip()


_EXTRA = str.maketrans({"ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "æ": "ae",
                        "Æ": "AE", "œ": "oe", "Œ": "OE", "ß": "ss", "þ": "th", "Þ": "TH"})
