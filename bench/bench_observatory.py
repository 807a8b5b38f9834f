"""Observatory: the full report of one period against a straightforward pandas computation.

* **Obra**: ``build_report`` (revenue, plays, rates, play sources, matching, concentration with
  Gini/Theil/Lorenz, pro-rata, user-centric and artist-centric (Deezer 2023) compared by tier and
  group, one scenario: user-centric with a per-play floor and a 12 % commission) on DuckDB, then
  ``write_report`` (site in English, SVG charts, the PDF, CSV/Parquet tables, manifest).
* **pandas baseline**, same run, same Parquet files: the indicators a straightforward script computes
  (revenue and plays per slice, pro-rata per recording with the same largest-remainder rule, artists'
  totals, Gini and top shares); its numbers are checked equal to the report's.

Data from :func:`obra_demo.streaming.generate` (Zipf popularity, heavy-tailed listeners).
``OBRA_BENCH_OBSERVATORY_LINES`` / ``_USERS`` set the size (default 1,000,000 lines, 100,000 users;
the issue's target is 10,000,000 lines and 1,000,000 users in under 30 s).
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path


def _pandas_baseline(files: dict, attrs) -> dict:
    import numpy as np
    import pandas as pd

    usage = pd.concat([pd.read_parquet(f, columns=["source", "line", "period", "territory", "service",
                                                   "commercial_model", "plays"]) for f in files["usage"]])
    pools = pd.concat([pd.read_parquet(f) for f in files["pools"]])
    matches = pd.concat([pd.read_parquet(f, columns=["source", "line", "recording_number"]) for f in files["matches"]])
    keys = ["period", "territory", "service", "commercial_model"]
    revenue = pools.groupby(keys[1:] + ["currency"])["amount_minor"].sum()
    plays = usage.groupby(keys[1:])["plays"].sum()
    lines = usage.merge(matches, on=["source", "line"], how="left")
    per = lines.groupby(keys + ["recording_number"], dropna=False)["plays"].sum().reset_index()
    pool = pools.groupby(keys + ["currency"])["amount_minor"].sum().reset_index()
    j = per.merge(pool, on=keys)
    total = j.groupby(keys + ["currency"])["plays"].transform("sum")
    product = j["amount_minor"].astype(object) * j["plays"].astype(object)
    j["floor"] = (product // total.astype(object)).astype("int64")
    j["rem"] = (product % total.astype(object)).astype("int64")
    j["matched_last"] = j["recording_number"].isna().astype(int)
    j["item"] = j["recording_number"].fillna("")
    j = j.sort_values(keys + ["currency", "rem", "matched_last", "item"], ascending=[True] * 5 + [False, True, True])
    left = j["amount_minor"] - j.groupby(keys + ["currency"])["floor"].transform("sum")
    rank = j.groupby(keys + ["currency"]).cumcount()
    j["amount"] = j["floor"] + (rank < left).astype("int64")
    paid = j[j["recording_number"].notna()].merge(attrs, left_on="recording_number", right_on="item", how="left")
    artists = paid.groupby(["currency", "artist"])["amount"].sum()
    out = {"revenue": int(revenue.sum()), "plays": int(plays.sum()), "gini": {}}
    for cur, s in artists.groupby(level=0):
        x = np.sort(s.to_numpy(dtype=np.float64))
        n = x.size
        out["gini"][cur] = float(2 * np.dot(np.arange(1, n + 1), x) / (n * x.sum()) - (n + 1) / n)
    return out


def run(scale: str) -> dict:
    from obra.observatory.market import Market
    from obra.observatory.report import build_report, write_report
    from obra.observatory.scenarios import parse_scenario
    from obra.royalties import engine as engines
    from obra_demo.streaming import generate

    lines = 50_000 if scale == "smoke" else int(os.environ.get("OBRA_BENCH_OBSERVATORY_LINES", 1_000_000))
    users = 5_000 if scale == "smoke" else int(os.environ.get("OBRA_BENCH_OBSERVATORY_USERS", 100_000))
    home = Path(tempfile.mkdtemp(prefix="obra-bench-observatory-"))
    started = time.perf_counter()
    g = generate(home, lines=lines, users=users, recordings=max(2_000, lines // 500), period="2024-03")
    generated = time.perf_counter() - started
    attrs = g.recordings.select(["recording_number", "artist", "genre"]).rename_columns(["item", "artist", "genre"])

    started = time.perf_counter()
    con = engines.connect("duckdb")
    market = Market("2024-03", "duckdb", con, engines.read_parquet(con, [str(p) for p in g.files["usage"]], "usage"),
                    engines.read_parquet(con, [str(p) for p in g.files["pools"]], "pools"),
                    engines.read_parquet(con, [str(p) for p in g.files["matches"]], "matches"), attrs,
                    {"generated": "bench"})
    scenario = parse_scenario({"name": "floor", "rules": {"model": "user-centric", "per_play_floor_minor": "0.2",
                                                          "cmo_commission": "0.12"}})
    report = build_report(market, scenario=scenario)
    built = time.perf_counter() - started
    write_report(report, home / "report", locales=("en",), pdf_locales=("en",))
    obra_seconds = time.perf_counter() - started

    started = time.perf_counter()
    baseline = _pandas_baseline(g.files, attrs.to_pandas())
    pandas_seconds = time.perf_counter() - started

    # Like for like: Obra computing only what the pandas script computes (fresh connection, no cache).
    from obra.observatory import indicators, scenarios

    started = time.perf_counter()
    con2 = engines.connect("duckdb")
    same = Market("2024-03", "duckdb", con2, engines.read_parquet(con2, [str(p) for p in g.files["usage"]]),
                  engines.read_parquet(con2, [str(p) for p in g.files["pools"]]),
                  engines.read_parquet(con2, [str(p) for p in g.files["matches"]]), attrs, {})
    indicators.revenue(same), indicators.plays(same)
    pro = scenarios.run_rules(scenarios.Rules(), same.usage, same.pools, same.matches)
    indicators.concentration(scenarios.per_artist(pro, same.attributes, same.period), indicators.per_item(pro.items))
    same_seconds = time.perf_counter() - started
    timings = {}
    for name in ("pro-rata", "user-centric", "artist-centric"):
        started = time.perf_counter()
        scenarios.run_rules(scenarios.preset_scenario(name).rules, same.usage, same.pools, same.matches)
        timings[name] = round(time.perf_counter() - started, 2)

    revenue = sum(r["amount_minor"] for r in report["figures"]["revenue"]["rows"])
    plays = sum(r["plays"] for r in report["figures"]["plays"]["rows"])
    gini = {cur: c["artists"]["gini"] for cur, c in report["figures"]["concentration"]["rows"].items()}
    agree = (revenue == baseline["revenue"] and plays == baseline["plays"]
             and all(abs(gini[c] - baseline["gini"][c]) < 1e-9 for c in baseline["gini"]))
    return {"lines": lines, "users": users, "generate_seconds": round(generated, 2),
            "obra_build_seconds": round(built, 2), "obra_report_seconds": round(obra_seconds, 2),
            "pandas_indicators_seconds": round(pandas_seconds, 2),
            "obra_work_vs_pandas": "obra computes 3 models + a scenario + charts + PDF; pandas the indicators "
                                   "and pro-rata only",
            "ratio_obra_report_to_pandas_indicators": round(obra_seconds / pandas_seconds, 2),
            "obra_same_indicators_seconds": round(same_seconds, 2),
            "ratio_same_indicators_pandas_to_obra": round(pandas_seconds / same_seconds, 2),
            "model_seconds": timings,
            "numbers_agree": agree, "gini_artists": gini}
