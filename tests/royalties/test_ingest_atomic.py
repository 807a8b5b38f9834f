"""A killed ingest leaves nothing visible (issue #13, finding 5), proven with real SIGKILLs.

The audit killed a usage ingest while it published (2.4M lines over 12 periods): 7 of 13 kills left
2, 9 or all 12 partitions visible with no manifest entry, and matching and distribution read
partitions by file pattern. Here a child process ingests a 12-period file and kills itself with
SIGKILL at each step of publication (``OBRA_TEST_KILL_AT``: before any rename, after the 6th of
12 partitions is renamed into place, after the last rename, after the commit). After each
kill no engine sees a single period (or, after the commit, all of them); the next ingest cleans
what was left and gives the same pool totals as a clean ingest.
"""

from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal

import pytest

from obra.access import create_principal
from obra.model.vocab import AccessRole
from obra.royalties import engine as engines
from obra.royalties.datasets import partitions, periods, pools_dataset, published_sources, usage_dataset
from obra.royalties.ingest import KILL_ENV, sources
from obra.royalties.matching.claims import queue
from obra.royalties.pipeline import ingest_dsr, ingest_usage_csv, run_matching

from .samples import POOL_COLUMNS, YOUTUBE, write_csv

PERIODS = [f"2025-{m:02d}" for m in range(1, 13)]
CHILD = """
import sys
from obra.access import Principal
from obra.model.vocab import AccessRole
from obra.royalties.pipeline import ingest_dsr, ingest_usage_csv
from obra.store import Store

url, home, path, job = sys.argv[1:5]
store = Store.open(url, home, schema=(sys.argv[5] if len(sys.argv) > 5 else None))
{"csv": ingest_usage_csv, "dsr": ingest_dsr}[job](store, path, Principal("cmo", AccessRole.CMO))
print("finished")
"""


def pools_file(tmp_path):
    """Pools for 12 months, 3 services each: 12 partitions, money known to the cent."""
    rows = [{"period": p, "territory": "UY", "service": f"svc-{k}", "commercial_model": "Subscription",
             "currency": "USD", "amount": f"{100 + 7 * i + k}.{(13 * i + k) % 100:02d}"}
            for i, p in enumerate(PERIODS) for k in range(3)]
    expected = {p: 0 for p in PERIODS}
    for r in rows:
        expected[r["period"]] += int(Decimal(r["amount"]) * 100)
    return write_csv(tmp_path / "pools-2025.csv", rows, POOL_COLUMNS), expected


def usage_file(tmp_path):
    rows = [{"period": p, "territory": "UY", "service": "svc", "commercial_model": "Subscription",
             "use_type": "stream", "title": f"Song {n}", "artist": "Ana", "plays": n + 1}
            for p in PERIODS for n in range(50)]
    return write_csv(tmp_path / "usage-2025.csv", rows)


def kill_during_ingest(store, path, step: str, job: str = "csv") -> None:
    """Run the ingest in a child process that SIGKILLs itself at ``step``."""
    env = {**os.environ, KILL_ENV: step}
    args = [sys.executable, "-c", CHILD, str(store.url), str(store.home), str(path), job]
    if store.schema:
        args.append(store.schema)
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == -9, (done.returncode, done.stdout, done.stderr[-2000:])
    assert "finished" not in done.stdout


def pool_totals(store) -> dict[str, int]:
    """What distribution would share out, per period: the published pools, read by the engine."""
    con = engines.connect("duckdb")
    published = published_sources(store)
    out = {}
    for p in PERIODS:
        t = engines.read_dataset(con, pools_dataset(store), p, sources=published)
        out[p] = 0 if t is None else int(t.amount_minor.sum().execute())
    return out


@pytest.fixture
def cmo(store):
    root, _ = create_principal(store, "root", AccessRole.ADMIN)
    principal, _ = create_principal(store, "cmo-1", AccessRole.CMO, by=root)
    return principal


STEPS = ["staged", "publish:6", "published"]


@pytest.mark.parametrize("step", STEPS)
def test_a_killed_ingest_leaves_no_period_visible_and_the_rerun_gives_the_clean_totals(
        sqlite_store, tmp_path, step):
    store = sqlite_store
    path, expected = pools_file(tmp_path)
    kill_during_ingest(store, path, step)
    renamed = {"staged": 0, "publish:6": 6, "published": 12}[step]
    # the files the killed process renamed are there ...
    assert len(partitions(pools_dataset(store), sources=None)) == renamed
    # ... and no engine reads them: nothing is published, no period has money
    assert published_sources(store) == frozenset() and sources(store) == []
    assert periods(store) == [] and set(pool_totals(store).values()) == {0}
    assert list((store.home / ".staging").iterdir())          # what the killed process staged
    principal, _ = create_principal(store, "cmo-1", AccessRole.CMO)
    again = ingest_usage_csv(store, path, principal)
    assert again["status"] == "ingested" and again["periods"] == PERIODS
    assert pool_totals(store) == expected
    # the rerun cleaned what the kill left: no staging, no partition of an unknown source
    assert not list((store.home / ".staging").iterdir())
    assert {s for _, s, _ in partitions(pools_dataset(store), sources=None)} == published_sources(store)


def test_a_kill_after_the_commit_leaves_the_whole_file_published(sqlite_store, tmp_path):
    store = sqlite_store
    path, expected = pools_file(tmp_path)
    kill_during_ingest(store, path, "committed")
    assert pool_totals(store) == expected and len(sources(store)) == 1
    principal, _ = create_principal(store, "cmo-1", AccessRole.CMO)
    assert ingest_usage_csv(store, path, principal)["status"] == "already ingested"
    assert pool_totals(store) == expected


def test_a_killed_usage_ingest_is_invisible_to_matching_and_the_claims_queue(store, cmo, tmp_path):
    path = usage_file(tmp_path)
    kill_during_ingest(store, path, "publish:6")
    assert len(partitions(usage_dataset(store), sources=None)) == 6
    assert run_matching(store, cmo)["lines"] == 0
    assert queue(store) == []
    again = ingest_usage_csv(store, path, cmo)
    assert run_matching(store, cmo)["lines"] == 600
    assert again["counts"] == {"usage": 600}


def test_a_killed_dsr_ingest_is_invisible_and_the_rerun_counts_the_pool_once(store, cmo):
    kill_during_ingest(store, YOUTUBE, "published", job="dsr")
    con = engines.connect("duckdb")
    assert engines.read_dataset(con, pools_dataset(store), "2015-Q4", sources=published_sources(store)) is None
    ingest_dsr(store, YOUTUBE, cmo)
    pools = engines.read_dataset(con, pools_dataset(store), "2015-Q4", sources=published_sources(store))
    assert int(pools.amount_minor.sum().execute()) == 1_576_358
