"""Resolving the party references that submissions use: an id, an IPI name number, or a batch key."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import Connection, insert, select

from obra import ids
from obra.errors import InvalidInput, Problem
from obra.model import Party
from obra.store.schema import parties
from obra.textnorm import normalize_text


def insert_party(conn: Connection, party: Party, by: str) -> Party:
    """Store a new party (or return the existing one with the same IPI name number)."""
    if party.ipi:
        row = conn.execute(select(parties).where(parties.c.ipi == party.ipi)).first()
        if row is not None:
            if normalize_text(row.name) != normalize_text(party.name):
                raise InvalidInput(Problem(
                    f"IPI {party.ipi} already belongs to '{row.name}', not '{party.name}'", field="ipi"))
            return row_to_party(row)
    pid = conn.execute(insert(parties).values(
        kind=party.kind.value, name=party.name, name_norm=normalize_text(party.name),
        roles=[r.value for r in party.roles], ipi=party.ipi, ipi_base=party.ipi_base, isni=party.isni,
        country=party.country, created_at=datetime.now(timezone.utc), created_by=by,
    )).inserted_primary_key[0]
    return party.model_copy(update={"id": pid})


def row_to_party(row) -> Party:
    return Party(id=row.id, kind=row.kind, name=row.name, roles=tuple(row.roles), ipi=row.ipi,
                 ipi_base=row.ipi_base, isni=row.isni, country=row.country)


def get_party(conn: Connection, party_id: int) -> Party | None:
    row = conn.execute(select(parties).where(parties.c.id == party_id)).first()
    return row_to_party(row) if row else None


def resolve_party(conn: Connection, ref: int | str, keys: dict[str, int], field: str) -> int:
    """A party id for ``ref``: an existing id, an IPI name number on file, or a key from the same batch."""
    if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit() and len(ref) <= 8):
        pid = int(ref)
        if conn.execute(select(parties.c.id).where(parties.c.id == pid)).first() is None:
            raise InvalidInput(Problem(f"no party with id {pid}", field=field))
        return pid
    if ref in keys:
        return keys[ref]
    if isinstance(ref, str) and ref.isdigit():
        ipi = ids.parse_ipi_name(ref, field=field)
        row = conn.execute(select(parties.c.id).where(parties.c.ipi == ipi)).first()
        if row is None:
            raise InvalidInput(Problem(f"no party with IPI name number {ipi}; register the party first",
                                       field=field))
        return row.id
    raise InvalidInput(Problem(f"unknown party reference '{ref}': use a party id, an IPI name number, "
                               "or the key of a party in the same batch", field=field))
