"""The stored distribution runs, as the fairness engines read them: never recomputed.

A kept run (:func:`obra.royalties.pipeline.run_period`) leaves every payee's statement lines in
one Parquet file (``statement_lines.parquet``: payee, pool keys, item, role, agreement path,
fraction, plays, amount) and the advance balances it closed with (``balances.json``). The
current (not superseded) runs of each period are the record of what was paid; this module
lists them with the right type their money is for and hands their files to DuckDB.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select

from obra.store.schema import distribution_runs

#: The right a distribution run's money is for, by the run's target.
RIGHT_OF_TARGET = {"recording": "making_available", "work": "performance"}


@dataclass(frozen=True)
class StoredRun:
    """One kept run's files: its period, the right its money is for, and where its lines are."""

    run: int
    period: str
    right_type: str
    lines: Path
    balances: dict[str, int]
    unallocated: list[dict]
    distributed: dict[str, int]


def period_bounds(period: str) -> tuple[date, date]:
    """First and last day of ``2024-03``, ``2024-Q1`` or ``2024``."""
    from obra.royalties.waterfall import period_start

    start = period_start(period)
    if "-Q" in period:
        months = 3
    elif len(period) == 4:
        months = 12
    else:
        months = 1
    month = start.month - 1 + months
    after = date(start.year + month // 12, month % 12 + 1, 1)
    return start, date.fromordinal(after.toordinal() - 1)


def current_runs(store: Any, year: int | None = None) -> list[StoredRun]:
    """The current runs (of ``year``), oldest period first: per period the newest distribution run, and
    every incoming run."""
    r = distribution_runs
    stmt = select(r).where(r.c.superseded_by.is_(None))
    with store.connect() as conn:
        rows = [dict(row) for row in conn.execute(stmt.order_by(r.c.period, r.c.id)).mappings()]
    # Distribution runs of one period under several models (pro-rata and user-centric, say) are
    # alternatives, not additions: the newest one is the record. Incoming runs (one per statement
    # file) add up.
    newest = {}
    for row in rows:
        if row["kind"] == "distribution":
            newest[row["period"]] = max(newest.get(row["period"], 0), row["id"])
    rows = [row for row in rows if row["kind"] != "distribution" or row["id"] == newest[row["period"]]]
    out: list[StoredRun] = []
    for row in rows:
        if year is not None and not row["period"].startswith(str(year)):
            continue
        directory = Path(row["directory"])
        report_path = directory / "run.json"
        report = json.loads(report_path.read_text()) if report_path.exists() else {}
        balances_path = directory / "balances.json"
        balances = json.loads(balances_path.read_text()) if balances_path.exists() else {}
        if row["kind"] == "distribution":
            target = (report.get("model") or {}).get("target", "recording")
            out.append(StoredRun(row["id"], row["period"], RIGHT_OF_TARGET.get(target, "making_available"),
                                 directory / "statement_lines.parquet", balances, report.get("unallocated", []),
                                 {c: v["distributed"] for c, v in report.get("conservation", {}).items()}))
        else:
            for right, part in sorted(report.get("rights", {}).items()):
                out.append(StoredRun(row["id"], row["period"], right, directory / right / "statement_lines.parquet",
                                     {}, part.get("unallocated", []),
                                     {c: v["distributed"] for c, v in part.get("conservation", {}).items()}))
    return [r for r in out if r.lines.exists()]


def lines_relation(con: Any, runs: list[StoredRun], name: str = "fair_lines") -> int:
    """A DuckDB view ``name`` over the runs' statement lines, with ``period`` and ``right_type``; row count."""
    import pyarrow as pa

    if not runs:
        con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT NULL::VARCHAR AS period, "
                    "NULL::VARCHAR AS right_type, NULL::VARCHAR AS payee, NULL::VARCHAR AS territory, "
                    "NULL::VARCHAR AS service, NULL::VARCHAR AS commercial_model, NULL::VARCHAR AS currency, "
                    "NULL::VARCHAR AS item, NULL::VARCHAR AS path, NULL::BIGINT AS plays, "
                    "NULL::BIGINT AS amount_minor WHERE false")
        return 0
    files = pa.table({"file": [str(r.lines) for r in runs], "run_right": [r.right_type for r in runs]})
    con.register(f"{name}_files", files)
    paths = ", ".join("'" + str(r.lines).replace("'", "''") + "'" for r in runs)
    con.execute(f"""CREATE OR REPLACE TEMP VIEW {name} AS
        SELECT l.period, f.run_right AS right_type, l.payee, l.territory, l.service, l.commercial_model, l.currency,
               l.item, l.path, l.plays::BIGINT AS plays, l.amount_minor::BIGINT AS amount_minor
        FROM read_parquet([{paths}], filename = true) l JOIN {name}_files f ON l.filename = f.file""")
    return int(con.execute(f"SELECT count(*) FROM {name}").fetchall()[0][0])
