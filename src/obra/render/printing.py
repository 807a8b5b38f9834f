"""HTML to PDF: Obra's one WeasyPrint call, offline and byte-for-byte reproducible.

* **Offline.** Fonts come from the system through fontconfig; the URL fetcher serves
  ``file:`` and ``data:`` URLs only and refuses every other scheme, so a template (or a
  value that slipped into one) referencing ``https://…`` never makes a request. Documents
  embed what they show: CSS inline, charts as inline SVG.
* **Every script.** A base stylesheet sets :data:`FONT_STACK` (Noto for Latin, Greek,
  Cyrillic, CJK, Arabic, Hebrew, Devanagari; DejaVu last), so a Japanese title prints
  as Japanese and not as empty boxes; the fonts used are embedded as subsets.
* **Reproducible.** No creation date (WeasyPrint writes one only when the HTML has a
  ``dcterms.created`` meta, which our templates never do) and no random file identifier:
  the caller passes ``identifier`` (e.g. the document's content hash), or there is none.
"""

from __future__ import annotations

import logging
import re

from obra.errors import InvalidInput, Problem
from obra.render.environment import FONT_STACK

ALLOWED_SCHEMES = frozenset({"file", "data"})
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9.+-]*):")
log = logging.getLogger(__name__)


class NetworkFetchRefused(ValueError):
    """A document referenced a resource by a URL that would need the network."""


def _fetcher_class():
    from weasyprint.urls import URLFetcher

    class LocalOnlyFetcher(URLFetcher):
        """WeasyPrint's fetcher, restricted to ``file:`` and ``data:`` URLs.

        A refused URL is logged and recorded in :attr:`refused`; WeasyPrint then renders
        the document without that resource (an image's alt text), as it does for a
        missing file, rather than failing the whole document.
        """

        def __init__(self) -> None:
            super().__init__(allowed_protocols=ALLOWED_SCHEMES, allow_redirects=False)
            self.refused: list[str] = []

        def fetch(self, url, headers=None):  # noqa: ANN001 - WeasyPrint's signature
            match = _SCHEME.match(url)
            if not match or match.group(1).lower() not in ALLOWED_SCHEMES:
                self.refused.append(url)
                log.warning("not fetched (documents are rendered offline): %s", url)
                raise NetworkFetchRefused(f"Obra renders documents offline; {url} was not fetched. "
                                          "Embed the resource instead (inline SVG or a data: URL).")
            return super().fetch(url, headers)

    return LocalOnlyFetcher


def local_fetcher():
    """A fresh WeasyPrint URL fetcher that never touches the network."""
    return _fetcher_class()()


def pdf(html: str, *, identifier: bytes | None = None) -> bytes:
    """The PDF of ``html``: same input, same bytes.

    ``identifier`` becomes the PDF's ``/ID`` (use something derived from the content,
    such as the first 32 hex digits of a content hash); without it the PDF has no ``/ID``.
    """
    if not isinstance(html, str):
        raise InvalidInput(Problem(f"pdf() takes the HTML text (str), not {type(html).__name__}", field="html"))
    if identifier is not None and not isinstance(identifier, bytes):
        raise InvalidInput(Problem("the PDF identifier must be bytes, e.g. content_hash[:32].encode('ascii')",
                                   field="identifier"))
    from weasyprint import CSS, HTML

    fetcher = local_fetcher()
    base = CSS(string=f"html {{ font-family: {FONT_STACK}; }}", url_fetcher=fetcher)
    document = HTML(string=html, url_fetcher=fetcher)
    return document.write_pdf(stylesheets=[base], pdf_identifier=identifier if identifier is not None else False,
                              uncompressed_pdf=False, full_fonts=False)
