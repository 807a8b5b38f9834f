"""The review queue: recent registrations, newest first, each with its near-duplicate warnings.

A registration made with a file carries ISCC codes; another current registration whose unit of the
same kind (Content-Code, Data-Code, Instance-Code; never the Meta-Code: titles are not content) is
within the default radius is a *warning*: possible prior work for a person at the office to look at,
never a refusal. Marking a warning reviewed is a journal event (``registry.review``) naming the
reviewer and their note; a registration without codes has no warnings.

The near-duplicate search belongs to :mod:`obra.identify`, a layer above this one, so the queue takes
it as a :class:`ContentSearch` (the application object hands it
:class:`obra.identify.similar.ContentIndex`). Access: the ``review`` action of the permission table,
for listing and for marking.
"""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy import select

from obra.access import Principal, require
from obra.errors import InvalidInput, NotFound, Problem
from obra.journal import Journal
from obra.store import Store
from obra.store.schema import journal_events, registrations

ENTITIES = ("work", "recording")
MODES = ("human", "ai_assisted", "ai_generated")
MAX_LIMIT = 200
MAX_NOTE = 2000
EVENT = "registry.review"


class ContentSearch(Protocol):
    """What the queue needs of the content index (:class:`obra.identify.similar.ContentIndex`)."""

    def files(self, number: str, conn: Any = None) -> list[dict]: ...

    def near(self, code_or_codes: Any, radius: int = ..., *, units: Any = None, exclude: str | None = None,
             conn: Any = None) -> list: ...


class ReviewQueue:
    """Registrations to review, with their near-duplicate warnings, over one store."""

    def __init__(self, store: Store, index: ContentSearch):
        self.store = store
        self.index = index
        self.journal = Journal(store)

    def list(self, principal: Principal, *, entity: str | None = None, mode: str | None = None,
             limit: int = 20, offset: int = 0) -> dict:
        """A page of current registrations, newest first, each with its warnings and their review."""
        require(principal, "review")
        problems = []
        if entity is not None and entity not in ENTITIES:
            problems.append(Problem(f"unknown entity '{entity}'; use work or recording", field="entity"))
        if mode is not None and mode not in MODES:
            problems.append(Problem(f"unknown creation mode '{mode}'; use {', '.join(MODES)}", field="mode"))
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
            problems.append(Problem(f"limit must be from 1 to {MAX_LIMIT}, got {limit!r}", field="limit"))
        if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
            problems.append(Problem(f"offset must be 0 or more, got {offset!r}", field="offset"))
        if problems:
            raise InvalidInput(problems)
        query = (select(registrations).where(registrations.c.is_current.is_(True),
                                             registrations.c.status != "withdrawn")
                 .order_by(registrations.c.created_at.desc(), registrations.c.id.desc())
                 .limit(limit + 1).offset(offset))
        if entity:
            query = query.where(registrations.c.entity == entity)
        if mode:
            query = query.where(registrations.c.creation_mode == mode)
        with self.store.connect() as conn:
            rows = conn.execute(query).fetchall()
            items = [self._item(conn, row) for row in rows[:limit]]
        return {"items": items, "limit": limit, "offset": offset,
                "next_offset": offset + limit if len(rows) > limit else None}

    def show(self, principal: Principal, number: str) -> dict:
        """One registration of the queue with its warnings."""
        require(principal, "review")
        with self.store.connect() as conn:
            return self._item(conn, self._current(conn, number))

    def mark(self, principal: Principal, number: str, note: str, warning: str | None = None) -> dict:
        """Mark the warnings of ``number`` reviewed (or only the one naming registration ``warning``).

        One ``registry.review`` journal event: the reviewer, the note and each warning as it stood
        (the other registration, its unit and distance). Refused when there is nothing to review."""
        require(principal, "review")
        note = (note or "").strip()
        if not note:
            raise InvalidInput(Problem("say what you found: a review needs a note", field="note"),
                               hint="for example: different recordings of the same public-domain song")
        if len(note) > MAX_NOTE:
            raise InvalidInput(Problem(f"the note is {len(note)} characters; at most {MAX_NOTE}", field="note"))
        with self.store.begin() as conn:
            item = self._item(conn, self._current(conn, number))
            chosen = [w for w in item["warnings"] if warning is None or w["number"] == warning]
            if not item["warnings"]:
                raise InvalidInput(Problem(f"{number} has no near-duplicate warnings to review", field="number"))
            if not chosen:
                others = ", ".join(sorted({w["number"] for w in item["warnings"]}))
                raise InvalidInput(Problem(f"{number} has no warning about {warning}", field="warning"),
                                   hint=f"its warnings name: {others}")
            payload = {"number": number, "version": item["version"], "note": note,
                       "warnings": [{k: w[k] for k in ("number", "unit", "distance", "code", "version")}
                                    for w in chosen]}
            event = self.journal.record(conn, EVENT, number, payload, principal.name)
        return {"event": event.to_dict(), **self.show(principal, number)}

    # --- inside -----------------------------------------------------------------------------

    @staticmethod
    def _current(conn, number: str):
        row = conn.execute(select(registrations).where(registrations.c.number == number,
                                                       registrations.c.is_current.is_(True))).first()
        if row is None:
            raise NotFound(f"no registration {number}", hint="`obra review list` shows the queue")
        return row

    def _item(self, conn, row) -> dict:
        files = self.index.files(row.number, conn=conn)
        warnings = []
        if files:
            code = files[-1]["iscc"]
            reviewed = self._reviews(conn, row.number)
            for match in self.index.near(code, exclude=row.number, conn=conn):
                if match.unit == "meta":
                    continue
                w = match.to_dict()
                w["reviewed"] = reviewed.get((w["number"], w["unit"]))
                warnings.append(w)
        return {"number": row.number, "version": row.version, "entity": row.entity, "title": row.title,
                "creation_mode": row.creation_mode, "status": row.status, "registrant": row.registrant,
                "created_at": row.created_at.isoformat() if row.created_at else None,
                "iscc": files[-1]["iscc"] if files else None, "warnings": warnings,
                "unreviewed": sum(1 for w in warnings if w["reviewed"] is None)}

    def _reviews(self, conn, number: str) -> dict[tuple[str, str], dict]:
        """The latest review of each (other registration, unit) pair of ``number``."""
        rows = conn.execute(select(journal_events).where(journal_events.c.kind == EVENT,
                                                         journal_events.c.subject == number)
                            .order_by(journal_events.c.id))
        found = {}
        for r in rows:
            for w in r.payload.get("warnings", []):
                found[(w["number"], w["unit"])] = {"by": r.actor, "at": r.at, "note": r.payload.get("note"),
                                                   "event": int(r.id), "distance": w["distance"]}
        return found
