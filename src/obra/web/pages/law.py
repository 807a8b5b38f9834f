"""The law comparison (public): one topic across jurisdictions, each fact with its citation, source,
dates and confidence; and one jurisdiction's whole profile."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from obra.web.cache import kept
from obra.web.portal import Visit, page, visit

router = APIRouter()
NAV = "web/law/nav.html"
DEFAULT = ("EU", "DE", "FR", "ES", "GB", "US", "BR", "UY", "JP")


@router.get("/law")
async def compare(v: Visit = Depends(visit), topic: str = "tdm", j: list[str] | None = Query(None)):
    return await kept(v, lambda: _compare(v, topic, j))


def _compare(v: Visit, topic: str, chosen: list[str] | None):
    law = v.obra.law
    topic = topic if topic in law.topics else next(iter(law.topics))
    codes = [c.strip().upper() for c in (chosen or []) if c.strip().upper() in law.jurisdictions] or \
        [c for c in DEFAULT if c in law.jurisdictions]
    table = v.obra.law_compare(topic, codes)
    by_key: dict[str, list[dict]] = {}
    for row in table["rows"]:
        by_key.setdefault(row["key"], []).append(row)
    names = {c: j.name for c, j in law.jurisdictions.items()}
    return page(v, "web/law/compare.html", {"topics": list(law.topics), "topic": topic, "codes": codes,
                                            "by_key": by_key, "keys": table["keys"], "names": names,
                                            "version": law.version, "checked": law.checked.isoformat()})


@router.get("/law/{code}")
async def jurisdiction(code: str, v: Visit = Depends(visit)):
    return await kept(v, lambda: page(v, "web/law/jurisdiction.html", {"profile": v.obra.law_show(code.upper()),
                                                                        "code": code.upper()}))
