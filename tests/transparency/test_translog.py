"""The transparency log on real SQLite and PostgreSQL: gapless, append-only, provable."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import update

from obra.errors import InvalidInput, NotFound
from obra.ids import format_registration_number
from obra.transparency import merkle
from obra.registry.records import record_hash
from obra.transparency.translog import (LogError, LogInconsistent, TransparencyLog, log_nodes, node_number,
                                    verify_tree_head)


def event(seq: int, office: str = "OBRA", kind: str = "register") -> dict:
    return {"type": kind, "number": format_registration_number(office, 2026, seq), "version": 1,
            "record_hash": record_hash({"seq": seq})}


def _proof(d: dict) -> list[bytes]:
    return [bytes.fromhex(h) for h in d["hashes"]]


def test_registry_events_land_in_the_log_with_their_time(registered, log):
    b = registered.log_index - 1  # entries before: the admin's journal event
    entries = log.entries(b)
    assert [(e.index, e.leaf["type"], e.version) for e in entries] == [(b, "register", 1), (b + 1, "correct", 2)]
    assert entries[1].leaf["record_hash"] == registered.record_hash
    assert entries[0].timestamp <= entries[1].timestamp


def test_appends_are_gapless_and_every_proof_verifies(store, log):
    with store.begin() as conn:
        for i in range(1, 12):
            log.append(conn, event(i))
    sth = log.signed_tree_head()
    head = verify_tree_head(sth, log.key_history())
    assert head.tree_size == 11
    leaves = [e.leaf_hash for e in log.entries()]
    assert [e.index for e in log.entries()] == list(range(11))
    assert head.root_hash == merkle.root_from_leaf_hashes(leaves)
    for i in range(11):
        merkle.verify_inclusion(leaves[i], i, 11, _proof(log.inclusion_proof(i, 11)), head.root_hash)
    for old in range(12):
        merkle.verify_consistency(old, 11, merkle.root_from_leaf_hashes(leaves[:old]), head.root_hash,
                                  _proof(log.consistency_proof(old, 11)))


def test_one_signed_head_per_size_so_repeated_requests_agree(store, log):
    with store.begin() as conn:
        log.append(conn, event(1))
    assert log.signed_tree_head() == log.signed_tree_head()
    with store.begin() as conn:
        log.append(conn, event(2))
    assert log.signed_tree_head(1)["tree_size"] == 1
    assert log.signed_tree_head()["tree_size"] == 2


def test_a_bad_event_is_refused_whole_and_nothing_is_written(store, log):
    with pytest.raises(InvalidInput) as err:
        with store.begin() as conn:
            log.append(conn, event(1))
            log.append(conn, {"type": "Register!", "number": "OBRA-2026-0000002-X", "version": 0,
                              "record_hash": "zz", "timestamp": "now"})
    fields = {p.field for p in err.value.problems}
    assert {"type", "number", "version", "record_hash", "timestamp"} <= fields
    assert log.size() == 0 and log.entries() == []


def test_another_offices_number_cannot_enter_this_log(store, log):
    with pytest.raises(InvalidInput, match="issued by office UYMVD"):
        with store.begin() as conn:
            log.append(conn, event(1, office="UYMVD"))


def test_a_rolled_back_registration_leaves_no_log_entry(store, log):
    with pytest.raises(RuntimeError):
        with store.begin() as conn:
            log.append(conn, event(1))
            raise RuntimeError("registration failed after logging")
    with store.begin() as conn:
        assert log.append(conn, event(2)).index == 0
    assert log.size() == 1


def test_tampered_stored_subtree_is_caught_on_the_next_append(store, log):
    with store.begin() as conn:
        for i in range(1, 4):
            log.append(conn, event(i))
    with store.begin() as conn:
        conn.execute(update(log_nodes).where(log_nodes.c.node == node_number(1, 0))
                     .values(hash=b"\x00" * 32))
    with pytest.raises(LogInconsistent, match="inconsistent at entry 3"):
        with store.begin() as conn:
            log.append(conn, event(4))
    assert log.size() == 3


def test_concurrent_appends_get_distinct_gapless_indexes(store, log):
    errors: list[Exception] = []

    def worker(base: int) -> None:
        try:
            for i in range(5):
                with store.begin() as conn:
                    log.append(conn, event(base + i))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(b,)) for b in (1, 101, 201)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    entries = log.entries()
    assert [e.index for e in entries] == list(range(15))
    assert len({e.number for e in entries}) == 15
    head = verify_tree_head(log.signed_tree_head(), log.key_history())
    assert head.root_hash == merkle.root_from_leaf_hashes([e.leaf_hash for e in entries])


def test_questions_beyond_the_log_are_not_found(store, log):
    with store.begin() as conn:
        log.append(conn, event(1))
    with pytest.raises(NotFound):
        log.inclusion_proof(1, 1)
    with pytest.raises(NotFound):
        log.consistency_proof(0, 5)
    with pytest.raises(NotFound):
        log.entry(3)


def test_an_imported_log_is_read_only(store):
    with pytest.raises(LogError, match="imported copy"):
        with store.begin() as conn:
            TransparencyLog(store, "UYMVD").append(conn, event(1, office="UYMVD"))
