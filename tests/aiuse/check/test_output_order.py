"""The per-item results come out in item order, whatever order the engine's joins produced them in.

The result table is stored in item order once (no second sort when it is written); a multi-threaded
join scrambles rows, so a manifest large enough for several threads is what can catch a writer that
streams the table in the wrong order.
"""

from __future__ import annotations

import csv
import json

import pyarrow.parquet as pq

from bench.bench_aiuse_check import AGENT, _registry, stage_generate
from obra.access import create_principal
from obra.aiuse.check.service import CheckService
from obra.model.vocab import AccessRole


def test_every_format_lists_the_items_in_manifest_order(sqlite_store, tmp_path):
    stage_generate(str(tmp_path), items=300_000, works=4_000, sites=200)
    principal, _ = create_principal(sqlite_store, "dev-order", AccessRole.AI_DEVELOPER)
    done = CheckService(sqlite_store).check(principal, tmp_path / "manifest.parquet", tmp_path / "sites.jsonl",
                                            jurisdiction="DE", purpose="commercial", user_agent=AGENT,
                                            registry=_registry(tmp_path), out_dir=tmp_path / "out", threads=2,
                                            formats="all")
    assert done["summary"]["items"] == 300_000
    items = pq.read_table(done["files"]["parquet"], columns=["item", "line"])
    assert items["item"].to_pylist() == list(range(300_000))
    assert items["line"].to_pylist() == list(range(1, 300_001))
    with open(done["files"]["csv"], newline="") as fh:
        assert [int(row["item"]) for row in csv.DictReader(fh)] == list(range(300_000))
    assert [row["item"] for row in json.loads((tmp_path / "out" / "items.json").read_text())] == list(range(300_000))
