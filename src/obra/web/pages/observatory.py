"""The observatory (CMO and office staff): a period's report — indicators, the payment models compared,
a scenario — downloaded as a page or a PDF in the visitor's language."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from obra.errors import InvalidInput, Problem
from obra.web.portal import Visit, download, page, visit

router = APIRouter()
NAV = "web/observatory/nav.html"


@router.get("/observatory")
def observatory_form(v: Visit = Depends(visit)):
    v.principal_or_sign_in()
    return page(v, "web/observatory/form.html", {"presets": v.obra.observatory.scenario_presets()})


@router.post("/observatory")
async def observatory_report(v: Visit = Depends(visit)):
    from obra.observatory.service import ReportRequest  # the request type the API and CLI send

    principal = v.principal_or_sign_in()
    form = await v.form()
    period = str(form.get("period") or "").strip()
    scenario = str(form.get("scenario") or "").strip() or None
    fmt = "pdf" if form.get("format") == "pdf" else "html"
    if not period:
        raise InvalidInput(Problem("give the period of a distribution run, e.g. 2026-10", field="period"))
    data, media = v.obra.observatory.document(principal, ReportRequest(period=period, scenario=scenario), fmt,
                                              v.locale)
    return download(v, data, media, f"observatory-{period}.{fmt}")
