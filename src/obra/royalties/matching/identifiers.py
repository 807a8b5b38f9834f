"""Matching by identifier: ISRC, ISWC or an Obra registration number, the sure matches.

Written once as Ibis expressions (:func:`match_by_id`), so the same code runs on DuckDB and on
Spark: the line's ISRC against recordings (``isrc``, score 1.0; the recording's first embodied
work comes along), else its ISWC against works (``iswc``, 1.0), else its proprietary id against
Obra registration numbers of works or recordings (``proprietary``, 1.0). An identifier held by
several registrations goes to the lowest registration number, deterministically.
"""

from __future__ import annotations

import ibis
import pyarrow as pa

#: The registry's recordings as matching reads them (identifiers, and the metadata the scored model compares).
RECORDINGS_SCHEMA = pa.schema([("recording_number", pa.string()), ("isrc", pa.string()),
                               ("work_number", pa.string()), ("title", pa.string()), ("artist", pa.string()),
                               ("album", pa.string()), ("duration_s", pa.int32())])
#: The registry's works as matching reads them.
WORKS_SCHEMA = pa.schema([("work_number", pa.string()), ("iswc", pa.string()), ("title", pa.string())])


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


def store_tables(store) -> tuple[pa.Table, pa.Table]:
    """:func:`repertoire_tables` of the store's repertoire, read straight from the registry in two
    queries: matching needs the current recordings and works with their identifiers and
    metadata, not the shares, parties and agreements a whole repertoire loads."""
    from collections import defaultdict

    from sqlalchemy import select

    from obra.store.schema import recording_works, registrations as r

    current = (r.c.is_current, r.c.status != "withdrawn")
    recs, works = [], []
    with store.connect() as conn:
        links: dict[int, list[str]] = defaultdict(list)
        ids = select(r.c.id).where(*current)
        for link in conn.execute(select(recording_works).where(recording_works.c.registration_id.in_(ids))):
            links[link.registration_id].append(link.work_number)
        # as the repertoire sorts them: works, and every other current registration among recordings
        rows = conn.execute(select(r.c.number, r.c.title, r.c.iswc)
                            .where(*current, r.c.entity == "work").order_by(r.c.number))
        found = {row.number: row for row in rows}
        works = [{"work_number": n, "iswc": row.iswc, "title": row.title} for n, row in sorted(found.items())]
        rows = conn.execute(select(r.c.id, r.c.number, r.c.title, r.c.isrc, r.c.record)
                            .where(*current, r.c.entity != "work").order_by(r.c.number))
        found = {row.number: row for row in rows}
        for number, row in sorted(found.items()):
            record = row.record if isinstance(row.record, dict) else {}
            rec = record.get("recording", record)
            work = links.get(row.id)
            recs.append({"recording_number": number, "isrc": row.isrc, "work_number": work[0] if work else None,
                         "title": row.title, "artist": rec.get("artist"), "album": rec.get("album"),
                         "duration_s": rec.get("duration_seconds")})
    return (pa.Table.from_pylist(recs, schema=RECORDINGS_SCHEMA),
            pa.Table.from_pylist(works, schema=WORKS_SCHEMA))
