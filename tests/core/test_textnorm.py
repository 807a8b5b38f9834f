"""The search's text normalisation: its fast paths give exactly what the plain definition gives."""

import unicodedata

from hypothesis import example, given, settings, strategies as st

from obra.textnorm import _EXTRA, _PUNCT, _SPACE, normalize_text


def _by_definition(value: str) -> str:
    """The normalisation step by step, as written before the fast paths (session 8)."""
    if not value:
        return ""
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", value))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).translate(_EXTRA)
    folded = unicodedata.normalize("NFC", stripped).casefold()
    return _SPACE.sub(" ", _PUNCT.sub(" ", folded)).strip()


@settings(max_examples=1500)
@given(st.text() | st.text(alphabet=st.characters(max_codepoint=0x7F))
       | st.text(alphabet=st.sampled_from("aeiouncAEIOU -'.ñé") | st.characters(min_codepoint=0x300, max_codepoint=0x36F)))
@example("Canción de cuña ŁÓDŹ ǅ ﬁ １２ 月亮")
@example("Ｃａｆé")
@example("Ǆ̣̇")
@example("A\u0301\u0323")
@example("a\u034fb")  # the grapheme joiner: among the diacritical marks' code points, but not a combining character
def test_normalize_text_is_its_definition(value):
    assert normalize_text(value) == _by_definition(value)


def test_folds_accents_case_width_and_punctuation():
    assert normalize_text("Canción, de CUÑA!") == normalize_text("cancion de cuna") == "cancion de cuna"
    assert normalize_text("Ｃａｎｃｉóｎ") == "cancion"
    assert normalize_text("Łódź  Straße") == "lodz strasse"
    assert normalize_text("月亮代表我的心") == "月亮代表我的心"
