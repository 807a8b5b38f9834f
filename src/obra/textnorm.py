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
# the combining diacritical marks (U+0300-U+036F) that are combining characters: not U+034F, the grapheme joiner
_DIACRITICS = re.compile("[" + "".join(chr(c) for c in range(0x300, 0x370) if unicodedata.combining(chr(c))) + "]")


def normalize_text(value: str | None) -> str:
    """Fold accents, case and width; drop punctuation; collapse whitespace."""
    if not value:
        return ""
    if value.isascii():
        # the same result, without the steps that leave ASCII as it is (a bulk load normalises millions of
        # titles): every normalisation form, the combining marks (none) and _EXTRA (no ASCII letter)
        folded = value.lower()  # casefold() of ASCII
    else:
        text = unicodedata.normalize("NFKC", value)
        # the accents of Latin letters decompose into combining diacritical marks: removed in one pass; what is
        # ASCII then ("cancion") needs no more (as above)
        stripped = _DIACRITICS.sub("", unicodedata.normalize("NFKD", text))
        if stripped.isascii():
            folded = stripped.lower()
        else:
            # Letters such as ø, ł, đ, ß have no decomposition: fold them explicitly.
            stripped = "".join(ch for ch in stripped if not unicodedata.combining(ch)).translate(_EXTRA)
            folded = unicodedata.normalize("NFC", stripped).casefold()
    return _SPACE.sub(" ", _PUNCT.sub(" ", folded)).strip()


_EXTRA = str.maketrans({"ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "æ": "ae",
                        "Æ": "AE", "œ": "oe", "Œ": "OE", "ß": "ss", "þ": "th", "Þ": "TH"})
