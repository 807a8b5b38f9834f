"""Voice and likeness: a performer records their consent (what of them, for which uses, permitted, on terms
or prohibited; signed, versioned, within the statutory limits), and anyone checks a use against it."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends

from obra.errors import InvalidInput, Problem
from obra.ids import ascii_digits
from obra.web.portal import Visit, page, visit

router = APIRouter()
NAV = "web/likeness/nav.html"
ATTRIBUTES = ("voice", "face", "name", "signature-style", "body", "performance")
USES = ("synthetic-replica", "training", "generation", "dubbing", "advertising")
DECISIONS = ("permitted", "terms", "prohibited")


def _context(v: Visit, **extra) -> dict:
    return {"attributes": ATTRIBUTES, "uses": USES, "decisions": DECISIONS, "form": {}, "problems": [],
            "error": None, "done": None, "checked": None, "selected": [], "today": date.today().isoformat(), **extra}


@router.get("/likeness")
def likeness(v: Visit = Depends(visit), performer: str | None = None, use: str | None = None):
    """The consent form (signed in) and the public check of a use."""
    checked = None
    if performer and use in USES:
        if not ascii_digits(performer.strip()):
            raise InvalidInput(Problem("a performer is a party number", field="performer"))
        checked = v.obra.likeness.check(int(performer), use)
    party = str(v.principal.party_id) if v.principal.party_id is not None else ""
    return page(v, "web/likeness/index.html", _context(v, checked=checked, form={"party": party},
                                                       performer=performer or "", use=use or ""))


@router.post("/likeness")
async def record_consent(v: Visit = Depends(visit)):
    principal = v.principal_or_sign_in()
    form = await v.form()
    values = {k: str(form.get(k) or "") for k in form.keys() if k != "csrf_token"}
    record = {"party": int(values["party"]) if ascii_digits(values.get("party"))
              else values.get("party"),
              "attributes": [a for a in form.getlist("attributes") if a in ATTRIBUTES],
              "uses": [u for u in form.getlist("uses") if u in USES],
              "decision": values.get("decision") or "",
              "commercial": bool(form.get("commercial")),
              "valid_from": values.get("valid_from") or date.today().isoformat(),
              "jurisdiction": values.get("jurisdiction", "").strip().upper()}
    if values.get("valid_until"):
        record["valid_until"] = values["valid_until"]
    for key in ("description", "takedown_contact"):
        if values.get(key, "").strip():
            record[key] = values[key].strip()
    try:
        done = v.obra.likeness.set_consent(principal, record, source="the consent form")
    except InvalidInput as exc:
        return page(v, "web/likeness/index.html", _context(v, problems=exc.problems, error=exc, form=values,
                                                           selected=form.getlist("attributes") + form.getlist("uses"),
                                                           performer="", use=""), 422)
    return page(v, "web/likeness/index.html", _context(v, done=done, form=values, performer="", use=""), 201)
