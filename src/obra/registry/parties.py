"""Parties on file: finding the one a submission means (a submitter's number, an IPI) before creating one,
and resolving the party references that submissions use: an id, an IPI name number, or a batch key."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import Connection, Row, and_, insert, or_, select, update

from obra import ids
from obra.errors import InvalidInput, Problem
from obra.model import Party
from obra.model.party import PartyIdentifier
from obra.model.text import DB_ID_MAX
from obra.store.schema import parties, party_identifiers
from obra.textnorm import normalize_text


def insert_party(conn: Connection, party: Party, by: str) -> Party:
    """Store a new party, or return the one already on file (see :func:`find_or_insert_party`)."""
    return find_or_insert_party(conn, party, by)[0]


def find_or_insert_party(conn: Connection, party: Party, by: str) -> tuple[Party, bool]:
    """The registry's party for ``party`` and whether it was created now.

    A party is looked up, in this order, by:

    1. **a submitter's own number** (``party.identifiers``, e.g. a CWR Interested Party #
       scoped ``cwr:<sender>``): the number names the party that submitter meant, even if
       the name is spelt differently this time (the name on file is kept). An IPI sent with
       it must agree with the IPI on file; a party on file without one gets it, unless the
       IPI belongs to another party (that would be two parties claiming one IPI: refused);
    2. **its IPI name number**, as before: same IPI, same party (the names must match);
    3. otherwise it is **inserted**.

    The submitter's numbers not yet on file are attached to the party found or created, so
    a party first known by IPI is found by number next time. Errors are
    :class:`~obra.errors.InvalidInput` with the field (``ipi`` or ``identifiers``) to fix;
    the caller's transaction rolls everything back.
    """
    on_file = _on_file(conn, party.identifiers)
    missing = [i for i in dict.fromkeys(party.identifiers) if i not in on_file]
    if on_file:
        row, ident = _one_party(on_file)
        if party.ipi and row.ipi and party.ipi != row.ipi:
            raise InvalidInput(Problem(
                f"IPI {party.ipi} does not agree with IPI {row.ipi}, which {_describe(ident)} has on file "
                f"(party {row.id}, '{row.name}'): correct the IPI name number or the party number",
                field="ipi"))
        if party.ipi and not row.ipi:
            holder = conn.execute(select(parties).where(parties.c.ipi == party.ipi)).first()
            if holder is not None:
                raise InvalidInput(Problem(
                    f"IPI {party.ipi} belongs to party {holder.id} '{holder.name}', but {_describe(ident)} is "
                    f"party {row.id} '{row.name}': correct the IPI name number or the party number", field="ipi"))
            conn.execute(update(parties).where(parties.c.id == row.id).values(ipi=party.ipi))
            row = conn.execute(select(parties).where(parties.c.id == row.id)).one()
        _attach(conn, row.id, missing)
        return row_to_party(row), False
    if party.ipi:
        row = conn.execute(select(parties).where(parties.c.ipi == party.ipi)).first()
        if row is not None:
            if normalize_text(row.name) != normalize_text(party.name):
                raise InvalidInput(Problem(
                    f"IPI {party.ipi} already belongs to '{row.name}', not '{party.name}'", field="ipi"))
            _attach(conn, row.id, missing)
            return row_to_party(row), False
    pid = conn.execute(insert(parties).values(
        kind=party.kind.value, name=party.name, name_norm=normalize_text(party.name),
        roles=[r.value for r in party.roles], ipi=party.ipi, ipi_base=party.ipi_base, isni=party.isni,
        country=party.country, created_at=datetime.now(timezone.utc), created_by=by,
    )).inserted_primary_key[0]
    _attach(conn, pid, missing)
    return party.model_copy(update={"id": pid}), True


def _describe(ident: PartyIdentifier) -> str:
    if ident.scheme.startswith("cwr:"):
        return f"interested party #{ident.value} of CWR sender {ident.scheme[4:]}"
    return f"number '{ident.value}' of '{ident.scheme}'"


def _on_file(conn: Connection, identifiers: tuple[PartyIdentifier, ...]) -> dict[PartyIdentifier, Row]:
    """The party row each of ``identifiers`` already names (one query; usually one identifier)."""
    if not identifiers:
        return {}
    pi = party_identifiers
    stmt = (select(parties, pi.c.scheme.label("_scheme"), pi.c.value.label("_value"))
            .join(pi, pi.c.party_id == parties.c.id)
            .where(or_(*(and_(pi.c.scheme == i.scheme, pi.c.value == i.value) for i in identifiers))))
    return {PartyIdentifier(scheme=r._scheme, value=r._value): r for r in conn.execute(stmt)}


def _one_party(on_file: dict[PartyIdentifier, Row]) -> tuple[Row, PartyIdentifier]:
    """The one party the identifiers name, and one identifier naming it; refused if they name several."""
    by_party = {row.id: (row, ident) for ident, row in sorted(on_file.items(), key=lambda kv: kv[1].id)}
    if len(by_party) > 1:
        raise InvalidInput(Problem(
            "these numbers name different parties on file: "
            + "; ".join(f"{_describe(i)} is party {pid}" for pid, (_, i) in by_party.items()),
            field="identifiers"))
    return next(iter(by_party.values()))


def _attach(conn: Connection, party_id: int, identifiers: list[PartyIdentifier]) -> None:
    """Record numbers known not to be on file (the caller looked them up)."""
    if identifiers:
        conn.execute(insert(party_identifiers), [{"party_id": party_id, "scheme": i.scheme, "value": i.value}
                                                 for i in identifiers])


def party_identifiers_of(conn: Connection, party_id: int) -> tuple[PartyIdentifier, ...]:
    """The submitters' numbers on file for a party, in a stable order."""
    pi = party_identifiers
    return tuple(PartyIdentifier(scheme=r.scheme, value=r.value) for r in conn.execute(
        select(pi.c.scheme, pi.c.value).where(pi.c.party_id == party_id).order_by(pi.c.scheme, pi.c.value)))


def row_to_party(row) -> Party:
    return Party(id=row.id, kind=row.kind, name=row.name, roles=tuple(row.roles), ipi=row.ipi,
                 ipi_base=row.ipi_base, isni=row.isni, country=row.country)


def get_party(conn: Connection, party_id: int) -> Party | None:
    row = conn.execute(select(parties).where(parties.c.id == party_id)).first()
    if row is None:
        return None
    return row_to_party(row).model_copy(update={"identifiers": party_identifiers_of(conn, party_id)})


def resolve_party(conn: Connection, ref: int | str, keys: dict[str, int], field: str) -> int:
    """A party id for ``ref``: an existing id, an IPI name number on file, or a key from the same batch."""
    digits = ids.ascii_digits(ref)
    if isinstance(ref, int) or (digits and len(ref) <= 8):
        pid = int(ref)
        if not 1 <= pid <= DB_ID_MAX:
            raise InvalidInput(Problem(f"party id {pid} is out of range: party ids go from 1 to {DB_ID_MAX:,}",
                                       field=field))
        if conn.execute(select(parties.c.id).where(parties.c.id == pid)).first() is None:
            raise InvalidInput(Problem(f"no party with id {pid}", field=field))
        return pid
    if ref in keys:
        return keys[ref]
    if digits:
        ipi = ids.parse_ipi_name(ref, field=field)
        row = conn.execute(select(parties.c.id).where(parties.c.ipi == ipi)).first()
        if row is None:
            raise InvalidInput(Problem(f"no party with IPI name number {ipi}; register the party first",
                                       field=field))
        return row.id
    raise InvalidInput(Problem(f"unknown party reference '{ref}': use a party id, an IPI name number, "
                               "or the key of a party in the same batch", field=field))
