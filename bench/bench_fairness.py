"""Renegotiation checks and transparency-report rows for a whole catalogue, from stored runs (issue #16).

The target: 100,000 agreements over 12 periods of 10,000,000 usage lines each, in under 60 s once the
runs exist, read from the stored runs (not recomputed), against a straightforward per-agreement loop
in the same run.

What is built: 12 periods of **stored runs** in exactly the layout ``run_period`` keeps
(``statement_lines.parquet``: payee, pool keys, item, role, agreement path, fraction, plays,
amount). A run's statement lines are its usage aggregated per (pool, item, payee): with 100,000
recordings each used in 5 of 12 pools a month and ~20 usage lines behind each (pool, item), a period
of 10,000,000 usage lines gives ~1,000,000 statement lines (creator + label line per pool and item).
The check reads only those, as the product does; the 10M raw usage lines per period are not
generated (their aggregation is the distribution's cost, benchmarked in ``bench_royalties``), and the
``usage_lines`` the bench records is the count the statement lines stand for.

Measured in one process:

* **vectorised**: :func:`obra.fairness.renegotiation.check` over all agreements and periods
  (every trigger, flags with series and evidence), then the catalogue's transparency-report rows
  (:func:`obra.fairness.transparency_report.report_rows`, written as one Parquet sorted by creator);
* **per-agreement loop** (baseline): for each agreement, one DuckDB query for its lines and the
  figures in Python, as a first implementation would; timed on a sample and scaled linearly to the
  catalogue (stated as such: running it whole would take hours);
* **signed reports**: building, signing (Ed25519, RFC 8785) and writing one creator's report
  document, timed on a sample; the rate is reported with what a full catalogue would take.
"""

from __future__ import annotations

import os
import random
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

SCALES = {"full": {"agreements": 100_000, "periods": 12, "pools_per_item": 5, "loop_sample": 20,
                   "usage_per_line": 20},
          "smoke": {"agreements": 1_000, "periods": 2, "pools_per_item": 3, "loop_sample": 5,
                    "usage_per_line": 20}}
SERVICES = ("Tunebox", "Streamly", "Wavely")
TERRITORIES = ("DE", "FR", "ES", "GB")
JURISDICTIONS = ("DE", "FR", "ES", "GB")


def _agreements(n: int, rng: random.Random):
    from obra.model import Agreement

    out, terms = [], {}
    for i in range(1, n + 1):
        lump = i % 10 == 0
        out.append(Agreement(id=i, kind="recording_contract", assignor=1_000_000 + i, assignee=1 + i % 1000,
                             rights=("making_available",), start=date(2019, 1, 1),
                             retained="1" if lump else "0.8", advance=500_000 if i % 50 == 0 else 0,
                             minimum_guarantee=2 if i % 25 == 0 else 0))
        terms[str(i)] = {"jurisdiction": JURISDICTIONS[i % 4], "lump_sum_minor": 5_000 if lump else None,
                         "currency": "EUR", "appropriate_share": "0.15" if i % 3 == 0 else None, "note": None}
    return out, terms


def _period(k: int) -> str:
    return f"2025-{k + 1:02d}"


def _write_runs(root: Path, n: int, periods: int, pools_per_item: int, usage_per_line: int, seed: int = 7):
    """One statement_lines.parquet (and balances) per period, in the layout of a kept run."""
    from obra.fairness.runs import StoredRun

    rng = np.random.default_rng(seed)
    runs = []
    aid = np.arange(1, n + 1)
    lump = aid % 10 == 0
    idle = aid % 97 == 0  # never used: the non-exploitation trigger finds them
    pool_names = [(s, t) for s in SERVICES for t in TERRITORIES]
    lines_total = 0
    for k in range(periods):
        period = _period(k)
        used = aid[~idle]
        reps = np.repeat(used, pools_per_item)
        pool_idx = (reps * 7 + np.tile(np.arange(pools_per_item), len(used)) * 5 + k) % len(pool_names)
        plays = rng.integers(1, 200, size=len(reps))
        money = plays * rng.integers(30, 60, size=len(reps))  # minor units per (pool, item)
        is_lump = (reps % 10 == 0)
        creator_amt = np.where(is_lump, 0, money // 5)
        label_amt = money - creator_amt
        # creator lines (not for buy-outs), then label lines
        c_mask = ~is_lump
        payee = np.concatenate([(1_000_000 + reps[c_mask]).astype(str), (1 + reps % 1000).astype(str)])
        item = np.concatenate([reps[c_mask], reps])
        pidx = np.concatenate([pool_idx[c_mask], pool_idx])
        amount = np.concatenate([creator_amt[c_mask], label_amt])
        pl = np.concatenate([plays[c_mask], plays])
        m = len(payee)
        svc = np.array([p[0] for p in pool_names])[pidx]
        ter = np.array([p[1] for p in pool_names])[pidx]
        table = pa.table({
            "payee": pa.array(payee), "period": pa.array([period] * m), "territory": pa.array(ter),
            "service": pa.array(svc), "commercial_model": pa.array(["Subscription"] * m),
            "currency": pa.array(["EUR"] * m), "item": pa.array(np.char.add("REC-", item.astype(str))),
            "role": pa.array(["share"] * m), "path": pa.array(item.astype(str)),
            "fraction": pa.array(["1/5"] * m), "plays": pa.array(pl, pa.int64()),
            "amount_minor": pa.array(amount, pa.int64()),
            "usage": pa.array(["usage.csv:1..20(20)"] * m), "recipient_order": pa.array(np.zeros(m, np.int32))})
        directory = root / f"run-{k + 1:06d}"
        directory.mkdir(parents=True)
        pq.write_table(table, directory / "statement_lines.parquet")
        lines_total += m
        balances = {str(a): max(0, 500_000 - 1_000 * (k + 1)) for a in range(50, n + 1, 50)}
        runs.append(StoredRun(k + 1, period, "making_available", directory / "statement_lines.parquet", balances,
                              [{"currency": "EUR", "reason": "unmatched usage", "amount_minor": 1_000_000}],
                              {"EUR": int(money.sum())}))
    usage_lines = int(len(aid[~idle]) * pools_per_item * usage_per_line * periods)
    return runs, lines_total, usage_lines


def _loop_one(con, runs, a, terms, rules):
    """The straightforward way: one query per agreement for its lines, the figures in Python."""
    from fractions import Fraction

    paths = ", ".join(f"'{r.lines}'" for r in runs)
    rows = con.execute(f"SELECT period, service, payee, path, amount_minor, plays FROM read_parquet([{paths}]) "
                       "WHERE list_contains(string_split(path, '>'), ?)", [str(a.id)]).fetchall()
    t = terms[str(a.id)]
    by_lic: dict = {}
    for period, service, payee, path, amount, plays in rows:
        e = by_lic.setdefault(service, [0, 0])
        e[0] += amount
        if payee == str(a.assignor) and path.split(">")[-1] == str(a.id):
            e[1] += amount
    rule, _ = rules.rule(t["jurisdiction"], "disproportion", "lump_sum" if t["lump_sum_minor"] else "proportional")
    bench = rules.benchmark(t["jurisdiction"]) if not t["appropriate_share"] else Fraction(t["appropriate_share"])
    total = sum(v[0] for v in by_lic.values()) or 1
    flags = 0
    for revenue, paid in by_lic.values():
        if rule is None or bench is None or revenue == 0:
            continue
        pay = paid + Fraction((t["lump_sum_minor"] or 0) * revenue, total)
        flags += pay < rule.threshold * bench * revenue
    return flags


def run(scale: str = "full") -> dict:
    import duckdb

    from obra.fairness.renegotiation import check
    from obra.fairness.transparency_report import build_report, report_rows, sign_and_write
    from obra.law.fairness import FairnessConfig, rule_set
    from obra.transparency.signing import OfficeKeys

    p = SCALES[scale]
    rng = random.Random(11)
    with tempfile.TemporaryDirectory(prefix="obra-bench-fairness-") as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        agreements, terms = _agreements(p["agreements"], rng)
        runs, lines, usage_lines = _write_runs(root / "runs", p["agreements"], p["periods"], p["pools_per_item"],
                                               p["usage_per_line"])
        build_s = time.perf_counter() - t0
        rules = rule_set(FairnessConfig(benchmarks={"DE": "0.25", "FR": "0.25", "ES": "0.25", "GB": "0.25"},
                                        thresholds={"ES": "1/2"}))

        con = duckdb.connect()
        con.execute(f"SET threads = {os.cpu_count() or 2}")
        t0, c0 = time.perf_counter(), time.process_time()
        result = check(con, runs, agreements, terms, rules, date(2027, 1, 31))
        check_s, check_cpu = time.perf_counter() - t0, time.process_time() - c0

        t0, c0 = time.perf_counter(), time.process_time()
        table = pa.table({"aid": [str(a.id) for a in agreements], "assignor": [str(a.assignor) for a in agreements],
                          "assignee": [str(a.assignee) for a in agreements]})
        rows = report_rows(con, runs, table, None)
        rows.write_parquet(str(root / "report_rows.parquet"))
        n_rows = int(con.execute(f"SELECT count(*) FROM read_parquet('{root / 'report_rows.parquet'}')").fetchall()[0][0])
        creators = int(con.execute(f"SELECT count(DISTINCT creator) FROM read_parquet('{root / 'report_rows.parquet'}')")
                       .fetchall()[0][0])
        rows_s, rows_cpu = time.perf_counter() - t0, time.process_time() - c0
        load = os.getloadavg()[0]

        # the whole catalogue's signed report documents, as the service issues them (worker processes)
        keys = OfficeKeys(root / "home", "BENCH")
        keys.history()
        from datetime import datetime, timezone

        moment = datetime.now(timezone.utc)
        t0 = time.perf_counter()
        per: dict[str, list[dict]] = {}
        for r in con.sql(f"SELECT * FROM read_parquet('{root / 'report_rows.parquet'}')").fetch_arrow_table().to_pylist():
            per.setdefault(r["creator"], []).append(r)
        bodies = [build_report(creator, 2025, found, runs, {}, office="BENCH", issued_at=moment, names={}, titles={},
                               clauses={}, law={"jurisdiction": None, "obligation": None}, law_version="bench")
                  for creator, found in per.items()]
        built_s = time.perf_counter() - t0
        out_dir = root / "reports"
        out_dir.mkdir()
        written = sign_and_write(keys, bodies, moment, out_dir)
        documents_s = time.perf_counter() - t0
        sign_rate = len(written) / (documents_s - built_s)
        del per, bodies

        # baseline: a per-agreement loop, on a sample, scaled to the catalogue
        sample_agreements = rng.sample(agreements, p["loop_sample"])
        t0 = time.perf_counter()
        for a in sample_agreements:
            _loop_one(con, runs, a, terms, rules)
        loop_sample_s = time.perf_counter() - t0
        loop_est_s = loop_sample_s / len(sample_agreements) * len(agreements)
        con.close()

    vectorised_s = check_s + rows_s
    return {
        "what": "renegotiation check (every trigger) + transparency-report rows for a whole catalogue, read from "
                "stored runs",
        "agreements": len(agreements), "periods": p["periods"], "statement_lines": lines,
        "usage_lines_represented": usage_lines,
        "usage_lines_per_period_represented": usage_lines // p["periods"],
        "build_seconds": round(build_s, 2),
        "check_seconds": round(check_s, 2), "flags": result.summary()["flags"],
        "by_trigger": result.summary()["by_trigger"], "skipped": result.summary()["skipped"],
        "report_rows_seconds": round(rows_s, 2), "report_rows": n_rows, "report_creators": creators,
        "vectorised_seconds": round(vectorised_s, 2),
        "vectorised_cpu_seconds": round(check_cpu + rows_cpu, 2),
        "host_load_average_1min": round(load, 1),
        "target_seconds": 60, "meets_target": vectorised_s < 60,
        "baseline": "per-agreement loop (one DuckDB query per agreement, figures in Python)",
        "baseline_sample": len(sample_agreements), "baseline_sample_seconds": round(loop_sample_s, 2),
        "baseline_estimated_seconds": round(loop_est_s, 1),
        "speedup_vs_loop": round(loop_est_s / max(check_s, 1e-9), 1),
        "report_documents": len(written),
        "report_documents_seconds": round(documents_s, 2),
        "report_documents_build_seconds": round(built_s, 2),
        "signed_reports_per_second": round(sign_rate, 1),
        "checks_and_signed_reports_seconds": round(vectorised_s + documents_s, 2),
        "meets_target_with_documents": vectorised_s + documents_s < 60,
        "notes": "statement lines are generated in the layout of kept runs (the 10M usage lines per period they "
                 "stand for are not generated); the loop is timed on a sample and scaled linearly; every creator's "
                 "signed report document is built, signed and written (worker processes, as the service does)",
    }
