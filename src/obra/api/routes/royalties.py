"""Royalty routes: run a distribution, compare models, read statements (a creator only their own)."""

from __future__ import annotations

from fastapi import APIRouter, Body, Depends, Query
from fastapi.responses import Response

from obra.access import Principal
from obra.api.auth import get_store, optional_principal, require_action
from obra.store import Store

router = APIRouter(tags=["royalties"])

MEDIA = {"json": "application/json", "csv": "text/csv; charset=utf-8", "html": "text/html; charset=utf-8",
         "pdf": "application/pdf"}


@router.post("/distributions", status_code=201)
def run_distribution(period: str = Body(..., embed=True), model: str = Body("pro-rata", embed=True),
                     preset: str | None = Body(None, embed=True), engine: str = Body("duckdb", embed=True),
                     principal: Principal = Depends(require_action("distribute")),
                     store: Store = Depends(get_store)) -> dict:
    """Distribute a period under a model; writes every payee's statement and returns the run report."""
    from obra.royalties.statements import run_period

    return run_period(store, principal, period, model=model, engine=engine, params=preset)


@router.get("/distributions/compare")
def compare_models(period: str, base: str = "pro-rata", other: str = "user-centric",
                   principal: Principal = Depends(require_action("distribute")),
                   store: Store = Depends(get_store)) -> dict:
    """Who gains and who loses between two models on the same period, by decile and genre."""
    from obra.royalties.comparison import compare_period

    return compare_period(store, principal, period, base, other)


@router.get("/statements/{payee}")
def statement(payee: str, period: str | None = None, model: str | None = None,
              format: str = Query("json", pattern="^(json|csv|html|pdf)$"),
              principal: Principal = Depends(optional_principal), store: Store = Depends(get_store)) -> Response:
    """A payee's statement; a creator may read only their own, CMOs and office staff any."""
    from obra.royalties.statements import payee_statement

    data, st = payee_statement(store, principal, payee, period=period, model=model, fmt=format)
    return Response(data, media_type=MEDIA[format], headers={"X-Content-Hash": st["content_hash"]})
