"""Gettext catalogues: the ``.po`` files are the source, compiled in memory when first used.

Translators edit ``locale/<lang>/LC_MESSAGES/obra.po`` (see docs/rendering.md); there is no
``msgfmt`` step to forget and no compiled ``.mo`` in the repository to fall out of date:
the first document in a language reads its ``.po``, writes the ``.mo`` into memory with
Babel and keeps the result for the life of the process.
"""

from __future__ import annotations

import io
from functools import lru_cache
from importlib import resources
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from obra.errors import ObraError
from obra.render.locales import DEFAULT, require_supported

DOMAIN = "obra"


def catalogue_path(locale: str) -> Path:
    """Where the ``.po`` of ``locale`` lives (English has none: its strings are the msgids)."""
    root = resources.files("obra.render") / "locale" / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
    return Path(str(root))


@lru_cache(maxsize=None)
def translations(locale: str) -> NullTranslations:
    """The compiled translations of ``locale`` (``NullTranslations`` for English)."""
    language = require_supported(locale)
    if language == DEFAULT:
        return NullTranslations()
    path = catalogue_path(language)
    if not path.exists():
        raise ObraError(f"the {language} catalogue {path} is missing from the installed package; "
                        "reinstall Obra (the .po files are package data)")
    with path.open("rb") as po:
        catalog = read_po(po, locale=language, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)  # fuzzy entries are left out, as msgfmt does
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)
