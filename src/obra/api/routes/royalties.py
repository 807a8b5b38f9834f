"""Royalty routes: ingest reports, match, run distributions, split incoming statements, read statements.

Each route translates the request into one call of ``Obra.royalties``
(:class:`obra.royalties.pipeline.RoyaltiesService`), with the same typed requests as the CLI
(``DistributionRequest``, ``SplitRequest``); access is checked in the service.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, File, Form, Query, UploadFile
from fastapi.responses import Response

from obra.access import Principal
from obra.errors import InvalidInput, Problem
from obra.api.answers import without_server_paths
from obra.api.auth import caller, get_obra, locale
from obra.api.params import FormText, RowId, ShortText, StrictJSONRoute
from obra.api.uploads import saved_upload
from obra.app import Obra
from obra.royalties.pipeline import DistributionRequest, SplitRequest

router = APIRouter(tags=["royalties"], route_class=StrictJSONRoute)

MEDIA = {"json": "application/json", "csv": "text/csv; charset=utf-8", "html": "text/html; charset=utf-8",
         "pdf": "application/pdf"}
INGEST_JOBS = {"dsr": "ingest_dsr", "usage": "ingest_usage", "cwr": "ingest_cwr"}


@router.post("/ingest/{kind}", status_code=201)
async def ingest(kind: Literal["dsr", "usage", "cwr"], file: UploadFile = File(...),
                 replaces: Annotated[list[ShortText] | None, Form(
                     description="sources this usage report corrects (dsr, usage): they are superseded")] = None,
                 footer_policy: Annotated[Literal["refuse", "accept-with-warning"] | None, Form(
                     description="dsr only: a FOOT whose counts disagree with the file is refused (default) or "
                                 "accepted with each disagreement recorded as footer_warnings")] = None,
                 principal: Principal = Depends(caller), obra: Obra = Depends(get_obra)) -> dict:
    """Ingest a DDEX DSR file, a usage/pools CSV, or a CISAC CWR file; each all or nothing.

    The same report again — gzipped, with other line ends, under another name — changes nothing
    (``status: already ingested``, ``matched``: the source it is); a corrected DSR re-delivery
    supersedes the report it corrects.
    """
    if replaces and kind == "cwr":
        raise InvalidInput(Problem("a CWR file replaces nothing: a revised work comes as a REV transaction",
                                   field="replaces"))
    if footer_policy is not None and kind != "dsr":
        raise InvalidInput(Problem("a footer policy applies to DDEX DSR files only", field="footer_policy"))
    async with saved_upload(upload=file, prefix="obra-ingest-") as path:  # keeps the name: .tsv.gz stays gzip
        job = getattr(obra.royalties, INGEST_JOBS[kind])
        options = {"footer_policy": footer_policy} if footer_policy is not None else {}
        result = job(principal, path, replaces=replaces or (), **options) if kind != "cwr" else job(principal, path)
    return without_server_paths({**result, "file": path.name}, obra.store.paths.home)


@router.post("/match", status_code=201)
def match(period: Annotated[ShortText | None, Body(embed=True)] = None, fuzzy: bool = Body(True, embed=True),
          engine: Annotated[ShortText, Body(embed=True)] = "duckdb", principal: Principal = Depends(caller),
          obra: Obra = Depends(get_obra)) -> dict:
    """Match ingested usage to recordings and works (identifiers, then metadata) and apply claims."""
    return without_server_paths(obra.royalties.match(principal, period, fuzzy=fuzzy, engine=engine),
                                obra.store.paths.home)


@router.post("/distributions", status_code=201)
def run_distribution(request: DistributionRequest, principal: Principal = Depends(caller),
                     obra: Obra = Depends(get_obra)) -> dict:
    """Distribute a period under a model; keeps the run (superseding an earlier one) and returns its report."""
    return without_server_paths(obra.royalties.distribute(principal, request), obra.store.paths.home)


@router.get("/distributions")
def list_runs(period: ShortText | None = None, kind: ShortText | None = None, principal: Principal = Depends(caller),
              obra: Obra = Depends(get_obra)) -> list[dict]:
    """Every run, superseded ones included."""
    return without_server_paths(obra.royalties.runs(principal, period, kind), obra.store.paths.home)


@router.post("/statements-in", status_code=201)
async def split_incoming_statement(
        file: Annotated[UploadFile, File(description="a statement CSV with money already per work")],
        period: Annotated[ShortText, Form()], currency: Annotated[ShortText, Form()],
        territory: Annotated[ShortText, Form()] = "2WL",
        id_kind: Annotated[Literal["number", "iswc"], Form(description="number (Obra registration numbers) "
                                                                        "or iswc")] = "number",
        work_id_column: Annotated[ShortText, Form()] = "Work ID",
        amount_column: Annotated[ShortText, Form()] = "Amount",
        right_type_column: Annotated[ShortText, Form(description="'-' when the file has none: every row then has "
                                                                 "right_type")] = "Right type",
        right_type: Annotated[ShortText, Form()] = "performance",
        minor_digits: Annotated[int, Form(ge=0, le=4, description="the currency's decimals")] = 2,
        principal: Principal = Depends(caller), obra: Obra = Depends(get_obra)) -> dict:
    """Split a society's or sub-publisher's statement over the catalogue; returns the run report."""
    request = SplitRequest(period=period, currency=currency, territory=territory, id_kind=id_kind,
                           work_id_column=work_id_column, amount_column=amount_column,
                           right_type_column=right_type_column, right_type=right_type, minor_digits=minor_digits)
    async with saved_upload(upload=file, prefix="obra-statement-") as path:
        report = obra.royalties.split_statement(principal, path, request)
    report["file"] = path.name  # the upload's safe name, not the temporary copy's path
    return without_server_paths(report, obra.store.paths.home)


@router.get("/distributions/compare")
def compare_models(period: ShortText, base: ShortText = "pro-rata", other: ShortText = "user-centric",
                   engine: ShortText = "duckdb",
                   spark_master: Annotated[ShortText | None, Query(description="spark.master for engine spark "
                                                                               "(default local[2])")] = None,
                   principal: Principal = Depends(caller), obra: Obra = Depends(get_obra)) -> dict:
    """Who gains and who loses between two models on the same period, by decile and genre."""
    return without_server_paths(obra.royalties.compare_models(principal, period, base, other, engine, spark_master),
                                obra.store.paths.home)


@router.get("/statements/{payee}")
def statement(payee: ShortText, period: ShortText | None = None, model: ShortText | None = None,
              run: RowId | None = None,
              right: Annotated[ShortText | None, Query(description="the right type in an incoming run paying the "
                                                                   "payee under several, e.g. ai_training")] = None,
              format: str = Query("json", pattern="^(json|csv|html|pdf)$"), lang: str = Depends(locale),
              principal: Principal = Depends(caller), obra: Obra = Depends(get_obra)) -> Response:
    """A payee's statement (HTML and PDF in the ``Accept-Language``); a creator may read only their own."""
    data, st = obra.royalties.statement(principal, payee, period=period, model=model, run=run, fmt=format,
                                        locale=lang, right=right)
    return Response(data, media_type=MEDIA[format], headers={"X-Content-Hash": st["content_hash"],
                                                             "X-Obra-Run": str(st["run"]),
                                                             **({"X-Obra-Right": st["right"]} if st["right"] else {}),
                                                             "Content-Language": lang})
