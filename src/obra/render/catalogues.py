"""Gettext catalogues: the ``.po`` files are the source, compiled in memory when first used.

Strings are kept in one catalogue per *domain*, so each part of Obra that prints for people
owns its translations without touching the others': ``obra`` (the rendering layer's own
templates and vocabulary: certificates, statements, territories), and one domain per
template subdirectory in :data:`DOMAINS` (``templates/web/`` → ``web.po``, ...). A document
is translated by its template's domain, falling back to ``obra``'s (:func:`translations`).
Translators edit ``locale/<lang>/LC_MESSAGES/<domain>.po`` (see docs/rendering.md); there is
no ``msgfmt`` step to forget and no compiled ``.mo`` in the repository to fall out of date:
the first document in a language reads its ``.po`` files, writes each ``.mo`` into memory
with Babel and keeps the result for the life of the process.
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

#: The rendering layer's own catalogue: templates outside the domain subdirectories, and the Python here.
DOMAIN = "obra"

#: Template subdirectories with a catalogue of their own (``templates/<domain>/`` → ``<domain>.po``).
DOMAINS: tuple[str, ...] = ("aiuse", "law", "fairness", "observatory", "web")


def catalogue_path(locale: str, domain: str = DOMAIN) -> Path:
    """Where the ``.po`` of ``domain`` in ``locale`` lives (English has none: its strings are the msgids)."""
    root = resources.files("obra.render") / "locale" / locale / "LC_MESSAGES" / f"{domain}.po"
    return Path(str(root))


def _compiled(path: Path, language: str, domain: str) -> Translations:
    with path.open("rb") as po:
        catalog = read_po(po, locale=language, domain=domain)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)  # fuzzy entries are left out, as msgfmt does
    compiled.seek(0)
    return Translations(compiled, domain=domain)


@lru_cache(maxsize=None)
def translations(locale: str, domain: str = DOMAIN) -> NullTranslations:
    """The compiled translations of ``locale`` for a document of ``domain`` (``NullTranslations``
    for English): the domain's own catalogue first, then ``obra``'s (the vocabulary, territories
    and shared words), so two domains may translate the same English differently — a certificate's
    "Registered" is not the portal's — and neither changes the other's documents.

    The ``obra`` catalogue must exist; a domain without a ``.po`` yet (a template directory still
    being written) reads ``obra``'s, else shows its English.
    """
    language = require_supported(locale)
    if language == DEFAULT:
        return NullTranslations()
    if domain != DOMAIN and domain not in DOMAINS:
        raise ObraError(f"no catalogue domain {domain!r}; the domains are: {', '.join((DOMAIN, *DOMAINS))}")
    path = catalogue_path(language)
    if not path.exists():
        raise ObraError(f"the {language} catalogue {path} is missing from the installed package; "
                        "reinstall Obra (the .po files are package data)")
    shared = _compiled(path, language, DOMAIN)
    own = catalogue_path(language, domain)
    if domain == DOMAIN or not own.exists():
        return shared
    found = _compiled(own, language, domain)
    found.add_fallback(shared)
    return found


def domain_of(template: str) -> str:
    """The catalogue domain of a template: its first directory when that is a domain, else ``obra``."""
    head = template.split("/", 1)[0]
    return head if "/" in template and head in DOMAINS else DOMAIN
