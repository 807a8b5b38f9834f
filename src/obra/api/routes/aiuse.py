"""AI-use routes: terms stated, shown and decided (``obra.ai_terms``), and their signal files
(``obra.protect``) — each one call of the application."""

from __future__ import annotations

import base64
import json
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, File, Form, Query, Request, Response, UploadFile

from obra.access import Principal
from obra.aiuse.terms import Purpose, UserType
from obra.aiuse.vocabulary import Use
from obra.api.answers import without_server_paths
from obra.api.auth import caller, get_obra
from obra.api.params import FormText, RowId, ShortText, StrictJSONRoute, parse_strict_json
from obra.api.uploads import saved_upload
from obra.app import Obra
from obra.errors import InvalidInput, NotFound, Problem

router = APIRouter(prefix="/ai", tags=["ai use"], route_class=StrictJSONRoute)

SubjectKind = Literal["work", "recording", "party", "location"]
Subject = Annotated[str, Query(min_length=1, max_length=180)]


@router.put("/terms", status_code=201)
def set_terms(body: dict[str, Any] = Body(..., description="{subject_kind, subject, uses: [...]} (docs/ai-terms.md)"),
              party: RowId | None = Query(None, description="for a location: the party declaring it (default: yours)"),
              principal: Principal = Depends(caller), obra: Obra = Depends(get_obra)) -> dict:
    """State AI-use terms for a subject: a new version, recorded as a journal event."""
    return obra.ai_terms.set_terms(principal, body, party=party)


@router.get("/terms")
def show_terms(kind: SubjectKind, subject: Subject, history: bool = False,
               obra: Obra = Depends(get_obra)) -> dict | list[dict]:
    """The terms in force for a subject, or every version with ``history=true``. Public."""
    if history:
        return obra.ai_terms.history(kind, subject)
    current = obra.ai_terms.current(kind, subject)
    if current is None:
        raise NotFound(f"no AI-use terms were stated for {kind} {subject}")
    return current


@router.get("/terms/decide/{number}")
def decide(number: ShortText, use: Use, territory: Annotated[str, Query(pattern="^[A-Za-z]{2}$")] | None = None,
           purpose: Purpose | None = None, user_type: UserType | None = None, on: date | None = None,
           obra: Obra = Depends(get_obra)) -> dict:
    """What a registration's terms (else its parties' catalogue terms) say about one use. Public."""
    return obra.ai_terms.decide(number, use, territory=territory, purpose=purpose, user_type=user_type, on=on)


MAX_TERMS_FIELD = 1 << 20
"""The longest ``terms`` form field (a terms JSON document), in characters."""
Url = Annotated[str | None, Form(max_length=2048)]


@router.post("/protect", response_class=Response,
             responses={200: {"content": {"application/zip": {}, "application/json": {}},
                              "description": "the files as a zip archive, or as JSON with Accept: application/json"}})
async def protect(request: Request,
                  kind: Annotated[SubjectKind | None, Form(description="whose stored terms: work, recording, party "
                                                                       "or location")] = None,
                  subject: Annotated[FormText | None, Form(description="registration number, party id or "
                                                                       "location")] = None,
                  terms: Annotated[str | None, Form(max_length=MAX_TERMS_FIELD,
                                                    description="a terms JSON document, instead of a subject")] = None,
                  site: Url = None, licence_url: Url = None, policy_url: Url = None,
                  contact: Annotated[FormText | None, Form()] = None,
                  media: Annotated[list[UploadFile] | None, File(description="media files to sign with the terms "
                                                                             "(needs the server's signing "
                                                                             "credentials)")] = None,
                  obra: Obra = Depends(get_obra)) -> Response:
    """Every signal file of a subject's stored terms (or of a terms document): robots.txt,
    tdmrep.json and its policy, the RSL licence, nginx/Apache/Caddy headers, an HTML head snippet, a
    README, signed media. A zip archive, or JSON (``Accept: application/json``). Public."""
    document = _terms_field(terms) if terms is not None else None
    files = []
    for upload in media or ():
        async with saved_upload(upload, "obra-protect-") as path:
            files.append((path.name, path.read_bytes()))
    done = obra.protect.bundle(kind, subject, terms=document, site=site, licence_url=licence_url,
                               policy_url=policy_url, contact=contact, media=files)
    if "application/json" in request.headers.get("accept", ""):
        text = {name: content for name, content in done["files"].items() if isinstance(content, str)}
        signed = {name: base64.b64encode(content).decode("ascii") for name, content in done["files"].items()
                  if isinstance(content, bytes)}
        return Response(json.dumps(done["summary"] | {"files": text, "signed_media_base64": signed}),
                        media_type="application/json")
    return Response(done["zip"], media_type="application/zip",
                    headers={"Content-Disposition": 'attachment; filename="ai-signals.zip"'})


def _terms_field(text: str) -> dict:
    """The ``terms`` form field: a JSON object read as strictly as a JSON body, refused by name."""
    try:
        data = parse_strict_json(text.encode("utf-8", "surrogatepass"))
    except InvalidInput as exc:
        raise InvalidInput([Problem(p.message.replace("the body", "the terms"),
                                    "terms" if p.field in (None, "body") else f"terms.{p.field}")
                            for p in exc.problems], hint=exc.hint) from None
    if not isinstance(data, dict):
        raise InvalidInput(Problem("the terms must be a JSON object", field="terms"))
    return data


@router.post("/check", status_code=201)
async def check(manifest: Annotated[UploadFile, File(description="CSV, JSONL or Parquet: url, sha256, iscc, headers, "
                                                                 "crawled_at per item")],
                jurisdiction: Annotated[ShortText, Form(description="where the training happens, e.g. DE, GB, US")],
                purpose: Annotated[Literal["research", "non-commercial", "commercial"], Form()],
                sites: Annotated[UploadFile | None, File(description="JSONL site captures per origin")] = None,
                commercial: Annotated[bool | None, Form()] = None,
                user_agent: Annotated[ShortText, Form()] = "*",
                use: Annotated[Use, Form()] = Use.AI_TRAIN_GENERATIVE,
                engine: Annotated[Literal["duckdb", "spark"], Form()] = "duckdb",
                radius: Annotated[int, Form(ge=0, le=16)] = 8,
                items: Annotated[int, Form(ge=0, le=10_000, description="answer the first N items with every "
                                                                         "reason")] = 100,
                formats: Annotated[ShortText | None, Form(description="per-item result files, comma-separated: "
                                                          "parquet, csv, json or all (default: parquet, plus csv or "
                                                          "json for a CSV or JSON Lines manifest)")] = None,
                principal: Principal = Depends(caller), obra: Obra = Depends(get_obra)) -> dict:
    """May I train on this? Every item of the manifest decided with its reasons; the results are kept under
    the office's home, the signed receipt and the first ``items`` items are in the answer."""
    async with saved_upload(manifest, "obra-check-") as manifest_path:
        if sites is None:
            done = obra.ai_check.check(principal, manifest_path, None, jurisdiction=jurisdiction, purpose=purpose,
                                       commercial=commercial, user_agent=user_agent, use=use, engine=engine,
                                       radius=radius, inline=items, formats=formats)
        else:
            async with saved_upload(sites, "obra-check-sites-") as sites_path:
                done = obra.ai_check.check(principal, manifest_path, sites_path, jurisdiction=jurisdiction,
                                           purpose=purpose, commercial=commercial, user_agent=user_agent, use=use,
                                           engine=engine, radius=radius, inline=items, formats=formats)
    return without_server_paths(done, obra.store.home)


@router.post("/check/receipt/verify")
def verify_receipt(body: dict[str, Any] = Body(..., description="a check's receipt.json"),
                   obra: Obra = Depends(get_obra)) -> dict:
    """Verify a training-check receipt against this office's key history. Public."""
    return obra.ai_check.verify(body)


@router.post("/signals")
async def signals(url: Annotated[str, Form(max_length=2048)],
                  header: Annotated[list[FormText] | None, Form(description="response headers, 'Name: value'")] = None,
                  robots: Annotated[UploadFile | None, File(description="the site's robots.txt")] = None,
                  robots_status: Annotated[int | None, Form(ge=100, le=599)] = None,
                  tdmrep: Annotated[UploadFile | None, File(description="the site's tdmrep.json")] = None,
                  rsl: Annotated[list[UploadFile] | None, File(description="RSL licence documents")] = None,
                  html: Annotated[UploadFile | None, File(description="the page's HTML")] = None,
                  media: Annotated[UploadFile | None, File(description="the file itself")] = None,
                  user_agent: Annotated[ShortText, Form()] = "*",
                  user_type: Annotated[Literal["commercial", "non-commercial", "education", "government",
                                               "personal"] | None, Form()] = None,
                  country: Annotated[str | None, Form(pattern="^[A-Za-z]{2}$")] = None,
                  obra: Obra = Depends(get_obra)) -> dict:
    """What every AI-use signal captured for a URL says, each standard by its own rules. Public."""
    from obra.aiuse.inspect import parse_header_lines

    async def body(upload: UploadFile | None) -> bytes | None:
        if upload is None:
            return None
        async with saved_upload(upload, "obra-signals-") as path:
            return path.read_bytes()

    def text(data: bytes | None) -> str | None:
        return data.decode("utf-8", errors="replace") if data is not None else None

    documents = [await body(u) for u in rsl or ()]
    media_bytes = await body(media)
    return obra.ai_inspect(url, headers=parse_header_lines(header or []), robots_txt=text(await body(robots)),
                           robots_status=robots_status, tdmrep_json=text(await body(tdmrep)),
                           rsl_documents=[d for d in documents if d is not None], html=text(await body(html)),
                           media=media_bytes, media_type=media.content_type if media is not None else None,
                           user_agent=user_agent, user_type=user_type, country=country)
