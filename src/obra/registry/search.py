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
      only when no title equals or begins with the query and the tiers above found fewer than 10):
      first the titles equal to the query with one slip undone (two neighbouring characters swapped
      back, one character taken out: equality probes of the title indexes); only when there is none,
      the titles sharing pieces of the query, scored by similarity
====  ============================================================================================

Results are ordered by (tier, similarity for tier 5, title length, title, number): "Canción" before
"Canción de cuna" before "Camino de canción". Alternate titles count like titles.

Party hits are ranked among themselves by how the party's name matches (the whole name, then its
beginning, then one of its words), then like titles.

Each tier is one indexed query on either store (migration ``0010_register_search``): equality and
prefix ranges on b-tree indexes in code-point order (PostgreSQL ``COLLATE "C"``, SQLite ``BINARY``),
substrings through SQLite FTS5 ``trigram`` tables or PostgreSQL ``pg_trgm`` GIN indexes. The work one
query does is bounded whatever the size of the register:

* every index probe for a substring reads at most :data:`PROBE` matches (SQLite: ``LIMIT`` inside the
  FTS5 query, which stops reading its posting lists there; PostgreSQL: a ``MATERIALIZED`` read of the
  matching rows with ``LIMIT``, sequential scans disabled for the search's transaction), and every tier keeps at most
  :data:`CANDIDATES` of them, first by id (for a substring shared by more than :data:`PROBE` titles the
  candidates are the first ones the index gives, the earliest registrations);
* the tiers run in order and stop as soon as the tiers run so far found ``limit`` registrations: a later
  tier can only rank below them, so the answer is the same as running every tier;
* once identifiers and titles equal to or beginning with the query (b-tree range reads) fill the first
  :data:`SETTLED` places, the word, substring, party and typo tiers are not run at all: the first page is
  the same, and the answer ends with those titles (the substring tier's trigram walk for a phrase of common
  words was the slow tail at 10,000,000 registrations).

The ranking is done here, in Python, so the two stores return the same results for the same data.
Typo tolerance is built on the same substring machinery (pigeonhole): a title within one edit of a
query of ``n`` characters contains one of its halves untouched (two edits, one of its thirds). With
three pieces, the titles containing two of them are asked for first (a typo breaks at most two
adjacent pieces, so unless it sits on a boundary two stay whole, and a title containing two pieces is a
far smaller candidate set than one containing one); only when that finds nothing do single pieces
count. Candidates are scored by :func:`rapidfuzz.fuzz.partial_ratio`.

A query with nothing left after normalisation is refused by the caller; every other Unicode string is
answered (never an error) and never by a scan of a whole table.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from itertools import combinations
from typing import Any, Iterable

from rapidfuzz import fuzz
from sqlalchemy import Boolean, Connection, and_, collate, func, literal_column, select, text
from sqlalchemy.sql.expression import UnaryExpression
from sqlalchemy.sql.operators import custom_op

from obra import ids
from obra.errors import InvalidInput
from obra.store.schema import contributors, parties, registrations, shares, titles

CANDIDATES = 1000
"""The most rows one tier's query keeps (per kind of title)."""
PROBE = CANDIDATES
"""The most matches one substring probe of an index reads (then filtered, ordered and cut to CANDIDATES). Each
match read is a fetch of its registration's row (PostgreSQL checks the title there), the cost of a common
substring: reading three times CANDIDATES to keep the first CANDIDATES by id tripled it for the same answer
(the index gives its matches in id order on a register written in id order)."""
FUZZY_PROBE = CANDIDATES
"""The most matches one probe for a piece of a misspelt query reads."""
FUZZY_MIN = 4
"""Typo tolerance starts at queries of this many characters."""
FUZZY_SCORE = 80
"""The least :func:`rapidfuzz.fuzz.partial_ratio` (0-100) a typo-tolerant match needs."""
FUZZY_UNLESS = 10
"""Typo tolerance is looked for only when the exact, prefix, word, substring and party tiers found fewer (and
no title equals or begins with the query: then it is not misspelt)."""
NEIGHBOUR_SCORE = 99.0
"""The similarity given to a title one swap or one extra character away from the query (above any pieces match)."""
NEIGHBOURS_MAX = 60
"""Queries up to this many characters are also looked up with each slip undone (2 x length equality probes)."""
SUBSTRING_MIN = 3
"""Substring search needs this many characters (trigram indexes); shorter queries match by prefix."""
SETTLED = 10
"""Once identifiers and titles equal to or beginning with the query fill this many places, the later tiers
(word, substring, party, typo) are not looked for. They could only rank below every one of those, so the first
SETTLED results (a page) are the same as with every tier; the answer then ends with the last such title
instead of going on with substrings. Those later tiers are the slow ones on a national register: a
query of common words ("amor de noche") has a trigram index walk long posting lists to find the few titles
containing the whole phrase, while the equal and beginning titles are b-tree range reads."""
_TOP = "\U0010ffff"  # above every character: [q, q + _TOP) is the range of strings beginning with q

EXACT, PREFIX, WORD, SUBSTRING, PARTY, FUZZY = range(6)
_UNINDEXED_CURRENT = UnaryExpression(registrations.c.is_current, operator=custom_op("+"), type_=Boolean)


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


def sortable(conn: Connection, column):
    """``column`` compared in code-point order on both stores (SQLite's BINARY collation is that order)."""
    return collate(column, "C") if conn.dialect.name == "postgresql" else column


def _like_escape(needle: str) -> str:
    return needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


JOINT = "ǂ"
"""What a space is written as in the PostgreSQL trigram indexes of titles (migration ``0017_search_title_joints``):
a letter to ``pg_trgm``, so the trigrams across a space ("rǂd" of "amor de") are in the index."""


def _pg_joined(column):
    """The indexed expression of the titles' trigram indexes: the title with each space written as :data:`JOINT`."""
    return func.replace(column, " ", JOINT)


def _pg_title_contains(column, needle: str) -> list:
    """Conditions true exactly when the title ``column`` contains ``needle``, shaped for its joint trigram index.

    A needle of :data:`JOINTS` distinct word joints or more is asked of the index by them alone (``LIKE '%rǂd%'``:
    one trigram each, short posting lists), as on SQLite: asked for whole, the index would also read every
    trigram inside its words, the longest lists it holds ("dolor viento destino vida" at 10,000,000 titles:
    90 ms, against a few by its joints). Other needles are asked for whole, spaces written as :data:`JOINT`.
    A needle with a space (or a ``ǂ`` of its own) is checked as it is on the rows found (``strpos``): the
    joints do not say in which order the words come, and a title holding a ``ǂ`` must not match a space."""
    joints = word_joints(needle)
    if len(joints) >= JOINTS:
        likes = [_pg_joined(column).like(f"%{_like_escape(j.replace(' ', JOINT))}%", escape="\\") for j in joints]
    else:
        likes = [_pg_joined(column).like(f"%{_like_escape(needle.replace(' ', JOINT))}%", escape="\\")]
    if " " in needle or JOINT in needle:
        likes.append(func.strpos(column, needle) > 0)
    return likes


def _pg_contains(column, needle: str) -> list:
    """Conditions true exactly when the party name ``column`` contains ``needle``, shaped for ``pg_trgm``'s GIN
    index (titles: :func:`_pg_title_contains`).

    ``LIKE '%invierno tiempo%'`` would have the index read the trigrams of each word's edges too ("words
    beginning with t", "words ending in o"), the longest posting lists it holds; so each word of three characters
    or more is asked for alone (``LIKE '%tiempo%'``: its inner trigrams), and the whole needle is checked on the
    rows found (``strpos``, which the index does not answer). A needle with no such word keeps its ``LIKE``."""
    words = [w for w in needle.split(" ") if len(w) >= SUBSTRING_MIN]
    if not words or (len(words) == 1 and words[0] == needle):
        return [column.like(f"%{_like_escape(needle)}%", escape="\\")]
    # a short word ("0" in "阔天空 0") is asked for as a word beginning (or, first, ending) with it: its few
    # trigrams ("  0") have short posting lists, where the check on the rows found alone read every title
    # containing the long words (50,000 heap rows at 10M) to find the few with it
    everything = needle.split(" ")
    short = [f"% {_like_escape(w)}%" if i else f"%{_like_escape(w)} %" for i, w in enumerate(everything)
             if 0 < len(w) < SUBSTRING_MIN and len(everything) > 1]
    return [*(column.like(f"%{_like_escape(w)}%", escape="\\") for w in dict.fromkeys(words)),
            *(column.like(pattern, escape="\\") for pattern in dict.fromkeys(short)),
            func.strpos(column, needle) > 0]


def _fts_phrase(needle: str) -> str:
    return '"' + needle.replace('"', '""') + '"'


def _contains(conn: Connection, kind: str, needles: list[str], probe_limit: int = PROBE) -> Any:
    """A condition: the title (``kind`` title/alt) or party name contains every one of ``needles`` (3+
    characters each), read from the index at most ``probe_limit`` matches deep."""
    if conn.dialect.name == "postgresql":  # the caller reads at most probe_limit matching rows (see _titles)
        column = {"title": registrations.c.title_norm, "alt": titles.c.title_norm, "party": parties.c.name_norm}[kind]
        shaped = _pg_contains if kind == "party" else _pg_title_contains
        likes = [c for n in needles for c in shaped(column, n)]
        if kind != "alt":
            return and_(*likes)
        # alternate titles are joined to their registrations: their matches are read first, so the planner
        # never walks an index of either table in the hope of meeting them
        probe = (select(titles.c.registration_id.label("k")).where(*likes).limit(probe_limit)
                 .cte("probe_alt").prefix_with("MATERIALIZED"))
        return and_(titles.c.registration_id.in_(select(probe.c.k)), *likes)
    table, key, column = {"title": ("search_titles", registrations.c.id, "rowid"),
                          "alt": ("search_alt_titles", titles.c.registration_id, "registration_id"),
                          "party": ("search_parties", parties.c.id, "rowid")}[kind]
    asked = [n for n in needles if len(word_joints(n)) < JOINTS]
    joined = [n for n in needles if len(word_joints(n)) >= JOINTS]
    terms = [_fts_phrase(n) for n in asked] + [_fts_phrase(j) for n in joined for j in word_joints(n)]
    probe = (select(literal_column(column)).select_from(text(table))
             .where(text(f"{table} MATCH :{kind}_phrase").bindparams(**{f"{kind}_phrase": " AND ".join(terms)})))
    # a phrase of several words is asked of the index by its joints only, then checked whole on the text of the
    # rows found, before the LIMIT: the same first matches, from far shorter posting lists (see JOINTS)
    text_of = {"title": "(SELECT title_norm FROM registrations WHERE id = search_titles.rowid)",
               "alt": "search_alt_titles.title",
               "party": "(SELECT name_norm FROM parties WHERE id = search_parties.rowid)"}[kind]
    for i, needle in enumerate(joined):
        whole = f"{kind}_whole_{i}"
        probe = probe.where(text(f"instr({text_of}, :{whole}) > 0").bindparams(**{whole: needle}))
    return key.in_(probe.order_by(literal_column("rowid")).limit(probe_limit))


JOINTS = 2
"""A substring with this many distinct word joints or more is asked of the trigram index by them alone (SQLite's
FTS5 tables; PostgreSQL's joint indexes, :func:`_pg_title_contains`).

A joint is the trigram across a space ("r v" in "dolor viento"): the trigram tokenizer indexes it like any
other, and it is far rarer than the trigrams inside common words, whose posting lists the index otherwise walks
whole to find the few titles holding the whole phrase. At 10,000,000 titles, "dolor viento destino vida" as
a phrase reads 22 posting lists (0.24 CPU s); its three joints read 3 (0.02 s) and leave 602 titles to check
for the whole phrase. One joint alone may be common ("r d" of "amor de"), so it takes two."""


def word_joints(needle: str) -> list[str]:
    """The distinct trigrams of ``needle`` across a space: the last character of a word, the space, the first
    of the next ("dolor viento destino" → ["r v", "o d"])."""
    return list(dict.fromkeys(needle[i - 1:i + 2] for i in range(1, len(needle) - 1)
                              if needle[i] == " " and needle[i - 1] != " " and needle[i + 1] != " "))


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

    def _titles(self, where, ordered: bool = False, alt_where=None, probe: int = PROBE) -> list[tuple[int, str, str]]:
        """(registration id, matched title, number) of current registrations whose title or an alternate title
        matches: the first :data:`CANDIDATES` by title (``ordered``) or by id among the first ``probe``
        matches the index gives."""
        r, t = registrations, titles
        main = select(r.c.id, r.c.title_norm, r.c.number).where(where(r.c.title_norm), *self.conditions)
        alt = (select(t.c.registration_id, t.c.title_norm, r.c.number).join(r, r.c.id == t.c.registration_id)
               .where(alt_where if alt_where is not None else where(t.c.title_norm), *self.conditions))
        if ordered:
            if self.conn.dialect.name == "sqlite":
                # "+is_current": SQLite may not answer that term from the is_current index, which it would
                # otherwise pick whenever its statistics (sampled by ANALYZE) call it selective, and then sort
                # every current row; so the title index's range and order are read, LIMIT rows deep
                conditions = [_UNINDEXED_CURRENT if c is r.c.is_current else c for c in self.conditions]
                main = select(r.c.id, r.c.title_norm, r.c.number).where(where(r.c.title_norm), *conditions)
                alt = (select(t.c.registration_id, t.c.title_norm, r.c.number)
                       .join(r, r.c.id == t.c.registration_id).where(where(t.c.title_norm), *conditions))
            main = main.order_by(sortable(self.conn, r.c.title_norm), r.c.id)
            alt = alt.order_by(sortable(self.conn, t.c.title_norm), t.c.registration_id)
        else:
            main, alt = main.order_by(r.c.id), alt.order_by(t.c.registration_id)
        out = []
        for stmt in (main.limit(CANDIDATES), alt.limit(CANDIDATES)):
            if self.conn.dialect.name == "postgresql" and not ordered:
                # read at most `probe` of the index's matches, then order them: never a walk of the primary key
                inner = stmt.order_by(None).limit(probe).cte("m").prefix_with("MATERIALIZED")
                stmt = select(inner.c[0], inner.c[1], inner.c[2]).order_by(inner.c[0]).limit(CANDIDATES)
            out.extend((int(a), b, c) for a, b, c in self.conn.execute(stmt))
        return out

    def identifiers(self, raw: str) -> None:
        """A registration number, ISWC or ISRC typed as the query (tier 0, above an equal title)."""
        r = registrations
        for parse_id, column in ((ids.parse_registration_number, r.c.number), (ids.parse_iswc, r.c.iswc),
                                 (ids.parse_isrc, r.c.isrc)):
            try:
                value = parse_id(raw.strip())
            except InvalidInput:
                continue
            self.add(self.conn.execute(select(r.c.id, r.c.title_norm, r.c.number).where(column == value,
                                                                                          *self.conditions)
                                       .limit(CANDIDATES)), EXACT, 101.0)

    def exact_and_prefix(self, q: str) -> None:
        """Titles equal to ``q`` (tier 0) and beginning with it (tier 1): one ordered range read each kind."""
        hi = q + _TOP

        def where(column):
            s = sortable(self.conn, column)
            return and_(s >= q, s < hi)
        rows = self._titles(where, ordered=True)
        self.add((row for row in rows if row[1] == q), EXACT)
        self.add((row for row in rows if row[1] != q), PREFIX)

    def substring(self, q: str) -> None:
        if len(q) < SUBSTRING_MIN:
            return
        rows = self._substring_rows([q])
        word = " " + q
        self.add((row for row in rows if not row[1].startswith(q) and word in " " + row[1]), WORD)
        self.add((row for row in rows if not row[1].startswith(q) and word not in " " + row[1]), SUBSTRING)

    def _substring_rows(self, needles: list[str], probe: int = PROBE) -> list[tuple[int, str, str]]:
        """Titles and alternate titles containing every needle (an alternate title is checked itself, not
        only its registration), from at most ``probe`` index matches each."""
        conn = self.conn
        rows = self._titles(lambda column: _contains(conn, "title", needles, probe),
                            alt_where=_contains(conn, "alt", needles, probe), probe=probe)
        return [row for row in rows if all(n in row[1] for n in needles)]

    def parties(self, q: str) -> None:
        """Registrations of parties named by ``q`` (tier 4): the whole name first, then its beginning, then a
        word of it (score 100, 90, 80), each party's registrations first by id."""
        named = parties_named(self.conn, q)
        if not named:
            return
        r = registrations
        for score in sorted({s for _, s in named}, reverse=True):
            pids = [pid for pid, s in named if s == score]
            people = (select(shares.c.registration_id).where(shares.c.party_id.in_(pids))
                      .union(select(contributors.c.registration_id).where(contributors.c.party_id.in_(pids))))
            self.add(self.conn.execute(select(r.c.id, r.c.title_norm, r.c.number).where(r.c.id.in_(people),
                                                                                         *self.conditions)
                                       .order_by(r.c.id).limit(CANDIDATES)), PARTY, score)

    def fuzzy(self, q: str, room: int) -> None:
        """Titles within an edit or two of ``q`` (Latin script), when ``room`` results are still wanted."""
        if room <= 0 or len(self.hits) >= FUZZY_UNLESS or len(q) < FUZZY_MIN or not _latin(q):
            return
        if any(hit.tier <= PREFIX for hit in self.hits.values()):
            return
        if self.neighbours(q):  # the query is a title with a slip in it: what was meant, not what else is near
            return
        parts = pieces(q)
        groups = [list(g) for g in combinations(parts, len(parts) - 1)] if len(parts) >= 3 else []
        if not self._score_fuzzy(q, groups):
            self._score_fuzzy(q, [[p] for p in parts])

    def neighbours(self, q: str) -> int:
        """Titles equal to ``q`` with two neighbouring characters swapped back or one character taken out (the
        commonest slips of typing: "cileo", "feugo", "canciion"), one equality probe of the title indexes for
        all of them: found by the b-tree at any size, even when the slip leaves no three characters of a short
        word intact for the pieces. Ranked first among typo matches (score :data:`NEIGHBOUR_SCORE`); returns how
        many registrations they found."""
        variants = one_edit_away(q)
        if not variants:
            return 0
        # compared as the ordered read compares (PostgreSQL: COLLATE "C", the prefix indexes' order), so the
        # index gives the equal titles already in order and the read stops at CANDIDATES ("ivnierno" at 10M:
        # 9,612 titles "invierno" read and sorted, 260 ms, against 1 ms)
        rows = [row for row in self._titles(lambda column: sortable(self.conn, column).in_(variants), ordered=True)
                if row[0] not in self.hits]
        self.add(rows, FUZZY, NEIGHBOUR_SCORE)
        return len({row[0] for row in rows})

    def _score_fuzzy(self, q: str, groups: list[list[str]]) -> bool:
        """Score the titles containing every piece of one of ``groups``; True when one scored high enough."""
        seen: dict[int, tuple[int, str, str]] = {}
        for group in groups:
            for row in self._substring_rows(group, FUZZY_PROBE):
                seen.setdefault(row[0], row)
        found = False
        for rid, row in seen.items():
            if rid in self.hits:
                continue
            title = row[1]
            score = fuzz.partial_ratio(q, title) if len(q) <= len(title) else fuzz.ratio(q, title)
            if score >= FUZZY_SCORE:
                self.add([row], FUZZY, round(score, 2))
                found = True
        return found


def ranked_hits(conn: Connection, raw: str, q: str, conditions: list, limit: int) -> TitleSearch:
    """Every tier a query needs, in order: what was found, and why (``raw``: the query as typed, ``q``: as
    normalised). Stops once ``limit`` registrations are found, or once identifiers, equal and beginning titles
    fill the first page (:data:`SETTLED`): a later tier could only rank below them."""
    if conn.dialect.name == "postgresql":
        # the probes are bounded (PROBE): never a sequential scan of a table for a search, whatever the
        # planner guesses of a pattern's selectivity (for this read transaction only)
        conn.execute(text("SET LOCAL enable_seqscan = off"))
        # each probe reads at most a few thousand index entries: starting parallel workers for one costs more
        # than it saves (a Gather over an incremental sort of an alternate-title range: 43 ms, 31 serial)
        conn.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))
    found = TitleSearch(conn, conditions)
    found.identifiers(raw)
    found.exact_and_prefix(q)
    if len(found.hits) >= min(limit, SETTLED):  # the first page is settled: see SETTLED
        return found
    for step in (lambda: found.substring(q), lambda: found.parties(q)):
        step()
        if len(found.hits) >= limit:
            return found
    found.fuzzy(q, limit - len(found.hits))
    return found


def one_edit_away(q: str) -> list[str]:
    """``q`` with each pair of neighbouring characters swapped and with each character taken out (queries of
    :data:`FUZZY_MIN` to :data:`NEIGHBOURS_MAX` characters; the ones of three characters or more, not ``q``)."""
    if not FUZZY_MIN <= len(q) <= NEIGHBOURS_MAX:
        return []
    swapped = (q[:i] + q[i + 1] + q[i] + q[i + 2:] for i in range(len(q) - 1))
    shorter = (q[:i] + q[i + 1:] for i in range(len(q)))
    return sorted({v.strip() for v in (*swapped, *shorter) if v != q and "  " not in v and len(v.strip()) >= 3}
                  - {q})


def pieces(q: str) -> list[str]:
    """Parts of ``q`` of which any title within one edit (two for 9+ characters) contains one intact."""
    n = len(q)
    parts = 3 if n >= 9 else 2
    size = n // parts
    out = [q[i * size:(i + 1) * size] if i < parts - 1 else q[i * size:] for i in range(parts)]
    out = [_trimmed(p.strip()) for p in out]
    if any(len(p) < SUBSTRING_MIN for p in out):  # short queries: the first and last three characters
        out = [q[:SUBSTRING_MIN], q[-SUBSTRING_MIN:]]
    return list(dict.fromkeys(p for p in out if len(p) >= SUBSTRING_MIN))


def _trimmed(piece: str) -> str:
    """``piece`` without a fragment of fewer than three characters cut off at either end ("n sol" → "sol"): a part
    of an intact piece is intact, and a word's last letter then a space is in most titles (PostgreSQL's trigram
    index reads it as "a word ending in n", one of its longest posting lists)."""
    words = piece.split(" ")
    while len(words) > 1 and len(words[0]) < SUBSTRING_MIN:
        words.pop(0)
    while len(words) > 1 and len(words[-1]) < SUBSTRING_MIN:
        words.pop()
    return " ".join(words)


def _latin(q: str) -> bool:
    """True when every letter of ``q`` is Latin (typo tolerance is for alphabetic scripts it was tuned on)."""
    return all(not ch.isalpha() or "LATIN" in unicodedata.name(ch, "") for ch in q)


def _bounded_ids(conn: Connection, stmt, limit: int) -> list[int]:
    """The first ``limit`` ids ``stmt`` (one id column, unordered) gives, smallest first; on PostgreSQL read
    through a materialised probe so the planner never walks the primary key hoping to meet matches."""
    if conn.dialect.name == "postgresql":
        inner = stmt.cte("ids").prefix_with("MATERIALIZED")
        stmt = select(inner.c[0])
        return [int(i) for i in conn.execute(stmt.order_by(inner.c[0]).limit(limit)).scalars()]
    inner = stmt.subquery("ids")  # the bounded read first (a LIMIT keeps SQLite from flattening it)
    return [int(i) for i in conn.execute(select(inner.c[0]).order_by(inner.c[0]).limit(limit)).scalars()]


def party_ids(conn: Connection, name: str) -> list[int]:
    """Parties whose normalised name contains ``name`` (3+ characters) or begins with it (shorter)."""
    p = parties
    if len(name) >= SUBSTRING_MIN:
        stmt = select(p.c.id).where(_contains(conn, "party", [name])).limit(PROBE)
    else:
        s = sortable(conn, p.c.name_norm)
        stmt = select(p.c.id).where(s >= name, s < name + _TOP).limit(PROBE)
    return _bounded_ids(conn, stmt, 50 * CANDIDATES)


def parties_named(conn: Connection, q: str) -> list[tuple[int, float]]:
    """Parties with a name word beginning with ``q`` ("manzanero" finds Armando Manzanero), each with how
    well its name matches: 100 the whole name, 90 its beginning, 80 a later word (tier 4)."""
    p = parties
    if len(q) >= SUBSTRING_MIN:
        where = _contains(conn, "party", [q])
    else:
        s = sortable(conn, p.c.name_norm)
        where = and_(s >= q, s < q + _TOP)
    stmt = select(p.c.id, p.c.name_norm).where(where)
    if conn.dialect.name == "postgresql":
        inner = stmt.limit(PROBE).cte("named").prefix_with("MATERIALIZED")
        rows = conn.execute(select(inner.c.id, inner.c.name_norm).order_by(inner.c.id).limit(CANDIDATES))
    else:
        rows = conn.execute(stmt.order_by(p.c.id).limit(CANDIDATES))
    word = " " + q
    return [(int(pid), 100.0 if name == q else 90.0 if name.startswith(q) else 80.0)
            for pid, name in rows if word in " " + name]
