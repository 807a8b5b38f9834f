"""Review (office staff): recent registrations, newest first, each with its near-duplicate warnings (the
registration it resembles, which ISCC unit, how many bits apart), and a form to mark them reviewed with a
note (a ``registry.review`` journal event). Access is the service's (``review``): others get the 403 page."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Depends

from obra.errors import InvalidInput
from obra.web.portal import PREFIX, Visit, page, redirect, visit

router = APIRouter()
NAV = "web/review/nav.html"
ENTITIES = ("work", "recording")
MODES = ("human", "ai_assisted", "ai_generated")
PAGE = 20


def _queue(v: Visit, entity: str | None, mode: str | None, offset: int, **extra):
    principal = v.principal_or_sign_in()
    entity = entity if entity in ENTITIES else None
    mode = mode if mode in MODES else None
    offset = max(0, offset)
    queue = v.obra.review.list(principal, entity=entity, mode=mode, limit=PAGE, offset=offset)
    keep = {k: val for k, val in (("entity", entity), ("mode", mode)) if val}
    older = (PREFIX + "/review?" + urlencode(keep | {"offset": queue["next_offset"]})
             if queue["next_offset"] is not None else None)
    newer = PREFIX + "/review?" + urlencode(keep | {"offset": max(0, offset - PAGE)}) if offset else None
    return {"queue": queue, "entity": entity, "mode": mode, "modes": MODES, "entities": ENTITIES,
            "older": older, "newer": newer, "problems": [], "error": None, "failed": None, "reviewed": None, **extra}


@router.get("/review")
def review(v: Visit = Depends(visit), entity: str | None = None, mode: str | None = None, offset: int = 0,
           reviewed: str | None = None):
    """The queue; ``reviewed`` names the registration just marked (shown as a notice)."""
    return page(v, "web/review/queue.html", _queue(v, entity, mode, offset, reviewed=(reviewed or "")[:32] or None))


@router.post("/review/{number}")
async def mark(number: str, v: Visit = Depends(visit)):
    """Mark the registration's warnings (or the one chosen) reviewed; back to the queue with a notice."""
    principal = v.principal_or_sign_in()
    form = await v.form()
    note = str(form.get("note") or "")[:4000]
    warning = str(form.get("warning") or "").strip() or None
    try:
        v.obra.review.mark(principal, number, note, warning)
    except InvalidInput as exc:
        return page(v, "web/review/queue.html",
                    _queue(v, None, None, 0, problems=exc.problems, error=exc, failed=number), 422)
    return redirect(v, PREFIX + "/review?" + urlencode({"reviewed": number}))
