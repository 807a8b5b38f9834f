"""Fairness routes: renegotiation checks and letters, transparency reports, agreement terms.

Each route translates the request into one call of ``Obra.fairness``
(:class:`obra.fairness.service.FairnessService`), with the same requests as ``obra fairness``;
access is checked in the service (a creator: only their own agreements and reports).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query
from fastapi.responses import Response

from obra.access import Principal
from obra.api.answers import without_server_paths
from obra.api.auth import caller, get_obra, locale
from obra.api.params import ShortText, StrictJSONRoute
from obra.app import Obra
from obra.fairness.service import CheckRequest
from obra.fairness.terms import AgreementTerms

router = APIRouter(prefix="/fairness", tags=["fairness"], route_class=StrictJSONRoute)

MEDIA = {"json": "application/json", "csv": "text/csv; charset=utf-8", "html": "text/html; charset=utf-8",
         "pdf": "application/pdf"}


@router.put("/terms/{agreement}", status_code=201)
def set_terms(agreement: int, body: AgreementTerms = Body(...), principal: Principal = Depends(caller),
              obra: Obra = Depends(get_obra)) -> dict:
    """State an agreement's governing law, lump sum and appropriate share (``fairness.terms_set``)."""
    return obra.fairness.set_terms(principal, agreement, body)


@router.post("/checks", status_code=201)
def run_check(request: CheckRequest, principal: Principal = Depends(caller), obra: Obra = Depends(get_obra)) -> dict:
    """Check every agreement (or a party's) for renegotiation triggers over the stored runs; kept and journaled."""
    return without_server_paths(obra.fairness.check(principal, request), obra.store.paths.home)


@router.get("/checks/{check}")
def read_check(check: int, principal: Principal = Depends(caller), obra: Obra = Depends(get_obra)) -> dict:
    """A kept check (a creator: only a check of their own agreements)."""
    return obra.fairness.check_result(principal, check)


@router.post("/checks/{check}/letters/{flag}", status_code=201)
def draft_letter(check: int, flag: int, format: str = Query("html", pattern="^(html|pdf)$"),
                 lang: str = Depends(locale), principal: Principal = Depends(caller),
                 obra: Obra = Depends(get_obra)) -> Response:
    """The letter a flag calls for, in the ``Accept-Language``; a ``fairness.letter`` journal event."""
    data, meta = obra.fairness.letter(principal, check, flag, format, lang)
    return Response(data, status_code=201, media_type=MEDIA[format],
                    headers={"X-Content-SHA256": meta["sha256"], "X-Journal-Event": str(meta["journal_event"])})


@router.post("/reports/{party}", status_code=201)
def issue_report(party: ShortText, year: Annotated[int, Query(ge=1900, le=2999)],
                 format: str = Query("json", pattern="^(json|csv|html|pdf)$"), lang: str = Depends(locale),
                 principal: Principal = Depends(caller), obra: Obra = Depends(get_obra)) -> Response:
    """A creator's signed transparency report for a year (a creator: their own); a ``fairness.report`` event."""
    data, meta = obra.fairness.report(principal, party, year, format, lang)
    return Response(data, status_code=201, media_type=MEDIA[format],
                    headers={"X-Content-SHA256": meta["sha256"], "X-Journal-Event": str(meta["journal_event"])})


@router.post("/reports", status_code=201)
def issue_reports(year: Annotated[int, Query(ge=1900, le=2999)], principal: Principal = Depends(caller),
                  obra: Obra = Depends(get_obra)) -> dict:
    """Every creator's signed report for a year at once (CMOs and office staff)."""
    return without_server_paths(obra.fairness.reports(principal, year), obra.store.paths.home)


@router.get("/documents")
def list_documents(party: ShortText | None = None, kind: ShortText | None = None,
                   principal: Principal = Depends(caller), obra: Obra = Depends(get_obra)) -> list[dict]:
    """The checks, letters and reports issued (a creator: those addressed to them)."""
    return obra.fairness.documents(principal, party, kind)
