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


def load_repertoire(store) -> Repertoire:
    rep = Repertoire()
    r = registrations
    with store.connect() as conn:
        for row in conn.execute(select(parties)):
            rep.parties[row.id] = Party(id=row.id, kind=row.kind, name=row.name, roles=tuple(row.roles),
                                        ipi=row.ipi, ipi_base=row.ipi_base, isni=row.isni, country=row.country)
        current = select(r.c.id).where(r.c.is_current, r.c.status != "withdrawn")
        share_rows: dict[int, list[Share]] = defaultdict(list)
        for s in conn.execute(select(shares).where(shares.c.registration_id.in_(current))):
            share_rows[s.registration_id].append(Share.model_construct(
                party=s.party_id, role=s.role, right_type=s.right_type, territory=s.territory,
                share=s.share))
        links: dict[int, list[str]] = defaultdict(list)
        for link in conn.execute(select(recording_works).where(recording_works.c.registration_id.in_(current))):
            links[link.registration_id].append(link.work_number)
        for row in conn.execute(select(r).where(r.c.is_current, r.c.status != "withdrawn").order_by(r.c.number)):
            item = RepertoireItem(row.number, row.entity, row.title, row.iswc, row.isrc, row.creation_mode,
                                  row.record, tuple(share_rows.get(row.id, ())), tuple(links.get(row.id, ())))
            (rep.works if row.entity == "work" else rep.recordings)[row.number] = item
        for a in conn.execute(select(agreements).order_by(agreements.c.id)):
            rep.agreements.append(Agreement.model_validate({**a.record, "id": a.id}))
    return rep
