"""AI licence routes (issue #15): offers, quotes, licences, usage reports, licence royalties, the RSL
licence server (OLP tokens, introspection, CAP-protected resources with pay per crawl), training-data
disclosures and voice and likeness consent — each one call of the application (``obra.ai_licences``,
``obra.ai_disclosures``, ``obra.likeness``).

The licence server's answers are not Obra's error contract but the protocols': OAuth 2.0 JSON errors
(RFC 6749 §5.2) from ``/ai/olp/token`` and ``/ai/olp/introspect``, and the status codes and headers
of the Crawler Authorization Protocol and pay per crawl from ``/ai/licensed/{number}``.
"""

from __future__ import annotations

import os
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, File, Form, Query, Request, Response, UploadFile
from fastapi.responses import JSONResponse

from obra.access import Principal
from obra.aiuse.vocabulary import Use
from obra.api.answers import without_server_paths
from obra.api.auth import caller, get_obra, locale
from obra.api.params import ShortText, StrictJSONRoute
from obra.api.uploads import saved_upload
from obra.app import Obra

ai = APIRouter(prefix="/ai", tags=["ai licences"], route_class=StrictJSONRoute)

Number = Annotated[str, Query(min_length=1, max_length=32)]
Territory = Annotated[str | None, Form(pattern="^[A-Za-z]{2}$")]
PurposeField = Literal["research", "non-commercial", "commercial"]
UserTypeField = Literal["commercial", "non-commercial", "education", "government", "personal"]
MAX_REPORT = 64 << 20
"""The largest usage report accepted in one request, in bytes."""


def public_base(request: Request) -> str:
    """The URL this API is reached at (``OBRA_PUBLIC_URL`` when set, e.g. behind a proxy)."""
    return (os.environ.get("OBRA_PUBLIC_URL") or str(request.base_url)).rstrip("/")


def _answer(done: Any) -> Response:
    return JSONResponse(done.body, status_code=done.status, headers=done.headers)


# --- offers and quotes --------------------------------------------------------------------------------


@ai.get("/offers")
def offers(use: Use = Use.AI_TRAIN_GENERATIVE, territory: Annotated[str | None, Query(pattern="^[A-Za-z]{2}$")] = None,
           purpose: PurposeField | None = None, user_type: UserTypeField | None = None,
           days: Annotated[int, Query(ge=1, le=3660)] = 365, obra: Obra = Depends(get_obra)) -> list[dict]:
    """Every work, recording, catalogue or web location whose terms offer ``use`` under licence. Public."""
    return obra.ai_licences.offers(use, territory=territory, purpose=purpose, user_type=user_type, days=days)


@ai.post("/quotes", status_code=201)
async def quote(manifest: Annotated[UploadFile, File(description="CSV, JSONL or Parquet: number, sha256, url, count")],
                use: Annotated[Use, Form()] = Use.AI_TRAIN_GENERATIVE, territory: Territory = None,
                purpose: Annotated[PurposeField | None, Form()] = None,
                user_type: Annotated[UserTypeField | None, Form()] = None,
                days: Annotated[int, Form(ge=1, le=3660)] = 365, start: Annotated[date | None, Form()] = None,
                show: Annotated[int, Form(ge=0, le=10_000, description="answer the first N items")] = 20,
                principal: Principal = Depends(caller), obra: Obra = Depends(get_obra)) -> dict:
    """Price a manifest item by item against the rightholders' offers (AI developers, CMO, office staff)."""
    question = obra.ai_licences.question(use, territory=territory, purpose=purpose, user_type=user_type, on=start,
                                         days=days)
    async with saved_upload(manifest, "obra-quote-") as path:
        done = obra.ai_licences.quote(principal, path, question, show=show)
    return without_server_paths(done, obra.store.home)


@ai.get("/quotes/{quote_id}/items")
def quote_items(quote_id: ShortText, limit: Annotated[int, Query(ge=1, le=100_000)] = 1000,
                principal: Principal = Depends(caller), obra: Obra = Depends(get_obra)) -> list[dict]:
    """A quote's priced items (its requester, CMO, office staff)."""
    return obra.ai_licences.quote_items(principal, quote_id).slice(0, limit).to_pylist()


@ai.post("/quotes/{quote_id}/accept", status_code=201)
def accept(quote_id: ShortText, principal: Principal = Depends(caller), obra: Obra = Depends(get_obra)) -> dict:
    """Accept your quote: the signed licence, and the licence server's client credentials (secret shown once)."""
    return obra.ai_licences.accept(principal, quote_id)


# --- licences -----------------------------------------------------------------------------------------


@ai.get("/licences")
def licences(principal: Principal = Depends(caller), obra: Obra = Depends(get_obra)) -> list[dict]:
    """The licences you hold (every licence for CMO and office staff)."""
    return obra.ai_licences.licences(principal)


@ai.post("/licences/verify")
def verify(body: dict[str, Any] = Body(..., description="{licence, items?: [...], proof?: {...}}"),
           obra: Obra = Depends(get_obra)) -> dict:
    """Verify a licence against this office's key history (and its items or one item's proof). Public."""
    return obra.ai_licences.verify(body.get("licence"), items=body.get("items"), proof=body.get("proof"))


@ai.post("/licences/expire")
def expire(principal: Principal = Depends(caller), obra: Obra = Depends(get_obra)) -> list[dict]:
    """Record the expiry of every licence whose term has ended (CMO, office staff)."""
    return obra.ai_licences.expire_due(principal)


@ai.get("/licences/income")
def income(licence: Annotated[str | None, Query(max_length=24)] = None,
           status: Literal["pending", "held", "distributed"] | None = None,
           principal: Principal = Depends(caller), obra: Obra = Depends(get_obra)) -> list[dict]:
    """Licence income lines: fees, usage-report lines, paid fetches (your licences', or all for CMO/office)."""
    return obra.ai_licences.income(principal, licence_id=licence, status=status)


@ai.post("/licences/royalties", status_code=201)
def royalties(period: Annotated[str, Body(embed=True, pattern="^[0-9]{4}-[0-9]{2}$")],
              currency: Annotated[str, Body(embed=True, pattern="^[A-Za-z]{3}$")],
              principal: Principal = Depends(caller), obra: Obra = Depends(get_obra)) -> dict:
    """Split a period's licence income over each work's rightholders, statements included (CMO)."""
    return without_server_paths(obra.ai_licences.royalties(principal, period, currency), obra.store.home)


@ai.get("/licences/{licence_id}")
def licence(licence_id: ShortText, principal: Principal = Depends(caller), obra: Obra = Depends(get_obra)) -> dict:
    """The signed licence and its status (its holder, CMO, office staff)."""
    return obra.ai_licences.licence(principal, licence_id)


@ai.get("/licences/{licence_id}/document", response_class=Response,
            responses={200: {"content": {"text/html": {}, "application/pdf": {}}}})
def licence_document(licence_id: ShortText, fmt: Annotated[Literal["html", "pdf"], Query(alias="format")] = "html",
                     principal: Principal = Depends(caller), obra: Obra = Depends(get_obra),
                     language: str = Depends(locale)) -> Response:
    """The licence as a document for people (HTML or PDF, language from ``Accept-Language``)."""
    data = obra.ai_licences.document(principal, licence_id, fmt=fmt, locale=language)
    return Response(data, media_type="application/pdf" if fmt == "pdf" else "text/html; charset=utf-8")


@ai.get("/licences/{licence_id}/items")
def licence_items(licence_id: ShortText, principal: Principal = Depends(caller),
                  obra: Obra = Depends(get_obra)) -> list[dict]:
    """The licence's items in Merkle leaf order (what verification checks against the signed root)."""
    return obra.ai_licences.items(principal, licence_id)


@ai.get("/licences/{licence_id}/proof")
def licence_proof(licence_id: ShortText, position: Annotated[int | None, Query(ge=0)] = None,
                  number: Annotated[str | None, Query(max_length=32)] = None,
                  principal: Principal = Depends(caller), obra: Obra = Depends(get_obra)) -> dict:
    """One item with its inclusion proof under the licence's Merkle root."""
    return obra.ai_licences.proof(principal, licence_id, position=position, number=number)


@ai.post("/licences/{licence_id}/revoke")
def revoke(licence_id: ShortText, reason: Annotated[str, Body(embed=True, max_length=1000)],
           principal: Principal = Depends(caller), obra: Obra = Depends(get_obra)) -> dict:
    """Revoke a licence (CMO, office staff): its items are no longer licensed, its tokens stop working."""
    return obra.ai_licences.revoke(principal, licence_id, reason)


@ai.post("/licences/{licence_id}/usage", status_code=201)
async def usage(licence_id: ShortText,
                report: Annotated[UploadFile, File(description="CSV: number|url|sha256, uses, revenue, output")],
                period: Annotated[str | None, Form(pattern="^[0-9]{4}-[0-9]{2}$")] = None,
                currency: Annotated[str | None, Form(pattern="^[A-Za-z]{3}$")] = None,
                principal: Principal = Depends(caller), obra: Obra = Depends(get_obra)) -> dict:
    """A usage report under your licence: lines priced, lines outside the licence held (never paid)."""
    data = await report.read(MAX_REPORT + 1)
    if len(data) > MAX_REPORT:
        from obra.errors import PayloadTooLarge

        raise PayloadTooLarge(f"a usage report is at most {MAX_REPORT} bytes")
    return obra.ai_licences.report_usage(principal, licence_id, data, source=report.filename or "report.csv",
                                         period=period, currency=currency)


# --- the RSL licence server ------------------------------------------------------------------------


@ai.get("/rsl/party/{party}.xml", response_class=Response,
        responses={200: {"content": {"application/rsl+xml": {}}}})
def rsl_catalogue(party: int, request: Request, obra: Obra = Depends(get_obra)) -> Response:
    """A party's catalogue terms as one RSL 1.0 document, one ``<content>`` per work, naming this licence
    server. Public."""
    text = obra.ai_licences.server(public_base(request)).catalogue_document(party)
    return Response(text, media_type="application/rsl+xml")


@ai.get("/rsl/{number}.xml", response_class=Response,
            responses={200: {"content": {"application/rsl+xml": {}}}})
def rsl_document(number: str, request: Request, obra: Obra = Depends(get_obra)) -> Response:
    """The work's terms as an RSL 1.0 licence document naming this licence server. Public."""
    text = obra.ai_licences.server(public_base(request)).rsl_document(number)
    return Response(text, media_type="application/rsl+xml")


@ai.post("/olp/token")
async def olp_token(request: Request, obra: Obra = Depends(get_obra)) -> Response:
    """OLP token endpoint: OAuth 2.0 client credentials (HTTP Basic: licence id and client secret),
    form fields ``grant_type`` (client_credentials or rsl), ``resource``, ``license``."""
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    return _answer(obra.ai_licences.server(public_base(request)).token(request.headers.get("authorization"), form))


@ai.post("/olp/introspect")
async def olp_introspect(request: Request, obra: Obra = Depends(get_obra)) -> Response:
    """RFC 7662 token introspection (the licence's client, or a CMO/office principal's bearer token)."""
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    authorization = request.headers.get("authorization")
    principal = None
    if authorization and authorization[:7].lower() == "bearer ":
        principal = obra.authenticate(authorization[7:].strip())
    return _answer(obra.ai_licences.server(public_base(request)).introspect(authorization, form, principal))


@ai.get("/licensed/{number}")
def licensed(number: str, request: Request, obra: Obra = Depends(get_obra)) -> Response:
    """A work's protected resource: ``Authorization: License <token>`` (CAP), 401/402/403 answers with
    ``WWW-Authenticate: License`` and ``Link rel="license"``, HTTP 402 pay per crawl with
    ``crawler-price`` / ``crawler-exact-price`` / ``crawler-max-price`` / ``crawler-charged``."""
    done = obra.ai_licences.server(public_base(request)).authorize(
        number, request.headers.get("authorization"), dict(request.headers))
    return _answer(done)


# --- training-data disclosures ---------------------------------------------------------------------


@ai.post("/disclosures", status_code=201)
async def disclosure(file: Annotated[UploadFile, File(description="the public summary of training content (JSON)")],
                     use: Annotated[Use, Form()] = Use.AI_TRAIN_GENERATIVE,
                     principal: Principal = Depends(caller), obra: Obra = Depends(get_obra)) -> dict:
    """File an AI provider's training-content summary (EU AI Office template) and cross-check it."""
    data = await file.read(MAX_REPORT + 1)
    if len(data) > MAX_REPORT:
        from obra.errors import PayloadTooLarge

        raise PayloadTooLarge(f"a disclosure is at most {MAX_REPORT} bytes")
    return obra.ai_licences.disclose(principal, data, source=file.filename or "disclosure.json", use=use)


# --- voice and likeness consent ------------------------------------------------------------------------

likeness = APIRouter(prefix="/likeness", tags=["voice and likeness"], route_class=StrictJSONRoute)
LikenessUseField = Literal["synthetic-replica", "training", "generation", "dubbing", "advertising"]
AttributeField = Literal["voice", "face", "name", "signature-style", "body", "performance"]


@likeness.post("/consents", status_code=201)
def likeness_consent(body: dict[str, Any] = Body(..., description="the consent record (with consent_id: a new "
                                                                  "version of it)"),
                     principal: Principal = Depends(caller), obra: Obra = Depends(get_obra)) -> dict:
    """Record a performer's voice and likeness consent, within the statutory limits (signed, journaled)."""
    return obra.likeness.set_consent(principal, body)


@likeness.get("/check/{performer}")
def likeness_check(performer: int, use: LikenessUseField, attribute: AttributeField | None = None,
                   on: date | None = None, territory: Annotated[str | None, Query(pattern="^[A-Za-z]{2}$")] = None,
                   commercial: bool | None = None, obra: Obra = Depends(get_obra)) -> dict:
    """Is this use of a performer's voice or likeness consented? The decision with its evidence. Public."""
    return obra.likeness.check(performer, use, attribute=attribute, on=on, territory=territory, commercial=commercial)


@likeness.post("/consents/{consent_id}/revoke")
def likeness_revoke(consent_id: ShortText, reason: Annotated[str, Body(embed=True, max_length=1000)],
                    principal: Principal = Depends(caller), obra: Obra = Depends(get_obra)) -> dict:
    """Revoke a consent from now on."""
    return obra.likeness.revoke(principal, consent_id, reason)


@likeness.post("/takedown/{performer}", status_code=201)
def likeness_takedown(performer: int, use: Annotated[LikenessUseField, Body(embed=True)],
                      url: Annotated[str, Body(embed=True, max_length=2048)],
                      jurisdiction: Annotated[str, Body(embed=True, max_length=8)],
                      attribute: Annotated[AttributeField | None, Body(embed=True)] = None,
                      description: Annotated[str | None, Body(embed=True, max_length=2000)] = None,
                      principal: Principal = Depends(caller), obra: Obra = Depends(get_obra)) -> dict:
    """A signed takedown notice: the consent or its absence, the offending use, the legal basis."""
    return obra.likeness.takedown(principal, performer, use, url, jurisdiction, attribute=attribute,
                                  description=description)


router = APIRouter()
"""What the API includes: the ``/ai`` licence routes and the ``/likeness`` consent routes."""
router.include_router(ai)
router.include_router(likeness)
