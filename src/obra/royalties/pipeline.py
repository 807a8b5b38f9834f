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
import shutil
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import insert, select, update

from obra.access import Principal, require
from obra.canonical import sha256_hex
from obra.errors import InvalidInput, NotFound, Problem
from obra.ids import ascii_digits
from obra.journal import Journal
from obra.royalties.datasets import matches_dataset, pools_dataset, published_sources, usage_dataset
from obra.royalties.ingest import ingest_cwr, ingest_dsr, ingest_usage_csv
from obra.store.schema import distribution_runs

if TYPE_CHECKING:
    from obra.royalties.incoming import StatementLayout


def run_matching(store, principal: Principal | None, period: str | None = None, *, fuzzy: bool = True,
                 progress: Callable[[int], None] | None = None, engine: str = "duckdb", session=None) -> dict:
    """Match every usage partition (of ``period``, or all) and write the matches dataset.

    Needs a principal allowed to ``match``: it rewrites the matches every distribution reads.
    ``engine`` runs the identifier stage on DuckDB (default) or Spark (``session``: an
    existing SparkSession to reuse); see :func:`obra.royalties.matching.run.match_store`.
    The run is a ``usage.matched`` journal event.
    """
    from obra.royalties.matching.run import match_store

    require(principal, "match")
    result = match_store(store, period=period, fuzzy=fuzzy, progress=progress, engine=engine, session=session)
    with store.begin() as conn:
        event = Journal(store).record(conn, "usage.matched", f"period/{period or '*'}",
                                      {"period": period, "fuzzy": fuzzy, "engine": engine,
                                       **{k: v for k, v in result.items() if k in ("lines", "by_method")}},
                                      principal.name)
    return {**result, "journal_event": event.id}


def runs_dir(store: Any) -> Path:
    """Where runs keep their statements, balances and reports (``royalties/`` in the store's home)."""
    return store.paths.royalties


# --------------------------------------------------------------------------- runs: kept, never overwritten
def current_run(store: Any, kind: str, *, period: str | None = None, model: str | None = None,
                before: str | None = None) -> dict | None:
    """The newest run not superseded (of ``period``/``model``, or the latest period before ``before``)."""
    r = distribution_runs
    stmt = select(r).where(r.c.kind == kind, r.c.superseded_by.is_(None))
    if period is not None:
        stmt = stmt.where(r.c.period == period)
    if model is not None:
        stmt = stmt.where(r.c.model == model)
    if before is not None:
        stmt = stmt.where(r.c.period < before)
    with store.connect() as conn:
        row = conn.execute(stmt.order_by(r.c.period.desc(), r.c.id.desc()).limit(1)).mappings().first()
    return dict(row) if row else None


def runs(store: Any, kind: str | None = None, period: str | None = None) -> list[dict]:
    """Every run, superseded ones included, oldest first."""
    r = distribution_runs
    stmt = select(r)
    if kind:
        stmt = stmt.where(r.c.kind == kind)
    if period:
        stmt = stmt.where(r.c.period == period)
    with store.connect() as conn:
        return [{**dict(row), "created_at": row["created_at"].isoformat()}
                for row in conn.execute(stmt.order_by(r.c.id)).mappings()]


def _run_row(store: Any, run_id: int) -> dict:
    with store.connect() as conn:
        row = conn.execute(select(distribution_runs).where(distribution_runs.c.id == run_id)).mappings().first()
    if row is None:
        raise NotFound(f"no distribution run {run_id}", hint="`obra runs` lists them")
    return dict(row)


def _staging_dir(store: Any) -> Path:
    path = runs_dir(store) / "runs" / f".staging-{uuid.uuid4().hex}"
    path.mkdir(parents=True)
    return path


def _publish_run(store: Any, principal: Principal, staging: Path, *, kind: str, period: str, model: str,
                 engine: str, report: dict, statement_hashes: dict[str, str], law: Any = None) -> dict:
    """Keep a finished run: number it, move its files into place, supersede the previous run of the
    same period and model (its statements stay readable), and journal it, in one transaction."""
    statements_hash = sha256_hex(statement_hashes)
    now = datetime.now(timezone.utc)
    journal = Journal(store)
    r = distribution_runs
    with store.begin() as conn:
        run_id = conn.execute(insert(r).values(
            kind=kind, period=period, model=model, engine=engine, directory="", created_at=now,
            created_by=principal.name, law_version=getattr(law, "version", None) or None,
            totals_hash=report.get("totals_hash"), statements_hash=statements_hash)).inserted_primary_key[0]
        final = store.paths.run(run_id)
        if final.exists():  # left by a run whose transaction never committed: not a kept run
            shutil.rmtree(final)
        staging.rename(final)
        previous = conn.execute(select(r.c.id).where(r.c.kind == kind, r.c.period == period, r.c.model == model,
                                                     r.c.superseded_by.is_(None), r.c.id != run_id)).scalars().all()
        if previous:
            conn.execute(update(r).where(r.c.id.in_(previous)).values(superseded_by=run_id))
            for old in previous:
                journal.record(conn, "distribution.superseded", f"run/{old}",
                               {"run": old, "superseded_by": run_id, "period": period, "model": model},
                               principal.name)
        if law is not None:
            journal.record(conn, "law.rule_pack_used", f"run/{run_id}",
                           {"run": run_id, "law_version": law.version,
                            "relied_on": [list(x) for x in law.relied_on]}, principal.name)
        event = journal.record(conn, "distribution.run" if kind == "distribution" else "incoming.split",
                               f"run/{run_id}", {
                                   "run": run_id, "period": period, "model": model, "engine": engine,
                                   "conservation": report["conservation"] if "conservation" in report else
                                   {right: r["conservation"] for right, r in report.get("rights", {}).items()},
                                   "law_version": getattr(law, "version", None), "payees": len(statement_hashes),
                                   "totals_hash": report.get("totals_hash"), "statements_hash": statements_hash,
                                   "supersedes": previous}, principal.name)
        conn.execute(update(r).where(r.c.id == run_id).values(directory=str(final), journal_id=event.id))
        report.update(run=run_id, directory=str(final), supersedes=previous, journal_event=event.id,
                      statements_hash=statements_hash)
        report_text = json.dumps(_relocated(report, staging, final), sort_keys=True, indent=1, default=str)
        (final / "run.json").write_text(report_text)
    return json.loads(report_text)


def _relocated(value: Any, old: Path, new: Path) -> Any:
    """The report with paths under the staging directory pointing at the kept run's directory."""
    if isinstance(value, dict):
        return {k: _relocated(v, old, new) for k, v in value.items()}
    if isinstance(value, list):
        return [_relocated(v, old, new) for v in value]
    if isinstance(value, str) and value.startswith(str(old)):
        return str(new) + value[len(str(old)):]
    return value


def run_period(store: Any, principal: Any, period: str, model: str = "pro-rata", engine: str = "duckdb",
               params: Any = None, spark_master: str | None = None, target: str = "recording",
               rates: dict | None = None, cmo_party: str | None = None, cmo_commission: dict | None = None,
               formats: Iterable[str] = ("json", "csv"), floors: bool = False,
               floor_per_use: dict | None = None) -> dict:
    """Distribute one period of the store's usage, run the waterfall, write every payee's statement.

    Needs a principal allowed to ``distribute``. Reads ``usage``, ``pools`` and ``matches``
    for ``period`` from the store's home (matching by identifier on the fly when the period
    has not been matched yet), takes the advance balances left by the current run of the
    previous period of the same model, and keeps the run under ``royalties/runs/run-N/``.
    Running a period again is a **new run** that supersedes the earlier one; the earlier
    run's statements stay readable (``--run``) and verifiable. Returns the run report.
    """
    from obra.law import RulePack
    from obra.royalties import engine as engines
    from obra.royalties.distribution import distribute
    from obra.royalties.statement_files import write_run_statements
    from obra.royalties.statements import build_statements, export_statements, money_summary, write_statements
    from obra.royalties.waterfall import Deductions, rights_from_repertoire, run_waterfall

    require(principal, "distribute")
    rules = RulePack.load(rates=rates or {})
    con = engines.connect(engine, spark_master)
    repertoire = store.repertoire()
    usage, pools, matches = load_period(store, con, period, repertoire)
    dist = distribute(usage, pools, matches, model=model, params=params, target=target)
    prior = current_run(store, "distribution", model=model, before=period)
    balances = {}
    previous = {}
    if prior:
        prev_dir = Path(prior["directory"])
        balances = json.loads((prev_dir / "balances.json").read_text())
        for f in sorted((prev_dir / "statements").glob("*.json")):
            st = json.loads(f.read_text())
            previous[st["payee"]] = st
    rights = rights_from_repertoire(repertoire, target)
    floor_pack = None
    if floors or floor_per_use:
        from obra.law.fairness import FloorPack

        floor_pack = FloorPack.load({k.upper(): _minor_units(v, f"floor_per_use.{k}")
                                     for k, v in (floor_per_use or {}).items()})
    wf = run_waterfall(dist, rights, repertoire.agreements, rules=rules,
                       deductions=Deductions(cmo_party, cmo_commission or {}), balances=balances, con=con,
                       floors=floor_pack)
    titles = {r.item: r.title for r in rights}
    out = _staging_dir(store)
    try:
        # whole runs: the statement files rendered column by column (the same bytes), else line by line
        files = write_run_statements(wf, out / "statements", formats, previous=previous, titles=titles)
        if files is None:
            built = build_statements(wf, previous=previous, titles=titles)
            written = write_statements(built, out / "statements", formats)
            files = {p: {"content_hash": s["content_hash"], "files": written.get(p, {})} for p, s in built.items()}
        exported = export_statements(wf, out)
        notes = list(wf.notes) + [f"relies on {r.jurisdiction} {r.topic}.{r.key}, reported with {r.confidence} "
                                  "confidence only: verify before relying on it" for r in rules.uncertain()]
        report = {
            "period": period, "model": dist.describe(), "engine": engine, **money_summary(wf),
            "payees": len(files), "previous_period": prior["period"] if prior else None,
            "previous_run": prior["id"] if prior else None,
            "law_version": rules.version,
            "statement_lines": exported["lines"], "totals_hash": exported["content_hash"],
            "statements": {p: {"content_hash": f["content_hash"], "files": f["files"]}
                           for p, f in sorted(files.items())},
            "notes": notes,
        }
        (out / "balances.json").write_text(json.dumps(wf.closing_balances, sort_keys=True))
        return _publish_run(store, principal, out, kind="distribution", period=period, model=model, engine=engine,
                            report=report, statement_hashes={p: f["content_hash"] for p, f in files.items()},
                            law=rules)
    finally:
        if out.exists():
            shutil.rmtree(out, ignore_errors=True)


def _minor_units(value: Any, where: str) -> int:
    """A per-use floor in minor units (``"3"``); anything else refused by name."""
    text = str(value).strip()
    if isinstance(value, (float, bool)) or not ascii_digits(text):
        raise InvalidInput(Problem(f"{value!r} must be a whole number of minor units per use (e.g. 3)", field=where))
    return int(text)


def load_period(store: Any, con: Any, period: str, repertoire: Any = None) -> tuple:
    """(usage, pools, matches) of ``period`` on ``con``; matches by identifier when not matched yet."""
    from obra.royalties import engine as engines

    published = published_sources(store)     # a killed or superseded ingest's partitions are never read
    usage = engines.read_dataset(con, usage_dataset(store), period, sources=published)
    pools = engines.read_dataset(con, pools_dataset(store), period, sources=published)
    if usage is None or pools is None:
        raise InvalidInput(Problem(f"no {'usage' if usage is None else 'pools'} for period {period}; ingest "
                                   "a usage report for it first (obra ingest)", field="period"))
    matches = engines.read_dataset(con, matches_dataset(store), period, sources=published)
    if matches is None:
        from obra.royalties.matching.identifiers import match_by_id, repertoire_tables

        recs, works = repertoire_tables(repertoire if repertoire is not None else store.repertoire())
        matches = match_by_id(usage, engines.table(con, recs), engines.table(con, works))
    return usage, pools, matches


def _party_names(store: Any) -> dict[str, str]:
    """Party id → name, for documents that name the payee and counterparties."""
    from obra.store.schema import parties

    with store.connect() as conn:
        return {str(pid): name for pid, name in conn.execute(select(parties.c.id, parties.c.name))}


def payee_statement(store: Any, principal: Any, payee: str, period: str | None = None,
                    model: str | None = None, fmt: str = "json", run: int | None = None,
                    locale: str = "en", right: str | None = None) -> tuple[bytes, dict]:
    """A payee's statement from the current run (or ``period``/``model``, or exactly ``run``).

    A creator reads only their own party's statements (the ``read_statement`` rule of the
    permission table); a superseded run's statement is still readable by its ``run`` number.
    Distribution runs keep their statements under ``statements/``; incoming splits (``obra
    split-statement``, AI licence royalties) under ``<right type>/statements/``: for those,
    ``right`` names the right type, needed only when the payee has statements under several.
    """
    from obra.model.vocab import RightType
    from obra.royalties.statements import render, safe_name

    require(principal, "read_statement", party=payee)
    if right is not None and right not in {r.value for r in RightType}:
        raise InvalidInput(Problem(f"unknown right type '{right}'; use one of "
                                   f"{', '.join(r.value for r in RightType)}", field="right"))
    if run is not None:
        chosen = _run_row(store, run)
    else:
        chosen = current_run(store, "distribution", period=period, model=model)
    found, rights = None, []
    if chosen is not None:
        directory = Path(chosen["directory"])
        pattern = f"statements/statement-{safe_name(str(payee))}-*.json"
        if chosen["kind"] == "incoming":
            by_right = {d.name: _payee_file(directory / d.name, pattern, payee)
                        for d in sorted(directory.iterdir()) if d.is_dir() and (d / "statements").is_dir()}
            rights = sorted(r for r, st in by_right.items() if st is not None)
            if right is not None:
                found = by_right.get(right)
            elif len(rights) > 1:
                raise InvalidInput(Problem(f"payee {payee} has statements for several right types in run "
                                           f"{chosen['id']}: {', '.join(rights)}; choose one", field="right"),
                                   hint="add --right (API: ?right=)")
            elif rights:
                right, found = rights[0], by_right[rights[0]]
        elif right is not None:
            raise InvalidInput(Problem(f"run {chosen['id']} is a distribution run: its statements are not kept "
                                       "per right type", field="right"), hint="leave out --right")
        else:
            found = _payee_file(directory, pattern, payee)
    if found is None:
        raise NotFound(f"no statement for payee {payee}" + (f" in {period}" if period else "")
                       + (f" in run {run}" if run is not None else "") + (f" for {right}" if right else ""),
                       hint="run `obra distribute` for the period first; `obra runs` lists the runs"
                       + (f"; this payee's right types in the run: {', '.join(rights)}" if rights else ""))
    names = _party_names(store) if fmt in ("html", "pdf") else None
    return render(found, fmt, locale, names), {**found, "run": chosen["id"], "right": right}


def _payee_file(directory: Path, pattern: str, payee: str) -> dict | None:
    """The payee's statement among ``directory``'s files matching ``pattern`` (the last one, by name)."""
    found = None
    for f in sorted(directory.glob(pattern)):
        st = json.loads(f.read_text())
        if st.get("payee") == str(payee):
            found = st
    return found


def split_for_store(store: Any, principal: Any, path: str | Path, layout: "StatementLayout",
                    id_kind: str = "number", formats: Iterable[str] = ("json", "csv"),
                    targets: Iterable[str] = ("work",)) -> dict:
    """Split a statement over the store's catalogue and write every payee's statement.

    Needs a principal allowed to ``distribute``. The split is a kept run (``incoming``, named
    after the file) whose statements go under ``royalties/runs/run-N/<right type>/``;
    splitting the same file again supersedes it. Returns the run report (conservation per
    right type and currency, payees, where the files are).

    ``targets`` are the kinds of registration a row's id may name: societies' statements pay
    works only (the default, so a recording's number on them is held as "no shares
    registered"); licence income (:meth:`obra.aiuse.licensing.service.LicensingService.royalties`)
    also pays recordings, whose money follows the recording's shares (performers, producers) and
    agreement chains. Registration numbers are one sequence over every kind, so an id names one
    item at most.
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
    targets = tuple(dict.fromkeys(targets))
    unknown = [t for t in targets if t not in ("work", "recording")]
    if unknown or not targets:
        raise InvalidInput(Problem(f"unknown item kind {unknown[0] if unknown else '(none)'!r}; use work or recording",
                                   field="targets"))
    rights = [r for target in targets for r in rights_from_repertoire(repertoire, target)]
    con = engines.connect("duckdb")
    runs = split_statement(path, layout, rights, repertoire.agreements, con=con, work_ids=work_ids)
    out = _staging_dir(store)
    hashes: dict[str, str] = {}
    try:
        report: dict[str, Any] = {"file": str(path), "period": layout.period, "rows": None, "rights": {}}
        for right, wf in sorted(runs.items()):
            built = build_statements(wf, titles={r.item: r.title for r in rights})
            written = write_statements(built, out / right / "statements", formats)
            exported = export_statements(wf, out / right)
            hashes.update({f"{right}/{p}": s["content_hash"] for p, s in built.items()})
            report["rights"][right] = {
                **money_summary(wf), "payees": len(built), "statement_lines": exported["lines"],
                "totals_hash": exported["content_hash"], "statements": {p: written.get(p, {}) for p in sorted(built)}}
            report["rows"] = int(wf.distribution.summed.usage_lines.sum().to_pyarrow().as_py() or 0) + (
                report["rows"] or 0)
        report = _publish_run(store, principal, out, kind="incoming", period=layout.period, model=path.name[:40],
                              engine="duckdb", report=report, statement_hashes=hashes)
        return report
    finally:
        if out.exists():
            shutil.rmtree(out, ignore_errors=True)


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


# --------------------------------------------------------------------------- the service the interfaces call
class DistributionRequest(BaseModel):
    """What ``obra distribute`` and ``POST /distributions`` both send: one shape, two surfaces."""

    model_config = ConfigDict(extra="forbid")

    period: str = Field(description="the period, e.g. 2024-03 or 2015-Q4")
    model: str = Field("pro-rata", description="pro-rata, user-centric or artist-centric")
    preset: str | None = Field(None, description="artist-centric preset: deezer-2023 or spotify-2024")
    engine: str = Field("duckdb", description="duckdb or spark")
    spark_master: str | None = Field(None, description="spark.master for engine spark (default local[2])")
    er_rate: dict[str, str] = Field(default_factory=dict, description=(
        "statutory equitable remuneration rate for performers per jurisdiction, e.g. {\"UY\": \"0.05\"} "
        "(applied only where the law data grants the right)"))
    cmo_party: str | None = Field(None, description="party id of the CMO taking a commission")
    cmo_commission: dict[str, str] = Field(default_factory=dict, description=(
        "commission per right type, e.g. {\"performance\": \"0.12\"}"))
    floors: bool = Field(False, description=(
        "apply the statutory and sector floors of the law data per pool territory (obra.law.fairness), "
        "reported as statutory_floor adjustments on statements"))
    floor_per_use: dict[str, str] = Field(default_factory=dict, description=(
        "a per-use floor in minor units per jurisdiction where the law names one without an amount, "
        "e.g. {\"ES\": \"1\"} (implies floors)"))


class SplitRequest(BaseModel):
    """What ``obra split-statement`` and ``POST /statements-in`` both send (besides the file)."""

    model_config = ConfigDict(extra="forbid")

    period: str = Field(description="the period the statement pays, e.g. 2024-Q1")
    currency: str = Field(description="ISO 4217 code of its amounts")
    territory: str = Field("2WL", description="where the money was earned (TIS code; default world)")
    id_kind: str = Field("number", description="the work ids are Obra numbers or ISWCs: number or iswc")
    work_id_column: str = "Work ID"
    amount_column: str = "Amount"
    right_type_column: str | None = Field("Right type", description="cells P/M/S; '' or '-' for none "
                                                                    "(then every row has right_type)")
    right_type: str = Field("performance", description="the right of every row when there is no such column")
    minor_digits: int = Field(2, description="the currency's decimals")

    def layout(self) -> "StatementLayout":
        from obra.royalties.incoming import StatementLayout

        column = self.right_type_column
        return StatementLayout(period=self.period, currency=self.currency.upper(), territory=self.territory,
                               work_id_column=self.work_id_column, amount_column=self.amount_column,
                               right_type_column=None if column is None or column.strip() in ("", "-") else column,
                               right_type=self.right_type, minor_digits=self.minor_digits)


@dataclass
class RoyaltiesService:
    """The royalty jobs as one service: what ``Obra.royalties`` is. Access is checked in each job."""

    store: Any

    def ingest_dsr(self, principal: Principal, path: Path, progress: Callable[[int], None] | None = None,
                   replaces: Iterable[str] = (), footer_policy: str = "refuse") -> dict:
        """A DSR file; ``replaces``: earlier sources it corrects (a corrected re-delivery under a new
        MessageId supersedes its predecessor by itself; see :mod:`obra.royalties.ingest`);
        ``footer_policy``: ``refuse`` (default) or ``accept-with-warning`` for FOOT counts that disagree
        with the file (recorded as ``footer_warnings`` in the result and the journal)."""
        return ingest_dsr(self.store, path, principal, progress=progress, replaces=replaces,
                          footer_policy=footer_policy)

    def ingest_usage(self, principal: Principal, path: Path, progress: Callable[[int], None] | None = None,
                     replaces: Iterable[str] = ()) -> dict:
        """A usage or pools CSV; ``replaces``: earlier sources it corrects, superseded when it is published."""
        return ingest_usage_csv(self.store, path, principal, progress=progress, replaces=replaces)

    def ingest_cwr(self, principal: Principal, path: Path) -> dict:
        return ingest_cwr(self.store, path, principal)

    def match(self, principal: Principal, period: str | None = None, fuzzy: bool = True, engine: str = "duckdb",
              progress: Callable[[int], None] | None = None) -> dict:
        return run_matching(self.store, principal, period, fuzzy=fuzzy, engine=engine, progress=progress)

    def claims_queue(self, period: str | None = None, limit: int | None = 50) -> list[dict]:
        from obra.royalties.matching import claims

        return claims.queue(self.store, period, limit)

    def claim(self, principal: Principal, group: str, recording: str | None = None,
              work: str | None = None) -> dict:
        from obra.royalties.matching import claims

        return claims.claim(self.store, principal, group, recording_number=recording, work_number=work)

    def distribute(self, principal: Principal, request: DistributionRequest) -> dict:
        return run_period(self.store, principal, request.period, model=request.model, engine=request.engine,
                          params=request.preset, spark_master=request.spark_master, rates=request.er_rate,
                          cmo_party=request.cmo_party, cmo_commission=request.cmo_commission,
                          floors=request.floors, floor_per_use=request.floor_per_use)

    def split_statement(self, principal: Principal, path: Path, request: SplitRequest) -> dict:
        return split_for_store(self.store, principal, path, request.layout(), id_kind=request.id_kind)

    def compare_models(self, principal: Principal, period: str, base: str = "pro-rata",
                       other: str = "user-centric", engine: str = "duckdb",
                       spark_master: str | None = None) -> dict:
        return compare_period(self.store, principal, period, base, other, engine, spark_master)

    def statement(self, principal: Principal, payee: str, period: str | None = None, model: str | None = None,
                  run: int | None = None, fmt: str = "json", locale: str = "en",
                  right: str | None = None) -> tuple[bytes, dict]:
        return payee_statement(self.store, principal, payee, period, model, fmt, run, locale, right)

    def runs(self, principal: Principal, period: str | None = None, kind: str | None = None) -> list[dict]:
        """Every run, superseded ones included (who may distribute or read every statement)."""
        require(principal, "read_statement")
        return runs(self.store, kind, period)


__all__ = ["RoyaltiesService", "compare_period", "current_run", "ingest_cwr", "ingest_dsr", "ingest_usage_csv",
           "load_period", "payee_statement", "run_matching", "run_period", "runs", "runs_dir", "split_for_store"]
