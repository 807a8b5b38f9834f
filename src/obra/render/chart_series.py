"""Charts with several series (Lorenz curves, models side by side) and explained empty charts, as inline SVG.

A companion to :mod:`obra.render.charts` (one series per chart) for reports that compare:
``series_svg("line", labels, {"equality": [...], "artists": [...]})`` draws one line per series with
a legend, ``series_svg("bar", ...)`` groups the bars of each label. Axes carry their labels; a chart
with no data is not an error but an :func:`empty_svg` that says why. Drawn by Matplotlib's SVG
backend with the same settings as :func:`obra.render.charts.chart_svg`: text stays text, output is
deterministic, nothing is fetched.
"""

from __future__ import annotations

import io
from typing import Mapping, Sequence

from markupsafe import Markup, escape

from obra.errors import InvalidInput, Problem
from obra.render.charts import _FONTS, _INK, _LOCK, _PROLOG

KINDS = ("bar", "line")
PALETTE = ("#2f5d8a", "#c8553d", "#588b3f", "#8e6bb0", "#d4a017", "#555555")


def _figure(width_cm: float, height_cm: float):
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width_cm / 2.54, height_cm / 2.54))
    FigureCanvasSVG(figure)
    return figure


def _settings() -> dict:
    return {"svg.fonttype": "none", "svg.hashsalt": "obra", "font.family": _FONTS, "font.size": 8,
            "axes.edgecolor": _INK, "text.color": _INK, "xtick.color": _INK, "ytick.color": _INK,
            "axes.labelcolor": _INK}


def _svg(figure, title: str) -> Markup:
    out = io.StringIO()
    figure.savefig(out, format="svg", metadata={"Date": None, "Creator": None})
    svg = _PROLOG.sub("", out.getvalue(), count=1)
    aria = f' role="img" aria-label="{escape(title)}"' if title else ' role="img"'
    return Markup(svg.replace("<svg", "<svg" + aria, 1))


def figure_for(kind: str, labels: Sequence[str], series: Mapping[str, Sequence[float]], *, title: str = "",
               x_label: str = "", y_label: str = "", width_cm: float = 16.0, height_cm: float = 7.0,
               percent: bool = False):
    """The Matplotlib figure of :func:`series_svg` (for a raster copy in tests or thumbnails)."""
    if kind not in KINDS:
        raise InvalidInput(Problem(f"unknown chart kind '{kind}'; use one of {', '.join(KINDS)}", field="kind"))
    names = list(series)
    for name in names:
        if len(series[name]) != len(labels):
            raise InvalidInput(Problem(f"series {name!r} has {len(series[name])} values for {len(labels)} labels",
                                       field="series"))
    figure = _figure(width_cm, height_cm)
    axes = figure.add_subplot()
    positions = list(range(len(labels)))
    if kind == "bar":
        width = 0.8 / max(len(names), 1)
        for k, name in enumerate(names):
            offset = (k - (len(names) - 1) / 2) * width
            axes.bar([p + offset for p in positions], [float(v) for v in series[name]], width=width,
                     color=PALETTE[k % len(PALETTE)], label=name)
        axes.axhline(0, color=_INK, linewidth=0.6)
    else:
        for k, name in enumerate(names):
            axes.plot(positions, [float(v) for v in series[name]], color=PALETTE[k % len(PALETTE)], label=name,
                      marker="o" if len(labels) <= 12 else None, markersize=3)
    step = max(1, -(-len(labels) // 8))
    shown = [str(x) for x in labels][::step]
    axes.set_xticks(positions[::step], shown)
    if len(shown) > 4 and max(len(x) for x in shown) > 8:   # long labels side by side would overlap
        axes.tick_params(axis="x", labelrotation=30)
        for text in axes.get_xticklabels():
            text.set_horizontalalignment("right")
    if percent:
        from matplotlib.ticker import PercentFormatter

        axes.yaxis.set_major_formatter(PercentFormatter(1.0))
    axes.spines[["top", "right"]].set_visible(False)
    if x_label:
        axes.set_xlabel(x_label)
    if y_label:
        axes.set_ylabel(y_label)
    if title:
        axes.set_title(title)
    if len(names) > 1:
        axes.legend(frameon=False, fontsize=7)
    figure.tight_layout()
    return figure


def series_svg(kind: str, labels: Sequence[str], series: Mapping[str, Sequence[float]], *, title: str = "",
               x_label: str = "", y_label: str = "", empty: str = "", width_cm: float = 16.0,
               height_cm: float = 7.0, percent: bool = False) -> Markup:
    """An ``<svg>`` drawing ``series`` (name → one value per label) as grouped bars or lines.

    With no labels or no series, the chart is :func:`empty_svg` saying ``empty`` (why there is nothing
    to draw), not an error.
    """
    import matplotlib

    if not labels or not series:
        return empty_svg(title, empty or "no data", width_cm=width_cm)
    with _LOCK, matplotlib.rc_context(_settings()):
        figure = figure_for(kind, labels, series, title=title, x_label=x_label, y_label=y_label, width_cm=width_cm,
                            height_cm=height_cm, percent=percent)
        return _svg(figure, title)


def empty_svg(title: str, message: str, *, width_cm: float = 16.0, height_cm: float = 3.0) -> Markup:
    """A chart frame that says why it is empty (no data for this period, not carried by the reports)."""
    import matplotlib

    with _LOCK, matplotlib.rc_context(_settings()):
        figure = _figure(width_cm, height_cm)
        axes = figure.add_subplot()
        axes.set_axis_off()
        axes.text(0.5, 0.5, message, ha="center", va="center", wrap=True, transform=axes.transAxes)
        if title:
            axes.set_title(title)
        return _svg(figure, f"{title}: {message}" if title else message)
