"""Royalty pages: upload usage reports (line-level problems next to the form), match rates, the claims
queue, distribution runs, and statements with drill-down from a total to the usage lines, with charts
and exports."""

from __future__ import annotations

import json
from collections import defaultdict
from fractions import Fraction
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, File, UploadFile

from obra.api.uploads import saved_upload
from obra.errors import InvalidInput, ObraError, PermissionDenied, Problem
from obra.render import chart_svg, formatting
from obra.web.portal import PREFIX, Visit, download, page, redirect, visit

router = APIRouter()
NAV = "web/royalties/nav.html"
INGEST = {"usage": "ingest_usage", "dsr": "ingest_dsr", "cwr": "ingest_cwr"}
"""Usage reports and CISAC CWR go through ``Obra.royalties``; ``repertoire`` (parties, works, recordings and
agreements as JSON, JSON Lines or CSV) through ``Obra.import_file``, all or nothing like the CLI's ``obra import``."""
MODELS = ("pro-rata", "user-centric", "artist-centric")
TABLE_ROWS = 200


def _limit(v: Visit) -> int:
    return v.request.app.state.limits.upload


def _match_events(v: Visit) -> list[dict] | None:
    """The matching runs with their rate per period (journal, readable by CMO and office staff)."""
    try:
        events = v.obra.read_journal(v.principal, "usage.matched", limit=1000)
    except ObraError:
        return None
    rows = []
    for e in reversed(events):
        by = e["payload"].get("by_method", {})
        lines = e["payload"].get("lines") or 0
        matched = lines - by.get("none", 0)
        rows.append({"at": e["at"], "period": e["payload"].get("period"), "lines": lines, "matched": matched,
                     "rate": Fraction(matched, lines) if lines else Fraction(0), "by_method": by})
    return rows


@router.get("/usage")
def usage_form(v: Visit = Depends(visit)):
    v.principal_or_sign_in()
    try:
        recent = v.obra.read_journal(v.principal, "usage.ingested", limit=1000)[-20:][::-1]
    except ObraError:
        recent = None
    return page(v, "web/royalties/usage.html", {"result": None, "problems": [], "error": None, "recent": recent,
                                                "limit": _limit(v), "kind": "usage", "footer_policy": "refuse"})


@router.post("/usage")
async def usage_upload(v: Visit = Depends(visit),
                       report: Annotated[UploadFile | None, File(description="a usage report")] = None):
    """Ingest a report all or nothing; its problems (file, line, field) are shown next to the form."""
    principal = v.principal_or_sign_in()
    form = await v.form()
    kind = str(form.get("kind") or "usage")
    footer_policy = str(form.get("footer_policy") or "refuse")     # DSR only; checked by the service
    context = {"result": None, "problems": [], "error": None, "recent": None, "limit": _limit(v), "kind": kind,
               "footer_policy": footer_policy}
    try:
        if kind not in INGEST and kind != "repertoire":
            raise InvalidInput(Problem("choose the kind of file: usage CSV, DDEX DSR, CISAC CWR or a repertoire "
                                       "batch", field="kind"))
        if report is None or not report.filename:
            raise InvalidInput(Problem("choose the file to upload", field="report"))
        async with saved_upload(report, "obra-portal-ingest-") as path:
            if kind == "repertoire":
                result = v.obra.import_file(principal, Path(path))
            elif kind == "dsr":
                result = v.obra.royalties.ingest_dsr(principal, Path(path), footer_policy=footer_policy)
            else:
                result = getattr(v.obra.royalties, INGEST[kind])(principal, Path(path))
        result = {k: val for k, val in result.items() if k not in ("directory", "path", "partitions", "source")}
        result["file"] = report.filename  # never the temporary copy's path on the server
    except InvalidInput as exc:
        return page(v, "web/royalties/usage.html", context | {"problems": exc.problems, "error": exc}, 422)
    return page(v, "web/royalties/usage.html", context | {"result": result}, 201)


@router.get("/distributions")
def distributions(v: Visit = Depends(visit)):
    principal = v.principal_or_sign_in()
    runs = v.obra.royalties.runs(principal)
    return page(v, "web/royalties/distributions.html", {"runs": runs[::-1], "matches": _match_events(v) or [],
                                                        "models": MODELS, "done": None})


@router.post("/match")
async def match(v: Visit = Depends(visit)):
    principal = v.principal_or_sign_in()
    form = await v.form()
    period = str(form.get("period") or "").strip() or None
    v.obra.royalties.match(principal, period)
    return redirect(v, PREFIX + "/distributions?matched=1")


@router.post("/distributions")
async def distribute(v: Visit = Depends(visit)):
    from obra.royalties.pipeline import DistributionRequest  # the request type the API and CLI use

    principal = v.principal_or_sign_in()
    form = await v.form()
    try:
        request = DistributionRequest(period=str(form.get("period") or "").strip(),
                                      model=str(form.get("model") or "pro-rata"))
    except ValueError as exc:
        raise InvalidInput(Problem(str(exc).splitlines()[-1], field="period"),
                           hint="a period is YYYY-MM (e.g. 2026-10)") from None
    v.obra.royalties.distribute(principal, request)
    return redirect(v, PREFIX + "/distributions?distributed=1")


@router.get("/compare")
def compare(v: Visit = Depends(visit), period: str | None = None, base: str = "pro-rata",
            other: str = "user-centric"):
    """Who gains and who loses between two models on the same period, by decile and genre."""
    principal = v.principal_or_sign_in()
    base = base if base in MODELS else "pro-rata"
    other = other if other in MODELS else "user-centric"
    result, charts = None, {}
    if period:
        result = v.obra.royalties.compare_models(principal, period.strip(), base, other)
        for cur, data in result.get("currencies", {}).items():
            rows = data.get("by_decile") or []
            if rows:
                charts[cur] = chart_svg("bar", [(str(r["decile"]), r["change_minor"]) for r in rows],
                                        value_labels=[formatting.money(r["change_minor"], cur, v.locale)
                                                      for r in rows], height_cm=5)
    return page(v, "web/royalties/compare.html", {"period": period or "", "base": base, "other": other,
                                                  "models": MODELS, "result": result, "charts": charts})


@router.get("/claims")
def claims(v: Visit = Depends(visit), q: str | None = None, period: str | None = None):
    """The unmatched usage, most played first; anyone may search it, a signed-in rightholder may claim."""
    queue = v.obra.royalties.claims_queue(period or None, 500)
    q = (q or "").strip()[:200]
    if q:
        needle = q.casefold()
        queue = [g for g in queue if needle in " ".join(str(g.get(k) or "") for k in ("title", "artist", "album",
                                                                                       "isrc")).casefold()]
    return page(v, "web/royalties/claims.html", {"queue": queue[:TABLE_ROWS], "total": len(queue), "q": q,
                                                 "claimed": v.request.query_params.get("claimed")})


@router.post("/claims/{group}")
async def claim(group: str, v: Visit = Depends(visit)):
    principal = v.principal_or_sign_in()
    form = await v.form()
    number = str(form.get("number") or "").strip()
    if not number:
        raise InvalidInput(Problem("give the registration number of your recording or work", field="number"))
    kind = str(form.get("kind") or "recording")
    v.obra.royalties.claim(principal, group, **({"work": number} if kind == "work" else {"recording": number}))
    return redirect(v, f"{PREFIX}/claims?claimed={group}")


@router.get("/statements")
def statements(v: Visit = Depends(visit), payee: str | None = None):
    principal = v.principal_or_sign_in()
    if payee:
        return redirect(v, f"{PREFIX}/statements/{payee.strip()}")
    if principal.party_id is not None and not principal.can("read_statement"):
        return redirect(v, f"{PREFIX}/statements/{principal.party_id}")
    try:
        runs = v.obra.royalties.runs(principal, kind="distribution")
    except PermissionDenied:
        runs = []
    return page(v, "web/royalties/statements.html", {"runs": runs[::-1]})


def _sum(lines: list[dict], key) -> list[tuple[str, int, int]]:
    """(label, amount in minor units, plays) per ``key`` of the lines, largest first."""
    money: dict[str, int] = defaultdict(int)
    plays: dict[str, int] = defaultdict(int)
    for line in lines:
        label = str(key(line))
        money[label] += int(line["amount_minor"])
        plays[label] += int(line.get("plays") or 0)
    return sorted(((k, money[k], plays[k]) for k in money), key=lambda t: (-t[1], t[0]))


@router.get("/statements/{payee}")
def statement(payee: str, v: Visit = Depends(visit), run: int | None = None, currency: str | None = None,
              service: str | None = None, item: str | None = None):
    """Drill-down: totals per currency → per service → per item → the usage lines each amount comes from."""
    principal = v.principal_or_sign_in()
    _data, st = v.obra.royalties.statement(principal, payee, run=run)
    lines = st.get("lines", [])
    context = {"payee": payee, "st": st, "run": st["run"], "currency": currency, "service": service, "item": item,
               "names": {}, "level": 0}
    if currency:
        lines = [line for line in lines if line["currency"] == currency]
        context |= {"level": 1, "by_service": _sum(lines, lambda line: line.get("service") or "—"),
                    "by_territory": _sum(lines, lambda line: line.get("territory") or "—")}
    if currency and service:
        lines = [line for line in lines if (line.get("service") or "—") == service]
        items: dict[str, dict] = {}
        for line in lines:
            entry = items.setdefault(line["item"], {"item": line["item"], "title": line.get("title") or "",
                                                    "amount_minor": 0, "plays": 0})
            entry["amount_minor"] += int(line["amount_minor"])
            entry["plays"] += int(line.get("plays") or 0)
        context |= {"level": 2, "items": sorted(items.values(), key=lambda e: -e["amount_minor"])[:TABLE_ROWS]}
    if currency and service and item:
        context |= {"level": 3, "lines": [line for line in lines if line["item"] == item]}
    if not currency:
        totals = st.get("totals", {})
        context["by_period"] = {cur: _sum([line for line in lines if line["currency"] == cur],
                                          lambda line: line.get("period") or "—") for cur in totals}
        context["charts"] = {cur: chart_svg("bar", [(formatting.period(p, v.locale), amount) for p, amount, _n in rows],
                                            value_labels=[formatting.money(a, cur, v.locale) for _p, a, _n in rows],
                                            height_cm=4.5)
                             for cur, rows in context["by_period"].items() if rows}
    return page(v, "web/royalties/statement.html", context)


@router.get("/statements/{payee}/export.{fmt}")
def statement_export(payee: str, fmt: str, v: Visit = Depends(visit), run: int | None = None):
    principal = v.principal_or_sign_in()
    if fmt not in ("csv", "pdf", "json"):
        raise InvalidInput(Problem(f"no export format '{fmt}'; use csv, pdf or json", field="fmt"))
    data, st = v.obra.royalties.statement(principal, payee, run=run, fmt=fmt, locale=v.locale)
    media = {"csv": "text/csv; charset=utf-8", "pdf": "application/pdf", "json": "application/json"}[fmt]
    body = data if isinstance(data, bytes) else json.dumps(data).encode()
    return download(v, body, media, f"statement-{payee}-run-{st['run']}.{fmt}")
