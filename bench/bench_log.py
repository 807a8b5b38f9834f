"""Transparency log: append 100,000 registrations, answer proofs, verify a certificate.

Measured against a naive log that keeps only the leaf hashes and recomputes every subtree
from all leaves for each proof (given its leaves already in memory, which flatters it).
Figures: appends per second (batched in registry-sized transactions, and one per
transaction), inclusion and consistency proof latency from the SQL store, the naive
baseline's latency for the same proofs, and the time to verify one certificate offline.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import select

from obra.ids import format_registration_number
from obra.transparency import merkle
from obra.registry.certificates import certificate_bytes, issue_certificate, verify_certificate
from obra.registry.records import record_hash
from obra.transparency.translog import TransparencyLog, log_entries, verify_tree_head
from obra.store import Store

OFFICE = "BENCH"
SCALES = {"full": {"entries": 100_000, "batch": 1_000, "single": 500, "proofs": 1_000, "naive": 5,
                   "verify": 200},
          "smoke": {"entries": 300, "batch": 100, "single": 10, "proofs": 20, "naive": 2, "verify": 5}}


def _event(seq: int) -> dict:
    return {"type": "register", "number": format_registration_number(OFFICE, 2026, seq), "version": 1,
            "record_hash": record_hash({"number": format_registration_number(OFFICE, 2026, seq), "seq": seq}),
            "entity": "work"}


def _naive_mth(leaves: list[bytes]) -> bytes:
    return merkle.root_from_leaf_hashes(leaves)


def _naive_path(m: int, leaves: list[bytes]) -> list[bytes]:
    """RFC 9162 PATH(m, D[n]) by its definition, rehashing every subtree from the leaves."""
    if len(leaves) <= 1:
        return []
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    if m < k:
        return _naive_path(m, leaves[:k]) + [_naive_mth(leaves[k:])]
    return _naive_path(m - k, leaves[k:]) + [_naive_mth(leaves[:k])]


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def run(scale: str = "full") -> dict:
    cfg = SCALES[scale]
    n = cfg["entries"]
    rng = random.Random(7)
    with tempfile.TemporaryDirectory(prefix="obra-bench-log-") as tmp:
        store = Store.open(f"sqlite:///{Path(tmp) / 'obra.db'}", Path(tmp) / "home", office=OFFICE, migrate=True)
        log = TransparencyLog(store)
        log.key_history()

        # appends: registry-sized transactions, then one append per transaction
        batched = n - cfg["single"]
        started = time.perf_counter()
        seq = 1
        while seq <= batched:
            with store.begin() as conn:
                for _ in range(min(cfg["batch"], batched - seq + 1)):
                    log.append(conn, _event(seq))
                    seq += 1
        batched_s = time.perf_counter() - started
        started = time.perf_counter()
        while seq <= n:
            with store.begin() as conn:
                log.append(conn, _event(seq))
            seq += 1
        single_s = time.perf_counter() - started

        sth = log.signed_tree_head()
        head = verify_tree_head(sth, log.key_history())
        assert head.tree_size == n

        # proofs from the SQL store, each one checked against the signed root
        with store.connect() as conn:
            leaves = [bytes(h) for h in conn.execute(select(log_entries.c.leaf_hash).where(
                log_entries.c.office == OFFICE).order_by(log_entries.c.idx)).scalars()]
        indexes = [rng.randrange(n) for _ in range(cfg["proofs"])]
        times = []
        for i in indexes:
            t0 = time.perf_counter()
            proof = log.inclusion_proof(i, n)
            times.append(time.perf_counter() - t0)
            merkle.verify_inclusion(leaves[i], i, n, [bytes.fromhex(h) for h in proof["hashes"]], head.root_hash)
        olds = [rng.randrange(1, n) for _ in range(cfg["proofs"])]
        ctimes = []
        for old in olds:
            t0 = time.perf_counter()
            proof = log.consistency_proof(old, n)
            ctimes.append(time.perf_counter() - t0)
        merkle.verify_consistency(olds[-1], n, merkle.root_from_leaf_hashes(leaves[:olds[-1]]), head.root_hash,
                                  [bytes.fromhex(h) for h in proof["hashes"]])

        # baseline: the naive log recomputes from all leaves per proof (leaves already in memory)
        naive = []
        for i in indexes[: cfg["naive"]]:
            t0 = time.perf_counter()
            path = _naive_path(i, leaves)
            root = _naive_mth(leaves)
            naive.append(time.perf_counter() - t0)
            assert root == head.root_hash
            assert [h.hex() for h in path] == log.inclusion_proof(i, n)["hashes"]

        # one certificate, verified offline
        number = format_registration_number(OFFICE, 2026, n + 1)
        record = {"number": number, "version": 1, "office": OFFICE, "entity": "work",
                  "work": {"title": "Bench work"}}
        with store.begin() as conn:
            log.append(conn, {"type": "register", "number": number, "version": 1,
                              "record_hash": record_hash(record), "entity": "work"})
        t0 = time.perf_counter()
        cert = certificate_bytes(issue_certificate(log, record))
        issue_s = time.perf_counter() - t0
        history = log.key_history()
        vtimes = []
        for _ in range(cfg["verify"]):
            t0 = time.perf_counter()
            verify_certificate(cert, history)
            vtimes.append(time.perf_counter() - t0)
        store.dispose()

    ours_ms = statistics.median(times) * 1000
    naive_ms = statistics.median(naive) * 1000
    return {
        "entries": n,
        "batch_size": cfg["batch"],
        "append_batched_per_s": round(batched / batched_s, 1),
        "append_batched_us_each": round(batched_s / batched * 1e6, 1),
        "append_single_transaction_ms_each": _ms(single_s / cfg["single"]),
        "append_total_s": round(batched_s + single_s, 2),
        "inclusion_proof_ms_median": round(ours_ms, 3),
        "inclusion_proof_ms_p99": _ms(sorted(times)[int(len(times) * 0.99) - 1]),
        "consistency_proof_ms_median": _ms(statistics.median(ctimes)),
        "proofs_measured": cfg["proofs"],
        "baseline": "naive: recompute every subtree (and the root) from all leaf hashes per proof, "
                    "leaves preloaded in memory",
        "baseline_inclusion_proof_ms_median": round(naive_ms, 3),
        "baseline_proofs_measured": cfg["naive"],
        "speedup_inclusion_proof_vs_naive": round(naive_ms / ours_ms, 1),
        "certificate_issue_ms": _ms(issue_s),
        "certificate_bytes": len(cert),
        "certificate_verify_ms_median": _ms(statistics.median(vtimes)),
        "storage": "SQLite (WAL)",
    }


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(run(sys.argv[1] if len(sys.argv) > 1 else "smoke"), indent=2))
