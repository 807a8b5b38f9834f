"""AI-use pages: state terms with plain-language choices, download the "protect my site" files, and
check a training manifest item by item (decision, reasons, evidence, signed receipt)."""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, File, UploadFile

from obra.api.uploads import saved_upload
from obra.errors import InvalidInput, Problem
from obra.web.portal import Visit, download, page, visit

router = APIRouter()
NAV = "web/aiuse/nav.html"
USES = ("ai-train-generative", "ai-train-other", "ai-input", "search")
CHOICES = ("allowed", "not-allowed", "licence", "unstated")
SUBJECTS = ("party", "work", "recording", "location")
PURPOSES = ("commercial", "non-commercial", "research")
ITEMS_SHOWN = 200


def _subject(v: Visit, form) -> tuple[str, str]:
    kind = str(form.get("subject_kind") or "party")
    subject = str(form.get("subject") or "").strip()
    if kind == "party" and not subject and v.principal.party_id is not None:
        subject = str(v.principal.party_id)
    if kind not in SUBJECTS or not subject:
        raise InvalidInput(Problem("say whose terms these are: your catalogue (party), a registration number or a "
                                   "web location", field="subject"))
    return kind, subject


def _terms_document(v: Visit, form) -> dict:
    """The plain-language choices as an AI-use terms document (docs/ai-terms.md)."""
    kind, subject = _subject(v, form)
    uses, problems = [], []
    for use in USES:
        choice = str(form.get(f"use-{use}") or "unstated")
        if choice not in CHOICES:
            problems.append(Problem(f"choose one answer for {use}", field=f"use-{use}"))
            continue
        if choice == "unstated":
            continue
        term: dict = {"use": use, "permission": choice}
        if choice == "licence":
            price_text = str(form.get(f"price-{use}") or "").strip().replace(",", ".")
            currency = str(form.get("currency") or "EUR").strip().upper()
            if price_text:
                try:
                    price = Decimal(price_text)
                    if price < 0:
                        raise InvalidOperation
                    term["price"] = {"model": "per-item", "currency": currency,
                                     "amount_minor": int((price * 100).to_integral_value())}
                except InvalidOperation:
                    problems.append(Problem(f"'{price_text}' is not an amount such as 5.00", field=f"price-{use}"))
        uses.append(term)
        if use.startswith("ai-train") and choice != "allowed" and form.get("research"):
            uses.append({"use": use, "permission": "allowed", "purposes": ["research"]})
    if not uses:
        problems.append(Problem("answer at least one of the questions", field="uses"))
    if problems:
        raise InvalidInput(problems)
    document = {"subject_kind": kind, "subject": subject, "uses": uses}
    contact = str(form.get("contact") or "").strip()
    if contact:
        document["contact"] = contact[:320]
    return document


def _form_context(v: Visit, **extra) -> dict:
    return {"uses": USES, "choices": CHOICES, "subjects": SUBJECTS, "stated": None, "problems": [], "error": None,
            "current": None, "form": {}, **extra}


@router.get("/ai/terms")
def terms_form(v: Visit = Depends(visit), kind: str | None = None, subject: str | None = None):
    principal = v.principal_or_sign_in()
    kind = kind if kind in SUBJECTS else "party"
    subject = subject or (str(principal.party_id) if principal.party_id is not None else "")
    current = v.obra.ai_terms.current(kind, subject) if subject else None
    return page(v, "web/aiuse/terms.html", _form_context(v, current=current,
                                                         form={"subject_kind": kind, "subject": subject}))


@router.post("/ai/terms")
async def set_terms(v: Visit = Depends(visit)):
    principal = v.principal_or_sign_in()
    form = await v.form()
    values = {k: str(form.get(k) or "") for k in form.keys() if k != "csrf_token"}
    try:
        document = _terms_document(v, form)
        stated = v.obra.ai_terms.set_terms(principal, document)
    except InvalidInput as exc:
        return page(v, "web/aiuse/terms.html", _form_context(v, problems=exc.problems, error=exc, form=values), 422)
    return page(v, "web/aiuse/terms.html", _form_context(v, stated=stated, current=stated, form=values), 201)


@router.post("/ai/protect")
async def protect(v: Visit = Depends(visit)):
    """The signal files of the stored terms (robots.txt, tdmrep.json, RSL, headers...) as a zip."""
    form = await v.form()
    kind, subject = str(form.get("subject_kind") or ""), str(form.get("subject") or "").strip()
    site = str(form.get("site") or "").strip() or None
    done = v.obra.protect.bundle(kind or None, subject or None, site=site)
    return download(v, done["zip"], "application/zip", "ai-signals.zip")


@router.get("/ai/check")
def check_form(v: Visit = Depends(visit)):
    v.principal_or_sign_in()
    return page(v, "web/aiuse/check.html", {"done": None, "problems": [], "error": None, "purposes": PURPOSES,
                                            "form": {}, "limit": v.request.app.state.limits.upload})


@router.post("/ai/check")
async def check(v: Visit = Depends(visit),
                manifest: Annotated[UploadFile | None, File(description="CSV, JSONL or Parquet")] = None,
                sites: Annotated[UploadFile | None, File(description="JSONL site captures")] = None):
    """May I train on this? Each item decided with its reasons and evidence; a signed receipt."""
    principal = v.principal_or_sign_in()
    form = await v.form()
    values = {k: str(form.get(k) or "") for k in ("jurisdiction", "purpose", "user_agent")}
    context = {"done": None, "problems": [], "error": None, "purposes": PURPOSES, "form": values,
               "limit": v.request.app.state.limits.upload}
    try:
        if manifest is None or not manifest.filename:
            raise InvalidInput(Problem("choose the training manifest to check", field="manifest"))
        options = {"jurisdiction": values["jurisdiction"].strip().upper() or "EU",
                   "purpose": values["purpose"] if values["purpose"] in PURPOSES else "commercial",
                   "user_agent": values["user_agent"].strip() or "*", "inline": ITEMS_SHOWN}
        async with saved_upload(manifest, "obra-portal-check-") as manifest_path:
            if sites is None or not sites.filename:
                done = v.obra.ai_check.check(principal, Path(manifest_path), None, **options)
            else:
                async with saved_upload(sites, "obra-portal-sites-") as sites_path:
                    done = v.obra.ai_check.check(principal, Path(manifest_path), Path(sites_path), **options)
    except InvalidInput as exc:
        return page(v, "web/aiuse/check.html", context | {"problems": exc.problems, "error": exc}, 422)
    receipt = json.dumps(done["receipt"], indent=2, ensure_ascii=False)
    return page(v, "web/aiuse/check.html", context | {"done": done, "items": done.get("items") or [],
                                                      "receipt": receipt}, 201)
