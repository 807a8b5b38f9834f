"""Royalty routes: run a distribution, split an incoming statement, compare models, read statements.

A creator reads only their own statement; running a distribution or splitting a statement
needs a principal allowed to distribute.
"""

from __future__ import annotations

from fastapi import APIRouter, Body, Depends, File, Form, Query, UploadFile
from fastapi.responses import Response

from obra.access import Principal
from obra.api.auth import get_store, optional_principal, require_action
from obra.api.uploads import saved_upload
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
    from obra.royalties.pipeline import run_period

    return run_period(store, principal, period, model=model, engine=engine, params=preset)


@router.post("/statements-in", status_code=201)
async def split_incoming_statement(
        file: UploadFile = File(..., description="a statement CSV with money already per work"),
        period: str = Form(...), currency: str = Form(...), territory: str = Form("2WL"),
        id_kind: str = Form("number", description="number (Obra registration numbers) or iswc"),
        work_id_column: str = Form("Work ID"), amount_column: str = Form("Amount"),
        right_type_column: str = Form("Right type", description="'-' when the file has none: every row "
                                                                 "then has right_type"),
        right_type: str = Form("performance"), minor_digits: int = Form(2),
        principal: Principal = Depends(require_action("distribute")),
        store: Store = Depends(get_store)) -> dict:
    """Split a society's or sub-publisher's statement over the catalogue; returns the run report."""
    from obra.royalties.incoming import StatementLayout
    from obra.royalties.pipeline import split_for_store

    layout = StatementLayout(period=period, currency=currency.upper(), territory=territory,
                             work_id_column=work_id_column, amount_column=amount_column,
                             right_type_column=None if right_type_column.strip() in ("", "-") else right_type_column,
                             right_type=right_type,
                             minor_digits=minor_digits)
    async with saved_upload(upload=file, prefix="obra-statement-") as path:
        report = split_for_store(store, principal, path, layout, id_kind=id_kind)
    report["file"] = path.name  # not the temporary copy's path
    return report


@router.get("/distributions/compare")
def compare_models(period: str, base: str = "pro-rata", other: str = "user-centric",
                   principal: Principal = Depends(require_action("distribute")),
                   store: Store = Depends(get_store)) -> dict:
    """Who gains and who loses between two models on the same period, by decile and genre."""
    from obra.royalties.pipeline import compare_period

    return compare_period(store, principal, period, base, other)


@router.get("/statements/{payee}")
def statement(payee: str, period: str | None = None, model: str | None = None,
              format: str = Query("json", pattern="^(json|csv|html|pdf)$"),
              principal: Principal = Depends(optional_principal), store: Store = Depends(get_store)) -> Response:
    """A payee's statement; a creator may read only their own, CMOs and office staff any."""
    from obra.royalties.pipeline import payee_statement

    data, st = payee_statement(store, principal, payee, period=period, model=model, fmt=format)
    return Response(data, media_type=MEDIA[format], headers={"X-Content-Hash": st["content_hash"]})
