"""The transparency log: every registration event, appended forever to a Merkle tree.

Each registration event (register, correct, withdraw, a change of AI-use terms) becomes one
*leaf* of an RFC 9162 Merkle tree, in the registering transaction itself, so there is no
registration without a log entry and no log entry without a registration. The leaf is the
RFC 8785 canonical JSON of::

    {"office": "UYMVD", "index": 41, "timestamp": "2026-03-01T10:00:00.000000Z",
     "type": "register", "number": "UYMVD-2026-0000042-K", "version": 1,
     "record_hash": "<sha256 hex of the record's canonical JSON>", ...}

so the time of a registration or reservation is part of what is hashed and, through the
tree head, signed: a rightholder can later prove *when* it was made.

The office signs *tree heads* (size, root, time). Anyone holding a tree head can ask for an
inclusion proof (this entry is in that tree) or a consistency proof (that older tree is a
prefix of this one: nothing was rewritten). After every append the log checks, from what
it stored, that the previous head is a prefix of the new one and that the new leaf is
included; a failure aborts the registering transaction.

Appends are serialised so indexes are gapless: SQLite's store begins write transactions
with ``BEGIN IMMEDIATE``; on PostgreSQL the office's state row is locked ``FOR UPDATE``.

Signing a tree head is serialised per office too (PostgreSQL: an advisory lock), and each
host checks, before it signs, that the keys which signed the heads already stored are in its
own key history (:class:`obra.transparency.signing.ForeignKeyHistory` otherwise): several
hosts sharing one database share one key history (``OBRA_KEYS_DIR``), never one each.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (BigInteger, Column, Connection, Index, LargeBinary, String, Table, Text,
                        bindparam, insert, select, text, update)

from obra import ids
from obra.canonical import canonical_plain
from obra.errors import InternalInvariantError, InvalidInput, NotFound, ObraError, Problem
from obra.transparency import merkle
from obra.transparency.signing import (KeyHistory, OfficeKeys, SignatureError, canonical, format_time,
                                   parse_time, utc_now)
from obra.store.schema import metadata

TREE_HEAD_TYPE = "obra.tree_head/1"
RESERVED_FIELDS = ("office", "index", "timestamp")
EVENT_TYPES = ("register", "correct", "withdraw", "ai_terms")
"""The events the registry logs; other lowercase names are accepted for new event kinds."""
JOURNAL_TYPE = "journal"
"""The leaf type of every other state change: a journal event (see :mod:`obra.journal`)."""
_TYPE_RE = re.compile(r"[a-z][a-z0-9_.-]{0,39}")
_HEX64 = re.compile(r"[0-9a-f]{64}")

log_state = Table(
    "transparency_log_state", metadata,
    Column("office", String(8), primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("root_hash", LargeBinary(32), nullable=False),
    Column("frontier", Text, nullable=False),  # JSON list of hex hashes of range_nodes(0, size)
    Column("last_timestamp", String(27)),
    Column("key_history", Text),  # imported offices: their published key history
)

log_entries = Table(
    "transparency_log_entries", metadata,
    Column("office", String(8), primary_key=True),
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("timestamp", String(27), nullable=False),
    Column("type", String(40), nullable=False),
    Column("number", String(32), nullable=False),
    Column("version", BigInteger, nullable=False),
    Column("record_hash", String(64), nullable=False),
    Column("leaf", Text, nullable=False),
    Column("leaf_hash", LargeBinary(32), nullable=False),
    Index("ix_transparency_log_entries_number", "number"),
)

log_nodes = Table(
    "transparency_log_nodes", metadata,
    Column("office", String(8), primary_key=True),
    # the complete subtree (level, index) numbered in-order: (index << (level + 1)) + (1 << level) - 1
    Column("node", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", LargeBinary(32), nullable=False),
)

log_heads = Table(
    "transparency_log_heads", metadata,
    Column("office", String(8), primary_key=True),
    Column("tree_size", BigInteger, primary_key=True, autoincrement=False),
    Column("tree_head", Text, nullable=False),  # the signed JSON object, as published
)


def node_number(level: int, index: int) -> int:
    """The in-order number of complete subtree ``(level, index)``: one integer key per node."""
    return (index << (level + 1)) + (1 << level) - 1


_INSERT_ENTRY = insert(log_entries)
_INSERT_NODES = insert(log_nodes)
_UPDATE_STATE = (update(log_state).where(log_state.c.office == bindparam("o"))
                 .values(size=bindparam("size"), root_hash=bindparam("root"), frontier=bindparam("frontier"),
                         last_timestamp=bindparam("ts")))
_SELECT_STATE = select(log_state).where(log_state.c.office == bindparam("o"))
_LOCK_STATE = _SELECT_STATE.with_for_update()
#: The first key of the PostgreSQL advisory lock held while a tree head is signed (second: schema and office).
SIGNING_LOCK = 0x0B7B
_LOCK_SIGNING = text("SELECT pg_advisory_xact_lock(:lock, hashtext(current_schema() || '/' || :office))")
_SELECT_NODES = select(log_nodes.c.node, log_nodes.c.hash).where(
    log_nodes.c.office == bindparam("o"), log_nodes.c.node.in_(bindparam("nodes", expanding=True)))


class LogError(ObraError):
    """The log refused an operation or found itself inconsistent."""


class LogInconsistent(LogError, InternalInvariantError):
    """An append would break the append-only property; the transaction is rolled back."""


class TreeHeadError(SignatureError):
    """A signed tree head is malformed or its signature does not verify."""


@dataclass(frozen=True)
class LogEntry:
    """One leaf of the log: the event as hashed, with its position and time."""

    office: str
    index: int
    timestamp: str
    leaf: dict
    leaf_bytes: bytes
    leaf_hash: bytes

    @property
    def number(self) -> str | None:
        """The registration this entry is about (None for a journal event)."""
        return self.leaf.get("number")

    @property
    def version(self) -> int | None:
        return self.leaf.get("version")

    def to_dict(self) -> dict:
        return {"office": self.office, "index": self.index, "timestamp": self.timestamp,
                "leaf": self.leaf, "leaf_hash": self.leaf_hash.hex()}


@dataclass(frozen=True)
class TreeHead:
    """A verified signed tree head."""

    office: str
    tree_size: int
    timestamp: datetime
    root_hash: bytes
    key_id: str
    signed: dict = field(repr=False)


def make_leaf(office: str, index: int, timestamp: str, event: dict) -> dict:
    """Validate an event and build the leaf document (parse at the edge).

    Two shapes share the log. A *registration* leaf (``type`` register, correct, withdraw …)
    names the registration ``number`` and ``version`` whose record hashes to ``record_hash``.
    A *journal* leaf (``type`` ``journal``) names the journal event ``journal_id`` of ``kind``
    (e.g. ``distribution.run``) whose canonical body hashes to ``record_hash``: every other
    state change Obra records (see :mod:`obra.journal`).
    """
    problems = []
    if not isinstance(event, dict):
        raise InvalidInput(Problem("a log event must be a JSON object", field="event"))
    for name in RESERVED_FIELDS:
        if name in event:
            problems.append(Problem(f"'{name}' is set by the log, not by the caller", field=name))
    kind = event.get("type")
    if not isinstance(kind, str) or not _TYPE_RE.fullmatch(kind):
        problems.append(Problem(f"event type {kind!r} must be a lowercase name like "
                                f"{', '.join(EVENT_TYPES)}", field="type"))
    extra: dict = {}
    if kind == JOURNAL_TYPE:
        jid = event.get("journal_id")
        if not isinstance(jid, int) or isinstance(jid, bool) or jid < 1:
            problems.append(Problem(f"journal_id {jid!r} must be a positive integer", field="journal_id"))
        jkind = event.get("kind")
        if not isinstance(jkind, str) or not _TYPE_RE.fullmatch(jkind):
            problems.append(Problem(f"journal event kind {jkind!r} must be a lowercase dotted name",
                                    field="kind"))
    else:
        number = event.get("number")
        try:
            number = ids.parse_registration_number(number)
            if number.split("-", 1)[0] != office:
                problems.append(Problem(f"{number} was issued by office {number.split('-', 1)[0]}; this log "
                                        f"belongs to office {office}", field="number"))
            extra["number"] = number
        except InvalidInput as exc:
            problems.extend(exc.problems)
        version = event.get("version")
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            problems.append(Problem(f"version {version!r} must be a positive integer", field="version"))
    digest = event.get("record_hash")
    if not isinstance(digest, str) or not _HEX64.fullmatch(digest):
        problems.append(Problem("record_hash must be 64 lowercase hex characters (SHA-256)",
                                field="record_hash"))
    if problems:
        raise InvalidInput(problems)
    return {**event, **extra, "office": office, "index": index, "timestamp": timestamp}


def entry_key(leaf: dict) -> tuple[str, int]:
    """The (number, version) columns a leaf is indexed by: a registration's, or ``journal:<id>``, 0."""
    if leaf.get("type") == JOURNAL_TYPE:
        return f"journal:{leaf['journal_id']}", 0
    return leaf["number"], leaf["version"]


def leaf_bytes_of(leaf: dict) -> bytes:
    """The canonical JSON a leaf is hashed as; refuses values JSON cannot carry exactly."""
    try:
        return canonical(leaf)
    except Exception as exc:  # noqa: BLE001 - jcs raises plain errors for non-JSON values
        raise InvalidInput(Problem(f"the event cannot be written as canonical JSON: {exc}",
                                   field="event")) from None


def verify_tree_head(sth: Any, history: KeyHistory) -> TreeHead:
    """Check a signed tree head's shape and signature against the office's key history."""
    if not isinstance(sth, dict):
        raise TreeHeadError("a signed tree head must be a JSON object")
    if sth.get("type") != TREE_HEAD_TYPE:
        raise TreeHeadError(f"the tree head type must be {TREE_HEAD_TYPE!r}")
    if sth.get("office") != history.office:
        raise TreeHeadError(f"the tree head is from office {sth.get('office')!r}, but the key "
                            f"history is office {history.office}'s")
    size = sth.get("tree_size")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise TreeHeadError("the tree head's tree_size must be a non-negative integer")
    root = sth.get("root_hash")
    if not isinstance(root, str) or not _HEX64.fullmatch(root):
        raise TreeHeadError("the tree head's root_hash must be 64 lowercase hex characters")
    unexpected = set(sth) - {"type", "office", "tree_size", "timestamp", "root_hash", "key_id", "signature"}
    if unexpected:
        raise TreeHeadError(f"the tree head has unknown members: {', '.join(sorted(unexpected))}")
    at = parse_time(sth.get("timestamp"), "the tree head timestamp", TreeHeadError)
    try:
        key = history.verify_object(sth, at, "tree head")
    except SignatureError as exc:
        raise TreeHeadError(f"tree head of size {size}: {exc}") from None
    return TreeHead(sth["office"], size, at, bytes.fromhex(root), key.key_id, sth)


def _hex_list(hashes: list[bytes]) -> list[str]:
    return [h.hex() for h in hashes]


class TransparencyLog:
    """The log of one office inside a store: the local office's own, or an imported one.

    Only the local office's log accepts :meth:`append` and signs tree heads; imported logs
    (see :mod:`obra.registry.federation`) are read-only copies verified on import.
    """

    def __init__(self, store, office: str | None = None, keys: OfficeKeys | None = None):
        self.store = store
        self.office = (office or store.office).upper()
        self.local = self.office == store.office.upper()
        if keys is None and self.local:
            directory = store.keys_directory(self.office) if hasattr(store, "keys_directory") else None
            keys = OfficeKeys(store.home, self.office, directory=directory, published=self._published_key_ids)
        self.keys = keys

    def _published_key_ids(self) -> set[str]:
        """The keys that signed the oldest and the newest tree head stored for this office.

        Two indexed reads, run before every signature: a host with another key history than
        the one the shared database's log is signed with finds it here and refuses to sign.
        """
        found: set[str] = set()
        with self.store.connect() as conn:
            for order in (log_heads.c.tree_size.asc(), log_heads.c.tree_size.desc()):
                head = conn.execute(select(log_heads.c.tree_head).where(log_heads.c.office == self.office)
                                    .order_by(order).limit(1)).scalar()
                if head is None:
                    return found
                key_id = json.loads(head).get("key_id")
                if isinstance(key_id, str):
                    found.add(key_id)
        return found

    # --- writing ---------------------------------------------------------------------

    def append(self, conn: Connection, event: dict) -> LogEntry:
        """Append ``event`` inside the caller's transaction; returns the new entry.

        Raises :class:`InvalidInput` for a malformed event and :class:`LogInconsistent` if the
        stored tree would no longer extend the previous one (both roll the caller back).
        """
        if not self.local:
            raise LogError(f"the log of office {self.office} is an imported copy; only "
                           f"{self.store.office} may append to its own log")
        state = self._lock_state(conn)
        moment = utc_now()
        if state["last_timestamp"] and format_time(moment) < state["last_timestamp"]:
            moment = parse_time(state["last_timestamp"])  # the clock stepped back: never go back in the log
        leaf = make_leaf(self.office, state["size"], format_time(moment), event)
        return self._append_leaf(conn, state, leaf)

    def append_many(self, conn: Connection, events: list[dict], write=None) -> list[LogEntry]:
        """Append ``events`` in order inside the caller's transaction (a bulk load): one leaf each.

        The same leaves as :meth:`append` one by one (each individually provable), written in
        three set-based statements (entries, subtrees, state); ``write(conn, table, rows)``, if
        given, inserts the rows (e.g. with PostgreSQL ``COPY``). The invariant is checked once
        for the batch, from what was stored: the tree before is a prefix of the tree after
        (consistency proof), and the first and last new leaves are included in it.
        """
        if not events:
            return []
        batch = BatchAppend(self, conn)
        entries, entry_rows, node_rows = batch.add(events)
        if write is None:
            conn.execute(_INSERT_ENTRY, entry_rows)
            conn.execute(_INSERT_NODES, node_rows)
        else:
            write(conn, log_entries, entry_rows)
            write(conn, log_nodes, node_rows)
        batch.finish(conn)
        return entries

    def _check_batch(self, conn: Connection, old_size: int, new_size: int, old_root: bytes, new_root: bytes,
                     entries: list[LogEntry]) -> None:
        fetch = self._fetcher(conn)
        try:
            if old_size:
                proof = merkle.consistency_proof(old_size, new_size, fetch)
                merkle.verify_consistency(old_size, new_size, old_root, new_root, proof)
            for entry in {entries[0].index: entries[0], entries[-1].index: entries[-1]}.values():
                path = merkle.inclusion_proof(entry.index, new_size, fetch)
                merkle.verify_inclusion(entry.leaf_hash, entry.index, new_size, path, new_root)
        except merkle.ProofError as exc:
            raise LogInconsistent(f"the log of office {self.office} would become inconsistent between "
                                  f"entries {old_size} and {new_size}: {exc}; nothing was written") from None

    def _append_leaf(self, conn: Connection, state: dict, leaf: dict) -> LogEntry:
        size, frontier, old_root = state["size"], state["frontier"], state["root_hash"]
        leaf_bytes = leaf_bytes_of(leaf)
        lh = merkle.leaf_hash(leaf_bytes)
        created = merkle.new_nodes_on_append(size, lh, frontier)
        conn.execute(_INSERT_ENTRY, {
            "office": self.office, "idx": size, "timestamp": leaf["timestamp"], "type": leaf["type"],
            "number": entry_key(leaf)[0], "version": entry_key(leaf)[1], "record_hash": leaf["record_hash"],
            "leaf": leaf_bytes.decode("utf-8"), "leaf_hash": lh})
        conn.execute(_INSERT_NODES, [{"office": self.office, "node": node_number(lv, ix), "hash": h}
                                     for (lv, ix), h in created])
        new_frontier = merkle.next_frontier(size, lh, frontier)
        new_root = merkle.fold_nodes(new_frontier)
        self._check_append(conn, size, old_root, new_root, lh)
        conn.execute(_UPDATE_STATE, {"o": self.office, "size": size + 1, "root": new_root,
                                     "frontier": json.dumps(_hex_list(new_frontier)), "ts": leaf["timestamp"]})
        state.update(size=size + 1, root_hash=new_root, frontier=new_frontier,
                     last_timestamp=leaf["timestamp"])
        return LogEntry(self.office, size, leaf["timestamp"], leaf, leaf_bytes, lh)

    def _check_append(self, conn: Connection, old_size: int, old_root: bytes, new_root: bytes,
                      leaf: bytes) -> None:
        """The invariant run on every append, from the stored subtrees, not from memory."""
        ranges = (merkle.consistency_ranges(old_size, old_size + 1)
                  + merkle.inclusion_ranges(old_size, old_size + 1))
        stored = self._fetcher(conn)({n for a, b in ranges for n in merkle.range_nodes(a, b)})

        def fetch(nodes):
            return {n: stored[n] for n in nodes if n in stored}
        try:
            proof = merkle.consistency_proof(old_size, old_size + 1, fetch)
            merkle.verify_consistency(old_size, old_size + 1, old_root, new_root, proof)
            path = merkle.inclusion_proof(old_size, old_size + 1, fetch)
            merkle.verify_inclusion(leaf, old_size, old_size + 1, path, new_root)
        except merkle.ProofError as exc:
            raise LogInconsistent(f"the log of office {self.office} would become inconsistent at "
                                  f"entry {old_size}: {exc}; nothing was written") from None

    def _lock_state(self, conn: Connection) -> dict:
        stmt = _LOCK_STATE if conn.dialect.name == "postgresql" else _SELECT_STATE
        row = conn.execute(stmt, {"o": self.office}).mappings().first()
        if row is None:
            if conn.dialect.name == "postgresql":
                from sqlalchemy.dialects.postgresql import insert as pg_insert
                conn.execute(pg_insert(log_state).values(**self._empty_state()).on_conflict_do_nothing())
            else:
                conn.execute(insert(log_state).values(**self._empty_state()))
            row = conn.execute(stmt, {"o": self.office}).mappings().one()
        return {"size": row["size"], "root_hash": row["root_hash"],
                "frontier": [bytes.fromhex(h) for h in json.loads(row["frontier"])],
                "last_timestamp": row["last_timestamp"], "key_history": row["key_history"]}

    def _empty_state(self) -> dict:
        return {"office": self.office, "size": 0, "root_hash": merkle.EMPTY_ROOT, "frontier": "[]",
                "last_timestamp": None, "key_history": None}

    # --- reading ---------------------------------------------------------------------

    def _fetcher(self, conn: Connection) -> merkle.NodeFetcher:
        def fetch(nodes):
            wanted = {node_number(lv, ix): (lv, ix) for lv, ix in nodes}
            rows = conn.execute(_SELECT_NODES, {"o": self.office, "nodes": list(wanted)}).all()
            return {wanted[r.node]: bytes(r.hash) for r in rows}
        return fetch

    def size(self, conn: Connection | None = None) -> int:
        if conn is None:
            with self.store.connect() as own:
                return self.size(own)
        value = conn.execute(select(log_state.c.size).where(log_state.c.office == self.office)).scalar()
        return int(value or 0)

    def _size_arg(self, conn: Connection, size: int | None) -> int:
        current = self.size(conn)
        if size is None:
            return current
        if not isinstance(size, int) or not 0 <= size <= current:
            raise NotFound(f"the log of office {self.office} has {current} entries; there is no tree "
                           f"of size {size}")
        return size

    def root(self, size: int | None = None) -> bytes:
        with self.store.connect() as conn:
            return merkle.tree_root(self._size_arg(conn, size), self._fetcher(conn))

    def entry(self, index: int) -> LogEntry:
        rows = self.entries(index, index + 1)
        if not rows:
            raise NotFound(f"the log of office {self.office} has no entry {index}")
        return rows[0]

    def entries(self, start: int = 0, end: int | None = None, conn: Connection | None = None) -> list[LogEntry]:
        """Entries ``start <= index < end`` in order (inside ``conn``'s transaction if given)."""
        if conn is None:
            with self.store.connect() as own:
                return self.entries(start, end, own)
        stmt = select(log_entries.c.idx, log_entries.c.timestamp, log_entries.c.leaf,
                      log_entries.c.leaf_hash).where(log_entries.c.office == self.office,
                                                     log_entries.c.idx >= start)
        if end is not None:
            stmt = stmt.where(log_entries.c.idx < end)
        rows = conn.execute(stmt.order_by(log_entries.c.idx)).all()
        return [self._entry(r) for r in rows]

    def entries_for(self, number: str) -> list[LogEntry]:
        """Every entry about registration ``number``, oldest first."""
        number = ids.parse_registration_number(number)
        with self.store.connect() as conn:
            rows = conn.execute(select(log_entries.c.idx, log_entries.c.timestamp, log_entries.c.leaf,
                                       log_entries.c.leaf_hash)
                                .where(log_entries.c.office == self.office, log_entries.c.number == number)
                                .order_by(log_entries.c.idx)).all()
        return [self._entry(r) for r in rows]

    def _entry(self, row) -> LogEntry:
        leaf_bytes = row.leaf.encode("utf-8")
        return LogEntry(self.office, int(row.idx), row.timestamp, json.loads(leaf_bytes), leaf_bytes,
                        bytes(row.leaf_hash))

    def inclusion_proof(self, index: int, size: int | None = None) -> dict:
        """PATH(index, D[size]) with the sizes it is about, hashes in hex."""
        with self.store.connect() as conn:
            size = self._size_arg(conn, size)
            if not isinstance(index, int) or not 0 <= index < size:
                raise NotFound(f"entry {index} is not in the tree of size {size} of office {self.office}")
            path = merkle.inclusion_proof(index, size, self._fetcher(conn))
        return {"office": self.office, "leaf_index": index, "tree_size": size, "hashes": _hex_list(path)}

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> dict:
        """PROOF(old_size, D[new_size]) with the sizes it is about, hashes in hex."""
        with self.store.connect() as conn:
            new_size = self._size_arg(conn, new_size)
            if not isinstance(old_size, int) or not 0 <= old_size <= new_size:
                raise NotFound(f"no consistency proof from size {old_size} to {new_size}")
            path = merkle.consistency_proof(old_size, new_size, self._fetcher(conn))
        return {"office": self.office, "old_size": old_size, "new_size": new_size,
                "hashes": _hex_list(path)}

    # --- tree heads and keys ---------------------------------------------------------

    def key_history(self) -> KeyHistory:
        if self.local:
            return self.keys.history()
        with self.store.connect() as conn:
            text = conn.execute(select(log_state.c.key_history)
                                .where(log_state.c.office == self.office)).scalar()
        if not text:
            raise NotFound(f"no key history of office {self.office} has been imported")
        return KeyHistory.parse(text)

    def signed_tree_head(self, size: int | None = None) -> dict:
        """The signed tree head for ``size`` (default: now), signing one if none exists yet.

        One head is kept per size, so repeated requests return identical bytes.
        """
        if self.local:
            self.keys.history()  # make sure a key exists before taking the time
        with self.store.begin() as conn:
            size = self._size_arg(conn, size)
            existing = conn.execute(select(log_heads.c.tree_head).where(
                log_heads.c.office == self.office, log_heads.c.tree_size == size)).scalar()
            if existing:
                return json.loads(existing)
            if not self.local:
                raise NotFound(f"no signed tree head of office {self.office} for size {size} was imported")
            if conn.dialect.name == "postgresql":  # hosts sign one at a time, each seeing the heads before it
                conn.execute(_LOCK_SIGNING, {"lock": SIGNING_LOCK, "office": self.office})
            root = merkle.tree_root(size, self._fetcher(conn))
            moment = utc_now()
            sth = self.keys.sign_object({
                "type": TREE_HEAD_TYPE, "office": self.office, "tree_size": size,
                "timestamp": format_time(moment), "root_hash": root.hex()}, moment)
            self._store_head(conn, sth)
        return self.signed_tree_head(size)

    def latest_tree_head(self) -> dict | None:
        """The newest stored signed tree head (imported logs: the newest one imported)."""
        with self.store.connect() as conn:
            text = conn.execute(select(log_heads.c.tree_head).where(log_heads.c.office == self.office)
                                .order_by(log_heads.c.tree_size.desc()).limit(1)).scalar()
        return json.loads(text) if text else None

    def _store_head(self, conn: Connection, sth: dict) -> None:
        values = {"office": self.office, "tree_size": sth["tree_size"], "tree_head": json.dumps(sth)}
        if conn.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert
        else:
            from sqlalchemy.dialects.sqlite import insert as pg_insert
        conn.execute(pg_insert(log_heads).values(**values).on_conflict_do_nothing())


class BatchAppend:
    """Many leaves appended in pieces (the chunks of a bulk load), all of one transaction.

    The office's log state is locked when the batch begins; :meth:`add` builds the leaves of each
    piece in order (the same leaves :meth:`TransparencyLog.append` would, one timestamp for the batch)
    and returns the rows for the caller to write, when and how it likes (a bulk load writes them on a
    thread of its own while it builds the next piece); :meth:`finish`, once every row is written, checks
    the invariant from what was stored (the tree before is a prefix of the tree after, the first and the
    last new leaves are included in it) and stores the new state. A batch not finished leaves the state
    as it was, and the caller's transaction must then roll back.
    """

    def __init__(self, log: TransparencyLog, conn: Connection):
        if not log.local:
            raise LogError(f"the log of office {log.office} is an imported copy; only "
                           f"{log.store.office} may append to its own log")
        self.log = log
        state = log._lock_state(conn)
        moment = utc_now()
        if state["last_timestamp"] and format_time(moment) < state["last_timestamp"]:
            moment = parse_time(state["last_timestamp"])  # the clock stepped back: never go back in the log
        self.stamp = format_time(moment)
        self.old_size, self.old_root = state["size"], state["root_hash"]
        self.size, self.frontier = self.old_size, list(state["frontier"])
        self.ends: list[LogEntry] = []  # the first and the last new entry

    def add(self, events: list[dict], built: bool = False) -> tuple[list[LogEntry], list[dict], list[dict]]:
        """The entries of ``events`` (in order, after those already added) and their rows: log entries and
        the Merkle subtrees they complete.

        ``built``: the caller made each event itself, a registration event of this office whose number it
        formatted and whose hash it computed, every value a string or a small integer (a bulk load): the
        leaf is then the event with the log's fields, without :func:`make_leaf`'s checks of foreign input
        (the same leaf: its checks change nothing in such an event) and hashed as the plain JSON it is.
        """
        office, stamp, size, frontier = self.log.office, self.stamp, self.size, self.frontier
        entries, entry_rows, node_rows = [], [], []
        for event in events:
            if built:
                leaf = {**event, "office": office, "index": size, "timestamp": stamp}
                leaf_bytes = canonical_plain(leaf)
            else:
                leaf = make_leaf(office, size, stamp, event)
                leaf_bytes = leaf_bytes_of(leaf)
            lh = merkle.leaf_hash(leaf_bytes)
            created = merkle.new_nodes_on_append(size, lh, frontier)
            number, version = entry_key(leaf)
            entry_rows.append({"office": office, "idx": size, "timestamp": stamp, "type": leaf["type"],
                               "number": number, "version": version, "record_hash": leaf["record_hash"],
                               "leaf": leaf_bytes.decode("utf-8"), "leaf_hash": lh})
            node_rows.extend({"office": office, "node": node_number(lv, ix), "hash": h} for (lv, ix), h in created)
            del frontier[len(frontier) - (len(created) - 1):]
            frontier.append(created[-1][1])
            entries.append(LogEntry(office, size, stamp, leaf, leaf_bytes, lh))
            size += 1
        self.size = size
        if entries:
            self.ends = [self.ends[0] if self.ends else entries[0], entries[-1]]
        return entries, entry_rows, node_rows

    def finish(self, conn: Connection) -> None:
        """Check the log, from the rows written, and store its new state (nothing to do if nothing was added)."""
        if not self.ends:
            return
        new_root = merkle.fold_nodes(self.frontier)
        self.log._check_batch(conn, self.old_size, self.size, self.old_root, new_root, self.ends)
        conn.execute(_UPDATE_STATE, {"o": self.log.office, "size": self.size, "root": new_root,
                                     "frontier": json.dumps(_hex_list(self.frontier)), "ts": self.stamp})
