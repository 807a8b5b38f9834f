"""The observatory report as an HTML page in one of four languages (and, through it, a PDF).

The page is rendered by :mod:`obra.render` from ``templates/observatory/report.html`` (strings in the
``observatory`` catalogue); its charts are drawn as inline SVG while the template renders, so their
titles and axes are in the page's language (:mod:`obra.render.chart_series`, :func:`obra.render.chart_svg`).
This module only prepares the numbers the template shows: shares as decimals, chart series.
"""

from __future__ import annotations

import base64
import re
from decimal import Decimal
from typing import Any, Iterable

from obra.render import render
from obra.render.chart_series import empty_svg, series_svg

#: Groups of the winners-and-losers tables, in the order the page shows them.
GROUP_ORDER = ("tier", "decile", "genre", "origin", "vintage", "label_type", "kind")


def _d(value: Any, places: int = 4) -> Decimal:
    return Decimal(str(value)).quantize(Decimal(1).scaleb(-places))


def _comparison_view(comparison: dict) -> dict:
    out = {}
    for cur, c in comparison["currencies"].items():
        out[cur] = {**c, "groups": {g: c[f"by_{g}"] for g in GROUP_ORDER}}
    return out


def view(report: dict) -> dict:
    """What the template shows, derived from the report document only."""
    f = report["figures"]
    currencies = sorted({r["currency"] for r in f["revenue"]["rows"]})
    revenue = {cur: [r for r in f["revenue"]["rows"] if r["currency"] == cur] for cur in currencies}
    rates = {cur: [r for r in f["rates"]["rows"] if r["currency"] == cur] for cur in currencies}
    revenue_chart = {cur: {"labels": [f"{x['service']} {x['territory']} {x['commercial_model'][:5]}" for x in rates[cur]],
                           "amounts": [x["amount_minor"] for x in rates[cur]]} for cur in currencies}
    totals = {cur: {"amount_minor": sum(r["amount_minor"] for r in revenue[cur]),
                    "plays": sum(r["plays"] for r in rates[cur])} for cur in currencies}
    conc = {}
    for cur, c in f["concentration"]["rows"].items():
        lorenz = c["lorenz_artists"]
        conc[cur] = {**c, "lorenz_labels": [f"{round(p * 100)}%" for p, _ in lorenz],
                     "lorenz_values": [s for _, s in lorenz], "equality": [p for p, _ in lorenz],
                     "gini": {u: _d(c[u]["gini"]) for u in ("artists", "items", "artists_by_plays")},
                     "theil": {u: _d(c[u]["theil"]) for u in ("artists", "items", "artists_by_plays")},
                     "top": {u: {k: _d(v) for k, v in c[u]["top_shares"].items()}
                             for u in ("artists", "items", "artists_by_plays")}}
    models = f["models"]["rows"]
    tiers: dict[str, dict] = {}
    for name, comp in models["compared_with_pro_rata"].items():
        for cur, c in comp["currencies"].items():
            t = tiers.setdefault(cur, {"labels": [r["tier"] for r in c["by_tier"]], "series": {}})
            t["series"].setdefault("pro-rata", [float(r["base_share"]) for r in c["by_tier"]])
            t["series"][name] = [float(r["other_share"]) for r in c["by_tier"]]
    scenario = None
    if "scenario" in f:
        s = f["scenario"]["rows"]
        scenario = {**s, "currencies": _comparison_view(s["comparison"])}
    payees = None
    if "payees" in f:
        payees = {cur: {**p, "gini": _d(p["gini"]), "theil": _d(p["theil"]),
                        "top": {k: _d(v) for k, v in p["top_shares"].items()}}
                  for cur, p in f["payees"]["rows"].items()}
    methods = [{"id": k, "method": v["method"], "query": v.get("query"), "notes": v.get("notes") or []}
               for k, v in sorted(f.items())]
    return {"period": report["period"], "engine": report["engine"], "data_hash": report["data"]["hash"],
            "rules_hash": report["rules_hash"], "run": report.get("run"), "currencies": currencies,
            "revenue": revenue, "rates": rates, "revenue_chart": revenue_chart, "totals": totals, "concentration": conc,
            "model_totals": models["totals"],
            "comparisons": {name: _comparison_view(c) for name, c in models["compared_with_pro_rata"].items()},
            "tiers": tiers, "scenario": scenario, "payees": payees,
            "value_split": f.get("value_split", {}).get("rows"), "reconciliation": report.get("reconciliation"),
            "play_sources": f["play_sources"]["rows"], "play_sources_notes": f["play_sources"].get("notes") or [],
            "matching": f["matching"]["rows"], "by_kind": f["by_kind"]["rows"],
            "registrations": f.get("registrations", {}).get("rows"),
            "unmatched": f.get("unmatched_ageing", {}).get("rows"),
            "ai_licensing": f.get("ai_licensing", {}).get("rows"), "methods": methods,
            "fingerprint": report["data"]["fingerprint"], "rules": report["rules"]}


def report_html(report: dict, locale: str = "en", *, languages: Iterable[str] = ("en",), printed: bool = False) -> str:
    """The report page in ``locale`` (links to the other ``languages``' pages; none when ``printed``)."""
    pages = [(lang, "index.html" if lang == "en" else f"{lang}.html") for lang in languages]
    html = render("observatory/report.html", {"r": view(report), "series_svg": series_svg, "empty_svg": empty_svg,
                                              "pages": pages, "for_print": printed, "D": Decimal}, locale)
    # a phone lays the page out at its own width (the shared base template is made for print)
    return html.replace('<meta charset="utf-8">',
                        '<meta charset="utf-8">\n<meta name="viewport" content="width=device-width, initial-scale=1">', 1)


_SVG = re.compile(r"<svg\b.*?</svg>", re.S)
_SIZE = re.compile(r'width="([0-9.]+)pt" height="([0-9.]+)pt"')


def for_print(html: str) -> str:
    """The page with each inline chart as an embedded SVG image (a ``data:`` URL), for the PDF.

    WeasyPrint draws an SVG image without running the page's style cascade over each of its
    thousands of elements, which makes the PDF about a third faster; the chart is the same vector
    drawing, its text still text.
    """
    def image(match: re.Match) -> str:
        svg = match.group(0)
        size = _SIZE.search(svg)
        style = f' style="width:{float(size.group(1)):.1f}pt;height:{float(size.group(2)):.1f}pt"' if size else ""
        label = re.search(r'aria-label="([^"]*)"', svg)
        alt = label.group(1) if label else ""
        return (f'<img alt="{alt}" src="data:image/svg+xml;base64,{base64.b64encode(svg.encode()).decode()}"'
                f'{style}>')

    return _SVG.sub(image, html)
