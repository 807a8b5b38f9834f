"""Fairness pages: a creator's renegotiation flags with the drafted letters, and their signed yearly
transparency report (CMO and office staff for any party; a creator for their own)."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends

from obra.errors import InvalidInput, Problem
from obra.ids import ascii_digits
from obra.web.portal import PREFIX, Visit, download, page, redirect, visit

router = APIRouter()
NAV = "web/fairness/nav.html"
MEDIA = {"html": "text/html; charset=utf-8", "pdf": "application/pdf"}


def _party(v: Visit, given: str | None) -> str | None:
    party = (given or "").strip() or (str(v.principal.party_id) if v.principal.party_id is not None else "")
    return party or None


@router.get("/fairness")
def fairness(v: Visit = Depends(visit), party: str | None = None):
    principal = v.principal_or_sign_in()
    party = _party(v, party)
    documents = v.obra.fairness.documents(principal, party)[::-1]
    return page(v, "web/fairness/index.html", {"party": party or "", "documents": documents,
                                               "year": date.today().year - 1})


@router.post("/fairness/check")
async def run_check(v: Visit = Depends(visit)):
    from obra.fairness.service import CheckRequest  # the request type the API and CLI send

    principal = v.principal_or_sign_in()
    form = await v.form()
    done = v.obra.fairness.check(principal, CheckRequest(party=_party(v, str(form.get("party") or ""))))
    return redirect(v, f"{PREFIX}/fairness/checks/{done['check']}")


@router.get("/fairness/checks/{check}")
def check(check: int, v: Visit = Depends(visit)):
    principal = v.principal_or_sign_in()
    return page(v, "web/fairness/check.html", {"c": v.obra.fairness.check_result(principal, check)})


@router.post("/fairness/checks/{check}/letters/{flag}")
async def letter(check: int, flag: int, v: Visit = Depends(visit)):
    principal = v.principal_or_sign_in()
    form = await v.form()
    fmt = "pdf" if form.get("format") == "pdf" else "html"
    data, _meta = v.obra.fairness.letter(principal, check, flag, fmt, v.locale)
    return download(v, data, MEDIA[fmt], f"letter-check-{check}-flag-{flag}.{fmt}")


@router.post("/fairness/report")
async def report(v: Visit = Depends(visit)):
    principal = v.principal_or_sign_in()
    form = await v.form()
    party = _party(v, str(form.get("party") or ""))
    year = str(form.get("year") or "").strip()
    if not party or not ascii_digits(year) or not 1900 <= int(year) <= 2999:
        raise InvalidInput([Problem("give the party's number", field="party")] if not party else [] +
                           [Problem("give a year such as 2025", field="year")])
    fmt = "pdf" if form.get("format") == "pdf" else "html"
    data, _meta = v.obra.fairness.report(principal, party, int(year), fmt, v.locale)
    return download(v, data, MEDIA[fmt], f"transparency-report-{party}-{year}.{fmt}")
