"""Charts drawn offline as inline SVG, for templates to embed (``{{ chart_svg(...) }}``).

Matplotlib draws with its SVG backend straight from a ``Figure`` (no pyplot, no GUI, no
global backend switch). Text stays text in the SVG (``svg.fonttype = none``), so the
PDF sets it in the document's fonts, CJK titles included, and the reader can search and
copy it. The output is deterministic: no creation date, ids derived from the content.
"""

from __future__ import annotations

import io
import re
import threading
from decimal import Decimal
from fractions import Fraction
from typing import Mapping, Sequence

from markupsafe import Markup, escape

from obra.errors import InvalidInput, Problem

Number = int | Decimal | Fraction | float
KINDS = ("bar", "line")
_FONTS = ["Noto Sans", "Noto Sans CJK JP", "Noto Sans CJK SC", "Noto Sans CJK KR", "DejaVu Sans"]
_PROLOG = re.compile(r"\A.*?(?=<svg)", re.S)
_LOCK = threading.Lock()  # matplotlib's rcParams are process-wide; draw one chart at a time
_INK, _ACCENT = "#333333", "#2f5d8a"


def _points(data: Mapping[str, Number] | Sequence[tuple[str, Number]]) -> list[tuple[str, float]]:
    pairs = list(data.items()) if isinstance(data, Mapping) else list(data)
    if not pairs:
        raise InvalidInput(Problem("a chart needs at least one (label, value) pair", field="data"))
    out = []
    for n, pair in enumerate(pairs):
        try:
            label, value = pair
        except (TypeError, ValueError):
            raise InvalidInput(Problem(f"chart data item {n} is {pair!r}, not a (label, value) pair",
                                       field="data")) from None
        if isinstance(value, bool) or not isinstance(value, (int, Decimal, Fraction, float)):
            raise InvalidInput(Problem(f"chart value for {label!r} is {value!r}, not a number", field="data"))
        # Geometry only: a bar's height. Amounts are printed from exact values via value_labels.
        out.append((str(label), float(value)))
    return out


def chart_svg(kind: str, data: Mapping[str, Number] | Sequence[tuple[str, Number]], *, title: str = "",
              value_labels: Sequence[str] | None = None, width_cm: float = 16.0,
              height_cm: float = 6.0) -> Markup:
    """An ``<svg>`` element (safe to embed in HTML) drawing ``data`` as a ``bar`` or ``line`` chart.

    ``data`` is ``{label: value}`` or ``[(label, value), ...]`` in display order.
    ``value_labels`` (one string per point, e.g. amounts formatted with the ``money``
    filter) are written on the bars or points; when given, the numeric axis is hidden,
    since the exact, localised figures are the ones to read.
    """
    if kind not in KINDS:
        raise InvalidInput(Problem(f"unknown chart kind '{kind}'; use one of {', '.join(KINDS)}", field="kind"))
    points = _points(data)
    labels = list(value_labels) if value_labels is not None else None
    if labels is not None and len(labels) != len(points):
        raise InvalidInput(Problem(f"{len(labels)} value labels for {len(points)} values; give one label per value",
                                   field="value_labels"))
    import matplotlib
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure

    settings = {"svg.fonttype": "none", "svg.hashsalt": "obra", "font.family": _FONTS,
                "font.size": 9, "axes.edgecolor": _INK, "text.color": _INK,
                "xtick.color": _INK, "ytick.color": _INK}
    with _LOCK, matplotlib.rc_context(settings):
        figure = Figure(figsize=(width_cm / 2.54, height_cm / 2.54))
        FigureCanvasSVG(figure)
        axes = figure.add_subplot()
        names = [label for label, _ in points]
        values = [value for _, value in points]
        positions = list(range(len(points)))
        if kind == "bar":
            drawn = axes.bar(positions, values, color=_ACCENT, width=0.6)
            if labels is not None:
                axes.bar_label(drawn, labels=labels, padding=2)
        else:
            axes.plot(positions, values, color=_ACCENT, marker="o")
            if labels is not None:
                for x, y, text in zip(positions, values, labels):
                    axes.annotate(text, (x, y), textcoords="offset points", xytext=(0, 5), ha="center")
        axes.set_xticks(positions, names)
        axes.spines[["top", "right"]].set_visible(False)
        if labels is not None:
            axes.spines["left"].set_visible(False)
            axes.set_yticks([])
            axes.margins(y=0.2)
        if title:
            axes.set_title(title)
        figure.tight_layout()
        out = io.StringIO()
        figure.savefig(out, format="svg", metadata={"Date": None, "Creator": None})
    svg = _PROLOG.sub("", out.getvalue(), count=1)
    aria = f' role="img" aria-label="{escape(title)}"' if title else ' role="img"'
    return Markup(svg.replace("<svg", "<svg" + aria, 1))
