"""Royalty routes: ingest reports, match, run distributions, split incoming statements, read statements.

Each route translates the request into one call of ``Obra.royalties``
(:class:`obra.royalties.pipeline.RoyaltiesService`), with the same typed requests as the CLI
(``DistributionRequest``, ``SplitRequest``); access is checked in the service.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Body, Depends, File, Form, Query, UploadFile
from fastapi.responses import Response

from obra.access import Principal
from obra.api.auth import caller, get_obra, locale
from obra.api.uploads import saved_upload
from obra.app import Obra
from obra.royalties.pipeline import DistributionRequest, SplitRequest

router = APIRouter(tags=["royalties"])

MEDIA = {"json": "application/json", "csv": "text/csv; charset=utf-8", "html": "text/html; charset=utf-8",
         "pdf": "application/pdf"}
INGEST_JOBS = {"dsr": "ingest_dsr", "usage": "ingest_usage", "cwr": "ingest_cwr"}


@router.post("/ingest/{kind}", status_code=201)
async def ingest(kind: Literal["dsr", "usage", "cwr"], file: UploadFile = File(...),
                 principal: Principal = Depends(caller), obra: Obra = Depends(get_obra)) -> dict:
    """Ingest a DDEX DSR file, a usage/pools CSV, or a CISAC CWR file; each all or nothing.

    The same file again changes nothing (``status: already ingested``).
    """
    async with saved_upload(upload=file, prefix="obra-ingest-") as path:  # keeps the name: .tsv.gz stays gzip
        result = getattr(obra.royalties, INGEST_JOBS[kind])(principal, path)
    return {**result, "file": file.filename or result.get("file")}


@router.post("/match", status_code=201)
def match(period: str | None = Body(None, embed=True), fuzzy: bool = Body(True, embed=True),
          engine: str = Body("duckdb", embed=True), principal: Principal = Depends(caller),
          obra: Obra = Depends(get_obra)) -> dict:
    """Match ingested usage to recordings and works (identifiers, then metadata) and apply claims."""
    return obra.royalties.match(principal, period, fuzzy=fuzzy, engine=engine)


@router.post("/distributions", status_code=201)
def run_distribution(request: DistributionRequest, principal: Principal = Depends(caller),
                     obra: Obra = Depends(get_obra)) -> dict:
    """Distribute a period under a model; keeps the run (superseding an earlier one) and returns its report."""
    return obra.royalties.distribute(principal, request)


@router.get("/distributions")
def list_runs(period: str | None = None, kind: str | None = None, principal: Principal = Depends(caller),
              obra: Obra = Depends(get_obra)) -> list[dict]:
    """Every run, superseded ones included."""
    return obra.royalties.runs(principal, period, kind)


@router.post("/statements-in", status_code=201)
async def split_incoming_statement(
        file: UploadFile = File(..., description="a statement CSV with money already per work"),
        period: str = Form(...), currency: str = Form(...), territory: str = Form("2WL"),
        id_kind: str = Form("number", description="number (Obra registration numbers) or iswc"),
        work_id_column: str = Form("Work ID"), amount_column: str = Form("Amount"),
        right_type_column: str = Form("Right type", description="'-' when the file has none: every row "
                                                                 "then has right_type"),
        right_type: str = Form("performance"), minor_digits: int = Form(2),
        principal: Principal = Depends(caller), obra: Obra = Depends(get_obra)) -> dict:
    """Split a society's or sub-publisher's statement over the catalogue; returns the run report."""
    request = SplitRequest(period=period, currency=currency, territory=territory, id_kind=id_kind,
                           work_id_column=work_id_column, amount_column=amount_column,
                           right_type_column=right_type_column, right_type=right_type, minor_digits=minor_digits)
    async with saved_upload(upload=file, prefix="obra-statement-") as path:
        report = obra.royalties.split_statement(principal, path, request)
    report["file"] = file.filename or path.name  # not the temporary copy's path
    return report


@router.get("/distributions/compare")
def compare_models(period: str, base: str = "pro-rata", other: str = "user-centric", engine: str = "duckdb",
                   spark_master: str | None = Query(None, description="spark.master for engine spark "
                                                                       "(default local[2])"),
                   principal: Principal = Depends(caller), obra: Obra = Depends(get_obra)) -> dict:
    """Who gains and who loses between two models on the same period, by decile and genre."""
    return obra.royalties.compare_models(principal, period, base, other, engine, spark_master)


@router.get("/statements/{payee}")
def statement(payee: str, period: str | None = None, model: str | None = None, run: int | None = None,
              format: str = Query("json", pattern="^(json|csv|html|pdf)$"), lang: str = Depends(locale),
              principal: Principal = Depends(caller), obra: Obra = Depends(get_obra)) -> Response:
    """A payee's statement (HTML and PDF in the ``Accept-Language``); a creator may read only their own."""
    data, st = obra.royalties.statement(principal, payee, period=period, model=model, run=run, fmt=format,
                                        locale=lang)
    return Response(data, media_type=MEDIA[format], headers={"X-Content-Hash": st["content_hash"],
                                                             "X-Obra-Run": str(st["run"]),
                                                             "Content-Language": lang})
