"""A catalogue's transparency reports signed by worker processes: the same files, hashes and signatures
as signing them here, each verifying offline."""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone

from obra.canonical import canonical
from obra.fairness.transparency_report import build_report, report_hash, sign_and_write, verify_report
from obra.transparency.signing import OfficeKeys

ROWS = [{"item": f"W{j}", "platform": "Tunebox", "service": "Premium", "territory": "DE", "right_type": "mechanical",
         "currency": "EUR", "units": 1000 + j, "revenue": 12_345 + j, "due": 1_234 + j, "agreement": f"A{j % 3}",
         "transferee": "9"} for j in range(5)]


def _bodies(n: int, at: datetime) -> list[dict]:
    return [build_report(str(1000 + i), 2025, ROWS[: 1 + i % 5], [], {}, office="UYMVD", issued_at=at, names={},
                         titles={}, clauses={}, law={"jurisdiction": "DE"}, law_version="test") for i in range(n)]


def test_workers_write_what_this_process_writes_and_every_report_verifies(tmp_path):
    keys = OfficeKeys(tmp_path / "home", "UYMVD")
    history = keys.history()
    at = datetime.now(timezone.utc)
    bodies = _bodies(40, at)
    here, there = tmp_path / "here", tmp_path / "there"
    here.mkdir()
    there.mkdir()
    alone = sign_and_write(keys, bodies, at, here, workers=1)
    shared = sign_and_write(keys, bodies, at, there, workers=2, parallel_from=10)
    assert list(shared) == list(alone) == [b["creator"]["party"] for b in bodies]   # the order given
    assert shared == alone
    for party, digest in shared.items():
        blob = (there / f"report-{party}.json").read_bytes()
        assert blob == (here / f"report-{party}.json").read_bytes() and blob.endswith(b"\n")
        report = verify_report(blob, history)
        assert report_hash(report) == digest == hashlib.sha256(canonical(report)).hexdigest()
