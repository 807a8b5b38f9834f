"""``noai`` and ``noimageai`` in ``X-Robots-Tag`` headers and ``<meta name="robots">``: a convention.

DeviantArt introduced the two directives in 2022 to keep works out of AI training datasets;
img2dataset and datadiligence honour them, no major search engine documents them, and no
standard defines them. They are read here for what they are — every signal says
"a DeviantArt convention, not a standard" in its ``rule`` and ``extra`` — and mapped through
:data:`obra.aiuse.vocabulary.TOKENS` (``noai``: both kinds of training; ``noimageai``: the same,
for images only). A directive can only restrict: its absence says nothing, so nothing absent is
reported, and the writer writes the directives only to reserve.

Syntax is Google's for robots directives: a header or meta value is a comma-separated list of
directives, case-insensitive; ``X-Robots-Tag: googlebot: noai`` scopes the directives after
the agent name to that crawler (``unavailable_after: <date>`` and the ``max-*`` directives carry
their own colon and are not agent names); ``<meta name="googlebot">`` scopes the meta's
directives the same way, ``<meta name="robots">`` speaks to every crawler.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from html.parser import HTMLParser

from obra.aiuse.signals.robots import Terms, product_token, reading_for
from obra.aiuse.vocabulary import TOKENS, TRAINING, Reading, Signal

__all__ = ["STANDARD", "HEADER", "META", "read_x_robots_tag", "read_meta", "write_x_robots_tag",
           "write_meta"]

STANDARD = "noai"
HEADER = "X-Robots-Tag header"
META = "HTML meta robots"
_KEYED = frozenset({"unavailable_after", "max-snippet", "max-image-preview", "max-video-preview"})
_AGENT = re.compile(r"\s*([A-Za-z0-9_.\-]+)\s*:(.*)\Z", re.DOTALL)
_CONVENTION = "a DeviantArt convention (2022), not a standard"
# Meta names HTML itself defines (or other standards use): never crawler names.
_NOT_CRAWLERS = frozenset({"description", "keywords", "viewport", "author", "generator", "referrer",
                           "theme-color", "application-name", "color-scheme", "tdm-reservation", "tdm-policy"})


def _signals(directive: str, raw: str, source: str, agent: str | None) -> list[Signal]:
    uses = TOKENS[STANDARD].get(directive)
    if not uses:
        return []
    images = directive == "noimageai"
    who = f"crawler {agent}" if agent else "every crawler"
    rule = (f"{directive} for {who}: {_CONVENTION}, read as reserving AI training"
            f"{' of images only' if images else ''} (the datasets it was made for)")
    extra: dict = {"convention": "DeviantArt 2022"}
    if images:
        extra["media"] = "image"
    return [Signal(STANDARD, source, use, Reading.NOT_ALLOWED, token=directive, raw=raw, rule=rule,
                   scope=f"user-agent {agent}" if agent else None, extra=dict(extra)) for use in uses]


def _applies(scope_agent: str | None, agent: str | None) -> bool:
    return scope_agent is None or agent is None or product_token(scope_agent) == product_token(agent)


def read_x_robots_tag(value: str | Sequence[str] | None, agent: str | None = None) -> list[Signal]:
    """The ``noai``/``noimageai`` directives of the ``X-Robots-Tag`` header (one value or the
    field lines of a response), for ``agent`` (its product token) or, when None, for any crawler
    (agent-scoped directives then carry their scope)."""
    if value is None:
        return []
    lines = [value] if isinstance(value, str) else list(value)
    out: list[Signal] = []
    for line in lines:
        scope: str | None = None
        for part in line.split(","):
            named = _AGENT.match(part)
            if named and named.group(1).lower() not in _KEYED:
                scope, part = named.group(1), named.group(2)
            directive = part.strip().lower()
            if _applies(scope, agent):
                out += _signals(directive, line, HEADER, scope)
    return out


class _Metas(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.metas: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "meta":
            return
        found = {k.lower(): (v or "") for k, v in attrs}
        if "name" in found and "content" in found:
            self.metas.append((found["name"].strip(), found["content"]))

    handle_startendtag = handle_starttag


def read_meta(html: str | None, agent: str | None = None) -> list[Signal]:
    """The ``noai``/``noimageai`` directives of a page's ``<meta name="robots">`` (and
    crawler-named metas such as ``<meta name="GPTBot">``), for ``agent`` or any crawler.
    Junk HTML is read as far as it goes, never an error."""
    if not html:
        return []
    parser = _Metas()
    try:
        parser.feed(html)
        parser.close()
    except (AssertionError, ValueError):  # html.parser on some malformed declarations
        pass
    out: list[Signal] = []
    for name, content in parser.metas:
        scope = None if name.lower() == "robots" else name
        if scope is not None and (not product_token(scope) or scope.lower() in _NOT_CRAWLERS):
            continue
        if not _applies(scope, agent):
            continue
        for part in content.split(","):
            out += _signals(part.strip().lower(), content, META, scope)
    return out


def _directives(terms: Terms) -> str | None:
    if reading_for(TRAINING, terms) is not Reading.NOT_ALLOWED:
        return None
    return "noai, noimageai"


def write_x_robots_tag(terms: Terms) -> str | None:
    """The ``X-Robots-Tag`` value reserving training under ``terms`` (None when they do not
    reserve it: the convention cannot say "allowed")."""
    return _directives(terms)


def write_meta(terms: Terms) -> str | None:
    """The ``<meta name="robots">`` element reserving training under ``terms`` (or None)."""
    directives = _directives(terms)
    return None if directives is None else f'<meta name="robots" content="{directives}">'
