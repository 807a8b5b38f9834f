"""The repertoire as the engines need it: current works and recordings with resolved shares.

Read in a handful of set queries (not one query per work), so loading a catalogue of
hundreds of thousands of works stays fast.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select

from obra.model import Agreement, Party, Share
from obra.store.schema import agreements, parties, recording_works, registrations, shares


@dataclass(frozen=True)
class RepertoireItem:
    number: str
    entity: str  # work | recording
    title: str
    iswc: str | None
    isrc: str | None
    creation_mode: str
    record: dict
    shares: tuple[Share, ...]
    works: tuple[str, ...] = ()  # for recordings: embodied work numbers

    @property
    def artist(self) -> str | None:
        return self.record.get("recording", {}).get("artist")

    @property
    def duration_seconds(self) -> int | None:
        return self.record.get("recording", {}).get("duration_seconds")


@dataclass
class Repertoire:
    parties: dict[int, Party] = field(default_factory=dict)
    works: dict[str, RepertoireItem] = field(default_factory=dict)
    recordings: dict[str, RepertoireItem] = field(default_factory=dict)
    agreements: list[Agreement] = field(default_factory=list)


_SHARE_FIELDS = ("party", "role", "right_type", "territory", "share")
_new = object.__new__
_set = object.__setattr__


def _share(values: list) -> Share:
    """``Share.model_construct(party=…, role=…, right_type=…, territory=…, share=…)`` for the store's own
    rows (valid when written), without its search through field aliases and defaults: a catalogue
    holds hundreds of thousands of shares, and that search was most of the time spent loading them.
    The result is the same model (a test holds the two together)."""
    share = _new(Share)
    _set(share, "__dict__", dict(zip(_SHARE_FIELDS, values)))
    _set(share, "__pydantic_fields_set__", set(_SHARE_FIELDS))
    _set(share, "__pydantic_extra__", None)
    _set(share, "__pydantic_private__", None)
    return share


def load_repertoire(store) -> Repertoire:
    rep = Repertoire()
    r = registrations
    with store.connect() as conn:
        for row in conn.execute(select(parties)):
            rep.parties[row.id] = Party(id=row.id, kind=row.kind, name=row.name, roles=tuple(row.roles),
                                        ipi=row.ipi, ipi_base=row.ipi_base, isni=row.isni, country=row.country)
        current = select(r.c.id).where(r.c.is_current, r.c.status != "withdrawn")
        share_rows: dict[int, list[Share]] = defaultdict(list)
        sc = shares.c
        for rid, *values in conn.execute(select(sc.registration_id, sc.party_id, sc.role, sc.right_type,
                                                sc.territory, sc.share).where(sc.registration_id.in_(current))).all():
            share_rows[rid].append(_share(values))
        links: dict[int, list[str]] = defaultdict(list)
        for link in conn.execute(select(recording_works).where(recording_works.c.registration_id.in_(current))).all():
            links[link.registration_id].append(link.work_number)
        # only the columns an item holds (the others, timestamps among them, cost a parse per row)
        for row in conn.execute(select(r.c.id, r.c.number, r.c.entity, r.c.title, r.c.iswc, r.c.isrc,
                                       r.c.creation_mode, r.c.record)
                                .where(r.c.is_current, r.c.status != "withdrawn").order_by(r.c.number)).all():
            item = RepertoireItem(row.number, row.entity, row.title, row.iswc, row.isrc, row.creation_mode,
                                  row.record, tuple(share_rows.get(row.id, ())), tuple(links.get(row.id, ())))
            (rep.works if row.entity == "work" else rep.recordings)[row.number] = item
        for a in conn.execute(select(agreements).order_by(agreements.c.id)):
            rep.agreements.append(Agreement.model_validate({**a.record, "id": a.id}))
    return rep
