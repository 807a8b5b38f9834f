"""The claims queue: usage nobody could match with confidence, waiting for its rightholder.

Unmatched lines (method ``none``, including fuzzy candidates that only reached ``review``)
are grouped by their normalised title and artist (:func:`obra.royalties.normalise_title`
and ``normalise_artist``), so "Yesterday - Remastered" by "The Beatles" across a thousand
lines and a dozen reports is one group, with its plays, its line count and the best
candidate score seen. A group's id is a stable hash of that key.

A rightholder **claims** a group by naming the registered recording or work it is: the
claim is a row of the store's ``claims`` table (never edited; a later claim on the same
group wins) and a ``claim.filed`` journal event, written in one transaction, with who made
it and when. The next matching run turns every line of that group, in every period,
into a ``claim`` match (score 1.0); re-running distribution then pays it. Claims apply only
to lines no identifier or confident fuzzy match already explains.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone

import duckdb
import pyarrow as pa

from sqlalchemy import insert, select

from obra.access import Principal, require
from obra.journal import Journal
from obra.store.schema import claims as claims_table
from obra.errors import InvalidInput, NotFound, Problem
from obra.royalties.datasets import matches_dataset, partitions, published_sources, usage_dataset
from obra.royalties.matching.metadata import normalise_artist, normalise_title, replace_matches, unmatched_metadata


def group_key(title: str | None, artist: str | None) -> str:
    return f"{normalise_title(title)}\x1f{normalise_artist(artist, title)}"


def group_id(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:12]


def claim_rules(store) -> dict[str, dict]:
    """Group key → the latest claim on it."""
    with store.connect() as conn:
        rows = conn.execute(select(claims_table).order_by(claims_table.c.id)).all()
    return {r.group_key: {"id": r.group_id, "key": r.group_key, "title": r.title, "artist": r.artist,
                          "recording_number": r.recording_number, "work_number": r.work_number,
                          "by": r.claimant, "party_id": r.party_id} for r in rows}


def queue(store, period: str | None = None, limit: int | None = 100) -> list[dict]:
    """Unmatched usage grouped by normalised metadata, most played first."""
    published = published_sources(store)
    usage_files = [str(f) for _, _, f in partitions(usage_dataset(store), period, sources=published)]
    match_files = [str(f) for _, _, f in partitions(matches_dataset(store), period, sources=published)]
    if not usage_files or not match_files:
        return []
    con = duckdb.connect()
    rows = con.execute("""
        SELECT u.title, u.artist, any_value(u.album) AS album, any_value(u.isrc) AS isrc,
               count(*) AS lines, sum(u.plays) AS plays, max(m.score) AS best_score,
               list(DISTINCT u.period) AS periods
        FROM read_parquet(?, hive_partitioning=false) u
        JOIN read_parquet(?, hive_partitioning=false) m USING (source, line)
        WHERE m.method = 'none'
        GROUP BY u.title, u.artist
    """, [usage_files, match_files]).fetchall()
    con.close()
    groups: dict[str, dict] = {}
    for title, artist, album, isrc, lines, plays, best, periods in rows:
        key = group_key(title, artist)
        g = groups.setdefault(key, {"id": group_id(key), "title": title, "artist": artist, "album": album,
                                    "isrc": isrc, "lines": 0, "plays": 0, "best_score": 0.0, "periods": set()})
        g["lines"] += lines
        g["plays"] += int(plays or 0)
        g["best_score"] = max(g["best_score"], float(best or 0.0))
        g["periods"].update(periods or [])
    out = sorted(groups.values(), key=lambda g: (-g["plays"], g["id"]))
    for g in out:
        g["periods"] = sorted(g["periods"])
        g["best_score"] = round(g["best_score"], 4)
    return out[:limit] if limit else out


def claim(store, principal: Principal, group: str, *, recording_number: str | None = None,
          work_number: str | None = None) -> dict:
    """Record ``principal``'s claim that queue group ``group`` is a registered recording or work."""
    require(principal, "claim")
    if not recording_number and not work_number:
        raise InvalidInput(Problem("name the registered recording or work this usage is", field="recording_number"))
    found = next((g for g in queue(store, limit=None) if g["id"] == group), None)
    if found is None:
        raise NotFound(f"no unmatched usage group '{group}' in the claims queue (see 'obra claims list')")
    rep = store.repertoire()
    if recording_number and recording_number not in rep.recordings:
        raise InvalidInput(Problem(f"no registered recording '{recording_number}'", field="recording_number"))
    if work_number and work_number not in rep.works:
        raise InvalidInput(Problem(f"no registered work '{work_number}'", field="work_number"))
    if recording_number and not work_number:
        works = rep.recordings[recording_number].works
        work_number = works[0] if works else None
    now = datetime.now(timezone.utc)
    entry = {"id": group, "key": group_key(found["title"], found["artist"]), "title": found["title"],
             "artist": found["artist"], "recording_number": recording_number, "work_number": work_number,
             "by": principal.name, "party_id": principal.party_id, "at": now.isoformat(timespec="seconds")}
    with store.begin() as conn:
        event = Journal(store).record(conn, "claim.filed", f"claims/{group}",
                                      {k: v for k, v in entry.items() if k not in ("by", "at")}, principal.name)
        conn.execute(insert(claims_table).values(
            group_id=group, group_key=entry["key"], title=found["title"], artist=found["artist"],
            recording_number=recording_number, work_number=work_number, claimant=principal.name,
            party_id=principal.party_id, created_at=now, journal_id=event.id))
    entry["journal_event"] = event.id
    return entry | {"next": "re-run 'obra match' and then 'obra distribute' to pay the claimed usage"}


def apply_claims(usage: pa.Table, matches: pa.Table, rules: dict[str, dict]) -> pa.Table:
    """Turn unmatched lines of claimed groups into ``claim`` matches."""
    if not rules:
        return matches
    positions, metas = unmatched_metadata(usage, matches)
    updates = {}
    keys: dict[tuple, str] = {}
    for pos, (title, artist, _album, _duration) in zip(positions, metas):
        key = keys.setdefault((title, artist), group_key(title, artist))
        rule = rules.get(key)
        if rule:
            updates[pos] = {"recording_number": rule["recording_number"], "work_number": rule["work_number"],
                            "method": "claim", "score": 1.0}
    return replace_matches(matches, updates)
