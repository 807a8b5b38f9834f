"""The royalty statement as a page and a PDF, in the payee's language.

Takes a statement exactly as :func:`obra.royalties.statements.build_statements` makes it
(payee, periods, model, lines with their usage drill-down, adjustments, advance
balances, guarantee shortfalls, totals per currency, notes, rounding rule, content
hash). Statements carry party ids, not names; the caller passes ``names`` (party id →
name) so the heading greets the payee by name and counterparties are recognisable.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from typing import Any, Mapping

from obra.render.environment import render
from obra.render.formatting import money
from obra.render.locales import DEFAULT, require_supported
from obra.render.printing import pdf
from obra.render.territories import territory_name


def _party(pid: Any, names: Mapping[str, str]) -> dict:
    return {"id": pid, "name": names.get(str(pid)), "label": names.get(str(pid)) or str(pid)}


def _path(steps: list) -> list[dict]:
    out = []
    for step in steps or []:
        text = str(step)
        if text.startswith("law:"):
            out.append({"law": text.removeprefix("law:"), "agreement": None})
        else:
            out.append({"law": None, "agreement": text})
    return out


def _charts(lines: list[dict], locale: str) -> list[dict]:
    """Per currency, what was earned in each territory; drawn only when there is a comparison to make."""
    earned: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for line in lines:
        earned[line["currency"]][line["territory"]] += int(line["amount_minor"])
    charts = []
    for currency, by_territory in sorted(earned.items()):
        if len(by_territory) < 2:
            continue
        ranked = sorted(by_territory.items(), key=lambda kv: (-kv[1], kv[0]))
        charts.append({"currency": currency,
                       "points": [(territory_name(t, locale), amount) for t, amount in ranked],
                       "labels": [money(amount, currency, locale) for _, amount in ranked]})
    return charts


def statement_view(statement: dict, locale: str, names: Mapping[Any, str] | None = None) -> dict:
    """What the statement template shows: the statement with parties named and paths parsed."""
    known = {str(k): str(v) for k, v in (names or {}).items() if v}
    lines = [{**line, "path": _path(line.get("agreement_path", []))} for line in statement.get("lines", [])]
    return {
        **statement,
        "payee": _party(statement["payee"], known),
        "lines": lines,
        "adjustments": [{**a, "counterparty": _party(a.get("counterparty"), known)}
                        for a in statement.get("adjustments", [])],
        "guarantee_shortfalls": [{**g, "owed_by": _party(g.get("owed_by"), known),
                                  "owed_to": _party(g.get("owed_to"), known)}
                                 for g in statement.get("guarantee_shortfalls", [])],
        "charts": _charts(lines, locale),
    }


def statement_html(statement: dict, locale: str = DEFAULT, names: Mapping[Any, str] | None = None) -> str:
    """The statement as a self-contained HTML page in ``locale``; ``names`` maps party ids to names."""
    language = require_supported(locale)
    return render("statement.html", {"s": statement_view(statement, language, names)}, language)


def statement_pdf(statement: dict, locale: str = DEFAULT, names: Mapping[Any, str] | None = None) -> bytes:
    """The statement as PDF; the same statement, locale and names always give the same bytes."""
    language = require_supported(locale)
    digest = hashlib.sha256(f"{statement['content_hash']}:{language}".encode("utf-8")).hexdigest()
    return pdf(statement_html(statement, language, names), identifier=digest[:32].encode("ascii"))
