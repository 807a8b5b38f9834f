"""The transparency log's page: its size, signed checkpoint, verifier keys and newest entries (public)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from obra.web.portal import Visit, page, visit

router = APIRouter()
NAV = "web/transparency/nav.html"
SHOWN = 25


@router.get("/log")
def log(v: Visit = Depends(visit)):
    head = v.obra.log.head()
    size = head["size"]
    entries = v.obra.log.entries(max(0, size - SHOWN), size)[::-1]
    return page(v, "web/transparency/log.html", {"head": head, "entries": entries, "checkpoint": v.obra.log.checkpoint(),
                                                 "vkeys": v.obra.log.vkeys()})
