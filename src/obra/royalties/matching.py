"""Matching usage lines to registered recordings and works.

Two stages, each recording *how* a line was matched and *how sure* we are:

1. **Identifiers** (:func:`match_by_id`), written once as Ibis expressions so the same
   code runs on DuckDB and on Spark: the line's ISRC against recordings (``isrc``, score
   1.0; the recording's first embodied work comes along), else its ISWC against works
   (``iswc``, 1.0), else its proprietary id against Obra registration numbers of works or
   recordings (``proprietary``, 1.0). An identifier held by several registrations goes to
   the lowest registration number, deterministically.
2. **Metadata** (:func:`fuzzy_match`) for the lines still unmatched: the distinct
   (title, artist, album, duration) combinations are scored once each against the
   recordings whose normalised titles are nearest (rapidfuzz candidate search, then the
   documented model of :mod:`obra.royalties.pairs`). A ``match`` decision gives method
   ``fuzzy`` with its score; ``review`` and ``no-match`` leave the line ``none`` (with the
   best score kept) for the claims queue.

Claims (:mod:`obra.royalties.claims`) are applied last: a claimed group's lines become
``claim`` matches with score 1.0.
"""

from __future__ import annotations

from typing import Callable

import ibis
import pyarrow as pa
from rapidfuzz import fuzz, process

from obra.royalties import pairs
from obra.royalties.usage_store import (MATCHES_SCHEMA, matches_dataset, partitions, usage_dataset,
                                        write_partition)

RECORDINGS_SCHEMA = pa.schema([("recording_number", pa.string()), ("isrc", pa.string()),
                               ("work_number", pa.string()), ("title", pa.string()), ("artist", pa.string()),
                               ("album", pa.string()), ("duration_s", pa.int32())])
WORKS_SCHEMA = pa.schema([("work_number", pa.string()), ("iswc", pa.string()), ("title", pa.string())])
CANDIDATES = 5


def match_by_id(usage: ibis.Table, recordings: ibis.Table, works: ibis.Table) -> ibis.Table:
    """Exact identifier matches for every usage line (backend-agnostic Ibis).

    ``usage`` needs ``source, line, isrc, iswc, proprietary_id``; ``recordings`` needs
    ``recording_number, isrc, work_number``; ``works`` needs ``work_number, iswc``. The result
    has the columns of the matches dataset, one row per usage line.
    """
    by_isrc = (recordings.filter(recordings.isrc.notnull())
               .group_by(m_isrc=recordings.isrc)
               .aggregate(r_number=recordings.recording_number.min(), r_work=recordings.work_number.min()))
    by_iswc = (works.filter(works.iswc.notnull())
               .group_by(m_iswc=works.iswc).aggregate(w_number=works.work_number.min()))
    prop_work = works.select(p_work=works.work_number, p_work_iswc=works.iswc)
    prop_rec = recordings.select(p_rec=recordings.recording_number, p_rec_isrc=recordings.isrc,
                                 p_rec_work=recordings.work_number)
    u = usage.select("source", "line", u_isrc=usage.isrc, u_iswc=usage.iswc, u_prop=usage.proprietary_id)
    j = (u.left_join(by_isrc, u.u_isrc == by_isrc.m_isrc)
          .left_join(by_iswc, u.u_iswc == by_iswc.m_iswc)
          .left_join(prop_work, u.u_prop == prop_work.p_work)
          .left_join(prop_rec, u.u_prop == prop_rec.p_rec))
    isrc_hit = j.r_number.notnull()
    iswc_hit = j.w_number.notnull()
    prop_hit = j.p_work.notnull() | j.p_rec.notnull()
    method = ibis.cases((isrc_hit, "isrc"), (iswc_hit, "iswc"), (prop_hit, "proprietary"), else_="none")
    recording = ibis.cases((isrc_hit, j.r_number), (~iswc_hit & j.p_rec.notnull(), j.p_rec),
                           else_=ibis.null("string"))
    work = ibis.cases((isrc_hit & j.r_work.notnull(), j.r_work), (iswc_hit, j.w_number),
                      (j.p_work.notnull(), j.p_work), (j.p_rec.notnull(), j.p_rec_work),
                      else_=ibis.null("string"))
    return j.select(
        source=j.source, line=j.line.cast("int64"), recording_number=recording.cast("string"),
        work_number=work.cast("string"),
        isrc=ibis.coalesce(j.u_isrc, j.p_rec_isrc).cast("string"),
        iswc=ibis.coalesce(j.u_iswc, j.p_work_iswc).cast("string"),
        method=method.cast("string"),
        score=ibis.cases((method == "none", ibis.literal(0.0)), else_=ibis.literal(1.0)).cast("float64"),
    )


def repertoire_tables(repertoire) -> tuple[pa.Table, pa.Table]:
    """Recordings and works of a :class:`obra.store.repertoire.Repertoire` as Arrow tables."""
    recs = []
    for number, item in sorted(repertoire.recordings.items()):
        rec = item.record.get("recording", item.record) if isinstance(item.record, dict) else {}
        recs.append({"recording_number": number, "isrc": item.isrc,
                     "work_number": item.works[0] if item.works else None, "title": item.title,
                     "artist": rec.get("artist"), "album": rec.get("album"),
                     "duration_s": rec.get("duration_seconds")})
    works = [{"work_number": number, "iswc": item.iswc, "title": item.title}
             for number, item in sorted(repertoire.works.items())]
    return (pa.Table.from_pylist(recs, schema=RECORDINGS_SCHEMA),
            pa.Table.from_pylist(works, schema=WORKS_SCHEMA))


class FuzzyIndex:
    """Registered recordings, normalised once, for candidate search and scoring."""

    def __init__(self, recordings: pa.Table):
        rows = recordings.to_pylist()
        self.rows = rows
        self.titles = [pairs.normalise_title(r["title"]) for r in rows]
        self.tracks = [pairs.Track(r["title"], r["artist"], r["album"], r["duration_s"], r["isrc"]) for r in rows]

    def best(self, track: pairs.Track) -> tuple[dict | None, pairs.Score | None]:
        query = pairs.normalise_title(track.title)
        if not query or not self.rows:
            return None, None
        found = process.extract(query, self.titles, scorer=fuzz.ratio, limit=CANDIDATES, score_cutoff=50)
        best_row, best_score = None, None
        for _, _, index in found:
            s = pairs.score_pair(track, self.tracks[index])
            if best_score is None or s.score > best_score.score:
                best_row, best_score = self.rows[index], s
        return best_row, best_score


def fuzzy_match(usage: pa.Table, matches: pa.Table, index: FuzzyIndex) -> pa.Table:
    """Upgrade ``none`` matches whose metadata scores a ``match`` against a registered recording."""
    import pyarrow.compute as pc

    none = pc.equal(matches["method"], "none")
    if not pc.any(none).as_py():
        return matches
    lines = usage.select(["line", "title", "artist", "album", "duration_s"])
    by_line = {r["line"]: r for r in lines.to_pylist()}
    out = matches.to_pylist()
    cache: dict[tuple, tuple[dict | None, pairs.Score | None]] = {}
    for row in out:
        if row["method"] != "none":
            continue
        u = by_line.get(row["line"])
        if not u or not u["title"]:
            continue
        key = (u["title"], u["artist"], u["album"], u["duration_s"])
        if key not in cache:
            cache[key] = index.best(pairs.Track(*key))
        hit, s = cache[key]
        if s is None:
            continue
        if s.decision == "match":
            row.update(recording_number=hit["recording_number"], work_number=hit["work_number"],
                       isrc=row["isrc"] or hit["isrc"], method="fuzzy", score=float(s.score))
        else:
            row["score"] = float(s.score)
    return pa.Table.from_pylist(out, schema=MATCHES_SCHEMA)


def match_store(store, period: str | None = None, *, fuzzy: bool = True,
                progress: Callable[[int], None] | None = None) -> dict:
    """Match every usage partition (of ``period`` or all) on DuckDB and write the matches dataset."""
    from obra.royalties import claims

    recordings, works = repertoire_tables(store.repertoire())
    con = ibis.duckdb.connect()
    rec_t = con.create_table("recordings", recordings, overwrite=True)
    work_t = con.create_table("works", works, overwrite=True)
    index = FuzzyIndex(recordings) if fuzzy else None
    claimed = claims.claim_rules(store)
    totals: dict[str, int] = {m: 0 for m in ("isrc", "iswc", "proprietary", "fuzzy", "claim", "none")}
    done = 0
    parts = partitions(usage_dataset(store), period)
    for p, source, path in parts:
        usage_arrow = _read_usage(path)
        usage_t = con.read_parquet(str(path), hive_partitioning=False)
        matched = match_by_id(usage_t, rec_t, work_t).order_by("line").to_pyarrow()
        matched = matched.select(MATCHES_SCHEMA.names).cast(MATCHES_SCHEMA)
        if index is not None:
            matched = fuzzy_match(usage_arrow, matched, index)
        matched = claims.apply_claims(usage_arrow, matched, claimed)
        write_partition(matches_dataset(store), p, source, matched, MATCHES_SCHEMA)
        for method, n in zip(*_value_counts(matched)):
            totals[method] = totals.get(method, 0) + n
        done += matched.num_rows
        if progress is not None:
            progress(done)
    con.disconnect()
    total = sum(totals.values())
    return {"period": period, "partitions": len(parts), "lines": total, "by_method": totals,
            "matched_share": round((total - totals["none"]) / total, 4) if total else None}


def _read_usage(path) -> pa.Table:
    import pyarrow.parquet as pq

    return pq.read_table(path, columns=["line", "isrc", "iswc", "proprietary_id", "title", "artist", "album",
                                        "duration_s", "plays"])


def _value_counts(table: pa.Table) -> tuple[list[str], list[int]]:
    import pyarrow.compute as pc

    counts = pc.value_counts(table["method"])
    return ([c["values"].as_py() for c in counts], [c["counts"].as_py() for c in counts])
