"""Law routes: the comparative-law data asked and compared (public), and evidence packages for enforcement.

Each route is one call of the application: :meth:`obra.app.Obra.law_compare`,
:meth:`~obra.app.Obra.law_show`, ``Obra.ai_evidence``.
"""

from __future__ import annotations

import base64
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from obra.access import Principal
from obra.api.auth import caller, get_obra
from obra.api.params import ShortText, StrictJSONRoute
from obra.app import Obra

router = APIRouter(route_class=StrictJSONRoute)

Code = Annotated[str, Path(min_length=2, max_length=12, pattern=r"^[A-Za-z]{2}(-[A-Za-z0-9]{1,6})?$")]
Topic = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[a-z_]+$")]


@router.get("/law", tags=["law"])
def law_index(obra: Obra = Depends(get_obra)) -> dict:
    """The law data's topics and their keys, the jurisdictions, and the data's version. Public."""
    law = obra.law
    return {"topics": {t: list(law.keys(t)) for t in law.topics},
            "jurisdictions": {c: {"name": j.name, "region": j.region, "part_of": j.part_of}
                              for c, j in law.jurisdictions.items()},
            "facts": len(law.all_facts), "version": law.version, "checked": law.checked.isoformat(),
            "about": law.about}


@router.get("/law/compare/{topic}", tags=["law"])
def compare(topic: Topic,
            jurisdiction: Annotated[list[Annotated[str, Field(min_length=2, max_length=12)]] | None,
                                    Query(max_length=60, description="codes such as DE, JP, US (repeat the "
                                                                     "parameter); all when none")] = None,
            obra: Obra = Depends(get_obra)) -> dict:
    """One topic's facts across jurisdictions, each with citation, source, dates and confidence. Public."""
    return obra.law_compare(topic, jurisdiction or None)


@router.get("/law/jurisdictions/{code}", tags=["law"])
def show(code: Code, obra: Obra = Depends(get_obra)) -> dict:
    """Every topic's facts for one jurisdiction, inherited ones marked. Public."""
    return obra.law_show(code)


class EvidenceRequest(BaseModel):
    """What ``POST /ai/evidence`` takes: the check (never a path), the work, whom it is against, the laws."""

    model_config = ConfigDict(extra="forbid")

    check: ShortText = Field(description="the check's journal event id, or 8+ hex digits of its receipt hash")
    work: ShortText = Field(description="the registration number of the work or recording")
    against: ShortText = Field(description="the AI developer or dataset the evidence is for")
    rightholder_jurisdiction: ShortText | None = None
    developer_jurisdiction: ShortText | None = None
    training_jurisdiction: ShortText | None = Field(None, description="default: the check's jurisdiction")
    locales: list[Literal["en", "es", "fr", "pt"]] | None = Field(None, max_length=4,
                                                                  description="letter languages (default: all)")
    pdf: bool = Field(False, description="also render each letter as PDF (base64 in the answer)")


@router.post("/ai/evidence", status_code=201, tags=["ai use"])
def evidence(body: EvidenceRequest, principal: Principal = Depends(caller), obra: Obra = Depends(get_obra)) -> dict:
    """An evidence package for enforcement: the signed bundle (verifies offline with ``key_history``), the
    letters in each language asked, and the ``aiuse.evidence`` journal event recording them."""
    done = obra.ai_evidence.evidence(
        principal, body.check, work=body.work, against=body.against,
        jurisdictions={"rightholder": body.rightholder_jurisdiction, "developer": body.developer_jurisdiction,
                       "training": body.training_jurisdiction},
        locales=list(body.locales) if body.locales else None, pdf=body.pdf)
    letters = {}
    for lang, letter in done["letters"].items():
        letters[lang] = {"html": letter["html"], "sha256": letter["sha256"]}
        if letter.get("pdf") is not None:
            letters[lang] |= {"pdf_base64": base64.b64encode(letter["pdf"]).decode("ascii"),
                              "pdf_sha256": letter["pdf_sha256"]}
    return {"bundle": done["bundle"], "bundle_sha256": done["bundle_sha256"], "key_history": done["key_history"],
            "letters": letters, "journal_event": done["journal_event"], "log_index": done["log_index"],
            "work": done["work"]}


@router.post("/ai/evidence/verify", tags=["ai use"])
def verify_evidence(body: dict[str, Any] = Body(..., description="an evidence bundle (evidence.json)"),
                    obra: Obra = Depends(get_obra)) -> dict:
    """Verify an evidence bundle against this office's key history and the proofs it carries. Public."""
    return obra.ai_evidence.verify(body)
