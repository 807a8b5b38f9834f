"""Bulk registration written chunk by chunk while the next chunk is built (issue #18): the rows of a load cut
into many chunks are those of one chunk, and a write that fails on the writer's thread rolls the whole import
back, on both stores; the shortcuts taken per record give what the full rules give."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, insert, select

from obra.registry import bulk
from obra.registry.batch import Batch, import_batches
from obra.store.schema import journal_events, registrations, sequences, shares
from obra.transparency.translog import TransparencyLog, log_entries

from tests.registry.test_bulk import _catalogue, _state


def test_a_load_cut_into_many_chunks_writes_what_one_chunk_writes(store, admin, monkeypatch):
    monkeypatch.setattr(bulk, "CHUNK", 7)  # 30 works: chunks of 3, 6, 6, 6, 6, 3
    monkeypatch.setattr(bulk, "EDGE_CHUNK", 3)
    import_batches(store, admin, [Batch(_catalogue(), "cat.json")], method="bulk")
    chunked = _state(store)
    assert chunked == _state_of_one_chunk(admin, store, monkeypatch)
    with store.connect() as conn:
        numbers = conn.execute(select(registrations.c.number).order_by(registrations.c.id)).scalars().all()
        indexes = conn.execute(select(registrations.c.log_index).order_by(registrations.c.id)).scalars().all()
    assert [int(n.split("-")[2]) for n in numbers] == list(range(1, 33))  # gapless, in input order
    assert indexes == sorted(indexes) and len(set(indexes)) == 32
    assert chunked["counts"]["registrations"] == 32 and chunked["log"] == 32 + 1 + 1


@settings(max_examples=300, deadline=None)
@given(n=st.integers(0, 60_000), chunk=st.integers(1, 6_000), edge=st.integers(1, 2_000))
def test_chunks_cover_a_section_in_order_with_short_ends(n, chunk, edge):
    """Every record in exactly one chunk, in order; none longer than CHUNK; the first and the last (the ones the
    writer and the builder wait for) no longer than EDGE_CHUNK."""
    bulk.CHUNK, bulk.EDGE_CHUNK = chunk, edge
    try:
        bounds = bulk.chunk_bounds(n)
    finally:
        bulk.CHUNK, bulk.EDGE_CHUNK = 5_000, 1_000
    assert [i for a, b in bounds for i in range(a, b)] == list(range(n))
    assert all(b > a for a, b in bounds) and all(b - a <= max(chunk, edge) for a, b in bounds)
    if bounds:
        assert bounds[0][1] - bounds[0][0] <= edge and bounds[-1][1] - bounds[-1][0] <= edge
    if n > 2 * edge:
        assert all(b - a <= chunk for a, b in bounds[1:-1])


def test_references_the_section_did_not_see_first_are_looked_up_when_they_turn_up(store, admin, monkeypatch):
    """A reference parsing turns into one the section's first look-up did not see is looked up when its chunk is
    validated, once the writer is idle: the same rows as when every reference is seen first."""
    monkeypatch.setattr(bulk, "CHUNK", 7)
    monkeypatch.setattr(bulk, "EDGE_CHUNK", 3)
    monkeypatch.setattr(bulk, "_given_refs", lambda section, items: ([], []))
    import_batches(store, admin, [Batch(_catalogue(), "cat.json")], method="bulk")
    assert _state(store) == _state_of_one_chunk(admin, store, monkeypatch)


def _state_of_one_chunk(admin, store, monkeypatch) -> dict:
    """The same catalogue loaded in one chunk, in another store of the same kind (SQLite)."""
    import tempfile
    from pathlib import Path

    from obra.access import create_principal
    from obra.model.vocab import AccessRole
    from obra.store import Store

    monkeypatch.setattr(bulk, "CHUNK", 5_000)
    monkeypatch.setattr(bulk, "EDGE_CHUNK", 5_000)
    with tempfile.TemporaryDirectory() as tmp:
        other = Store.open(f"sqlite:///{Path(tmp) / 'one.db'}", Path(tmp) / "home", migrate=True)
        try:
            admin2, _ = create_principal(other, admin.name, AccessRole.ADMIN)
            import_batches(other, admin2, [Batch(_catalogue(), "cat.json")], method="bulk")
            return _state(other)
        finally:
            other.dispose()


def test_a_write_failing_on_the_writer_rolls_the_whole_import_back(store, admin, monkeypatch):
    monkeypatch.setattr(bulk, "CHUNK", 7)  # chunks of 3, 6, 6, 6, 6, 3: leaf 14 is in the third
    monkeypatch.setattr(bulk, "EDGE_CHUNK", 3)
    log = TransparencyLog(store)
    before = log.size()
    with store.begin() as conn:  # a stray entry where the 3rd chunk's first leaf will go: its write fails
        conn.execute(insert(log_entries).values(office=log.office, idx=before + 14, timestamp="2026-01-01T00:00:00Z",
                                                type="register", number="X", version=1, record_hash="0" * 64,
                                                leaf="{}", leaf_hash=b"\0" * 32))
    with pytest.raises(Exception) as raised:
        import_batches(store, admin, [Batch(_catalogue(), "cat.json")], method="bulk")
    # the writer's own error, not a later statement's refusal of the failed transaction
    message = str(raised.value)
    assert ("duplicate key" in message or "UNIQUE constraint failed" in message) and "aborted" not in message
    with store.connect() as conn:
        assert conn.execute(select(func.count()).select_from(registrations)).scalar_one() == 0
        assert conn.execute(select(func.count()).select_from(shares)).scalar_one() == 0
        assert conn.execute(select(func.count()).select_from(journal_events)
                            .where(journal_events.c.kind == "registration.register")).scalar_one() == 0
        assert conn.execute(select(func.count()).select_from(sequences)).scalar_one() == 0
        assert conn.execute(select(func.count()).select_from(log_entries)).scalar_one() == before + 1
    assert log.size() == before


def test_a_bulk_record_is_stored_as_the_rfc_8785_text_it_is_hashed_as(store, admin):
    import hashlib
    import json

    from sqlalchemy import String, cast

    from obra.canonical import canonical

    batch = _catalogue(4)
    batch["works"][1]["title"] = "Canción del 🎵 mar “azul” \\ tab"
    batch["works"][2] |= {"creation_mode": "ai_assisted", "disclosure": {
        "systems": [{"name": "Suno", "version": "v4"}], "ai_contribution": "the backing track\nand the mix",
        "human_contribution": "melodía y letra"}}
    import_batches(store, admin, [Batch(batch, "cat.json")], method="bulk")
    with store.connect() as conn:
        rows = conn.execute(select(cast(registrations.c.record, String), registrations.c.record_hash)).all()
    assert len(rows) == 6
    for text_, digest in rows:
        assert text_.encode("utf-8") == canonical(json.loads(text_))
        assert hashlib.sha256(text_.encode("utf-8")).hexdigest() == digest


def _full_rule(text: str, max_length: int, multiline: bool, required: bool) -> tuple:
    """The text rule walked character by character (what every text took before the ASCII shortcut)."""
    from obra.model.text import _trim, is_blank, text_problem

    if text_problem(text, multiline=multiline):
        return ("refused",)
    text = _trim(text)
    if (required and is_blank(text)) or len(text) > max_length:
        return ("refused",)
    return ("kept", text)


@settings(max_examples=600, deadline=None)
@given(st.text(alphabet=st.sampled_from([chr(c) for c in range(128)] + ["\u200b", "\ufeff", "é", "\u3000", "\u0301"]),
               max_size=8), st.integers(0, 6), st.booleans(), st.booleans())
def test_printable_ascii_text_is_checked_as_the_full_rule_checks_it(text, max_length, multiline, required):
    from obra.model.text import _checked

    try:
        got = ("kept", _checked(text, max_length, multiline, required))
    except ValueError:
        got = ("refused",)
    assert got == _full_rule(text, max_length, multiline, required)


def test_statistics_are_refreshed_once_the_register_grew_by_a_tenth(store, admin, monkeypatch):
    """After a bulk import of ANALYZE_AFTER registrations or more, the planner's statistics are gathered when they
    were never gathered or the register grew by a tenth since (autovacuum's rule), not after every file."""
    from obra.registry import batch as batch_module

    monkeypatch.setattr(batch_module, "ANALYZE_AFTER", 5)

    def load(n: int, start: int) -> int | None:
        works = [{**w, "title": f"Obra {start + k}"} for k, w in enumerate(_catalogue(n)["works"])]
        import_batches(store, admin, [Batch({"parties": _catalogue(1)["parties"], "works": works}, "c.json")],
                       method="bulk")
        with store.connect() as conn:
            return bulk.rows_in_statistics(conn)

    assert load(100, 0) == 100  # never gathered: gathered
    assert load(6, 100) == 100  # 6 % more: not yet
    assert load(6, 106) == 112  # 12 % more since they were gathered
    assert load(4, 112) == 112  # fewer than ANALYZE_AFTER


def test_a_batch_reads_and_locks_each_party_it_names_once(store, admin, monkeypatch):
    """The recordings section names parties the works section already read (and, on PostgreSQL, locked): they
    are not asked for again; the records are unchanged (see test_bulk's comparison with the per-record path)."""
    asked: list[int] = []
    party_names = bulk._party_names

    def counted(conn, wanted):
        asked.extend(wanted)
        return party_names(conn, wanted)

    monkeypatch.setattr(bulk, "_party_names", counted)
    created = import_batches(store, admin, [Batch(_catalogue(), "cat.json")], method="bulk")[0]
    assert len(created["recordings"]) == 2  # one performed by a party the works named
    assert sorted(asked) == sorted(set(asked)) and len(asked) == 2
