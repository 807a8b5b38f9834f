"""AI-licence pages: the public offers, a training manifest priced item by item (a quote), accepting it
(the signed licence and the licence server's credentials, shown once), the licences held, a licence's
document, and verifying a licence by upload (public)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, File, UploadFile

from obra.api.uploads import saved_upload
from obra.errors import InvalidInput, ObraError, Problem
from obra.web.portal import Visit, download, page, visit

router = APIRouter()
NAV = "web/licences/nav.html"
SHOWN = 100


def _held(v: Visit) -> list[dict] | None:
    if not v.signed_in:
        return None
    try:
        return v.obra.ai_licences.licences(v.principal)
    except ObraError:
        return None


@router.get("/licences")
def licences(v: Visit = Depends(visit)):
    return page(v, "web/licences/index.html", {"offers": v.obra.ai_licences.offers()[:SHOWN], "held": _held(v),
                                               "limit": v.request.app.state.limits.upload, "problems": [],
                                               "error": None})


@router.post("/licences/quote")
async def quote(v: Visit = Depends(visit),
                manifest: Annotated[UploadFile | None, File(description="number, sha256, url, count")] = None):
    principal = v.principal_or_sign_in()
    form = await v.form()
    context = {"offers": [], "held": None, "limit": v.request.app.state.limits.upload}
    try:
        if manifest is None or not manifest.filename:
            raise InvalidInput(Problem("choose the manifest to price", field="manifest"))
        territory = str(form.get("territory") or "").strip().upper() or None
        question = v.obra.ai_licences.question(str(form.get("use") or "ai-train-generative"), territory=territory,
                                               purpose=str(form.get("purpose") or "") or None)
        async with saved_upload(manifest, "obra-portal-quote-") as path:
            done = v.obra.ai_licences.quote(principal, Path(path), question, show=SHOWN)
    except InvalidInput as exc:
        return page(v, "web/licences/index.html", context | {"problems": exc.problems, "error": exc}, 422)
    return page(v, "web/licences/quote.html", {"q": done}, 201)


@router.post("/licences/quotes/{quote_id}/accept")
async def accept(quote_id: str, v: Visit = Depends(visit)):
    principal = v.principal_or_sign_in()
    await v.form()
    done = v.obra.ai_licences.accept(principal, quote_id)
    return page(v, "web/licences/accepted.html", {"done": done,
                                                  "licence_json": json.dumps(done["licence"], ensure_ascii=False)},
                201)


@router.get("/licences/{licence_id}/document.{fmt}")
def document(licence_id: str, fmt: str, v: Visit = Depends(visit)):
    principal = v.principal_or_sign_in()
    if fmt not in ("html", "pdf"):
        raise InvalidInput(Problem(f"no licence document format '{fmt}'; use html or pdf", field="format"))
    data = v.obra.ai_licences.document(principal, licence_id, fmt=fmt, locale=v.locale)
    media = "application/pdf" if fmt == "pdf" else "text/html; charset=utf-8"
    return download(v, data, media, f"licence-{licence_id}.{fmt}")


@router.post("/licences/disclosure")
async def disclosure(v: Visit = Depends(visit),
                     summary: Annotated[UploadFile | None, File(description="the training-content summary")] = None):
    """File a training-content summary (EU AI Office template): every missing field named, then the
    cross-check against registered reservations and the provider's own licences."""
    principal = v.principal_or_sign_in()
    await v.form()
    context = {"offers": [], "held": None, "limit": v.request.app.state.limits.upload}
    try:
        if summary is None or not summary.filename:
            raise InvalidInput(Problem("choose the summary file (.json) to file", field="summary"))
        async with saved_upload(summary, "obra-portal-disclosure-") as path:
            done = v.obra.ai_licences.disclose(principal, Path(path).read_bytes(), source=summary.filename)
    except InvalidInput as exc:
        return page(v, "web/licences/index.html", context | {"problems": exc.problems, "error": exc}, 422)
    return page(v, "web/licences/disclosed.html", {"done": done, "report": json.dumps(
        done.get("report"), indent=2, ensure_ascii=False, default=str)}, 201)


@router.get("/licences-verify")
def verify_form(v: Visit = Depends(visit)):
    return page(v, "web/licences/verify.html", {"result": None, "failure": None,
                                                "limit": v.request.app.state.limits.upload})


@router.post("/licences-verify")
async def verify(v: Visit = Depends(visit),
                 licence: Annotated[UploadFile | None, File(description="a licence .json")] = None):
    """Public: check a licence's signature with the office's keys, and whether it was revoked."""
    await v.form()
    if licence is None or not licence.filename:
        raise InvalidInput(Problem("choose the licence file (.json) to verify", field="licence"))
    async with saved_upload(licence, "obra-portal-licence-") as path:
        data = Path(path).read_bytes()
    context = {"result": None, "failure": None, "limit": v.request.app.state.limits.upload,
               "filename": licence.filename}
    try:
        context["result"] = v.obra.ai_licences.verify(data)
        status = 200
    except ObraError as exc:
        context["failure"], status = exc, 400
    return page(v, "web/licences/verify.html", context, status)
