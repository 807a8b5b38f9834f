"""Voice and likeness consent: a performer's records, the check a platform asks, the takedown notice.

A **consent record** says, for one performer (a registered party): which personal attributes
(voice, face, name, signature style, body and movement, a performance), which uses (synthetic
replicas, training, generation, dubbing, advertising), the decision (``permitted``, ``terms`` —
clearance or payment needed — or ``prohibited``, RSL-MEDIA's red/amber/green), commercial or not,
where, from when until when, under which jurisdiction's law, the specific description of the
intended uses, representation (counsel or union), compensation, minors and their guardian, a
deceased performer's estate, and evidence. Fields follow the synthesis in
``../shared/research/ai-licensing.md`` §8 (NO FAKES, AB 2602/1836, ELVIS, Danish §65a, RSL-MEDIA).

**No biometric data.** Evidence is a SHA-256 and an optional URI of a document kept elsewhere
(an identity check, the signed contract, a reference fingerprint): the record refuses any other
member (``extra="forbid"``), so a voice sample or a face image cannot be stored in it.

**Statutory limits** come from the law data (``obra/law/data/likeness.json``, read through
:mod:`obra.law.likeness`, every rule with its citation): the longest term for adults and
for minors, the post-mortem period, whether the uses must be specifically described and whether
representation is required. Rules from bills not in force are applied too (marked ``pending``):
a consent beyond them would be void if the bill became law. A record beyond a limit is refused
naming the rule and its citation. A minor's record needs a guardian; a deceased performer's, the
estate's controller and the date of death.

**The check** (:func:`decide`): the performer's records in force on the date for the use (and
attribute, territory, commercial or not); the most restrictive wins (prohibited, then terms, then
permitted); **no record is no consent** — RSL-MEDIA §1.2: absence is not a waiver.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from obra.errors import InvalidInput, Problem

__all__ = ["ConsentRecord", "Attribute", "LikenessUse", "rules_for", "check_limits", "decide", "RESTRICTIVE"]

Attribute = Literal["voice", "face", "name", "signature-style", "body", "performance"]
LikenessUse = Literal["synthetic-replica", "training", "generation", "dubbing", "advertising"]
Decision = Literal["permitted", "terms", "prohibited"]
RESTRICTIVE = {"prohibited": 0, "terms": 1, "permitted": 2}
Hex64 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
Name = Annotated[str, Field(min_length=1, max_length=300)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Guardian(_Strict):
    name: Name
    party: int | None = None
    relation: Name


class Estate(_Strict):
    controller: Name
    party: int | None = None
    death_date: date


class Representation(_Strict):
    counsel: bool = False
    union: Name | None = None

    @property
    def represented(self) -> bool:
        return self.counsel or bool(self.union)


class Compensation(_Strict):
    model: Literal["flat", "per-use", "revenue-share"]
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] | None = None
    amount_minor: Annotated[int, Field(ge=0, le=10**15)] | None = None
    share_percent: Annotated[str, Field(pattern=r"^\d{1,3}(\.\d{1,6})?$")] | None = None


class Evidence(_Strict):
    """A document kept elsewhere, by its hash (never its content)."""

    kind: Literal["identity-verification", "signed-contract", "reference-fingerprint", "other"]
    sha256: Hex64
    uri: Annotated[str, Field(max_length=2048, pattern=r"^(https?|urn|mailto):")] | None = None


class ConsentRecord(_Strict):
    """One performer's consent for some attributes and uses (see the module docstring)."""

    party: Annotated[int, Field(ge=1)]
    attributes: Annotated[tuple[Attribute, ...], Field(min_length=1)]
    uses: Annotated[tuple[LikenessUse, ...], Field(min_length=1)]
    decision: Decision
    commercial: bool = True
    territories: tuple[Annotated[str, Field(pattern=r"^[A-Z]{2}$")], ...] = ()
    valid_from: date
    valid_until: date | None = None
    jurisdiction: Annotated[str, Field(min_length=2, max_length=8)]
    description: Annotated[str, Field(max_length=4000)] | None = None
    minor: bool = False
    guardian: Guardian | None = None
    estate: Estate | None = None
    representation: Representation | None = None
    compensation: Compensation | None = None
    evidence: tuple[Evidence, ...] = ()
    takedown_contact: Annotated[str, Field(max_length=320)] | None = None

    @field_validator("attributes", "uses", "territories")
    @classmethod
    def _sorted(cls, value: tuple) -> tuple:
        return tuple(sorted(set(value)))

    @model_validator(mode="after")
    def _consistent(self) -> "ConsentRecord":
        if self.valid_until is not None and self.valid_until < self.valid_from:
            raise ValueError("valid_until is before valid_from")
        if self.minor and self.guardian is None:
            raise ValueError("a minor's consent needs the guardian who gives it")
        return self


def _rules() -> dict:
    from obra.law.likeness import likeness_rules

    return likeness_rules()


def rules_for(jurisdiction: str) -> list[dict]:
    """The limits that apply in ``jurisdiction`` and the jurisdictions it is part of (US-CA → US)."""
    from obra.law import load

    law = load()
    chain, here = [], jurisdiction.upper()
    while here:
        chain.append(here)
        found = law.jurisdictions.get(here)
        here = found.part_of if found is not None else None
    return [r for r in _rules()["rules"] if r["jurisdiction"] in chain]


def _years_after(start: date, years: int) -> date:
    try:
        return start.replace(year=start.year + years)
    except ValueError:                       # 29 February
        return start.replace(year=start.year + years, day=28)


def check_limits(record: ConsentRecord) -> list[dict]:
    """Refuse a record beyond a statutory limit (:class:`InvalidInput` naming the rule and its citation);
    returns the rules applied."""
    applied = rules_for(record.jurisdiction)
    problems: list[Problem] = []

    def refuse(rule: dict, field: str, message: str) -> None:
        status = " (a bill not yet in force, applied as the conservative reading)" if rule["status"] == "pending" \
            else ""
        problems.append(Problem(f"{message} — {rule['citation']}{status}", field=field))

    for rule in applied:
        if record.estate is None:
            cap = rule.get("minor_max_years") if record.minor else rule.get("adult_max_years")
            if cap is not None:
                who = "a minor" if record.minor else "an adult"
                if record.valid_until is None:
                    refuse(rule, "valid_until", f"a consent by {who} in {rule['jurisdiction']} must end: at most "
                                                f"{cap} years")
                elif record.valid_until > _years_after(record.valid_from, cap):
                    refuse(rule, "valid_until", f"a consent by {who} in {rule['jurisdiction']} lasts at most {cap} "
                                                f"years (until {_years_after(record.valid_from, cap).isoformat()})")
        else:
            cap = rule.get("post_mortem_max_years")
            limit = _years_after(record.estate.death_date, cap) if cap is not None else None
            if limit is not None and (record.valid_until is None or record.valid_until > limit):
                refuse(rule, "valid_until", f"post-mortem rights in {rule['jurisdiction']} last {cap} years after "
                                            f"death (until {limit.isoformat()})")
        relevant = not rule.get("uses") or set(rule["uses"]) & set(record.uses)
        if relevant and record.decision != "prohibited":
            if rule.get("specific_description_required") and not (record.description or "").strip():
                refuse(rule, "description", "the intended uses must be described specifically")
            if rule.get("representation_required") and not (record.representation and
                                                             record.representation.represented):
                refuse(rule, "representation", "the performer must have been represented by counsel or a union")
    if problems:
        raise InvalidInput(problems, hint="shorten the term, describe the uses or record the representation; "
                                          "the rules are obra/law/data/likeness.json")
    return applied


def decide(records: list[dict], use: str, *, attribute: str | None = None, on: date | None = None,
           territory: str | None = None, commercial: bool | None = None) -> dict:
    """The decision for ``use`` from the performer's latest records (each ``{consent_id, version, status,
    record, journal_event, signed_sha256}``): see the module docstring."""
    on = on or date.today()
    covering = []
    for r in records:
        rec = r["record"]
        if r["status"] != "active" or use not in rec["uses"]:
            continue
        if attribute and attribute not in rec["attributes"]:
            continue
        if date.fromisoformat(rec["valid_from"]) > on or (rec.get("valid_until") and
                                                           date.fromisoformat(rec["valid_until"]) < on):
            continue
        if rec.get("territories") and territory and territory.upper() not in rec["territories"]:
            continue
        if rec.get("territories") and not territory:
            continue
        if commercial and not rec.get("commercial", True):
            continue
        covering.append(r)
    if not covering:
        return {"decision": "no-consent", "use": use, "on": on.isoformat(),
                "rule": "no consent record covers this use: absence is not a waiver (RSL-MEDIA Human Consent "
                        "Standard §1.2), so the use is not permitted", "evidence": []}
    chosen = min(covering, key=lambda r: (RESTRICTIVE[r["record"]["decision"]], -r["version"]))
    return {"decision": chosen["record"]["decision"], "use": use, "on": on.isoformat(),
            "rule": "the most restrictive consent record in force for this use decides",
            "evidence": [{"consent_id": r["consent_id"], "version": r["version"], "decision": r["record"]["decision"],
                          "valid_from": r["record"]["valid_from"], "valid_until": r["record"].get("valid_until"),
                          "recorded_at": r["recorded_at"], "journal_event": r["journal_event"],
                          "signed_sha256": r["signed_sha256"]} for r in covering]}


def parse_consent(data: Any, source: str = "consent.json") -> ConsentRecord:
    from obra.model import parse

    return parse(ConsentRecord, data, source=source)
