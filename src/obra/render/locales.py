"""The languages Obra writes documents in, and how a request picks one.

Four offices, four languages: Montevideo and Madrid read Spanish, Paris French, São Paulo
Portuguese; English is the default and the language of the source strings. A caller never
passes a raw header or ``--locale`` value to a template: it calls :func:`negotiate` first,
which always answers one of :data:`SUPPORTED`, so an unknown language gives an English
document rather than an error page.
"""

from __future__ import annotations

from babel import Locale, UnknownLocaleError
from babel.core import negotiate_locale

from obra.errors import InvalidInput, Problem

SUPPORTED: tuple[str, ...] = ("en", "es", "fr", "pt")
DEFAULT = "en"


def _preferences(header: str) -> list[str]:
    """Language tags of an ``Accept-Language`` header (RFC 9110 §12.5.4), best first.

    Tags with ``q=0`` are refused by the client and dropped; a malformed weight counts as
    0 too, so a garbled header can only make us fall back to the default, never fail.
    """
    weighted: list[tuple[float, int, str]] = []
    for position, item in enumerate(header.split(",")):
        tag, _, params = item.strip().partition(";")
        tag = tag.strip().replace("_", "-")
        if not tag or tag == "*":
            continue
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value.strip())  # a preference weight, not money
                except ValueError:
                    quality = 0.0
        if quality > 0:
            weighted.append((-quality, position, tag))
    return [tag for _, _, tag in sorted(weighted)]


def negotiate(accept: str | None) -> str:
    """The supported locale that best matches an ``Accept-Language`` header or a single tag.

    ``"es-UY,es;q=0.9,en;q=0.5"`` → ``"es"``; ``"pt_BR"`` → ``"pt"``; ``"de"``, ``""``,
    ``None`` or garbage → ``"en"``. The API passes its ``Accept-Language`` header, the CLI
    its ``--locale`` option; both then hand the answer to :func:`obra.render.render`.
    """
    if not accept:
        return DEFAULT
    chosen = negotiate_locale(_preferences(str(accept)), list(SUPPORTED), sep="-", aliases=None)
    return chosen if chosen in SUPPORTED else DEFAULT


def require_supported(locale: str) -> str:
    """``locale`` as one of :data:`SUPPORTED` (a regional tag such as ``pt_BR`` gives ``pt``).

    Unlike :func:`negotiate` this refuses a language we have no catalogue for: a caller
    that names a locale explicitly should learn that Obra does not write in it.
    """
    try:
        language = Locale.parse(str(locale).replace("-", "_")).language
    except (UnknownLocaleError, ValueError, TypeError):
        language = None
    if language not in SUPPORTED:
        raise InvalidInput(Problem(
            f"Obra does not write documents in '{locale}'; use one of {', '.join(SUPPORTED)} "
            "(or pass the request's Accept-Language through obra.render.negotiate, which falls back to en)",
            field="locale"))
    return language
