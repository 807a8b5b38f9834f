"""Registry pages: search the public register, read a record, register a work with its file and its
AI disclosure (codes computed, near-duplicates shown), download a certificate, verify one by upload."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, File, UploadFile

from obra.api.uploads import saved_upload
from obra.canonical import canonical
from obra.errors import InvalidInput, NotFound, ObraError, Problem
from obra.ids import ascii_digits
from obra.render import certificate_pdf
from obra.web.cache import kept
from obra.web.portal import PREFIX, Visit, download, page, redirect, visit

router = APIRouter()
NAV = "web/registry/nav.html"
MODES = ("human", "ai_assisted", "ai_generated")
KINDS = ("musical", "literary", "audiovisual", "visual")
ENTITIES = ("work", "recording")
MAX_TEXT = 2000


@router.get("/search")
async def search(v: Visit = Depends(visit), q: str | None = None, entity: str | None = None, mode: str | None = None):
    """Public: by title (accents and case ignored), ISWC, ISRC or party."""
    return await kept(v, lambda: _search_page(v, q, entity, mode))


def _search_page(v: Visit, q: str | None, entity: str | None, mode: str | None):
    q = (q or "").strip()[:200]
    entity = entity if entity in ENTITIES else None
    mode = mode if mode in MODES else None
    results = None
    if q or mode:
        key = q.replace("-", "").replace(".", "").upper()
        if key.startswith("T") and len(key) == 11 and ascii_digits(key[1:]):
            results = v.obra.registry.search(None, iswc=q, entity=entity, creation_mode=mode, limit=50)
        elif len(key) == 12 and key[:2].isalpha() and ascii_digits(key[5:]):
            results = v.obra.registry.search(None, isrc=q, entity=entity, creation_mode=mode, limit=50)
        else:
            results = v.obra.registry.search(q or None, entity=entity, creation_mode=mode, limit=50)
    return page(v, "web/registry/search.html", {"q": q, "entity": entity, "mode": mode, "results": results,
                                                "modes": MODES})


@router.get("/records/{number}")
async def record(number: str, v: Visit = Depends(visit), version: int | None = None):
    """Public: a registration as the register holds it, its history, AI-use terms and certificate."""
    return await kept(v, lambda: _record_page(v, number, version))


def _record_page(v: Visit, number: str, version: int | None):
    shown = v.obra.registry.show(number, version).to_dict()
    history = [r.to_dict() for r in v.obra.registry.history(number)]
    terms = v.obra.ai_terms.current(shown["entity"], number)
    return page(v, "web/registry/record.html", {"r": shown, "body": shown["record"].get(shown["entity"], {}),
                                                "history": history, "terms": terms})


@router.get("/records/{number}/certificate.{fmt}")
def certificate(number: str, fmt: str, v: Visit = Depends(visit), version: int | None = None):
    """Public: the signed certificate (the exact JSON file to verify), or its PDF in the visitor's language."""
    if fmt not in ("json", "pdf"):
        raise NotFound(f"no certificate format '{fmt}'", hint="json (to verify) or pdf (to read and print)")
    cert = v.obra.log.certificate(number, version)
    if fmt == "pdf":
        return download(v, certificate_pdf(cert, v.locale), "application/pdf", f"{number}.pdf")
    return download(v, canonical(cert), "application/json", f"{number}.json")


def _form_record(form) -> tuple[str, dict, list[Problem]]:
    """The registration form as a record (the same fields as ``obra register``), with every problem."""
    def text(name: str) -> str:
        return str(form.get(name) or "").strip()[:MAX_TEXT]

    problems: list[Problem] = []
    entity = text("entity") or "work"
    if entity not in ENTITIES:
        problems.append(Problem("choose work or recording", field="entity"))
    mode = text("creation_mode") or "human"
    if mode not in MODES:
        problems.append(Problem("choose how the work was made", field="creation_mode"))
    title = text("title")
    if not title:
        problems.append(Problem("a registration needs a title", field="title"))
    data: dict = {"title": title, "creation_mode": mode}
    if entity == "work":
        kind = text("kind") or "musical"
        data |= {"kind": kind if kind in KINDS else "musical", "language": text("language") or None}
        if mode != "human":
            system = text("ai_system")
            if not system:
                problems.append(Problem("name the AI system used (for example: Suno v4.5)", field="ai_system"))
            if not text("ai_contribution"):
                problems.append(Problem("say what the AI produced", field="ai_contribution"))
            name, _, version_ = system.rpartition(" ")
            data["disclosure"] = {"systems": [{"name": name, "version": version_} if name else {"name": system}],
                                  "ai_contribution": text("ai_contribution"),
                                  "human_contribution": text("human_contribution"),
                                  "excluded_material": text("excluded_material")}
    else:
        data["isrc"] = text("isrc") or None
    return entity, data, problems


@router.get("/register")
def register_form(v: Visit = Depends(visit)):
    v.principal_or_sign_in()
    return page(v, "web/registry/register.html", {"form": {}, "problems": [], "error": None, "modes": MODES,
                                                  "kinds": KINDS, "limit": v.request.app.state.limits.upload})


@router.post("/register")
async def register(v: Visit = Depends(visit),
                   content: Annotated[UploadFile | None, File(description="the work's file")] = None):
    """Register with the file: the codes go into the record; near-duplicates come back as warnings."""
    principal = v.principal_or_sign_in()
    form = await v.form()
    entity, data, problems = _form_record(form)
    context = {"form": {k: str(form.get(k) or "") for k in form.keys() if k != "csrf_token"}, "modes": MODES,
               "kinds": KINDS, "limit": v.request.app.state.limits.upload}
    try:
        if problems:
            raise InvalidInput(problems, hint="fill in the fields named above and send the form again")
        if content is None or not content.filename:
            record = v.obra.registry.register(principal, entity, data)
        else:
            async with saved_upload(content, "obra-portal-") as path:
                record = v.obra.identify.register_with_file(principal, entity, data, Path(path))
    except InvalidInput as exc:
        return page(v, "web/registry/register.html", context | {"problems": exc.problems, "error": exc}, 422)
    done = record.to_dict()
    return page(v, "web/registry/registered.html", {"r": done, "warnings": done.get("warnings") or []}, 201)


@router.get("/verify")
def verify_form(v: Visit = Depends(visit)):
    return page(v, "web/registry/verify.html", {"result": None, "failure": None,
                                                "limit": v.request.app.state.limits.upload})


@router.post("/verify")
async def verify(v: Visit = Depends(visit),
                 certificate: Annotated[UploadFile | None, File(description="a certificate .json")] = None):
    """Public: check a certificate file against the office's keys and log, as a third party would."""
    await v.form()
    context = {"limit": v.request.app.state.limits.upload, "result": None, "failure": None}
    if certificate is None or not certificate.filename:
        raise InvalidInput(Problem("choose the certificate file (.json) to verify", field="certificate"))
    async with saved_upload(certificate, "obra-portal-verify-") as path:
        data = Path(path).read_bytes()
    try:
        context["result"] = v.obra.log.verify_certificate(data).to_dict()
        status = 200
    except ObraError as exc:  # a certificate that does not verify is an answer, not a broken page
        context["failure"], status = exc, 400
    return page(v, "web/registry/verify.html", context | {"filename": certificate.filename}, status)


@router.get("/records")
def records_root(v: Visit = Depends(visit)):
    return redirect(v, PREFIX + "/search")
