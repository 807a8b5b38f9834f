"""Transparency routes: the signed log, proofs, keys, certificates and their verification.

Everything here is public (a third party needs no account to check a registration), except
importing another office's log (``federation``) and rotating the office's key (``manage_keys``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, File, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, PlainTextResponse, Response

from obra.access import Principal
from obra.api.auth import caller, get_obra, get_store, locale
from obra.api.params import INT8_MAX, LogIndex, LogSize, RowId, ShortText, StrictJSONRoute
from obra.api.uploads import saved_upload
from obra.app import Obra
from obra.errors import InvalidInput, NotFound, Problem
from obra.registry import federation
from obra.registry.certificates import certificate_bytes, render_html, render_pdf
from obra.transparency.checkpoint import checkpoint_vkeys, origin_for, signed_checkpoint
from obra.transparency.signing import KeyHistory, KeyHistoryError
from obra.transparency.translog import TransparencyLog
from obra.store import Store

router = APIRouter(tags=["transparency"], route_class=StrictJSONRoute)
MAX_ENTRIES = 1000
"""The most log entries one request returns."""


def _log(store: Store, office: str | None) -> TransparencyLog:
    return TransparencyLog(store, office)


@router.get("/log/sth")
def signed_tree_head(office: ShortText | None = None, size: LogIndex | None = None,
                     store: Store = Depends(get_store)) -> dict:
    """The office's signed tree head (for an imported office: the newest one imported)."""
    log = _log(store, office)
    if log.local or size is not None:
        return log.signed_tree_head(size)
    head = log.latest_tree_head()
    if head is None:
        raise NotFound(f"no log of office {log.office} is held here")
    return head


@router.get("/log/checkpoint", response_class=PlainTextResponse)
def checkpoint(size: LogIndex | None = None, store: Store = Depends(get_store)) -> PlainTextResponse:
    """The office's C2SP checkpoint (a signed note) at ``size`` (default: now), for witnesses."""
    return PlainTextResponse(signed_checkpoint(TransparencyLog(store), size),
                             media_type="text/plain; charset=utf-8")


@router.get("/log/checkpoint/vkeys")
def checkpoint_verifier_keys(store: Store = Depends(get_store)) -> dict:
    """Verifier keys of the checkpoints: every key in the history, oldest first; ``active`` signs now."""
    log = TransparencyLog(store)
    vkeys = checkpoint_vkeys(log)
    return {"origin": origin_for(log.office), "active": vkeys[-1], "vkeys": vkeys}


@router.get("/log/entries")
def entries(start: LogIndex = 0, end: LogIndex | None = None, office: ShortText | None = None,
            store: Store = Depends(get_store)) -> list[dict]:
    """Log entries ``start <= index < end`` (at most 1000 per request)."""
    end = min(end if end is not None else INT8_MAX, start + MAX_ENTRIES, INT8_MAX)
    return [e.to_dict() for e in _log(store, office).entries(start, end)]


@router.get("/log/proof/inclusion")
def inclusion_proof(index: Annotated[LogIndex, Query()], size: LogSize | None = None,
                    office: ShortText | None = None, store: Store = Depends(get_store)) -> dict:
    return _log(store, office).inclusion_proof(index, size)


@router.get("/log/proof/consistency")
def consistency_proof(old: Annotated[LogIndex, Query()], new: LogIndex | None = None,
                      office: ShortText | None = None, store: Store = Depends(get_store)) -> dict:
    return _log(store, office).consistency_proof(old, new)


@router.get("/log/numbers/{number}")
def prove_number(number: ShortText, store: Store = Depends(get_store)) -> dict:
    """Every log entry of a registration number with its inclusion proof (own or imported office)."""
    return federation.verify_number(store, number)


@router.get("/keys")
def keys(office: ShortText | None = None, store: Store = Depends(get_store)) -> dict:
    """The published key history third parties verify certificates with."""
    return _log(store, office).key_history().to_dict()


@router.get("/registrations/{number}/certificate")
def certificate(number: ShortText, version: RowId | None = None,
                format: str = Query("json", pattern="^(json|html|pdf)$"),
                lang: str = Depends(locale), obra: Obra = Depends(get_obra)) -> Response:
    """The signed certificate of a registration, or its HTML/PDF rendering in the ``Accept-Language``."""
    cert = obra.log.certificate(number, version)
    if format == "html":
        return HTMLResponse(render_html(cert, lang), headers={"Content-Language": lang})
    if format == "pdf":
        return Response(render_pdf(cert, lang), media_type="application/pdf",
                        headers={"Content-Disposition": f'inline; filename="{number}.pdf"'})
    return Response(certificate_bytes(cert), media_type="application/json",
                    headers={"Content-Disposition": f'attachment; filename="{number}.json"'})


@router.post("/verify")
async def verify(request: Request, store: Store = Depends(get_store)) -> dict:
    """Verify a certificate sent as the request body (the exact file bytes).

    Uses the key history held here for the certificate's office (own or imported) and
    checks the certificate against the log held here. A failure is HTTP 400 with the reason.
    """
    return federation.verify_certificate_here(store, await request.body()).to_dict()


@router.get("/federation/export")
def federation_export(since: LogIndex = 0, store: Store = Depends(get_store)) -> dict:
    return federation.export_log(TransparencyLog(store), since)


@router.post("/federation/import", status_code=201)
def federation_import(body: dict[str, Any] = Body(...), principal: Principal = Depends(caller),
                      obra: Obra = Depends(get_obra)) -> dict:
    return obra.log.import_log(principal, body).to_dict()


@router.post("/federation/import/upload", status_code=201)
async def federation_import_upload(
        file: UploadFile = File(..., description="a log export from another office (`obra federation export`)"),
        keys: UploadFile | None = File(None, description="that office's key history, obtained out of band: "
                                                        "pins its keys (recommended for the first import)"),
        principal: Principal = Depends(caller), obra: Obra = Depends(get_obra)) -> dict:
    """Verify another office's signed log and keep it, as ``obra federation import FILE --keys KEYS`` does."""
    trusted = None
    if keys is not None:
        async with saved_upload(keys, "obra-keys-") as path:
            try:
                trusted = KeyHistory.parse(path.read_bytes())
            except KeyHistoryError as exc:
                raise InvalidInput(Problem(str(exc), field="keys", source=keys.filename)) from None
    async with saved_upload(file, "obra-federation-") as path:  # refused with 413 beyond the upload limit
        export = path.read_bytes()
    return obra.log.import_log(principal, export, trusted).to_dict()


@router.post("/keys/rotate", status_code=201)
def rotate_key(principal: Principal = Depends(caller), obra: Obra = Depends(get_obra)) -> dict:
    """Retire the office's signing key and start a new one (office staff); old certificates stay valid."""
    return obra.log.rotate_key(principal)


@router.get("/federation/offices")
def federation_offices(store: Store = Depends(get_store)) -> list[dict]:
    return federation.imported_offices(store)
