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
from obra.royalties.datasets import matches_dataset, partitions, usage_dataset, write_partition
from obra.royalties.records import MATCHES_SCHEMA

RECORDINGS_SCHEMA = pa.schema([("recording_number", pa.string()), ("isrc", pa.string()),
                               ("work_number", pa.string()), ("title", pa.string()), ("artist", pa.string()),
                               ("album", pa.string()), ("duration_s", pa.int32())])
WORKS_SCHEMA = pa.schema([("work_number", pa.string()), ("iswc", pa.string()), ("title", pa.string())])
CANDIDATES = 10


def _candidate_key(title: str | None, artist: str | None) -> str:
    """What candidate search compares: normalised title, then artist (a same-title song by
    another artist ranks below the right one)."""
    return f"{pairs.normalise_title(title)} | {pairs.normalise_artist(artist, title)}"


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
        self.titles = [_candidate_key(r["title"], r["artist"]) for r in rows]
        self.tracks = [pairs.Track(r["title"], r["artist"], r["album"], r["duration_s"], r["isrc"]) for r in rows]

    def best(self, track: pairs.Track) -> tuple[dict | None, pairs.Score | None]:
        return self.best_many([track])[0]

    def best_many(self, tracks: list[pairs.Track], chunk: int = 2048) -> list[tuple[dict | None, pairs.Score | None]]:
        """For each track, the registered recording that scores highest, and that score.

        Candidates are the :data:`CANDIDATES` recordings whose normalised titles are nearest
        (rapidfuzz ``cdist`` over blocks of queries, on every core), then each candidate is
        scored with the full model of :mod:`obra.royalties.pairs`.
        """
        import numpy as np

        out: list[tuple[dict | None, pairs.Score | None]] = [(None, None)] * len(tracks)
        if not self.rows:
            return out
        queries = [_candidate_key(t.title, t.artist) if t.title else "" for t in tracks]
        k = min(CANDIDATES, len(self.titles))
        for start in range(0, len(tracks), chunk):
            block = queries[start:start + chunk]
            matrix = process.cdist(block, self.titles, scorer=fuzz.token_sort_ratio, score_cutoff=40,
                                   dtype=np.uint8, workers=-1)
            nearest = np.argpartition(matrix, -k, axis=1)[:, -k:] if k < matrix.shape[1] else \
                np.tile(np.arange(matrix.shape[1]), (matrix.shape[0], 1))
            for row, q in enumerate(block):
                i = start + row
                if not q:
                    continue
                best_row, best_score = None, None
                for index in nearest[row]:
                    if matrix[row, index] == 0:
                        continue
                    s = pairs.score_pair(tracks[i], self.tracks[index])
                    if best_score is None or s.score > best_score.score:
                        best_row, best_score = self.rows[index], s
                out[i] = (best_row, best_score)
        return out


def unmatched_metadata(usage: pa.Table, matches: pa.Table) -> tuple[list[int], list[tuple]]:
    """Positions (in ``matches``) of ``none`` lines and their (title, artist, album, duration)."""
    import pyarrow.compute as pc

    positions = pc.indices_nonzero(pc.equal(matches["method"], "none")).to_pylist()
    if not positions:
        return [], []
    lines = pc.take(matches["line"], pa.array(positions, pa.int64()))
    sub = usage.filter(pc.is_in(usage["line"], value_set=lines))
    meta = dict(zip(sub["line"].to_pylist(), zip(sub["title"].to_pylist(), sub["artist"].to_pylist(),
                                                  sub["album"].to_pylist(), sub["duration_s"].to_pylist())))
    return positions, [meta.get(line, (None, None, None, None)) for line in lines.to_pylist()]


def _replace(matches: pa.Table, updates: dict[int, dict]) -> pa.Table:
    """``matches`` with some rows' numbers, method and score replaced (by position)."""
    if not updates:
        return matches
    columns = {name: matches[name].to_pylist() for name in
               ("recording_number", "work_number", "isrc", "method", "score")}
    for pos, change in updates.items():
        for name, value in change.items():
            columns[name][pos] = value
    out = matches
    for name, values in columns.items():
        out = out.set_column(out.schema.get_field_index(name), name,
                             pa.array(values, MATCHES_SCHEMA.field(name).type))
    return out


def fuzzy_match(usage: pa.Table, matches: pa.Table, index: FuzzyIndex) -> pa.Table:
    """Upgrade ``none`` matches whose metadata scores a ``match`` against a registered recording.

    Each distinct (title, artist, album, duration) is scored once, however many lines carry it.
    """
    positions, metas = unmatched_metadata(usage, matches)
    distinct = sorted({key for key in metas if key[0]}, key=repr)
    best = dict(zip(distinct, index.best_many([pairs.Track(*key) for key in distinct])))
    isrcs = matches["isrc"]
    updates: dict[int, dict] = {}
    for pos, key in zip(positions, metas):
        hit, s = best.get(key, (None, None))
        if s is None:
            continue
        if s.decision == "match":
            updates[pos] = {"recording_number": hit["recording_number"], "work_number": hit["work_number"],
                            "isrc": isrcs[pos].as_py() or hit["isrc"], "method": "fuzzy",
                            "score": float(s.score)}
        else:
            updates[pos] = {"score": float(s.score)}
    return _replace(matches, updates)


def match_store(store, period: str | None = None, *, fuzzy: bool = True,
                progress: Callable[[int], None] | None = None, engine: str = "duckdb",
                session=None) -> dict:
    """Match every usage partition (of ``period`` or all) and write the matches dataset.

    The identifier stage runs on ``engine`` ("duckdb", or "spark" with an optional existing
    ``session``) through :mod:`obra.royalties.engine`; the metadata stage and claims run
    in this process on the lines still unmatched.
    """
    from obra.royalties import claims
    from obra.royalties import engine as engines

    recordings, works = repertoire_tables(store.repertoire())
    con = engines.connect(engine, session=session)
    rec_t = engines.table(con, recordings, "obra_match_recordings")
    work_t = engines.table(con, works, "obra_match_works")
    index = FuzzyIndex(recordings) if fuzzy else None
    claimed = claims.claim_rules(store)
    totals: dict[str, int] = {m: 0 for m in ("isrc", "iswc", "proprietary", "fuzzy", "claim", "none")}
    done = 0
    parts = partitions(usage_dataset(store), period)
    for p, source, path in parts:
        usage_arrow = _read_usage(path)
        if con.name == "duckdb":
            usage_t = con.read_parquet(str(path), hive_partitioning=False)
        else:
            usage_t = engines.read_parquet(con, str(path), f"obra_match_usage_{source}")
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
    if con.name == "duckdb":
        con.disconnect()
    total = sum(totals.values())
    return {"period": period, "engine": engine, "partitions": len(parts), "lines": total, "by_method": totals,
            "matched_share": round((total - totals["none"]) / total, 4) if total else None}


def _read_usage(path) -> pa.Table:
    import pyarrow.parquet as pq

    return pq.read_table(path, columns=["line", "isrc", "iswc", "proprietary_id", "title", "artist", "album",
                                        "duration_s", "plays"])


def _value_counts(table: pa.Table) -> tuple[list[str], list[int]]:
    import pyarrow.compute as pc

    counts = pc.value_counts(table["method"])
    return ([c["values"].as_py() for c in counts], [c["counts"].as_py() for c in counts])
