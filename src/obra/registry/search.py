"""Ranked search of the register: titles, alternate titles, party names and identifiers, by relevance.

A query is normalised like the stored titles (:func:`obra.textnorm.normalize_text`: accents, case and
width folded, punctuation dropped, any script kept), then each registration it finds gets a *tier*:

====  ============================================================================================
0     an identifier (registration number, ISWC, ISRC) or a title equal to the query
1     a title beginning with the query
2     a title with a word beginning with the query
3     a title containing the query (3 characters or more: CJK by substring)
4     a registration of a party (creator, performer, rightholder) with a name word beginning with the query
5     a title within a typo or two of the query (Latin-script queries of 4 characters or more,
      only when the tiers above found fewer than 10)
====  ============================================================================================

Results are ordered by (tier, similarity for tier 5, title length, title, number): "Canción" before
"Canción de cuna" before "Camino de canción". Alternate titles count like titles.

Each tier is one indexed query on either store (migration ``0010_register_search``): equality and
prefix ranges on b-tree indexes in code-point order (PostgreSQL ``COLLATE "C"``, SQLite ``BINARY``),
substrings through SQLite FTS5 ``trigram`` tables or PostgreSQL ``pg_trgm`` GIN indexes. Every tier
reads at most :data:`CANDIDATES` rows, in an order both stores give alike (code point, then id), and
the ranking is done here, in Python, so the two stores return the same results for the same data.
Typo tolerance is built on the same substring machinery (pigeonhole): a title within one edit of a
query of ``n`` characters contains one of its halves untouched (two edits, one of its thirds), so the
titles containing a piece are the candidates, scored by :func:`rapidfuzz.fuzz.partial_ratio`.

A query with nothing left after normalisation is refused by the caller; every other Unicode string is
answered (never an error) and never by a scan of a whole table.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any, Iterable

from rapidfuzz import fuzz
from sqlalchemy import Connection, and_, collate, literal_column, select, text

from obra.store.schema import parties, registrations, titles

CANDIDATES = 1000
"""The most rows one tier's query reads (per kind of title)."""
FUZZY_MIN = 4
"""Typo tolerance starts at queries of this many characters."""
FUZZY_SCORE = 80
"""The least :func:`rapidfuzz.fuzz.partial_ratio` (0-100) a typo-tolerant match needs."""
FUZZY_UNLESS = 10
"""Typo tolerance is looked for only when the exact, prefix, word, substring and party tiers found fewer."""
SUBSTRING_MIN = 3
"""Substring search needs this many characters (trigram indexes); shorter queries match by prefix."""
_TOP = "\U0010ffff"  # above every character: [q, q + _TOP) is the range of strings beginning with q

EXACT, PREFIX, WORD, SUBSTRING, PARTY, FUZZY = range(6)


@dataclass(frozen=True)
class Hit:
    """Why one registration was found: its tier, similarity (0-100) and the text that matched."""

    registration_id: int
    tier: int
    score: float
    text: str
    number: str

    def key(self) -> tuple:
        """The ranking: tier, similarity, title length, title, registration number."""
        return (self.tier, -self.score, len(self.text), self.text, self.number)


def _sortable(conn: Connection, column):
    """``column`` compared in code-point order on both stores (SQLite's BINARY collation is that order)."""
    return collate(column, "C") if conn.dialect.name == "postgresql" else column


def _like_escape(needle: str) -> str:
    return needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _fts_phrase(needle: str) -> str:
    return '"' + needle.replace('"', '""') + '"'


def _contains(conn: Connection, kind: str, needle: str) -> Any:
    """A condition: the title (``kind`` title/alt) or party name contains ``needle`` (3+ characters)."""
    if conn.dialect.name == "postgresql":
        column = {"title": registrations.c.title_norm, "alt": titles.c.title_norm, "party": parties.c.name_norm}[kind]
        return column.like(f"%{_like_escape(needle)}%", escape="\\")
    table, key = {"title": ("search_titles", registrations.c.id), "alt": ("search_alt_titles", None),
                  "party": ("search_parties", parties.c.id)}[kind]
    if key is None:  # alternate titles: the FTS table carries the registration id itself
        return titles.c.registration_id.in_(select(literal_column("registration_id")).select_from(
            text("search_alt_titles")).where(text("search_alt_titles MATCH :alt_phrase")
                                             .bindparams(alt_phrase=_fts_phrase(needle))))
    return key.in_(select(literal_column("rowid")).select_from(text(table)).where(
        text(f"{table} MATCH :{kind}_phrase").bindparams(**{f"{kind}_phrase": _fts_phrase(needle)})))


class TitleSearch:
    """The ranked title search of one query, inside one read connection."""

    def __init__(self, conn: Connection, conditions: Iterable[Any]):
        self.conn = conn
        self.conditions = list(conditions)  # on registrations: is_current, entity, mode, party ...
        self.hits: dict[int, Hit] = {}

    def add(self, rows, tier: int, score: float = 100.0) -> None:
        """Record (id, matched text, number) rows found by ``tier``; a registration keeps its best hit."""
        for rid, title, number in rows:
            hit = Hit(rid, tier, score, title, number)
            best = self.hits.get(rid)
            if best is None or hit.key() < best.key():
                self.hits[rid] = hit

    def ranked(self, limit: int) -> list[int]:
        """The ids of the ``limit`` best hits, best first."""
        return [h.registration_id for h in sorted(self.hits.values(), key=Hit.key)[:limit]]

    def _titles(self, where, ordered: bool = False, alt_where=None) -> list[tuple[int, str, str]]:
        """(registration id, matched title, number) of current registrations whose title or an alternate title
        matches."""
        r, t = registrations, titles
        main = select(r.c.id, r.c.title_norm, r.c.number).where(where(r.c.title_norm), *self.conditions)
        alt = (select(t.c.registration_id, t.c.title_norm, r.c.number).join(r, r.c.id == t.c.registration_id)
               .where(alt_where if alt_where is not None else where(t.c.title_norm), *self.conditions))
        if ordered:
            main = main.order_by(_sortable(self.conn, r.c.title_norm), r.c.id)
            alt = alt.order_by(_sortable(self.conn, t.c.title_norm), t.c.registration_id)
            # SQLite would otherwise walk the (unselective) is_current index and sort every current row
            main = main.with_hint(r, "INDEXED BY ix_registrations_title_norm", "sqlite")
            alt = alt.with_hint(t, "INDEXED BY ix_titles_title_norm", "sqlite")
        else:
            main, alt = main.order_by(r.c.id), alt.order_by(t.c.registration_id)
        out = []
        for stmt in (main.limit(CANDIDATES), alt.limit(CANDIDATES)):
            if self.conn.dialect.name == "postgresql" and not ordered:
                # read the index's matches first, then order them: never a walk of the primary key
                inner = stmt.order_by(None).limit(None).cte("m").prefix_with("MATERIALIZED")
                stmt = select(inner.c[0], inner.c[1], inner.c[2]).order_by(inner.c[0]).limit(CANDIDATES)
            out.extend((int(a), b, c) for a, b, c in self.conn.execute(stmt))
        return out

    def exact_and_prefix(self, q: str) -> None:
        """Titles equal to ``q`` (tier 0) and beginning with it (tier 1): one ordered range read each kind."""
        hi = q + _TOP

        def where(column):
            s = _sortable(self.conn, column)
            return and_(s >= q, s < hi)
        rows = self._titles(where, ordered=True)
        self.add((row for row in rows if row[1] == q), EXACT)
        self.add((row for row in rows if row[1] != q), PREFIX)

    def substring(self, q: str) -> None:
        if len(q) < SUBSTRING_MIN:
            return
        rows = self._substring_rows(q)
        word = " " + q
        self.add((row for row in rows if not row[1].startswith(q) and word in " " + row[1]), WORD)
        self.add((row for row in rows if not row[1].startswith(q) and word not in " " + row[1]), SUBSTRING)

    def _substring_rows(self, needle: str) -> list[tuple[int, str, str]]:
        conn = self.conn
        if conn.dialect.name == "postgresql":
            pattern = f"%{_like_escape(needle)}%"
            return self._titles(lambda column: column.like(pattern, escape="\\"))
        return self._titles(lambda column: _contains(conn, "title", needle), alt_where=_contains(conn, "alt", needle))

    def fuzzy(self, q: str, room: int) -> None:
        """Titles within an edit or two of ``q`` (Latin script), when ``room`` results are still wanted."""
        if room <= 0 or len(self.hits) >= FUZZY_UNLESS or len(q) < FUZZY_MIN or not _latin(q):
            return
        seen: dict[int, tuple[int, str, str]] = {}
        for piece in pieces(q):
            for row in self._substring_rows(piece):
                seen.setdefault(row[0], row)
        for rid, row in seen.items():
            if rid in self.hits:
                continue
            title = row[1]
            score = fuzz.partial_ratio(q, title) if len(q) <= len(title) else fuzz.ratio(q, title)
            if score >= FUZZY_SCORE:
                self.add([row], FUZZY, round(score, 2))


def pieces(q: str) -> list[str]:
    """Parts of ``q`` of which any title within one edit (two for 9+ characters) contains one intact."""
    n = len(q)
    parts = 3 if n >= 9 else 2
    size = n // parts
    out = [q[i * size:(i + 1) * size] if i < parts - 1 else q[i * size:] for i in range(parts)]
    out = [p.strip() for p in out]
    if any(len(p) < SUBSTRING_MIN for p in out):  # short queries: the first and last three characters
        out = [q[:SUBSTRING_MIN], q[-SUBSTRING_MIN:]]
    return list(dict.fromkeys(p for p in out if len(p) >= SUBSTRING_MIN))


def _latin(q: str) -> bool:
    """True when every letter of ``q`` is Latin (typo tolerance is for alphabetic scripts it was tuned on)."""
    return all(not ch.isalpha() or "LATIN" in unicodedata.name(ch, "") for ch in q)


def party_ids(conn: Connection, name: str) -> list[int]:
    """Parties whose normalised name contains ``name`` (3+ characters) or begins with it (shorter)."""
    p = parties
    if len(name) >= SUBSTRING_MIN:
        stmt = select(p.c.id).where(_contains(conn, "party", name))
    else:
        s = _sortable(conn, p.c.name_norm)
        stmt = select(p.c.id).where(s >= name, s < name + _TOP)
    return [int(i) for i in conn.execute(stmt.order_by(p.c.id).limit(50 * CANDIDATES)).scalars()]


def parties_named(conn: Connection, q: str) -> list[int]:
    """Parties with a name word beginning with ``q`` ("manzanero" finds Armando Manzanero): tier 4."""
    p = parties
    if len(q) >= SUBSTRING_MIN:
        where = _contains(conn, "party", q)
    else:
        s = _sortable(conn, p.c.name_norm)
        where = and_(s >= q, s < q + _TOP)
    rows = conn.execute(select(p.c.id, p.c.name_norm).where(where).order_by(p.c.id).limit(CANDIDATES))
    word = " " + q
    return [int(pid) for pid, name in rows if word in " " + name]
