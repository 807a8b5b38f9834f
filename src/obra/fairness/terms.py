"""What an agreement's record does not say and a fairness check needs.

An :class:`~obra.model.Agreement` says who granted which rights to whom, where, when and for
what share of the money. A renegotiation check also needs the law that governs it (the
best-seller threshold differs between Germany and France), a **lump sum** paid instead of or
besides royalties (the classic best-seller case: a buy-out fee, the work later earns many times
more), and the **appropriate share** of revenue a fair contract would pay (a collective
agreement, a §36 joint rule, a tariff), against which disproportion is measured. These are kept
in ``agreement_terms``, one row per agreement, restated as a whole; each statement is a
``fairness.terms_set`` journal event.

Where no jurisdiction is stated, the assignor's country (the party's record) is used.
"""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import delete, insert, select

from obra.errors import InvalidInput, NotFound, Problem
from obra.law.fairness import fraction
from obra.store.schema import agreement_terms, agreements, parties


class AgreementTerms(BaseModel):
    """The fairness terms of one agreement (what ``obra fairness terms`` and ``PUT /fairness/terms`` take)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    jurisdiction: str | None = Field(None, description="the law governing the agreement (e.g. DE, FR); default: "
                                                        "the assignor's country")
    lump_sum: Decimal | None = Field(None, description="a lump sum paid to the assignor, in the currency's units "
                                                       "(e.g. 5000.00)")
    currency: str | None = Field(None, description="ISO 4217 code of the lump sum (default: the agreement's)")
    appropriate_share: str | None = Field(None, description="the share of revenue appropriate pay would be, "
                                                            "e.g. 0.10 or 1/10 (a collective agreement, a tariff)")
    note: str | None = Field(None, max_length=2000, description="where these terms come from (clause, page)")

    @field_validator("jurisdiction")
    @classmethod
    def _upper(cls, v: str | None) -> str | None:
        return v.strip().upper() if v else None

    @field_validator("lump_sum")
    @classmethod
    def _positive(cls, v: Decimal | None) -> Decimal | None:
        if v is not None and (not v.is_finite() or v < 0):
            raise ValueError("a lump sum is an amount of at least 0")
        return v

    @field_validator("appropriate_share")
    @classmethod
    def _share(cls, v: str | None) -> str | None:
        if v is None:
            return None
        value = fraction(v, "appropriate_share")
        if not 0 < value <= 1:
            raise ValueError("the appropriate share is above 0 and at most 1")
        return v.strip()


def set_terms(conn: Any, agreement_id: int, terms: AgreementTerms, actor: str, law: Any) -> dict:
    """Replace agreement ``agreement_id``'s terms in ``conn``'s transaction; returns the stored row."""
    from obra.money import to_minor

    row = conn.execute(select(agreements.c.id, agreements.c.record).where(agreements.c.id == agreement_id)).first()
    if row is None:
        raise NotFound(f"no agreement {agreement_id}", hint="`obra agreements` lists them")
    if terms.jurisdiction is not None and terms.jurisdiction not in law.jurisdictions:
        raise InvalidInput(Problem(f"unknown jurisdiction {terms.jurisdiction!r}; known: "
                                   f"{', '.join(law.jurisdictions)}", field="jurisdiction"))
    currency = (terms.currency or row.record.get("currency") or "EUR").upper()
    lump = None
    if terms.lump_sum is not None:
        try:
            lump = to_minor(terms.lump_sum, currency)
        except Exception as exc:  # noqa: BLE001 - the money module names what is wrong
            raise InvalidInput(Problem(str(exc), field="lump_sum")) from None
    values = {"agreement_id": agreement_id, "jurisdiction": terms.jurisdiction, "lump_sum_minor": lump,
              "currency": currency, "appropriate_share": terms.appropriate_share, "note": terms.note,
              "updated_at": datetime.now(timezone.utc), "updated_by": actor}
    conn.execute(delete(agreement_terms).where(agreement_terms.c.agreement_id == agreement_id))
    conn.execute(insert(agreement_terms).values(**values))
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in values.items()}


def all_terms(store: Any) -> dict[str, dict]:
    """Agreement id (as text) → its fairness terms, with the assignor's country filled in as fallback."""
    with store.connect() as conn:
        stated = {str(r["agreement_id"]): dict(r) for r in conn.execute(select(agreement_terms)).mappings()}
        countries = {str(r.aid): r.country for r in conn.execute(
            select(agreements.c.id.label("aid"), parties.c.country).join(
                parties, parties.c.id == agreements.c.assignor_id))}
    out = {}
    for aid, country in countries.items():
        t = stated.get(aid, {})
        out[aid] = {"jurisdiction": t.get("jurisdiction") or (country.upper() if country else None),
                    "jurisdiction_stated": bool(t.get("jurisdiction")),
                    "lump_sum_minor": t.get("lump_sum_minor"), "currency": t.get("currency"),
                    "appropriate_share": t.get("appropriate_share"), "note": t.get("note")}
    return out
