"""Bulk registration: a country's catalogue loaded as set-based operations, with every guarantee of one.

``obra import`` of parties, works and recordings (JSON, CSV, CWR through the same batches) takes this
path; it gives the same records, numbers, log leaves, journal events and problems as registering each
record on its own (:meth:`obra.registry.service.Registry.register`), at a fraction of the cost:

* **validated chunk by chunk, resolved set-based**: the party references and linked works of a whole
  section are looked up first, with one query per kind of reference, not one per record; then each
  chunk's records are proven valid (plain works without pydantic, the rest with one ``TypeAdapter``
  call; the records that fail are parsed again alone, so each problem reads exactly as it does for a
  single registration, with its file, line and field) while the chunk before is written;
* **numbered in blocks**: one ``INSERT … ON CONFLICT DO UPDATE SET next_value = next_value + n``
  reserves ``n`` consecutive numbers of the office and year. The row stays locked until the
  transaction ends (PostgreSQL row lock; SQLite's ``BEGIN IMMEDIATE``), so a single registration
  at the same time takes the number after the block; a rollback gives the whole block back: still
  unique and gapless;
* **logged in batches**: each registration is still one leaf of the transparency log (its certificate
  and inclusion proof are those of a single registration) and one ``registration.register`` journal
  event mirroring it, but the leaves of a chunk are appended in three statements
  (:meth:`obra.transparency.translog.TransparencyLog.append_many`), the log's invariant checked once
  per chunk, and one tree head is signed for the whole import;
* **written with COPY** on PostgreSQL (``executemany`` on SQLite), chunk by chunk, in the one
  transaction of the import: all or nothing, as before. A chunk's rows are written on a thread of their
  own (:class:`_Writer`) while the next chunk is validated and built, so the database's work (indexes,
  SQLite's FTS5 triggers, which release the GIL) runs beside this process's; a failed write there rolls
  the whole import back. On PostgreSQL the foreign keys are checked by the load itself, set-based, not
  by a trigger per row (:func:`_references_checked_here`).

The import as a whole is also one ``repertoire.imported`` journal event per file (written by
:func:`obra.registry.batch.import_batches`), listing how many records it created.
"""

from __future__ import annotations

import hashlib
import json
import queue
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from operator import itemgetter
from datetime import datetime, timezone
from typing import Any, Iterable

import orjson
from pydantic import TypeAdapter, ValidationError
from sqlalchemy import Connection, any_, func, literal, select, text
from sqlalchemy.dialects.postgresql import ARRAY

from obra import ids
from obra.access import Principal
from obra.canonical import canonical_plain
from obra.errors import Conflict, InvalidInput, Problem
from obra.model import Party, Recording, Work, parse, share_problems
from obra.model.text import DB_ID_MAX
from obra.model.vocab import CreationMode, RegistrationStatus, RightType, Role, WorkKind
from obra.registry.parties import find_or_insert_party
from obra.registry.plain_works import PlainWork, plain_work
from obra.registry.service import BatchKeys, resolve_references
from obra.store.schema import (contributors, journal_events, parties, recording_works, registrations, sequences,
                               shares, titles, work_identifiers)
from obra.textnorm import normalize_text
from obra.transparency.translog import BatchAppend, TransparencyLog, log_entries, log_nodes

NUMBERS_PER_YEAR = 9_999_999
"""The last registration number of an office in a year (seven digits: ``OBRA-2026-9999999-X``)."""
CHUNK = 5_000
"""Registrations validated, built, logged and written at a time (bounds memory, and the writer works one chunk
behind the builder; all chunks are one transaction)."""
EDGE_CHUNK = 1_000
"""The first and the last chunk of a section are this small (:func:`chunk_bounds`)."""
_QUERY_CHUNK = 5_000  # values per IN (...) lookup
_ADAPTERS = {"works": TypeAdapter(list[Work]), "recordings": TypeAdapter(list[Recording]),
             "parties": TypeAdapter(list[Party])}
_MODELS = {"works": Work, "recordings": Recording, "parties": Party}


_SECTION_ORDER = {"parties": 0, "works": 1, "recordings": 2, "agreements": 3}
_WORKS = (Work, PlainWork)
_VALUE = {member: member.value for enum in (Role, RightType, CreationMode, WorkKind) for member in enum}
"""An enum member's value by a dict look-up: ``member.value`` is a property, 0.5 µs a time, read some twenty
times per registration."""

STAGES: dict[str, list[float]] = {}
"""CPU (of the thread) and wall seconds spent in each stage of the bulk path since it was last cleared (the
benchmark reads it): ``validate``, ``resolve``, ``build`` (records, canonical JSON, hashes), ``log`` (leaves,
Merkle nodes), ``rows`` (the other rows), ``log_check``, ``wait for writer`` (the building thread waiting for
the writing one), and ``write <table>`` for each table, on the writer's thread (their wall time overlaps the
building stages)."""


@contextmanager
def _stage(name: str):
    c0, t0 = time.thread_time(), time.perf_counter()
    try:
        yield
    finally:
        spent = STAGES.setdefault(name, [0.0, 0.0])
        spent[0] += time.thread_time() - c0
        spent[1] += time.perf_counter() - t0


@dataclass
class Located:
    """Where a batch's records came from, and their problems: (section, index) → line, and the file."""

    source: str
    locations: dict[tuple[str, int], int]
    found: list[tuple[int, int, int, Problem]] = field(default_factory=list)

    def add(self, section: str, i: int, problems: Iterable[Problem]) -> None:
        line = self.locations.get((section, i))
        for p in problems:
            head = f"{section}[{i}]" if (section, i) not in self.locations else None
            where = ".".join(x for x in (head, p.field) if x) or section
            self.found.append((_SECTION_ORDER[section], i, len(self.found), Problem(p.message, where, line,
                                                                                     self.source)))

    @property
    def problems(self) -> list[Problem]:
        """Every problem in the order the per-record path reports them: section, then record."""
        return [p for *_, p in sorted(self.found, key=lambda f: f[:3])]


def parse_section(section: str, items: list, located: Located, start: int = 0) -> dict[int, Any]:
    """Index → model for every record of ``section`` that parses; the others' problems go to ``located``.
    ``items`` are the section's records from index ``start`` on.

    Works that :func:`obra.registry.plain_works.plain_work` proves valid are taken as it builds them; pydantic
    parses the rest (and says what is wrong with those that fail, as for a single registration).
    """
    model = _MODELS[section]
    raw = {i: item for i, item in enumerate(items, start) if item is not None}  # None: refused earlier
    if all(isinstance(item, model) for item in raw.values()):
        return raw
    out: dict[int, Any] = {}
    if section == "works":
        rest = {}
        for i, item in raw.items():
            plain = plain_work(item)
            if plain is None:
                rest[i] = item
            else:
                out[i] = plain
        if not rest:
            return out
        raw = rest
    try:
        parsed = _ADAPTERS[section].validate_python(
            [item.model_dump() if isinstance(item, model) else item for item in raw.values()])
        out.update(zip(raw, parsed))
        return out
    except ValidationError:
        pass
    for i, item in raw.items():
        try:
            out[i] = item if isinstance(item, model) else parse(model, item)
        except InvalidInput as exc:
            located.add(section, i, exc.problems)
    return out


# --- resolving references in bulk ------------------------------------------------------------

def _chunks(values: list, size: int = _QUERY_CHUNK) -> Iterable[list]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _among(conn: Connection, column, values: list):
    """``column IN values``: on PostgreSQL ``= ANY(array)``, one parameter however many values (psycopg
    rewrites a statement of 5,000 placeholders in Python, slower than the query itself)."""
    if conn.dialect.name == "postgresql":
        return column == any_(literal(list(values), ARRAY(column.type)))
    return column.in_(values)


class Resolver:
    """Party references and linked works of a whole section, looked up with one query per kind."""

    def __init__(self, conn: Connection, keys: BatchKeys):
        self.conn = conn
        self.keys = keys
        self.party: dict[Any, tuple[int | None, InvalidInput | None]] = {}
        self.work: dict[str, str | None] = {}

    def prefetch_parties(self, refs: Iterable[Any]) -> None:
        wanted_ids, wanted_ipis = set(), {}
        for ref in set(refs) - set(self.party):
            digits = ids.ascii_digits(ref)
            if isinstance(ref, int) or (digits and len(ref) <= 8):
                pid = int(ref)
                if not 1 <= pid <= DB_ID_MAX:
                    self.party[ref] = (None, InvalidInput(Problem(
                        f"party id {pid} is out of range: party ids go from 1 to {DB_ID_MAX:,}")))
                else:
                    wanted_ids.add(pid)
            elif ref in self.keys.keys:
                self.party[ref] = (self.keys.keys[ref], None)
            elif digits:
                try:
                    wanted_ipis[ref] = ids.parse_ipi_name(ref, field="")
                except InvalidInput as exc:
                    self.party[ref] = (None, exc)
            else:
                self.party[ref] = (None, InvalidInput(Problem(
                    f"unknown party reference '{ref}': use a party id, an IPI name number, or the key of a "
                    "party in the same batch")))
        found_ids = set()
        for chunk in _chunks(sorted(wanted_ids)):
            found_ids.update(self.conn.execute(select(parties.c.id).where(_among(self.conn, parties.c.id, chunk))).scalars())
        for ref in [r for r in refs if (isinstance(r, int) or (ids.ascii_digits(r) and len(r) <= 8))
                    and r not in self.party]:
            pid = int(ref)
            self.party[ref] = ((pid, None) if pid in found_ids
                               else (None, InvalidInput(Problem(f"no party with id {pid}"))))
        by_ipi: dict[str, int] = {}
        for chunk in _chunks(sorted(set(wanted_ipis.values()))):
            by_ipi.update(self.conn.execute(select(parties.c.ipi, parties.c.id).where(_among(self.conn, parties.c.ipi, chunk))).all())
        for ref, ipi in wanted_ipis.items():
            self.party[ref] = ((by_ipi[ipi], None) if ipi in by_ipi else (None, InvalidInput(Problem(
                f"no party with IPI name number {ipi}; register the party first"))))

    def party_id(self, ref: Any) -> int:
        """The id a prefetched reference names, or :class:`InvalidInput` as :func:`resolve_party` says it."""
        pid, error = self.party[ref]
        if error is not None:
            raise error
        return pid

    def prefetch_works(self, refs: Iterable[str], batch_works: dict[str, str]) -> None:
        """Registration numbers or ISWCs of registered works (current, not withdrawn), or this batch's."""
        r = registrations
        numbers, iswcs = {}, {}
        for ref in set(refs) - set(self.work):
            try:
                numbers[ref] = ids.parse_registration_number(ref)
            except InvalidInput:
                try:
                    iswcs[ref] = ids.parse_iswc(ref)
                except InvalidInput:
                    self.work[ref] = None
        live = (r.c.is_current, r.c.entity == "work", r.c.status != RegistrationStatus.WITHDRAWN.value)
        found: dict[str, str] = {}
        for chunk in _chunks(sorted(set(numbers.values()))):
            found.update((n, n) for n in self.conn.execute(select(r.c.number).where(_among(self.conn, r.c.number, chunk), *live))
                         .scalars())
        by_iswc: dict[str, str] = {}
        for chunk in _chunks(sorted(set(iswcs.values()))):
            for iswc, number in self.conn.execute(select(r.c.iswc, r.c.number).where(_among(self.conn, r.c.iswc, chunk), *live)
                                                  .order_by(r.c.id)):
                by_iswc.setdefault(iswc, number)
        for ref, number in numbers.items():
            self.work[ref] = found.get(number) or (number if number in batch_works.values() else None)
        for ref, iswc in iswcs.items():
            self.work[ref] = by_iswc.get(iswc) or batch_works.get(iswc)


def resolve(model: Work | Recording, resolver: Resolver) -> tuple[Work | Recording | None, list[Problem]]:
    """The model with party ids and linked work numbers, or its problems (as a single registration)."""
    return resolve_references(model, resolver.party_id, resolver.work.get)


def _refs(model: Work | PlainWork | Recording) -> list[Any]:
    # by the model's kind, not getattr(…, default): a pydantic model answers a missing attribute by raising
    # inside its __getattr__, which cost more than the rest of this function
    out = [s.party for s in model.shares]
    if isinstance(model, _WORKS):
        out += [c.party for c in model.contributors]
    else:
        out += [p.party for p in model.performers]
        if model.label is not None:
            out.append(model.label)
    return out


@dataclass(frozen=True)
class Resolved:
    """A valid work or recording with what its references resolve to (party reference → id; linked works as
    registration numbers): what :func:`resolve` gives, without copying the model."""

    model: Work | PlainWork | Recording
    party: dict[Any, int]
    works: tuple[str, ...] = ()

    def party_ids(self) -> list[int]:
        """Every party it names, as :func:`obra.registry.service.party_ids_of` lists them."""
        return sorted(set(self.party.values()))


def _resolved(model: Work | PlainWork | Recording, resolver: Resolver, own: bool = False) -> Resolved | None:
    """``model`` resolved when every reference resolves and its shares add up; None otherwise (then
    :func:`resolve` names each problem as a single registration would). ``own``: the references are ids."""
    if own:
        return Resolved(model, {ref: ref for ref in _refs(model)}, () if isinstance(model, Work) else model.works)
    table = resolver.party
    found: dict[Any, int] = {}
    for ref in _refs(model):
        pid, error = table[ref]
        if error is not None:
            return None
        found[ref] = pid
    works: tuple[str, ...] = ()
    if isinstance(model, Recording):
        works = tuple(resolver.work.get(ref) for ref in model.works)
        if None in works:
            return None
    if model.shares and share_problems(list(model.shares)):
        return None
    return Resolved(model, found, works)


def _dump(item: Resolved, entity: str) -> dict:
    """The model's JSON with its references resolved: what ``model_dump(mode="json")`` of the resolved copy gives."""
    party = item.party
    if type(item.model) is PlainWork:  # its dump made as it was checked: copied where references resolve
        dumped = dict(item.model.dump)
        for key in ("shares", "contributors"):
            dumped[key] = [{**value, "party": party[value["party"]]} for value in dumped[key]]
        return dumped
    dumped = item.model.model_dump(mode="json")
    for key in ("shares", "contributors", "performers"):
        for value in dumped.get(key) or ():
            value["party"] = party[value["party"]]
    if entity == "recording":
        if dumped.get("label") is not None:
            dumped["label"] = party[dumped["label"]]
        dumped["works"] = list(item.works)
    return dumped


def _side_rows(rid: int, item: Resolved) -> list[tuple[Any, list[dict]]]:
    """:func:`obra.registry.service.side_rows` of the resolved model."""
    model, party = item.model, item.party
    out: list[tuple[Any, list[dict]]] = []
    is_work = isinstance(model, _WORKS)
    if is_work and model.alternate_titles:
        out.append((titles, [{"registration_id": rid, "title": t.title, "title_norm": normalize_text(t.title)}
                             for t in model.alternate_titles]))
    if is_work and model.identifiers:
        out.append((work_identifiers, [{"registration_id": rid, "scheme": i.scheme, "value": i.value}
                                       for i in model.identifiers]))
    if model.shares:
        out.append((shares, [{"registration_id": rid, "party_id": party[s.party],
                              "role": _VALUE[s.role] if s.role else None, "right_type": _VALUE[s.right_type],
                              "territory": s.territory, "share": s.share} for s in model.shares]))
    people = ([(c.party, _VALUE[c.role]) for c in model.contributors] if is_work
              else [(p.party, _VALUE[p.role]) for p in model.performers])
    if people:
        out.append((contributors, [{"registration_id": rid, "party_id": party[p], "role": role}
                                   for p, role in people]))
    if not is_work and item.works:
        out.append((recording_works, [{"registration_id": rid, "work_number": w} for w in item.works]))
    return out


# --- parties -------------------------------------------------------------------------------------

def import_parties(conn: Connection, principal: Principal, items: list, keys: BatchKeys,
                   located: Located) -> tuple[list[int], list[int]]:
    """Parties of a batch: (every party's id in input order, the ids that were already on file).

    A party with submitter numbers goes through :func:`find_or_insert_party` (its rules need the
    rows); the others are looked up by IPI in one query and the new ones inserted together.
    """
    models = parse_section("parties", items, located)
    on_file: dict[str, tuple[int, str]] = {}
    ipis = sorted({m.ipi for m in models.values() if m.ipi and not m.identifiers})
    for chunk in _chunks(ipis):
        for ipi, pid, name in conn.execute(select(parties.c.ipi, parties.c.id, parties.c.name)
                                           .where(_among(conn, parties.c.ipi, chunk))):
            on_file[ipi] = (pid, name)
    ids_out: dict[int, int] = {}
    known: list[int] = []
    pending: list[tuple[int, Party]] = []

    def flush() -> None:
        if not pending:
            return
        now = datetime.now(timezone.utc)
        made = _new_ids(conn, parties, len(pending))
        write_rows(conn, parties, [
            {"id": pid, "kind": m.kind.value, "name": m.name, "name_norm": normalize_text(m.name),
             "roles": [r.value for r in m.roles], "ipi": m.ipi, "ipi_base": m.ipi_base, "isni": m.isni,
             "country": m.country, "created_at": now, "created_by": principal.name}
            for pid, (_, m) in zip(made, pending)])
        for (i, m), pid in zip(pending, made):
            ids_out[i] = pid
            if m.key:
                keys.keys[m.key] = pid
            if m.ipi:
                on_file[m.ipi] = (pid, m.name)
        pending.clear()

    for i in sorted(models):
        m = models[i]
        if m.identifiers:
            flush()
            try:
                stored, new = find_or_insert_party(conn, m, principal.name)
            except InvalidInput as exc:
                located.add("parties", i, exc.problems)
                continue
            ids_out[i] = stored.id
            if m.key:
                keys.keys[m.key] = stored.id
            if not new:
                known.append(stored.id)
            continue
        if m.ipi and m.ipi in on_file:
            pid, name = on_file[m.ipi]
            if pid is None:  # inserted in this batch, not yet flushed
                flush()
                pid, name = on_file[m.ipi]
            if normalize_text(name) != normalize_text(m.name):
                located.add("parties", i, [Problem(f"IPI {m.ipi} already belongs to '{name}', not '{m.name}'",
                                                   field="ipi")])
                continue
            ids_out[i] = pid
            known.append(pid)
            if m.key:
                keys.keys[m.key] = pid
            continue
        if m.ipi:
            on_file[m.ipi] = (None, m.name)
        pending.append((i, m))  # its key is known once flushed, before any work of the batch uses it
    flush()
    return [ids_out[i] for i in sorted(ids_out)], known


# --- registrations --------------------------------------------------------------------------------

def _reserve_numbers(conn: Connection, office: str, year: int, n: int) -> int:
    """The first of ``n`` consecutive numbers of ``office`` in ``year`` (see the module docstring)."""
    from sqlalchemy.dialects.postgresql import insert as pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    upsert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    stmt = (upsert(sequences).values(office=office, year=year, next_value=n + 1)
            .on_conflict_do_update(index_elements=[sequences.c.office, sequences.c.year],
                                   set_={"next_value": sequences.c.next_value + n})
            .returning(sequences.c.next_value))
    first = conn.execute(stmt).scalar_one() - n
    if first + n - 1 > NUMBERS_PER_YEAR:
        raise Conflict(f"office {office} has {NUMBERS_PER_YEAR - first + 1:,} registration numbers left in {year} "
                       f"and this import needs {n:,}: a number has seven digits per office and year",
                       hint="import the rest next year, or under another office code (OBRA_OFFICE); "
                            "nothing was written")
    return first


def _new_ids(conn: Connection, table, n: int) -> list[int]:
    """``n`` new ids of ``table`` (``registrations``, ``parties``), so its rows can be written with COPY and the
    rows pointing to them built before (PostgreSQL: from its sequence; SQLite: after the largest, under the
    write lock the transaction holds)."""
    if conn.dialect.name == "postgresql":
        return list(conn.execute(text(f"SELECT nextval(pg_get_serial_sequence('{table.name}', 'id')) "
                                      "FROM generate_series(1, :n)"), {"n": n}).scalars())
    top = conn.execute(select(func.max(table.c.id))).scalar() or 0
    return list(range(top + 1, top + 1 + n))


_UNSET = object()


class RawJSON(str):
    """A JSON column's value already serialised (the record's canonical text): written as it is."""


def _json_text(value: Any) -> str:
    """A JSON column's text, compact (``orjson``; what it refuses, the standard library writes)."""
    try:
        return orjson.dumps(value).decode("utf-8")
    except orjson.JSONEncodeError:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def write_rows(conn: Connection, table, rows: list[dict]) -> None:
    """Insert ``rows`` into ``table``: PostgreSQL ``COPY … FROM STDIN``, SQLite one ``executemany``.

    Values go through each column type's own bind processing (JSON text, SQLite date-times and
    decimals), exactly as an ``INSERT`` through SQLAlchemy would store them.
    """
    if not rows:
        return
    columns = list(rows[0])
    dialect = conn.dialect
    json_columns = {c for c in columns if table.c[c].type.__class__.__name__ == "JSON"}
    if dialect.name == "postgresql":
        cursor = conn.connection.dbapi_connection.cursor()
        values = itemgetter(*columns) if len(columns) > 1 else (lambda row: (row[columns[0]],))
        at = [k for k, c in enumerate(columns) if c in json_columns]  # the JSON columns' places in a row
        with cursor.copy(f'COPY "{table.name}" ({", ".join(columns)}) FROM STDIN') as copy:
            write = copy.write_row
            if not at:
                for row in rows:
                    write(values(row))
                return
            for row in rows:
                out = list(values(row))
                for k in at:
                    if type(out[k]) is not RawJSON:
                        out[k] = _json_text(out[k])
                write(out)
        return
    processors = [table.c[c].type._cached_bind_processor(dialect) for c in columns]
    values_by_column = []
    for c, f in zip(columns, processors):
        column = [row[c] for row in rows]
        if f is not None:
            last, out = _UNSET, None  # a chunk's rows share one timestamp: processed once
            for k, value in enumerate(column):
                if value is None or type(value) is RawJSON:
                    continue
                if value is not last:
                    last, out = value, f(value)
                column[k] = out
        values_by_column.append(column)
    values = list(zip(*values_by_column))
    sql = f'INSERT INTO "{table.name}" ({", ".join(columns)}) VALUES ({", ".join("?" * len(columns))})'
    conn.connection.dbapi_connection.cursor().executemany(sql, values)


def _party_names(conn: Connection, wanted: list[int]) -> dict[int, dict]:
    """Id → the party as a record names it (id, name, IPI, ISNI), for the parties ``wanted``.

    On PostgreSQL the parties are locked ``FOR KEY SHARE`` until the import's transaction ends, the lock its
    foreign keys' checks take (so none can be deleted or renumbered under the import), here once per party and
    set-based; a party missing by now (deleted since it was resolved) refuses the import."""
    named: dict[int, dict] = {}
    for chunk in _chunks(wanted):
        stmt = select(parties.c.id, parties.c.name, parties.c.ipi, parties.c.isni).where(_among(conn, parties.c.id,
                                                                                                chunk))
        if conn.dialect.name == "postgresql":
            stmt = stmt.with_for_update(key_share=True)
        for row in conn.execute(stmt):
            named[row.id] = {"id": row.id, "name": row.name, "ipi": row.ipi, "isni": row.isni}
    missing = [pid for pid in wanted if pid not in named]
    if missing:
        raise Conflict(f"{len(missing):,} of the parties this import names are no longer on file (party "
                       f"{', '.join(map(str, missing[:5]))}{' …' if len(missing) > 5 else ''}): they were removed "
                       "while it ran", hint="import the file again; nothing was written")
    return named


@contextmanager
def _references_checked_here(conn: Connection):
    """PostgreSQL: the rows of a bulk load written without the per-row checks of their foreign keys, which
    the load has made itself, set-based.

    Every reference a bulk load writes is one it has checked: a registration id is one this load took from
    the sequence and writes in the same chunk, before the rows that point to it (a failed write rolls the
    whole import back); a party id is one :func:`_party_names` found and locked ``FOR KEY SHARE`` for the
    rest of the transaction, the lock the checks would take. The per-row checks (triggers: one query per
    share and contributor) were the server's largest cost: 72 µs of server CPU per work with them, 41 µs
    without (200,000 works). So the writes run with ``session_replication_role = replica``, which turns
    the foreign-key triggers off for this transaction only (a store's tables have no other triggers), and
    the setting is put back for what follows in the same transaction. Setting it needs a superuser or, from
    PostgreSQL 15, ``GRANT SET ON PARAMETER session_replication_role``; without that right the triggers
    check each row as before. SQLite checks foreign keys only when asked to, and Obra does not ask."""
    if not _may_turn_off_reference_triggers(conn):
        yield
        return
    before = conn.exec_driver_sql("SELECT current_setting('session_replication_role')").scalar()
    conn.exec_driver_sql("SELECT set_config('session_replication_role', 'replica', true)")
    yield
    # only when the writes succeeded: after a failure the transaction rolls back, and the setting with it
    conn.execute(text("SELECT set_config('session_replication_role', :before, true)"), {"before": before})


def _may_turn_off_reference_triggers(conn: Connection) -> bool:
    """True on PostgreSQL when this connection's role may set ``session_replication_role``."""
    if conn.dialect.name != "postgresql":
        return False
    if conn.exec_driver_sql("SELECT current_setting('is_superuser')").scalar() == "on":
        return True
    if (conn.dialect.server_version_info or (0,)) < (15,):
        return False
    return bool(conn.exec_driver_sql("SELECT has_parameter_privilege('session_replication_role', 'SET')").scalar())


SWITCH_INTERVAL = 0.0005
"""Seconds a thread keeps the GIL while another waits for it, during a bulk load's writes (see :class:`_Writer`)."""


class _Writer:
    """Writes a bulk load's rows (:func:`write_rows`, table by table, in the order given) on a thread of its
    own, one chunk behind the thread that builds them: while it waits for the database (a COPY, SQLite's
    page and index work, which release the GIL) the next chunk is being built.

    The connection is used by this thread alone between ``__enter__`` and ``__exit__``. A failure stops the
    writing and is raised in the building thread, at the next :meth:`put` or on leaving, so the caller's
    transaction rolls back; leaving on an error waits for the thread to stop first.

    The writer needs the GIL back between rows (SQLite binds each row's values in Python; psycopg after each
    buffer sent), and the building thread keeps it for up to the interpreter's switch interval (5 ms) each
    time: the interval is :data:`SWITCH_INTERVAL` while the writer runs, as it was after (50,000 works on
    SQLite, which wrote on the building thread before: 25-27 % less wall time at the same CPU, at load 4.5).
    """

    def __init__(self, conn: Connection):
        self.conn = conn
        self.jobs: queue.Queue = queue.Queue(maxsize=1)
        self.error: BaseException | None = None
        self.old_switch = sys.getswitchinterval()
        self.thread = threading.Thread(target=self._run, name="obra-bulk-writer", daemon=True)

    def __enter__(self) -> "_Writer":
        sys.setswitchinterval(min(self.old_switch, SWITCH_INTERVAL))
        self.thread.start()
        return self

    def _run(self) -> None:
        while (job := self.jobs.get()) is not None:
            try:
                if self.error is None:  # else drain: the builder learns of the error at its next put
                    for table, rows in job:
                        with _stage(f"write {table.name}"):
                            write_rows(self.conn, table, rows)
            except BaseException as exc:  # noqa: BLE001 - handed to the building thread
                self.error = exc
            finally:
                self.jobs.task_done()

    def wait_idle(self) -> None:
        """Wait until every chunk put so far is written: the connection is the calling thread's again until the
        next :meth:`put`."""
        with _stage("wait for writer"):
            self.jobs.join()
        if self.error is not None:
            raise self.error

    def put(self, job: list[tuple[Any, list[dict]]]) -> None:
        if self.error is not None:
            raise self.error
        with _stage("wait for writer"):
            self.jobs.put(job)

    def __exit__(self, kind, exc, tb) -> None:
        with _stage("wait for writer"):
            self.jobs.put(None)
            self.thread.join()
        sys.setswitchinterval(self.old_switch)
        if exc is None and self.error is not None:
            raise self.error


def _chunk_rows(principal: Principal, entity: str, items: list[Resolved], numbers: list[str], rids: list[int],
                named: dict[int, dict], batch: BatchAppend, office: str) -> list[tuple[Any, list[dict]]]:
    """The rows of one chunk of registrations, table by table in the order they are written: log entries and
    subtrees, journal events, registrations, then the tables that point to them."""
    now = datetime.now(timezone.utc)
    with _stage("build"):
        records, events = [], []
        registered_at = now.isoformat()
        status = RegistrationStatus.REGISTERED.value
        for item, number in zip(items, numbers):
            model = item.model
            # build_record (obra.registry.service) of the resolved model, field for field
            record = {
                "number": number, "version": 1, "office": office, "entity": entity, "status": status,
                "registered_at": registered_at, "registrant": principal.name, "reason": None,
                "creation_mode": _VALUE[model.creation_mode],
                "disclosure": (model.disclosure.model_dump(mode="json")
                               if isinstance(model, _WORKS) and model.disclosure else None),
                entity: _dump(item, entity),
                "parties": [named[p] for p in item.party_ids()],
            }
            # hashed, and stored as the record's JSON text (one serialisation); plain: member names are the
            # models' ASCII field names, numbers integers the models bound far below 2^53, shares decimal text
            text_ = canonical_plain(record)
            digest = hashlib.sha256(text_).hexdigest()
            records.append((RawJSON(text_.decode("utf-8")), digest))
            events.append({"type": "register", "number": number, "version": 1, "record_hash": digest,
                           "entity": entity})
    with _stage("log"):
        entries, entry_rows, node_rows = batch.add(events, built=True)
    with _stage("rows"):
        journal = [{"office": batch.log.office, "kind": "registration.register", "subject": f"{e['number']}/v1",
                    "actor": principal.name, "at": entry.timestamp, "payload": e, "record_hash": e["record_hash"],
                    "log_index": entry.index} for e, entry in zip(events, entries)]
        rows: list[dict] = []
        is_work = entity == "work"
        for rid, item, number, (record, digest), entry in zip(rids, items, numbers, records, entries):
            model = item.model
            rows.append({"id": rid, "number": number, "version": 1, "entity": entity, "status": status,
                         "is_current": True, "kind": _VALUE[model.kind] if is_work else None,
                         "title": model.title, "title_norm": normalize_text(model.title),
                         "iswc": model.iswc if is_work else None, "isrc": None if is_work else model.isrc,
                         "creation_mode": _VALUE[model.creation_mode], "record": record, "record_hash": digest,
                         "registrant": principal.name, "reason": None, "created_at": now, "log_index": entry.index})
        side: dict[Any, list[dict]] = {}
        for rid, item in zip(rids, items):
            for table, extra in _side_rows(rid, item):
                side.setdefault(table, []).extend(extra)
    return [(log_entries, entry_rows), (log_nodes, node_rows), (journal_events, journal), (registrations, rows),
            *side.items()]


def import_section(conn: Connection, store, principal: Principal, section: str, items: list, resolver: Resolver,
                   located: Located, batch_works: dict[str, str], log: TransparencyLog,
                   named: dict[int, dict]) -> list[str]:
    """Validate, resolve and register a section of works or recordings in the caller's transaction; problems
    go to ``located``; returns the numbers of the records registered, in order.

    What a section needs of the database is taken first, for every record that may be valid: its party and
    work references (read from the records as given, one query per kind), numbers (one block: the sequence's
    row stays locked until the transaction ends, so a block is gapless however many records turn out valid,
    and any problem rolls the whole batch back), ids, and the named parties. Then chunk by chunk the records
    are validated, resolved and built (records, hashes, leaves, rows) while a :class:`_Writer` writes the
    chunk before on its own thread, so the server's work overlaps all of this process's, validation included.
    Once a problem is found nothing more is written (the batch will be rolled back), but every record is
    still validated and numbered as before, so every problem is reported as the per-record path reports it.

    ``named`` holds the parties an earlier section of the same batch has read and locked (:func:`_party_names`),
    so that each is read once; it grows with this section's.
    """
    entity = section[:-1]
    with _stage("resolve"):
        party_refs, work_refs = _given_refs(section, items)
        resolver.prefetch_parties(party_refs)
        if section == "recordings":
            resolver.prefetch_works(work_refs, batch_works)
    n = sum(item is not None for item in items)
    if not n:
        return []
    if conn.dialect.name == "sqlite" and n >= CHUNK // 4:
        # a bulk load touches the title, number and trigram indexes all over: a page cache of 256 MiB (it
        # grows only as used) instead of SQLite's 2 MiB keeps them in memory for the connection's life
        conn.exec_driver_sql(f"PRAGMA cache_size = -{256 * 1024}")
    year = datetime.now(timezone.utc).year
    first = _reserve_numbers(conn, store.office, year, n)
    rids = _new_ids(conn, registrations, n)
    with _stage("resolve"):
        named.update(_party_names(conn, sorted({pid for pid, error in resolver.party.values() if error is None}
                                               - named.keys())))
    numbers: list[str] = []
    batch = BatchAppend(log, conn)
    office = store.office.upper()
    with _references_checked_here(conn):
        with _Writer(conn) as writer:
            for start, end in chunk_bounds(len(items)):
                ready = _valid_chunk(conn, section, items[start:end], start, resolver, located, batch_works, named,
                                     writer)
                done = len(numbers)
                chunk_numbers = ids.registration_numbers(store.office, year, first + done, len(ready))
                numbers += chunk_numbers
                if section == "works":
                    for item, number in zip(ready, chunk_numbers):
                        batch_works[number] = number
                        if item.model.iswc:
                            batch_works.setdefault(item.model.iswc, number)
                if ready and not located.found:
                    writer.put(_chunk_rows(principal, entity, ready, chunk_numbers, rids[done:done + len(ready)],
                                           named, batch, office))
    with _stage("log_check"):
        batch.finish(conn)
    return numbers


def _given_refs(section: str, items: list) -> tuple[list[Any], list[str]]:
    """The party and work references of ``items`` as given, before they are parsed, so that the whole section's
    are looked up at once (a reference parsing turns into another is looked up when it turns up)."""
    party_refs: list[Any] = []
    work_refs: list[Any] = []
    keys = ("shares", "contributors") if section == "works" else ("shares", "performers")
    for item in items:
        if isinstance(item, (Work, Recording)):
            party_refs += _refs(item)
            work_refs += list(getattr(item, "works", ()))
            continue
        if not isinstance(item, dict):
            continue
        for key in keys:
            values = item.get(key)
            if isinstance(values, list):
                party_refs += [value.get("party") for value in values if isinstance(value, dict)]
        if section == "recordings":
            party_refs.append(item.get("label"))
            if isinstance(item.get("works"), list):
                work_refs += item["works"]
    return ([ref for ref in party_refs if isinstance(ref, str) or (type(ref) is int)],
            [ref for ref in work_refs if isinstance(ref, str)])


def chunk_bounds(n: int) -> list[tuple[int, int]]:
    """(start, end) of the chunks of a section of ``n`` records: :data:`CHUNK` records at most, but the first and
    the last :data:`EDGE_CHUNK`, because the writer waits for the first chunk to be built and the building thread for
    the last one to be written (with 5,000-record chunks those two waits were a tenth of a 50,000-work import)."""
    if n <= 2 * EDGE_CHUNK:
        cuts = [*range(0, n, EDGE_CHUNK), n]
    else:  # the middle in equal chunks of CHUNK records at most
        middle = n - 2 * EDGE_CHUNK
        parts = -(-middle // CHUNK)
        cuts = [0, *(EDGE_CHUNK + middle * k // parts for k in range(parts + 1)), n]
    return list(zip(cuts, cuts[1:]))


def _valid_chunk(conn: Connection, section: str, items: list, start: int, resolver: Resolver, located: Located,
                 batch_works: dict[str, str], named: dict[int, dict], writer: _Writer) -> list[Resolved]:
    """The records ``items`` (the section's from index ``start`` on) that are valid, resolved; the others' problems
    go to ``located``. A reference the section's first look-up did not see is looked up once the writer is idle
    (the connection is then this thread's)."""
    with _stage("validate"):
        models = parse_section(section, items, located, start)
    with _stage("resolve"):
        unseen_works = ([ref for m in models.values() for ref in m.works if ref not in resolver.work]
                        if section == "recordings" else [])
        if not unseen_works:
            try:
                return _resolved_chunk(section, models, items, start, resolver, located)
            except KeyError:  # a party reference the section's first look-up did not see
                pass
        unseen = [ref for m in models.values() for ref in _refs(m) if ref not in resolver.party]
        writer.wait_idle()
        resolver.prefetch_parties(unseen)
        if unseen_works:
            resolver.prefetch_works(unseen_works, batch_works)
        new = {pid for pid, error in (resolver.party[ref] for ref in unseen) if error is None} - set(named)
        named.update(_party_names(conn, sorted(new)))
        return _resolved_chunk(section, models, items, start, resolver, located)


def _resolved_chunk(section: str, models: dict[int, Any], items: list, start: int, resolver: Resolver,
                    located: Located) -> list[Resolved]:
    """The valid ``models`` (index → model) resolved, in order; the others' problems go to ``located``, once all
    are resolved (a reference not looked up yet raises ``KeyError`` before any is added)."""
    ready: list[Resolved] = []
    found: list[tuple[int, list[Problem]]] = []
    for i in sorted(models):
        fast = _resolved(models[i], resolver)
        if fast is not None:
            ready.append(fast)
            continue
        if type(models[i]) is PlainWork:  # a reference that does not resolve: the model names the problems
            models[i] = parse(Work, items[i - start])
        resolved, problems = resolve(models[i], resolver)
        if problems:
            found.append((i, problems))
        else:  # resolved after all: its references are ids and numbers already
            ready.append(_resolved(resolved, resolver, own=True))
    for i, problems in found:
        located.add(section, i, problems)
    return ready


def link_batch_works(items: list, numbers: list[str], located: Located) -> list:
    """``"@3"`` in a recording's works → the 4th work registered by this batch (as the per-record path)."""
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, dict) or not item.get("works"):
            out.append(item)
            continue
        linked, bad = [], False
        for ref in item["works"]:
            if isinstance(ref, str) and ref.startswith("@") and ids.ascii_digits(ref[1:]):
                index = int(ref[1:])
                if index >= len(numbers):
                    located.add("recordings", i, [Problem(f"'{ref}' points past the {len(numbers)} works "
                                                          "registered so far in this batch", field="works")])
                    bad = True
                    break
                linked.append(numbers[index])
            else:
                linked.append(ref)
        out.append(None if bad else {**item, "works": linked})
    return out



def merge_pending_search_entries(store) -> int:
    """PostgreSQL: move the entries a load left in the pending lists of the search's GIN indexes (titles, alternate
    titles, party names) into the indexes themselves; returns how many pending pages were merged.

    A GIN index takes new entries into an unsorted pending list (``fastupdate``), merged in once it holds
    ``gin_pending_list_limit`` (4 MB) or at the next vacuum; until then every search reads the whole list. After a
    load it is nearly full: at 11,000,000 registrations search p50/p95 was 18/52 ms with the lists a load left, 12/43
    ms once merged (``gin_clean_pending_list``, the same work the next insert or vacuum would have done). Needs
    the right to vacuum the tables (their owner: the role that migrated the store); without it the lists wait for
    autovacuum, and the load is not undone."""
    with store.engine.connect() as conn:
        if conn.dialect.name != "postgresql":
            return 0
        indexes = conn.execute(text(
            "SELECT i.indexrelid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = "
            "c.relam WHERE a.amname = 'gin' AND i.indrelid IN (CAST('registrations' AS regclass), "
            "CAST('titles' AS regclass), CAST('parties' AS regclass))")).scalars().all()
    # side by side, one connection each: the indexes are independent, and one merge keeps one of the server's
    # cores busy while this process waits
    with ThreadPoolExecutor(max_workers=max(1, len(indexes))) as pool:
        return sum(pool.map(lambda index: _merge_pending(store, index), indexes))


def _merge_pending(store, index: int) -> int:
    """``gin_clean_pending_list`` of one index, in a transaction of its own (an index merged stays merged)."""
    from psycopg import errors

    with store.engine.connect() as conn:
        try:
            merged = conn.execute(text("SELECT gin_clean_pending_list(CAST(:i AS oid))"), {"i": index}).scalar()
            conn.commit()
            return merged
        except Exception as exc:  # noqa: BLE001 - only the lack of the right is expected, and let through
            conn.rollback()
            if not isinstance(getattr(exc, "orig", None), errors.InsufficientPrivilege):
                raise
            return 0


def settle_after_load(store, refresh: bool) -> None:
    """After a bulk import: the search's pending index entries merged (:func:`merge_pending_search_entries`) and,
    when ``refresh``, the statistics refreshed if stale (:func:`refresh_statistics`), side by side. Both are the
    server's work (the statistics read a sample of pages, from disk on a large register), so running them at once
    takes the time of the longest rather than the sum."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        jobs = [pool.submit(merge_pending_search_entries, store)]
        if refresh:
            jobs.append(pool.submit(refresh_statistics, store))
        for job in jobs:
            job.result()


STALE = 0.1
"""Statistics are refreshed after a bulk load once the register has grown by this fraction since they were gathered
(PostgreSQL's own autovacuum rule, ``autovacuum_analyze_scale_factor``)."""


def refresh_statistics(store) -> bool:
    """Refresh the query planner's statistics after a large load, when the register has grown by :data:`STALE` or
    more since they were last gathered (or never were), so searches keep using the title and trigram indexes
    (without them SQLite walks the unselective ``is_current`` index); True when they were refreshed. Sampled, so
    it costs about the same on a register of ten thousand works as on one of ten million: SQLite ``ANALYZE`` with
    ``analysis_limit``, PostgreSQL ``ANALYZE`` of the registry's tables. Not after every file: a register loaded
    in files of 50,000 works spent 6 % of its load time gathering statistics that had barely changed."""
    with store.begin() as conn:
        known = rows_in_statistics(conn)
        if known:
            rows = conn.execute(select(func.max(registrations.c.id))).scalar() or 0
            if rows - known < STALE * known:
                return False
        if conn.dialect.name == "postgresql":
            conn.execute(text("ANALYZE registrations, titles, parties, shares, contributors"))
        else:
            conn.exec_driver_sql("PRAGMA analysis_limit = 1000")
            conn.exec_driver_sql("ANALYZE")
    return True


def rows_in_statistics(conn: Connection) -> int | None:
    """How many registrations the planner's statistics say there are (None when they were never gathered)."""
    if conn.dialect.name == "postgresql":
        rows = conn.execute(text("SELECT reltuples FROM pg_class WHERE oid = CAST('registrations' AS regclass)")).scalar()
        return int(rows) if rows is not None and rows >= 0 else None
    if conn.exec_driver_sql("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").first() is None:
        return None
    # one row per index, each starting with the rows it holds: a partial index (ISWC, ISRC) holds fewer
    stats = conn.exec_driver_sql("SELECT stat FROM sqlite_stat1 WHERE tbl = 'registrations' AND stat IS NOT NULL"
                                 ).scalars().all()
    return max(int(stat.split()[0]) for stat in stats) if stats else None
