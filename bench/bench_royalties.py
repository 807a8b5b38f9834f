"""Royalties: generator → match by id → distribute → waterfall → statements, on DuckDB.

Figures (each stage runs in a child process so its peak memory is its own):

* **pipeline**: 10,000,000 usage lines from 1,000,000 users (Zipf popularity over 20,000
  recordings, 5 territories, 3 services, 2 commercial models). Generation stands in for
  ingest and is timed separately; then match by identifier (ISRC), pro-rata distribution,
  the contract waterfall and statements for every payee (engine-exported CSV lines per
  payee plus a totals file), and full JSON+CSV statements for 100 payees. Target: under
  60 s end to end, under 4 GiB peak RSS.
* **user-centric vs pro-rata** on the same 10,000,000 lines and 1,000,000 users.
* **pandas baseline**: a straightforward pandas implementation of the same pro-rata
  split (same largest-remainder rule, so the results are checked equal).
* **peer**: django-music-publisher 26.9's royalty calculation (``RoyaltyCalculationForm``
  → ``RoyaltyCalculation.out_file_path``, algo ``fee``) on its own 200,000-row statement
  (``royaltystatement_200k_rows.csv``) and its own catalogue (``dataimport.csv``), in a
  configured Django project in a temporary directory; Obra splits the same statement
  file against the same catalogue (writers' shares and publisher fees as shares and
  administration agreements) with :func:`obra.royalties.incoming.split_statement`, file
  to exported statements, and we compare rows per second. Obra sums rows per work and
  right type before splitting (one exact split per work, drill-down to the statement's
  line ranges); the peer splits every row. Both also run on the statement written 50
  times over (10,000,000 rows, 690 MB, parsed in full from disk): the steady-state
  throughput. Each tool first splits a 100-row statement untimed (start-up is not timed).

``--scale huge`` (or ``OBRA_BENCH_ROYALTIES_LINES=100000000``) runs the pipeline on
100,000,000 lines out of core (DuckDB memory limit 3 GB, spilling to disk); it is not
part of the default run.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

from bench.stages import peak_rss, run_child

SCALES = {
    "full": {"lines": 10_000_000, "users": 1_000_000, "recordings": 20_000, "repeat": 50},
    "smoke": {"lines": 20_000, "users": 2_000, "recordings": 500, "repeat": 1},
    "huge": {"lines": 100_000_000, "users": 5_000_000, "recordings": 50_000, "repeat": 1},
}
GIB = 1024 ** 3


def _peak_rss() -> int:
    return peak_rss()


def _child(stage: str, **kw) -> dict:
    """Run one stage in a fresh interpreter and return its JSON result."""
    return run_child("bench.bench_royalties", stage, **kw)


# --------------------------------------------------------------------------- stages (child processes)
def stage_generate(home: str, lines: int, users: int, recordings: int) -> dict:
    from obra_demo import streaming

    t = time.perf_counter()
    g = streaming.generate(Path(home), lines=lines, users=users, recordings=recordings, chunk=2_000_000)
    return {"seconds": time.perf_counter() - t, "bytes": g.bytes_written, "period": g.period,
            "peak_rss": _peak_rss()}


def stage_write_csv(home: str, period: str) -> dict:
    """Write the generated usage and pools as a service's CSV reports (preparation, not timed)."""
    import duckdb

    reports = Path(home) / "reports"
    reports.mkdir()
    con = duckdb.connect()
    usage_csv, pools_csv = reports / f"usage-{period}.csv", reports / f"pools-{period}.csv"
    con.execute(f"""COPY (SELECT period, territory, service, commercial_model, use_type, user_id, isrc, iswc,
                         proprietary_id, title, artist, album, duration_s, plays, currency
                  FROM read_parquet('{home}/usage/period={period}/*/*.parquet', hive_partitioning=false)
                  ORDER BY source, line) TO '{usage_csv}' (HEADER)""")
    currencies = {r[0] for r in con.execute(
        f"SELECT DISTINCT currency FROM read_parquet('{home}/pools/period={period}/*/*.parquet')").fetchall()}
    assert currencies <= {"EUR", "GBP", "USD"}, currencies  # two-decimal currencies: amount = minor / 100
    con.execute(f"""COPY (SELECT period, territory, service, commercial_model, currency,
                         printf('%d.%02d', amount_minor // 100, amount_minor % 100) AS amount, user_id
                  FROM read_parquet('{home}/pools/period={period}/*/*.parquet', hive_partitioning=false))
                  TO '{pools_csv}' (HEADER)""")
    return {"usage_csv": str(usage_csv), "pools_csv": str(pools_csv)}


def stage_ingest_csv(home: str, usage_csv: str, pools_csv: str) -> dict:
    """Ingest the CSV reports into a fresh store through the production path (``obra ingest usage``).

    Its own process, so that its peak memory is the ingest's alone."""
    from obra.access import Principal
    from obra.model.vocab import AccessRole
    from obra.royalties.pipeline import ingest_usage_csv
    from obra.store import Store

    usage_csv, pools_csv = Path(usage_csv), Path(pools_csv)
    store = Store.open(f"sqlite:///{home}/ingested.db", Path(home) / "ingested", migrate=True)
    cmo = Principal("bench-cmo", AccessRole.CMO)
    t = time.perf_counter()
    usage = ingest_usage_csv(store, usage_csv, cmo)
    usage_seconds = time.perf_counter() - t
    ingest_usage_csv(store, pools_csv, cmo)
    seconds = time.perf_counter() - t
    return {"seconds": seconds, "usage_seconds": usage_seconds, "pools_seconds": seconds - usage_seconds,
            "csv_bytes": usage_csv.stat().st_size + pools_csv.stat().st_size,
            "rows": usage["rows"], "home": str(store.home), "peak_rss": _peak_rss()}


def stage_pipeline(home: str, recordings: int, period: str, memory_limit: str = "3GB",
                   user_centric: bool = True) -> dict:
    import pyarrow as pa

    from obra.royalties import engine, statements
    from obra_demo import streaming
    from obra.royalties.distribution import distribute
    from obra.royalties.matching.identifiers import match_by_id
    from obra.royalties.waterfall import run_waterfall

    out: dict = {}
    started = time.perf_counter()
    con = engine.connect("duckdb", memory_limit=memory_limit)
    recs, rights, agreements = streaming.repertoire(recordings)
    usage = engine.read_dataset(con, Path(home) / "usage", period)
    pools = engine.read_dataset(con, Path(home) / "pools", period)
    t = time.perf_counter()
    rec_t = engine.table(con, recs.select(["recording_number", "isrc", "work_number"]))
    works_t = engine.table(con, pa.table({"work_number": recs["work_number"],
                                          "iswc": pa.nulls(len(recs), pa.string())}))
    # As in production: matching writes the matches dataset, distribution reads it (streamed, out of core).
    matched_path = Path(home) / "matches-by-id" / f"period={period}" / "source=all" / "part-0.parquet"
    matched_path.parent.mkdir(parents=True, exist_ok=True)
    match_by_id(usage, rec_t, works_t).to_parquet(matched_path)
    matches = engine.read_dataset(con, Path(home) / "matches-by-id", period)
    out["match_seconds"] = time.perf_counter() - t
    by_method = matches.group_by("method").aggregate(n=matches.count()).to_pyarrow().to_pylist()
    out["matched"] = {r["method"]: int(r["n"]) for r in by_method}
    t = time.perf_counter()
    run = distribute(usage, pools, matches, model="pro-rata")
    out["distribute_pro_rata_seconds"] = time.perf_counter() - t
    t = time.perf_counter()
    wf = run_waterfall(run, rights, agreements)
    out["waterfall_seconds"] = time.perf_counter() - t
    t = time.perf_counter()
    exported = statements.export_statements(wf, Path(home) / "statements")
    out["statements_export_seconds"] = time.perf_counter() - t
    t = time.perf_counter()
    sample = sorted({str(a.assignor) for a in agreements})[:100]
    built = statements.build_statements(wf, payees=sample, detail="summary")
    statements.write_statements(built, Path(home) / "statements" / "documents", formats=("json", "csv"))
    out["statements_documents_seconds"] = time.perf_counter() - t
    out["pipeline_seconds"] = time.perf_counter() - started
    out["payees"] = exported["payees"]
    out["statement_lines"] = int(wf.lines.count().to_pyarrow().as_py())
    out["conservation"] = {c: vars(v) for c, v in wf.conservation.items()}
    print(json.dumps(out, default=str), file=sys.stderr, flush=True)
    if user_centric:
        t = time.perf_counter()
        user = distribute(usage, pools, matches, model="user-centric")
        out["distribute_user_centric_seconds"] = time.perf_counter() - t
        out["user_centric_conservation"] = {c: vars(v) for c, v in user.conservation.items()}
    pro_rows = run.allocations.select("territory", "service", "commercial_model", "item", "amount_minor")
    pro_rows.to_parquet(Path(home) / "obra_pro_rata.parquet")
    out["peak_rss"] = _peak_rss()
    return out


def stage_pandas(home: str, period: str, obra_home: str | None = None) -> dict:
    """A straightforward pandas pro-rata with the same rounding rule, checked against Obra's result."""
    import glob

    import numpy as np
    import pandas as pd

    t = time.perf_counter()
    cols = ["source", "line", "territory", "service", "commercial_model", "plays"]
    usage = pd.concat([pd.read_parquet(f, columns=cols) for f in
                       sorted(glob.glob(f"{home}/usage/period={period}/source=*/part-0.parquet"))])
    matches = pd.concat([pd.read_parquet(f, columns=["source", "line", "recording_number"]) for f in
                         sorted(glob.glob(f"{home}/matches/period={period}/source=*/part-0.parquet"))])
    pools = pd.concat([pd.read_parquet(f) for f in
                       sorted(glob.glob(f"{home}/pools/period={period}/source=*/part-0.parquet"))])
    lines = usage.merge(matches, on=["source", "line"], how="left")
    keys = ["territory", "service", "commercial_model"]
    w = lines.groupby(keys + ["recording_number"], dropna=False, as_index=False)["plays"].sum()
    pool = pools.groupby(keys + ["currency"], as_index=False)["amount_minor"].sum()
    j = w.merge(pool, on=keys)
    total = j.groupby(keys + ["currency"])["plays"].transform("sum")
    product = j["amount_minor"].astype(object) * j["plays"].astype(object)  # exact Python ints
    j["floor"] = (product // total.astype(object)).astype(np.int64)
    j["rem"] = (product % total.astype(object)).astype(float) / total  # ranking only
    j["unmatched"] = j["recording_number"].isna().astype(int)
    j["key"] = j["recording_number"].fillna("")
    j = j.sort_values(keys + ["currency", "rem", "unmatched", "key"], ascending=[True] * 4 + [False, True, True])
    j["rank"] = j.groupby(keys + ["currency"]).cumcount()
    left = j["amount_minor"] - j.groupby(keys + ["currency"])["floor"].transform("sum")
    j["amount"] = j["floor"] + (j["rank"] < left).astype(np.int64)
    seconds = time.perf_counter() - t
    mine = j[j["recording_number"].notna()].set_index(keys + ["recording_number"])["amount"].sort_index()
    obra = pd.read_parquet(f"{obra_home or home}/obra_pro_rata.parquet").set_index(keys + ["item"])["amount_minor"].sort_index()
    obra.index.names = mine.index.names
    agrees = bool(mine.sort_index().equals(obra.astype(np.int64).reindex(mine.index)))
    return {"seconds": seconds, "agrees_with_obra": agrees, "peak_rss": _peak_rss(),
            "note": "float ranking of exact remainders; ties to the matched item by number, as Obra"}


def _dmp_settings(tmp: str) -> None:
    from decimal import Decimal

    from django.conf import settings

    settings.configure(
        DEBUG=False, SECRET_KEY="bench", USE_TZ=True, ROOT_URLCONF="music_publisher.urls",
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.path.join(tmp, "db.sqlite3")}},
        INSTALLED_APPS=["django.contrib.admin", "django.contrib.auth", "django.contrib.contenttypes",
                        "django.contrib.sessions", "django.contrib.messages", "django.contrib.staticfiles",
                        "taggit", "taggit_ui", "admin_auto_filters", "music_publisher"],
        MIDDLEWARE=[], STATIC_URL="/static/", MEDIA_ROOT=tmp, DEFAULT_AUTO_FIELD="django.db.models.AutoField",
        TEMPLATES=[{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True,
                    "OPTIONS": {"context_processors": []}}],
        PUBLISHER_NAME="TEST PUBLISHER", PUBLISHER_CODE="MK", PUBLISHER_IPI_NAME="0000000199",
        PUBLISHER_IPI_BASE=None, PUBLISHER_SOCIETY_PR="52", PUBLISHER_SOCIETY_MR="44", PUBLISHER_SOCIETY_SR="44",
        PUBLISHING_AGREEMENT_PUBLISHER_PR=Decimal("0.333333"), PUBLISHING_AGREEMENT_PUBLISHER_MR=Decimal("0.5"),
        PUBLISHING_AGREEMENT_PUBLISHER_SR=Decimal("0.75"), OPTION_CWR_SYNC_WORK_LIMIT=101,
        OPTION_CWR_WORKS_PER_FILE=100, OPTION_FILES=False, OPTION_FORCE_CASE="upper",
        REQUIRE_SAAN=False, REQUIRE_PUBLISHER_FEE=False)


def stage_peer(repeat: int) -> dict:
    """django-music-publisher's royalty split and Obra's, on the same statement files and catalogue.

    Both read the file from disk and write their output: the peer its split CSV, Obra its
    statement lines and totals. The 200,000-row statement is also written ``repeat`` times
    over (10,000,000 rows, 690 MB, at full scale) and both run on that file too, so
    throughput is compared beyond fixed costs.
    """
    import django

    tmp = tempfile.mkdtemp(prefix="obra-dmp-")
    _dmp_settings(tmp)
    django.setup()
    from django.core.management import call_command

    import music_publisher
    from music_publisher import data_import
    from music_publisher.models import Work, WriterInWork

    call_command("migrate", verbosity=0)
    base = Path(music_publisher.__file__).parent / "tests"
    with open(base / "dataimport.csv") as f:
        list(data_import.DataImporter(f).run())
    Work.persist_work_ids(Work.objects.all())
    statement = base / "royaltystatement_200k_rows.csv"
    rows = 200_000
    # The same catalogue for Obra: controlled writers' shares of each work, publisher fees as administration.
    catalogue = [(wiw.work.work_id, wiw.writer_id, wiw.relative_share, wiw.publisher_fee, wiw.writer.publisher_fee)
                 for wiw in WriterInWork.objects.filter(controlled=True).select_related("work", "writer")]
    rights, deals = _obra_catalogue(catalogue)
    result: dict = {"peer": "django-music-publisher 26.9 RoyaltyCalculation (algo=fee)", "statement_rows": rows}
    # Both tools do a first, untimed split of a 100-row statement: what is timed is a
    # running service's work, not first-use start-up (imports, ORM and query-compiler caches).
    small = _head_file(statement, 100, tmp)
    _peer_split(small, tmp)
    _obra_split(small, rights, deals, tmp)
    peer = _peer_split(statement, tmp)
    obra = _obra_split(statement, rights, deals, tmp)
    result.update({"peer_seconds": peer["seconds"], "peer_rows_per_second": rows / peer["seconds"],
                   "peer_rows_out": peer["rows_out"], "obra_seconds": obra["seconds"],
                   "obra_rows_per_second": rows / obra["seconds"], "obra_statement_lines": obra["lines"],
                   "obra_conserved": obra["conserved"], "statement_bytes": statement.stat().st_size})
    result["ratio_same_file"] = result["obra_rows_per_second"] / result["peer_rows_per_second"]
    if repeat > 1:  # the same bigger file for both: throughput beyond fixed costs
        big = _repeat_file(statement, repeat, tmp)
        n = rows * repeat
        obra = _obra_split(big, rights, deals, tmp)
        result.update({"obra_repeated_rows": n, "obra_repeated_bytes": big.stat().st_size,
                       "obra_repeated_seconds": obra["seconds"], "obra_repeated_rows_per_second": n / obra["seconds"],
                       "obra_repeated_conserved": obra["conserved"]})
        peer = _peer_split(big, tmp)
        result.update({"peer_repeated_seconds": peer["seconds"], "peer_repeated_rows_per_second": n / peer["seconds"],
                       "peer_repeated_rows_out": peer["rows_out"]})
        result["ratio_steady_state"] = result["obra_repeated_rows_per_second"] / result["peer_repeated_rows_per_second"]
        os.unlink(big)
    result["peak_rss"] = _peak_rss()
    return result


def _head_file(statement: Path, rows: int, tmp: str) -> Path:
    """The statement's header and first ``rows`` rows."""
    out = Path(tmp) / f"statement-head{rows}.csv"
    with open(statement, "rb") as src, open(out, "wb") as dst:
        for _ in range(rows + 1):
            dst.write(src.readline())
    return out


def _repeat_file(statement: Path, times: int, tmp: str) -> Path:
    """The statement written ``times`` over (one header), as a service would send a bigger one."""
    out = Path(tmp) / f"statement-x{times}.csv"
    header, body = statement.read_bytes().split(b"\n", 1)
    with open(out, "wb") as f:
        f.write(header + b"\n")
        for _ in range(times):
            f.write(body if body.endswith(b"\n") else body + b"\n")
    return out


def _peer_split(path: Path, tmp: str) -> dict:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from music_publisher.royalty_calculation import RoyaltyCalculation, RoyaltyCalculationForm

    raw = path.read_bytes()
    t = time.perf_counter()
    form = RoyaltyCalculationForm(data={"algo": "fee", "work_id_column": "0", "work_id_source": "MK",
                                        "right_type_column": "4", "amount_column": "5", "default_fee": "0"},
                                  files={"in_file": SimpleUploadedFile(path.name, raw)})
    assert form.is_valid(), form.errors
    out_path = RoyaltyCalculation(form).out_file_path
    seconds = time.perf_counter() - t
    rows_out = sum(1 for _ in open(out_path)) - 1
    os.unlink(out_path)
    return {"seconds": seconds, "rows_out": rows_out}


def _obra_catalogue(catalogue: list) -> tuple[list, list]:
    from datetime import date
    from decimal import Decimal

    from obra.model import Agreement, Share
    from obra.royalties.waterfall import ItemRights

    shares: dict[str, list] = {}
    deals, seen = [], set()
    for work, writer, rel, fee, writer_fee in catalogue:
        shares.setdefault(work, []).append((writer, Decimal(rel)))
        rate = Decimal(fee or writer_fee or 0) / 100
        if rate and writer not in seen:
            seen.add(writer)
            deals.append(Agreement(id=len(deals) + 1, kind="administration", assignor=writer, assignee="publisher",
                                   rights=("performance", "mechanical"), start=date(2000, 1, 1), retained=rate))
    rights = []
    for work, parts in shares.items():
        total = sum(p for _, p in parts)
        rights.append(ItemRights(work, "work", tuple(
            Share.model_construct(party=w, role=None, right_type=rt, territory="2WL", share=p * 100 / total)
            for w, p in parts for rt in ("performance", "mechanical"))))
    return rights, deals


def _obra_split(path: Path, rights: list, deals: list, tmp: str) -> dict:
    """Obra on an incoming statement file: read, sum per work, split, export every payee's lines."""
    from obra.royalties import engine, statements
    from obra.royalties.incoming import StatementLayout, split_statement

    t = time.perf_counter()
    con = engine.connect("duckdb")
    layout = StatementLayout(period="2020-Q1", currency="USD", territory="US")
    runs = split_statement(path, layout, rights, deals, con=con)
    for right, wf in runs.items():
        statements.export_statements(wf, Path(tmp) / f"obra-{path.stem}-{right}")
    seconds = time.perf_counter() - t
    lines = sum(int(wf.lines.count().to_pyarrow().as_py()) for wf in runs.values())
    conserved = all(c.balanced for wf in runs.values() for c in wf.conservation.values())
    return {"seconds": seconds, "lines": lines, "conserved": conserved}


# --------------------------------------------------------------------------- the benchmark
def run(scale: str = "full") -> dict:
    cfg = dict(SCALES[scale])
    if os.environ.get("OBRA_BENCH_ROYALTIES_LINES"):
        cfg["lines"] = int(os.environ["OBRA_BENCH_ROYALTIES_LINES"])
    with tempfile.TemporaryDirectory(prefix="obra-bench-royalties-") as home:
        gen = _child("generate", home=home, lines=cfg["lines"], users=cfg["users"], recordings=cfg["recordings"])
        reports = _child("write_csv", home=home, period=gen["period"])
        ingest = _child("ingest_csv", home=home, **reports)
        # The pipeline runs on what the ingest stored, so the chain is ingest → match → distribute → statements.
        pipe = _child("pipeline", home=ingest["home"], recordings=cfg["recordings"], period=gen["period"])
        pandas = (_child("pandas", home=home, period=gen["period"], obra_home=ingest["home"])
                  if cfg["lines"] <= 20_000_000 else None)
        peer = _child("peer", repeat=cfg["repeat"])
        size = sum(f.stat().st_size for f in Path(home).rglob("*.parquet"))
    result = {
        "usage_lines": cfg["lines"], "users": cfg["users"], "recordings": cfg["recordings"],
        "parquet_bytes": size,
        "generate_seconds": round(gen["seconds"], 2),
        "match_seconds": round(pipe["match_seconds"], 2),
        "distribute_pro_rata_seconds": round(pipe["distribute_pro_rata_seconds"], 2),
        "waterfall_seconds": round(pipe["waterfall_seconds"], 2),
        "statements_export_seconds": round(pipe["statements_export_seconds"], 2),
        "statements_documents_100_payees_seconds": round(pipe["statements_documents_seconds"], 2),
        "pipeline_seconds_match_to_statements": round(pipe["pipeline_seconds"], 2),
        "ingest_csv_seconds": round(ingest["seconds"], 2),
        "ingest_usage_csv_seconds": round(ingest["usage_seconds"], 2),
        "ingest_pools_csv_seconds": round(ingest["pools_seconds"], 2),
        "ingest_csv_lines_per_second": round(cfg["lines"] / ingest["seconds"]),
        "ingest_csv_bytes": ingest["csv_bytes"],
        "peak_rss_gib_ingest": round(ingest["peak_rss"] / GIB, 2),
        "end_to_end_seconds_ingest_to_statements": round(pipe["pipeline_seconds"] + ingest["seconds"], 2),
        "target_seconds": 60,
        "peak_rss_gib_pipeline": round(pipe["peak_rss"] / GIB, 2),
        "peak_rss_gib_generate": round(gen["peak_rss"] / GIB, 2),
        "target_rss_gib": 4,
        "payees": pipe["payees"], "statement_lines": pipe["statement_lines"], "matched": pipe["matched"],
        "conservation": pipe["conservation"],
        "distribute_user_centric_seconds": round(pipe["distribute_user_centric_seconds"], 2),
        "user_centric_over_pro_rata": round(pipe["distribute_user_centric_seconds"]
                                            / pipe["distribute_pro_rata_seconds"], 2),
        "peer": {k: (round(v, 3) if isinstance(v, float) else v) for k, v in peer.items()},
    }
    if pandas:
        result["pandas_baseline_seconds"] = round(pandas["seconds"], 2)
        result["pandas_peak_rss_gib"] = round(pandas["peak_rss"] / GIB, 2)
        result["pandas_agrees_with_obra"] = pandas["agrees_with_obra"]
        result["obra_distribute_vs_pandas_speedup"] = round(pandas["seconds"] / pipe["distribute_pro_rata_seconds"], 2)
    return result


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m bench.bench_royalties")
    parser.add_argument("--stage")
    parser.add_argument("--args", default="{}")
    parser.add_argument("--scale", default="full", choices=sorted(SCALES))
    args = parser.parse_args(argv)
    if args.stage:
        fn = globals()[f"stage_{args.stage}"]
        print(json.dumps(fn(**json.loads(args.args)), default=str))
        return 0
    print(json.dumps(run(args.scale), indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
