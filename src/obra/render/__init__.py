"""Obra's one way to produce a document: templates in files, four languages, offline PDFs.

* :func:`render` — a template under ``templates/`` to HTML in a locale (Jinja, autoescaped,
  strict about undefined variables, gettext catalogues per locale, Babel formatting).
* :func:`pdf` — HTML to PDF with WeasyPrint: local fonts for every script, nothing fetched,
  the same bytes for the same input.
* :func:`negotiate` — an ``Accept-Language`` header or ``--locale`` value to one of
  :data:`SUPPORTED` (``en`` when nothing matches).
* :func:`chart_svg` — an offline SVG chart to embed in a template.
* The documents: :func:`certificate_html` / :func:`certificate_pdf` and
  :func:`statement_html` / :func:`statement_pdf`.

This package is core: it imports only ``obra.money``, ``obra.ids``, ``obra.errors`` and its
libraries, never the registry, royalties, CLI or API that call it. docs/rendering.md says
how to add a template, a translation, a locale or a chart.
"""

from obra.render.certificate import certificate_html, certificate_pdf
from obra.render.charts import chart_svg
from obra.render.environment import FONT_STACK, environment, render
from obra.render.locales import DEFAULT, SUPPORTED, negotiate
from obra.render.printing import pdf
from obra.render.statement import statement_html, statement_pdf

__all__ = ["DEFAULT", "FONT_STACK", "SUPPORTED", "certificate_html", "certificate_pdf", "chart_svg", "environment",
           "negotiate", "pdf", "render", "statement_html", "statement_pdf"]
