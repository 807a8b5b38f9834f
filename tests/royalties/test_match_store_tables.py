"""Matching reads the registry's recordings and works in two queries (``store_tables``) instead of
loading the whole repertoire (shares, parties, agreements): the same tables, on both stores, with
corrected and withdrawn registrations."""

from __future__ import annotations

from obra.registry.batch import import_records
from obra.registry.service import Registry
from obra.royalties.matching.identifiers import repertoire_tables, store_tables
from obra_demo.catalogue import demo_catalogue


def test_matching_reads_the_same_recordings_and_works_as_the_repertoire_gives(store, admin):
    made = import_records(store, admin, source="demo", **demo_catalogue(seed=7, parties=60, works=30, recordings=30))
    registry = Registry(store)
    recording, work = made["recordings"][0], made["works"][0]
    stored = store.repertoire().recordings[recording].record["recording"]
    corrected = {**stored, "title": "A corrected title", "artist": "Someone Else"}
    registry.correct(admin, recording, corrected, "the label sent the right title")
    registry.withdraw(admin, made["recordings"][1], "registered twice")
    registry.withdraw(admin, work, "not a musical work")
    recordings, works = store_tables(store)
    want_recordings, want_works = repertoire_tables(store.repertoire())
    assert recordings.equals(want_recordings) and works.equals(want_works)
    assert recordings.num_rows == 29 and works.num_rows == 29
    row = next(r for r in recordings.to_pylist() if r["recording_number"] == recording)
    assert (row["title"], row["artist"]) == ("A corrected title", "Someone Else")
    assert row["isrc"] and row["work_number"]
