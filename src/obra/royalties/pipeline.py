"""The royalty pipeline: the entry points the interfaces call, one per job.

This is the one module that brings the store, the engines and access rules together; each
stage below it does one thing on plain records (:mod:`obra.royalties.records`):

* **ingest** — :func:`ingest_dsr`, :func:`ingest_usage_csv` (usage and pools into the
  datasets) and :func:`ingest_cwr` (repertoire into the registry), each all or nothing
  (:mod:`obra.royalties.ingest`);
* **match** — :func:`run_matching` over the usage datasets (:mod:`obra.royalties.matching.run`);
* **distribute** — :func:`run_period`: a period's usage, pools and matches (:func:`load_period`)
  shared under a model (:mod:`obra.royalties.distribution`), split over payees by the contract
  waterfall (:mod:`obra.royalties.waterfall`), every payee's statement written
  (:mod:`obra.royalties.statements`), advance balances carried to the next period;
* **incoming statements** — :func:`split_for_store`: money already per work, split over the
  catalogue (:mod:`obra.royalties.incoming`), statements written the same way;
* **compare** — :func:`compare_period`: two models on the same period
  (:mod:`obra.royalties.comparison`);
* **read** — :func:`payee_statement`: a payee's statement, after the access check.

The heavy stages (engines, distribution, statements) are imported when a job runs, so that
importing this module (and the command line) stays quick.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable

from obra.access import require
from obra.errors import InvalidInput, NotFound, Problem
from obra.royalties.datasets import matches_dataset, pools_dataset, usage_dataset
from obra.royalties.ingest import ingest_cwr, ingest_dsr, ingest_usage_csv

if TYPE_CHECKING:
    from obra.royalties.incoming import StatementLayout


def run_matching(store, period: str | None = None, *, fuzzy: bool = True,
                 progress: Callable[[int], None] | None = None, engine: str = "duckdb", session=None) -> dict:
    """Match every usage partition (of ``period``, or all) and write the matches dataset.

    ``engine`` runs the identifier stage on DuckDB (default) or Spark (``session``: an
    existing SparkSession to reuse); see :func:`obra.royalties.matching.run.match_store`.
    """
    from obra.royalties.matching.run import match_store

    return match_store(store, period=period, fuzzy=fuzzy, progress=progress, engine=engine, session=session)


def runs_dir(store: Any) -> Path:
    """Where runs write their statements, balances and reports (``royalties/`` in the store's home)."""
    return Path(store.home) / "royalties"


def run_period(store: Any, principal: Any, period: str, model: str = "pro-rata", engine: str = "duckdb",
               params: Any = None, spark_master: str | None = None, target: str = "recording",
               rates: dict | None = None, cmo_party: str | None = None, cmo_commission: dict | None = None,
               formats: Iterable[str] = ("json", "csv")) -> dict:
    """Distribute one period of the store's usage, run the waterfall, write every payee's statement.

    Needs a principal allowed to ``distribute``. Reads ``usage``, ``pools`` and ``matches``
    for ``period`` from the store's home (matching by identifier on the fly when the period
    has not been matched yet), takes the advance
    balances left by the previous period's run of the same model, and writes statements
    and the new balances under ``royalties/period=P/model=M/``. Returns the run report.
    """
    from obra.royalties import engine as engines
    from obra.royalties.distribution import distribute
    from obra.royalties.statements import build_statements, export_statements, money_summary, write_statements
    from obra.royalties.waterfall import Deductions, RulePack, rights_from_repertoire, run_waterfall

    require(principal, "distribute")
    con = engines.connect(engine, spark_master)
    repertoire = store.repertoire()
    usage, pools, matches = load_period(store, con, period, repertoire)
    dist = distribute(usage, pools, matches, model=model, params=params, target=target)
    base = runs_dir(store)
    previous_period = _previous_period(base, period, model)
    balances = {}
    previous = {}
    if previous_period:
        prev_dir = base / f"period={previous_period}" / f"model={model}"
        balances = json.loads((prev_dir / "balances.json").read_text())
        for f in sorted((prev_dir / "statements").glob("*.json")):
            st = json.loads(f.read_text())
            previous[st["payee"]] = st
    rights = rights_from_repertoire(repertoire, target)
    wf = run_waterfall(dist, rights, repertoire.agreements, rules=RulePack.load(rates=rates or {}),
                       deductions=Deductions(cmo_party, cmo_commission or {}), balances=balances, con=con)
    built = build_statements(wf, previous=previous, titles={r.item: r.title for r in rights})
    out = base / f"period={period}" / f"model={model}"
    written = write_statements(built, out / "statements", formats)
    exported = export_statements(wf, out)
    report = {
        "period": period, "model": dist.describe(), "engine": engine, **money_summary(wf),
        "payees": len(built), "previous_period": previous_period,
        "statement_lines": exported["lines"], "totals_hash": exported["content_hash"],
        "statements": {p: {"content_hash": s["content_hash"], "files": written.get(p, {})}
                       for p, s in sorted(built.items())},
        "notes": wf.notes,
    }
    (out / "balances.json").write_text(json.dumps(wf.closing_balances, sort_keys=True))
    (out / "run.json").write_text(json.dumps(report, sort_keys=True, indent=1))
    return report


def load_period(store: Any, con: Any, period: str, repertoire: Any = None) -> tuple:
    """(usage, pools, matches) of ``period`` on ``con``; matches by identifier when not matched yet."""
    from obra.royalties import engine as engines

    usage = engines.read_dataset(con, usage_dataset(store), period)
    pools = engines.read_dataset(con, pools_dataset(store), period)
    if usage is None or pools is None:
        raise InvalidInput(Problem(f"no {'usage' if usage is None else 'pools'} for period {period}; ingest "
                                   "a usage report for it first (obra ingest)", field="period"))
    matches = engines.read_dataset(con, matches_dataset(store), period)
    if matches is None:
        from obra.royalties.matching.identifiers import match_by_id, repertoire_tables

        recs, works = repertoire_tables(repertoire if repertoire is not None else store.repertoire())
        matches = match_by_id(usage, engines.table(con, recs), engines.table(con, works))
    return usage, pools, matches


def _previous_period(base: Path, period: str, model: str) -> str | None:
    done = sorted(p.name.removeprefix("period=") for p in base.glob("period=*")
                  if (p / f"model={model}" / "balances.json").exists())
    earlier = [p for p in done if p < period]
    return earlier[-1] if earlier else None


def payee_statement(store: Any, principal: Any, payee: str, period: str | None = None,
                    model: str | None = None, fmt: str = "json") -> tuple[bytes, dict]:
    """A payee's statement from the latest run (or ``period``/``model``), after the access check."""
    from obra.royalties.statements import check_access, render, safe_name

    check_access(principal, payee)
    base = runs_dir(store)
    pattern = f"period={period or '*'}/model={model or '*'}/statements/statement-{safe_name(str(payee))}-*.json"
    candidates = [f for f in sorted(base.glob(pattern))
                  if json.loads(f.read_text()).get("payee") == str(payee)]
    if not candidates:
        raise NotFound(f"no statement for payee {payee}" + (f" in {period}" if period else "")
                       + "; run `obra distribute` for the period first")
    latest = max(candidates, key=lambda f: (f.parent.parent.parent.name, f.stat().st_mtime))
    st = json.loads(latest.read_text())
    return render(st, fmt), st


def split_for_store(store: Any, principal: Any, path: str | Path, layout: "StatementLayout",
                    id_kind: str = "number", formats: Iterable[str] = ("json", "csv")) -> dict:
    """Split a statement over the store's catalogue and write every payee's statement.

    Needs a principal allowed to ``distribute``. Statements go under
    ``royalties/statements-in/<file>/<right type>/`` in the store's home; returns the run
    report (conservation per right type and currency, payees, where the files are).
    """
    from obra.royalties import engine as engines
    from obra.royalties.incoming import ID_KINDS, split_statement
    from obra.royalties.statements import build_statements, export_statements, money_summary, write_statements
    from obra.royalties.waterfall import rights_from_repertoire

    require(principal, "distribute")
    if id_kind not in ID_KINDS:
        raise InvalidInput(Problem(f"unknown work id kind '{id_kind}'; use {' or '.join(ID_KINDS)}",
                                   field="id_kind"))
    path = Path(path)
    repertoire = store.repertoire()
    work_ids = None
    if id_kind == "iswc":
        work_ids = {}
        for number, work in repertoire.works.items():
            if work.iswc:
                for spelling in {work.iswc, work.iswc.replace("-", "").replace(".", "")}:
                    work_ids[spelling] = number
    rights = rights_from_repertoire(repertoire, "work")
    con = engines.connect("duckdb")
    runs = split_statement(path, layout, rights, repertoire.agreements, con=con, work_ids=work_ids)
    out = runs_dir(store) / "statements-in" / path.name
    report: dict[str, Any] = {"file": str(path), "period": layout.period, "rows": None, "rights": {}}
    for right, wf in sorted(runs.items()):
        built = build_statements(wf, titles={r.item: r.title for r in rights})
        written = write_statements(built, out / right / "statements", formats)
        exported = export_statements(wf, out / right)
        report["rights"][right] = {
            **money_summary(wf), "payees": len(built), "statement_lines": exported["lines"],
            "totals_hash": exported["content_hash"], "statements": {p: written.get(p, {}) for p in sorted(built)}}
        report["rows"] = int(wf.distribution.summed.usage_lines.sum().to_pyarrow().as_py() or 0) + (
            report["rows"] or 0)
    report["directory"] = str(out)
    return report


def compare_period(store: Any, principal: Any, period: str, base: str = "pro-rata",
                   other: str = "user-centric", engine: str = "duckdb", spark_master: str | None = None,
                   top: int = 10) -> dict:
    """Distribute ``period`` under two models and compare them (needs the ``distribute`` permission)."""
    from obra.royalties import engine as engines
    from obra.royalties.comparison import compare, item_attributes
    from obra.royalties.distribution import distribute

    require(principal, "distribute")
    con = engines.connect(engine, spark_master)
    repertoire = store.repertoire()
    usage, pools, matches = load_period(store, con, period, repertoire)
    runs = [distribute(usage, pools, matches, model=m) for m in (base, other)]
    result = compare(runs[0], runs[1], item_attributes(repertoire), top=top)
    result["period"] = period
    return result


__all__ = ["compare_period", "ingest_cwr", "ingest_dsr", "ingest_usage_csv", "load_period", "payee_statement",
           "run_matching", "run_period", "runs_dir", "split_for_store"]
