"""The registration workflow: submit → validate → number → public record; corrections append versions.

:class:`Registry` is the one object the CLI, the API and batch imports call. Each call is
one transaction: it validates everything first, writes the new version, tells the event
sinks (the transparency log, the content index) inside the same transaction, and
commits, so a failure anywhere leaves nothing behind.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Protocol

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from obra import ids
from obra.access import Principal, require
from obra.journal import Journal
from obra.errors import InvalidInput, NotFound, PermissionDenied, Problem
from obra.model import Agreement, Party, Recording, Work, parse, share_problems
from obra.model.text import DB_ID_MAX, NAME_MAX, QUERY_MAX, REASON_MAX, bounded_int, clean_text
from obra.model.vocab import CreationMode, RegistrationStatus
from obra.registry.parties import get_party, insert_party, resolve_party, row_to_party
from obra.registry import search
from obra.registry.records import RegistrationRecord, record_hash
from obra.store import Store
from obra.store.schema import (agreements, contributors, parties, recording_works, registrations,
                               sequences, shares, titles, work_identifiers)
from obra.textnorm import normalize_text


ENTITIES = ("work", "recording")
SEARCH_LIMIT_MAX = 500
"""The most results one search returns (``limit`` goes from 1 to this)."""


class EventSink(Protocol):
    """Something told about every registration event, inside the registering transaction."""

    def append(self, conn: Connection, event: dict) -> Any: ...


@dataclass
class BatchKeys:
    """Party keys introduced earlier in the same batch (submitter's references → ids)."""

    keys: dict[str, int] = field(default_factory=dict)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _next_sequence(conn: Connection, office: str, year: int) -> int:
    """The next number of ``office`` in ``year``: gapless, and race-free on both stores.

    One statement, ``INSERT … ON CONFLICT (office, year) DO UPDATE SET next_value = next_value + 1
    RETURNING next_value``: the first registration of a year creates the row, every later one
    increments it. On PostgreSQL two transactions starting a year at once do not both insert
    (the second waits for the first's row and then increments it: a plain SELECT … FOR UPDATE
    has no row to lock yet, so both used to insert and one crashed on the duplicate key); on
    SQLite writes are serialised by ``BEGIN IMMEDIATE``. The increment is part of the caller's
    transaction, so a registration that rolls back gives its number back: no gaps.
    """
    upsert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    stmt = (upsert(sequences).values(office=office, year=year, next_value=2)
            .on_conflict_do_update(index_elements=[sequences.c.office, sequences.c.year],
                                   set_={"next_value": sequences.c.next_value + 1})
            .returning(sequences.c.next_value))
    return conn.execute(stmt).scalar_one() - 1


class Registry:
    """Registrations of works and recordings, parties and agreements."""

    def __init__(self, store: Store, sinks: Iterable[EventSink] | None = None):
        self.store = store
        self.sinks: list[EventSink] = list(sinks) if sinks is not None else default_sinks(store)

    # --- parties and agreements ---------------------------------------------------------

    def add_party(self, principal: Principal, party: Party | dict) -> Party:
        require(principal, "add_party")
        party = party if isinstance(party, Party) else parse(Party, party)
        with self.store.begin() as conn:
            stored = insert_party(conn, party, principal.name)
            Journal(self.store).record(conn, "party.added", f"party/{stored.id}",
                                       {"name": stored.name, "ipi": stored.ipi, "isni": stored.isni}, principal.name)
            return stored

    def party(self, party_id: int) -> Party:
        party_id = bounded_int(party_id, field="party_id", high=DB_ID_MAX, what="a party id")
        with self.store.connect() as conn:
            found = get_party(conn, party_id)
        if found is None:
            raise NotFound(f"no party with id {party_id}")
        return found

    def add_agreement(self, principal: Principal, agreement: Agreement | dict,
                      conn: Connection | None = None, keys: BatchKeys | None = None) -> Agreement:
        require(principal, "add_agreement")
        agreement = agreement if isinstance(agreement, Agreement) else parse(Agreement, agreement)
        if conn is None:
            with self.store.begin() as own:
                added = self.add_agreement(principal, agreement, own, keys)
                Journal(self.store).record(own, "agreement.added", f"agreement/{added.id}",
                                           added.model_dump(mode="json"), principal.name)
                return added
        keys = keys or BatchKeys()
        assignor = resolve_party(conn, agreement.assignor, keys.keys, "assignor")
        assignee = resolve_party(conn, agreement.assignee, keys.keys, "assignee")
        for number in agreement.works:
            ids.parse_registration_number(number, field="works")
        resolved = agreement.model_copy(update={"assignor": assignor, "assignee": assignee})
        aid = conn.execute(insert(agreements).values(
            kind=agreement.kind.value, assignor_id=assignor, assignee_id=assignee, start=agreement.start,
            end=agreement.end, record=resolved.model_dump(mode="json", exclude={"id"}),
            created_at=_now(), created_by=principal.name)).inserted_primary_key[0]
        return resolved.model_copy(update={"id": aid})

    def agreements(self) -> list[Agreement]:
        with self.store.connect() as conn:
            rows = conn.execute(select(agreements).order_by(agreements.c.id)).all()
        return [Agreement.model_validate({**r.record, "id": r.id}) for r in rows]

    # --- registration ---------------------------------------------------------------------

    def register(self, principal: Principal, entity: str, data: Work | Recording | dict,
                 conn: Connection | None = None, keys: BatchKeys | None = None,
                 content: dict | None = None) -> RegistrationRecord:
        """Register a new work or recording and return its public record (version 1).

        ``content`` (the file's content codes, see :mod:`obra.identify.registration`) becomes
        part of the published, hashed and logged record.
        """
        require(principal, "register")
        if conn is None:
            with self.store.begin() as own:
                return self.register(principal, entity, data, own, keys, content)
        model = self._parse(entity, data)
        resolved = self._resolve(conn, entity, model, keys or BatchKeys())
        year = _now().year
        number = ids.format_registration_number(self.store.office, year, _next_sequence(conn, self.store.office, year))
        return self._write_version(conn, principal, number, 1, entity, resolved,
                                   RegistrationStatus.REGISTERED, None, "register", content)

    def correct(self, principal: Principal, number: str, data: Work | Recording | dict, reason: str,
                conn: Connection | None = None, content: dict | None = None,
                keys: BatchKeys | None = None) -> RegistrationRecord:
        """A new version with corrected data; earlier versions stay readable forever.

        Without new ``content`` the previous version's content codes carry over.
        """
        require(principal, "correct")
        reason = clean_text(reason, field="reason", max_length=REASON_MAX, multiline=True)
        if conn is None:
            with self.store.begin() as own:
                return self.correct(principal, number, data, reason, own, content, keys)
        current = self._current_row(conn, number)
        self._check_owner(principal, current)
        if current.status == RegistrationStatus.WITHDRAWN:
            raise InvalidInput(Problem(f"{current.number} was withdrawn; register it anew instead",
                                       field="number"))
        model = self._parse(current.entity, data)
        resolved = self._resolve(conn, current.entity, model, keys or BatchKeys())
        return self._write_version(conn, principal, current.number, current.version + 1, current.entity,
                                   resolved, RegistrationStatus.CORRECTED, reason, "correct",
                                   content or current.record.get("content"))

    def withdraw(self, principal: Principal, number: str, reason: str) -> RegistrationRecord:
        """Withdraw a registration: a new version with status 'withdrawn', keeping the data visible."""
        require(principal, "withdraw")
        if reason is None or (isinstance(reason, str) and not reason.strip()):
            raise InvalidInput(Problem("a withdrawal needs a reason", field="reason"))
        reason = clean_text(reason, field="reason", max_length=REASON_MAX, multiline=True)
        with self.store.begin() as conn:
            current = self._current_row(conn, number)
            self._check_owner(principal, current)
            if current.status == RegistrationStatus.WITHDRAWN:
                raise InvalidInput(Problem(f"{current.number} is already withdrawn", field="number"))
            model = self._parse(current.entity, current.record[current.entity])
            return self._write_version(conn, principal, current.number, current.version + 1, current.entity,
                                       model, RegistrationStatus.WITHDRAWN, reason, "withdraw",
                                       current.record.get("content"))

    # --- reading ----------------------------------------------------------------------------

    def show(self, number: str, version: int | None = None) -> RegistrationRecord:
        """One version of a registration: the current one, or ``version`` (1 is the first).

        A version below 1 (or not a whole number) is :class:`InvalidInput`; one past the
        current version is :class:`NotFound` naming the versions there are.
        """
        number = ids.parse_registration_number(number)
        if version is not None:
            version = bounded_int(version, field="version", low=1, high=None, what="a version")
        with self.store.connect() as conn:
            current = conn.execute(select(registrations).where(registrations.c.number == number,
                                                               registrations.c.is_current)).first()
            if current is None:
                raise NotFound(f"no registration {number}")
            if version is None or version == current.version:
                return _to_record(current)
            if version > current.version:
                raise NotFound(f"{number} has no version {version}: its versions go from 1 to {current.version}")
            row = conn.execute(select(registrations).where(registrations.c.number == number,
                                                           registrations.c.version == version)).first()
        if row is None:
            raise NotFound(f"no registration {number} version {version}")
        return _to_record(row)

    def history(self, number: str) -> list[RegistrationRecord]:
        number = ids.parse_registration_number(number)
        with self.store.connect() as conn:
            rows = conn.execute(select(registrations).where(registrations.c.number == number)
                                .order_by(registrations.c.version)).all()
        if not rows:
            raise NotFound(f"no registration {number}")
        return [_to_record(r) for r in rows]

    def search(self, text: str | None = None, *, iswc: str | None = None, isrc: str | None = None,
               party: str | int | None = None, entity: str | None = None,
               creation_mode: str | None = None, limit: int = 50) -> list[dict]:
        """Current registrations by title (ranked, accent/case/width-insensitive, any script, typo-tolerant),
        identifier or party; see :mod:`obra.registry.search` for the ranking."""
        r = registrations
        limit = bounded_int(limit, field="limit", low=1, high=SEARCH_LIMIT_MAX, what="the number of results")
        if entity is not None and entity not in ENTITIES:
            raise InvalidInput(Problem(f"unknown entity {_shown(entity)}: use one of {', '.join(ENTITIES)}",
                                       field="entity"))
        modes = [m.value for m in CreationMode]
        if creation_mode is not None and creation_mode not in modes:
            raise InvalidInput(Problem(f"unknown creation mode {_shown(creation_mode)}: use one of "
                                       f"{', '.join(modes)}", field="mode"))
        q = _searchable(text, "text", QUERY_MAX) if text is not None else None
        conditions = [r.c.is_current]
        if iswc:
            conditions.append(r.c.iswc == ids.parse_iswc(iswc))
        if isrc:
            conditions.append(r.c.isrc == ids.parse_isrc(isrc))
        if entity:
            conditions.append(r.c.entity == entity)
        if creation_mode:
            conditions.append(r.c.creation_mode == creation_mode)
        columns = (r.c.id, r.c.number, r.c.version, r.c.entity, r.c.status, r.c.title, r.c.iswc, r.c.isrc,
                   r.c.creation_mode, r.c.kind)
        with self.store.connect() as conn:
            if party is not None:
                conditions.append(r.c.id.in_(self._party_registrations(conn, party)))
            if q is None:
                # code-point order on both stores: the order of the search's title index (search_titles_prefix on
                # PostgreSQL, search_titles_norm on SQLite), read LIMIT rows deep
                stmt = (select(*columns).where(*conditions)
                        .order_by(search.sortable(conn, r.c.title_norm), r.c.number).limit(limit))
                return [{k: v for k, v in row._mapping.items() if k != "id"} for row in conn.execute(stmt)]
            best = search.ranked_hits(conn, text, q, conditions, limit).ranked(limit)
            rows = conn.execute(select(*columns).where(r.c.id.in_(best))).all() if best else []
        order = {rid: k for k, rid in enumerate(best)}
        rows.sort(key=lambda row: order[row.id])
        return [{k: v for k, v in row._mapping.items() if k != "id"} for row in rows]

    @staticmethod
    def _party_registrations(conn: Connection, party: str | int):
        if not isinstance(party, str):
            pids = [bounded_int(party, field="party", what="a party id")]
        elif ids.ascii_digits(digits := party.strip()) and len(digits) <= 8:
            pids = [int(digits)]
        elif ids.ascii_digits(digits):
            pids = select(parties.c.id).where(parties.c.ipi == ids.parse_ipi_name(digits, field="party"))
        else:
            pids = search.party_ids(conn, _searchable(party, "party", NAME_MAX))
        return (select(shares.c.registration_id).where(shares.c.party_id.in_(pids))
                .union(select(contributors.c.registration_id).where(contributors.c.party_id.in_(pids))))

    def find_by_identifier(self, scheme: str, value: str, conn: Connection | None = None) -> str | None:
        """The current, not withdrawn, work registered under a submitter's own number, if any."""
        r = registrations
        stmt = (select(r.c.number).join(work_identifiers, work_identifiers.c.registration_id == r.c.id)
                .where(work_identifiers.c.scheme == scheme, work_identifiers.c.value == value, r.c.is_current,
                       r.c.status != RegistrationStatus.WITHDRAWN.value)
                .order_by(r.c.number))
        if conn is None:
            with self.store.connect() as own:
                return own.execute(stmt).scalar()
        return conn.execute(stmt).scalar()

    def counts(self) -> dict[str, int]:
        r = registrations
        with self.store.connect() as conn:
            rows = conn.execute(select(r.c.entity, r.c.creation_mode, func.count()).where(r.c.is_current)
                                .group_by(r.c.entity, r.c.creation_mode)).all()
            n_parties = conn.execute(select(func.count()).select_from(parties)).scalar_one()
            n_agreements = conn.execute(select(func.count()).select_from(agreements)).scalar_one()
        out = {"parties": n_parties, "agreements": n_agreements}
        for entity, mode, n in rows:
            out[f"{entity}s"] = out.get(f"{entity}s", 0) + n
            out[f"{entity}s_{mode}"] = n
        return out

    # --- internals --------------------------------------------------------------------------

    @staticmethod
    def _parse(entity: str, data) -> Work | Recording:
        if entity not in ("work", "recording"):
            raise InvalidInput(Problem(f"unknown entity '{entity}': use 'work' or 'recording'", field="entity"))
        model = Work if entity == "work" else Recording
        if isinstance(data, model):
            return data
        return parse(model, data)

    def _resolve(self, conn: Connection, entity: str, model: Work | Recording, keys: BatchKeys):
        """Check what needs the database (parties, linked works) and return the model with party ids."""
        def party_id(ref):
            return resolve_party(conn, ref, keys.keys, "")

        resolved, problems = resolve_references(model, party_id, lambda ref: self._find_work(conn, ref))
        if problems:
            raise InvalidInput(problems)
        return resolved

    @staticmethod
    def _find_work(conn: Connection, ref: str) -> str | None:
        r = registrations
        cond = None
        try:
            cond = r.c.number == ids.parse_registration_number(ref)
        except InvalidInput:
            try:
                cond = r.c.iswc == ids.parse_iswc(ref)
            except InvalidInput:
                return None
        row = conn.execute(select(r.c.number).where(cond, r.c.is_current, r.c.entity == "work",
                                                    r.c.status != RegistrationStatus.WITHDRAWN.value)).first()
        return row.number if row else None

    @staticmethod
    def _current_row(conn: Connection, number: str):
        number = ids.parse_registration_number(number)
        row = conn.execute(select(registrations).where(registrations.c.number == number,
                                                       registrations.c.is_current)).first()
        if row is None:
            raise NotFound(f"no registration {number}")
        return row

    @staticmethod
    def _check_owner(principal: Principal, row) -> None:
        first_registrant = row.record.get("registrant") or row.registrant
        if principal.name != first_registrant and not principal.can("correct_any"):
            raise PermissionDenied(f"{row.number} was registered by '{first_registrant}'; only they or "
                                   "office staff may change it")

    def _write_version(self, conn: Connection, principal: Principal, number: str, version: int, entity: str,
                       model: Work | Recording, status: RegistrationStatus, reason: str | None,
                       event: str, content: dict | None = None) -> RegistrationRecord:
        now = _now()
        prev_registrant = None
        if version > 1:
            prev = conn.execute(select(registrations.c.record).where(
                registrations.c.number == number, registrations.c.version == 1)).scalar_one()
            prev_registrant = prev.get("registrant")
            conn.execute(update(registrations).where(registrations.c.number == number, registrations.c.is_current)
                         .values(is_current=False))
        party_ids = party_ids_of(model)
        named = [row_to_party(row) for row in conn.execute(
            select(parties).where(parties.c.id.in_(party_ids)).order_by(parties.c.id))] if party_ids else []
        record = build_record(number, version, entity, model, status, reason, prev_registrant or principal.name,
                              now, [{"id": p.id, "name": p.name, "ipi": p.ipi, "isni": p.isni} for p in named],
                              content)
        digest = record_hash(record)
        log_index = None
        for sink in self.sinks:
            leaf = {"type": event, "number": number, "version": version, "record_hash": digest, "entity": entity}
            result = (sink.append(conn, leaf, actor=principal.name) if isinstance(sink, Journal)
                      else sink.append(conn, leaf))
            log_index = getattr(result, "index", log_index)
        rid = conn.execute(insert(registrations).values(
            number=number, version=version, entity=entity, status=status.value, is_current=True,
            kind=getattr(model, "kind", None) and model.kind.value, title=model.title,
            title_norm=normalize_text(model.title), iswc=getattr(model, "iswc", None),
            isrc=getattr(model, "isrc", None), creation_mode=model.creation_mode.value, record=record,
            record_hash=digest, registrant=principal.name, reason=reason, created_at=now, log_index=log_index,
        )).inserted_primary_key[0]
        for table, rows in side_rows(rid, model):
            conn.execute(insert(table), rows)
        return RegistrationRecord(number, version, entity, status.value, record, digest, principal.name, now,
                                  reason, (), log_index)


def resolve_references(model: Work | Recording, party_id: Callable[[Any], int],
                       find_work: Callable[[str], str | None]) -> tuple[Work | Recording | None, list[Problem]]:
    """``model`` with its party references as party ids and its linked works as registration numbers, or
    every problem (shares not adding up, unknown parties, unregistered works) with its field.

    ``party_id(ref)`` returns the id or raises :class:`InvalidInput`; ``find_work(ref)`` returns the number
    or None. One registration looks each up in the database, a bulk import in what it fetched in bulk.
    """
    problems: list[Problem] = list(share_problems(list(model.shares)))

    def pid(ref, fieldname):
        try:
            return party_id(ref)
        except InvalidInput as exc:
            problems.extend(Problem(p.message, field=fieldname) for p in exc.problems)
            return ref

    update: dict[str, Any] = {"shares": tuple(s.model_copy(update={"party": pid(s.party, f"shares.{i}.party")})
                                              for i, s in enumerate(model.shares))}
    if isinstance(model, Work):
        update["contributors"] = tuple(c.model_copy(update={"party": pid(c.party, f"contributors.{i}.party")})
                                       for i, c in enumerate(model.contributors))
    else:
        update["performers"] = tuple(p.model_copy(update={"party": pid(p.party, f"performers.{i}.party")})
                                     for i, p in enumerate(model.performers))
        if model.label is not None:
            update["label"] = pid(model.label, "label")
        linked = []
        for i, ref in enumerate(model.works):
            found = find_work(ref)
            if found is None:
                problems.append(Problem(f"the recording points to work '{ref}', which is not registered",
                                        field=f"works.{i}"))
            else:
                linked.append(found)
        update["works"] = tuple(linked)
    if problems:
        return None, problems
    return model.model_copy(update=update), []


def party_ids_of(model: Work | Recording) -> list[int]:
    """Every party a (resolved) work or recording names: shares, contributors or performers, label."""
    return sorted({s.party for s in model.shares}
                  | {c.party for c in getattr(model, "contributors", ())}
                  | {p.party for p in getattr(model, "performers", ())}
                  | ({model.label} if getattr(model, "label", None) is not None else set()))


def side_rows(rid: int, model: Work | Recording) -> list[tuple[Any, list[dict]]]:
    """The rows a registration version adds to the side tables (titles, identifiers, shares, people, links)."""
    out: list[tuple[Any, list[dict]]] = []
    if isinstance(model, Work) and model.alternate_titles:
        out.append((titles, [{"registration_id": rid, "title": t.title, "title_norm": normalize_text(t.title)}
                             for t in model.alternate_titles]))
    if isinstance(model, Work) and model.identifiers:
        out.append((work_identifiers, [{"registration_id": rid, "scheme": i.scheme, "value": i.value}
                                       for i in model.identifiers]))
    if model.shares:
        out.append((shares, [{"registration_id": rid, "party_id": s.party, "role": s.role.value if s.role else None,
                              "right_type": s.right_type.value, "territory": s.territory, "share": s.share}
                             for s in model.shares]))
    people = ([(c.party, c.role.value) for c in model.contributors] if isinstance(model, Work)
              else [(p.party, p.role.value) for p in model.performers])
    if people:
        out.append((contributors, [{"registration_id": rid, "party_id": p, "role": role} for p, role in people]))
    if isinstance(model, Recording) and model.works:
        out.append((recording_works, [{"registration_id": rid, "work_number": w} for w in model.works]))
    return out


def build_record(number: str, version: int, entity: str, model: Work | Recording, status: RegistrationStatus,
                 reason: str | None, registrant: str, now: datetime, named: list[dict],
                 content: dict | None = None) -> dict:
    """The public record of one version: what is hashed, logged and certified (``named``: its parties)."""
    record = {
        "number": number, "version": version, "office": ids.office_of(number), "entity": entity,
        "status": status.value, "registered_at": now.isoformat(), "registrant": registrant,
        "reason": reason,
        "creation_mode": model.creation_mode.value,
        "disclosure": model.disclosure.model_dump(mode="json") if isinstance(model, Work) and model.disclosure else None,
        entity: model.model_dump(mode="json"),
        "parties": named,
    }
    if content:
        record["content"] = content
    return record


def _shown(value: Any) -> str:
    """A caller's value quoted for a message: escaped (no control characters) and cut when long."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _searchable(text: Any, field: str, max_length: int) -> str:
    """The normalised form of search text, refused when it is not clean text or leaves nothing to look for.

    An empty pattern would match every row: a query of spaces, punctuation or zero-width
    characters is refused, never answered with everything.
    """
    text = clean_text(text, field=field, max_length=max_length, required=False)
    needle = normalize_text(text)
    if not needle:
        raise InvalidInput(Problem("has no letters or digits to search for (spaces, punctuation and invisible "
                                   "characters are ignored): write part of a title or name, or leave it out",
                                   field=field))
    return needle


def _to_record(row) -> RegistrationRecord:
    return RegistrationRecord(row.number, row.version, row.entity, row.status, row.record, row.record_hash,
                              row.registrant, row.created_at, row.reason, (), row.log_index)


def default_sinks(store: Store) -> list[EventSink]:
    """The sinks every registry writes to: the journal, whose leaves are the office's transparency log."""
    return [Journal(store)]
