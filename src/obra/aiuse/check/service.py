"""The training check as a service: what ``obra ai check`` and the API call.

:meth:`CheckService.check` takes a principal allowed ``ai_check`` (AI developers, CMO and office
staff, registrants), a manifest and optional site captures, and the question; it reads and
validates the inputs (every problem reported with its line and field, the rest processed), runs
the relational steps on DuckDB or Spark (:mod:`obra.aiuse.check.engine`), writes the per-item
results (Parquet, CSV, JSON), the class details (``parts.json``), the summary and the signed
receipt, and records an ``aiuse.check`` journal event carrying the receipt's hash — the anchor
in the transparency log. Outputs are written to a temporary directory and moved into place only
once the event is committed: nothing is left half-written.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import nullcontext
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa

from obra.access import Principal, require
from obra.aiuse.check.decide import licensed_items
from obra.aiuse.check.engine import ENGINES, RESULT_FORMATS, CheckEngine, CheckRun, Question
from obra.aiuse.check.manifest import Manifest, describe, manifest_from_table, read_manifest
from obra.aiuse.check.receipt import (build_receipt, file_sha256, parser_versions, receipt_hash, sign_receipt,
                                      verify_receipt)
from obra.aiuse.check.registry import RegistryIndex
from obra.aiuse.check.sites import Sites, read_sites
from obra.aiuse.signals.robots import product_token
from obra.aiuse.vocabulary import Use
from obra.collector import paused
from obra.errors import InvalidInput, Problem
from obra.identify.near_worker import NearWorker
from obra.journal import Journal
from obra.law import load
from obra.law.tdm import rule_for
from obra.transparency.translog import TransparencyLog

__all__ = ["CheckService"]


def _now() -> datetime:
    return datetime.now(timezone.utc)


def result_formats(formats: str | list[str] | tuple[str, ...] | None) -> tuple[str, ...] | None:
    """The result formats asked for (a list, or one comma-separated string), checked; None: the default."""
    if formats is None or formats == [] or formats == ():
        return None
    names = formats.split(",") if isinstance(formats, str) else list(formats)
    out: list[str] = []
    for name in names:
        name = str(name).strip().lower()
        if name == "all":
            out.extend(RESULT_FORMATS)
        elif name in RESULT_FORMATS:
            out.append(name)
        elif name:
            raise InvalidInput(Problem(f"unknown result format {name!r}", field="formats"),
                               hint=f"use {', '.join(RESULT_FORMATS)} or all")
    if not out:
        raise InvalidInput(Problem("no result format given", field="formats"),
                           hint=f"use {', '.join(RESULT_FORMATS)} or all")
    return tuple(f for f in RESULT_FORMATS if f in out)


PROCESS_MANIFEST_BYTES = 16 << 20
"""A manifest file this large (about 100,000 items and more) has its Content-Codes searched in a
worker process; a smaller one in a thread (starting a process would cost more than it saves)."""


def _search_process(manifest: Any) -> NearWorker | None:
    """A worker process for the near-duplicate search of a large manifest file, started at once."""
    if isinstance(manifest, (Manifest, pa.Table)):
        return None
    try:
        if Path(manifest).stat().st_size < PROCESS_MANIFEST_BYTES:
            return None
    except OSError:
        return None
    return NearWorker()


class _Laps:
    """Wall and CPU seconds of the service's own steps (reading, writing, hashing, the receipt)."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self._clock, self._cpu = time.perf_counter(), time.process_time()

    def lap(self, name: str) -> None:
        now, cpu = time.perf_counter(), time.process_time()
        self.timings[name] = round(now - self._clock, 3)
        self.timings[f"{name}_cpu"] = round(cpu - self._cpu, 3)
        self._clock, self._cpu = now, cpu

    def skip(self) -> None:
        self._clock, self._cpu = time.perf_counter(), time.process_time()


class CheckService:
    """``check`` a manifest against the signals, the registry and the law; ``verify`` a receipt."""

    def __init__(self, store: Any):
        self.store = store

    def check(self, principal: Principal, manifest: str | Path | Manifest | pa.Table, sites: str | Path | Sites | None = None,
              *, jurisdiction: str, purpose: str, commercial: bool | None = None, user_agent: str = "*",
              use: str | Use = Use.AI_TRAIN_GENERATIVE, engine: str = "duckdb", out_dir: str | Path | None = None,
              radius: int = 8, on: date | None = None, registry: RegistryIndex | None = None,
              session: Any = None, threads: int | None = None, inline: int = 0,
              formats: str | list[str] | tuple[str, ...] | None = None) -> dict:
        """Run the check; returns the summary, the signed receipt, the journal event and the files.

        ``formats`` are the per-item result files to write (``parquet``, ``csv``, ``json``, or
        ``all``); by default Parquet, plus the manifest's own format when it is CSV (``csv``) or JSON
        Lines (``json``): what the caller reads back with the tools that made the manifest, without
        writing (and hashing) copies nobody asked for. ``inline`` > 0 also returns up to that many
        items, each with its full reasons (what the CLI's ``--json`` prints for a small manifest).
        """
        require(principal, "ai_check")
        question = self._question(jurisdiction, purpose, commercial, user_agent, use, engine, radius, on)
        wanted = result_formats(formats)
        target = Path(out_dir) if out_dir is not None else self.store.paths.home / "ai-checks" / \
            _now().strftime("check-%Y%m%dT%H%M%S%fZ")
        if target.exists() and any(target.iterdir()):
            raise InvalidInput(Problem(f"{target} already holds files", field="out_dir"),
                               hint="give a new or empty directory: a check never overwrites another's results")
        clock = _Laps()
        index = registry if registry is not None else RegistryIndex.from_store(self.store)
        runner = CheckEngine(engine, session=session, threads=threads)
        # On DuckDB the near-duplicate search starts as soon as the manifest's codes are decoded,
        # while its other columns are read and checked; a large one in a worker process (started
        # now, ready when the codes are), where it never waits for the GIL the signal readers hold.
        searcher = ThreadPoolExecutor(1, thread_name_prefix="obra-check-near")
        worker = _search_process(manifest) if engine == "duckdb" else None
        if worker is not None:   # the registry's side of the search built while the manifest is read (sent
            # from the search's own thread, before the search: the child may still be starting)
            searcher.submit(runner.prepare_near, index, question.radius, worker)
        near: list[Future] = []

        def on_codes(kinds: Any, bodies: Any) -> None:
            if engine == "duckdb":
                near.append(searcher.submit(runner.near_codes, kinds, bodies, index, question.radius,
                                            worker=worker))

        work: Path | None = None
        # On DuckDB the collector is paused: the signal classes and their evidence are many objects kept
        # to the end, and each older-generation collection walked them all again (about 2 of 19 CPU s at
        # 1M items). Not on Spark, whose Python objects in cycles hold objects of the JVM until collected.
        pause = paused() if engine == "duckdb" else nullcontext()
        pause.__enter__()
        try:
            clock.lap("prepare")   # the registry snapshot and the engine
            if isinstance(manifest, Manifest):
                read = manifest
            elif isinstance(manifest, pa.Table):
                read = manifest_from_table(manifest)
            else:
                read = read_manifest(manifest, on_codes=on_codes)
            if read.rows == 0:
                raise InvalidInput(Problem("the manifest has no items", source=read.source),
                                   hint="one item per row (CSV, Parquet) or line (JSON Lines), each with its url")
            site_data = sites if isinstance(sites, Sites) else read_sites(sites)
            if wanted is None:
                wanted = ("parquet",) + {"csv": ("csv",), "jsonl": ("json",)}.get(read.format, ())
            clock.lap("read")
            target.parent.mkdir(parents=True, exist_ok=True)
            work = Path(tempfile.mkdtemp(prefix=".obra-check-", dir=target.parent))
            licensed = licensed_items(self.store, principal, read.items)
            if hasattr(licensed, "for_question"):   # only licences for this use, in force on the question's date
                licensed = licensed.for_question(question.use.value, question.on)
            clock.lap("licences")
            run = runner.run(read, site_data, index, question, licensed=licensed, near=near[0] if near else None)
            clock.skip()   # the engine's own steps are in run.timings
            files = runner.write(run, work, wanted)
            clock.lap("write")
            problems = [p.to_dict() for p in read.problems] + [p.to_dict() for p in site_data.problems]
            summary = run.summary | {"problems": {"manifest": read.problem_count, "sites": site_data.problem_count}}
            (work / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
            (work / "problems.json").write_text(json.dumps(problems, indent=2, default=str), encoding="utf-8")
            outputs = {name: file_sha256(path) for name, path in files.items()}
            outputs["summary"] = file_sha256(work / "summary.json")
            outputs["problems"] = file_sha256(work / "problems.json")
            clock.lap("hash_outputs")
            inline_items = self.explain(run, limit=inline) if inline else None
            log = TransparencyLog(self.store)
            log.keys.history()   # the office's first key is made now if there is none: before taking the time
            moment = _now()
            body = build_receipt(
                office=log.office, issued_at=moment, manifest=describe(read),
                sites={"source": site_data.source, "sha256": site_data.sha256, "bytes": site_data.size,
                       "sites": len(site_data.by_origin), "problems": site_data.problem_count},
                registry=index.describe(), question=question.to_json(),
                law={"law_version": question.rule.law_version, "rule_pack_version": question.rule.version,
                     "key": question.rule.key, "exception": question.rule.exception,
                     "citation": question.rule.exception_fact.citation if question.rule.exception_fact else None,
                     "opt_out": question.rule.opt_out, "confidence": question.rule.confidence},
                engine=engine, summary=run.summary, outputs=outputs,
                parsers=parser_versions(("pyspark",) if engine == "spark" else ()))
            receipt = sign_receipt(log.keys, body, moment)
            digest = receipt_hash(receipt)
            (work / "receipt.json").write_text(json.dumps(receipt, indent=2, ensure_ascii=False), encoding="utf-8")
            with self.store.begin() as conn:
                event = Journal(self.store, log).record(
                    conn, "aiuse.check", f"ai-check/{digest[:16]}",
                    {"receipt_sha256": digest, "manifest_sha256": read.sha256, "sites_sha256": site_data.sha256,
                     "question": question.to_json(), "summary": run.summary,
                     "rule_pack_version": question.rule.version,
                     "licences": [x["licence_id"] for x in getattr(licensed, "licences", [])]},
                    principal.name)
                clock.lap("receipt")
                anchor = {"journal_event": event.id, "log_index": event.log_index, "receipt_sha256": digest,
                          "record_hash": event.record_hash}
                (work / "anchor.json").write_text(json.dumps(anchor, indent=2), encoding="utf-8")
                if target.exists():
                    target.rmdir()
                os.replace(work, target)
        except BaseException:
            if work is not None:
                shutil.rmtree(work, ignore_errors=True)
            raise
        finally:
            searcher.shutdown(wait=True)
            if worker is not None:
                worker.close()
            runner.close()
            pause.__exit__(None, None, None)
        files = {name: str(target / Path(path).name) for name, path in files.items()}
        files |= {name: str(target / f"{name}.json") for name in ("summary", "problems", "receipt", "anchor")}
        out = {"summary": summary, "receipt": receipt, "receipt_sha256": digest, "journal_event": event.id,
               "log_index": event.log_index, "files": files, "directory": str(target),
               "problems": problems[:100], "problem_count": read.problem_count + site_data.problem_count,
               "question": question.to_json(), "law": question.rule.to_json(),
               "timings": clock.timings | run.timings, "formats": list(wanted)}
        if inline_items is not None:
            evidence = getattr(licensed, "evidence", {})
            for entry in inline_items:
                if entry["item"] in evidence:
                    entry["licence"] = evidence[entry["item"]]
            out["items"] = inline_items
        out["licences"] = list(getattr(licensed, "licences", []))
        return out

    @staticmethod
    def _question(jurisdiction: str, purpose: str, commercial: bool | None, user_agent: str, use: str | Use,
                  engine: str, radius: int, on: date | None) -> Question:
        try:
            use = Use(use)
        except ValueError:
            raise InvalidInput(Problem(f"unknown use {use!r}", field="use"),
                               hint=f"use one of: {', '.join(u.value for u in Use)}") from None
        if engine not in ENGINES:
            raise InvalidInput(Problem(f"unknown engine {engine!r}", field="engine"),
                               hint=f"use one of: {', '.join(ENGINES)}")
        if not isinstance(user_agent, str) or not product_token(user_agent):
            raise InvalidInput(Problem("the user agent must be a crawler's product token (e.g. GPTBot) or *",
                                       field="user_agent"))
        if isinstance(radius, bool) or not isinstance(radius, int) or not 0 <= radius <= 16:
            raise InvalidInput(Problem(f"radius must be a whole number of bits from 0 to 16, got {radius!r}",
                                       field="radius"))
        rule = rule_for(jurisdiction, purpose, commercial, use=use.value, law=load())
        return Question(use, rule.jurisdiction, purpose, rule.commercial, user_agent.strip(), rule,
                        on or _now().date(), radius)

    @staticmethod
    def explain(run: CheckRun, *, limit: int | None = None, items: list[int] | None = None) -> list[dict]:
        """Items with their full reasons: each signal part, the registry evidence, the decision's rule,
        reservations, allowances and conflicts (``items`` picks items by id, else the first ``limit``)."""
        table = run.items
        if items is not None:
            table = table.filter(table.item.isin(items))
        if limit:
            table = table.order_by("item").limit(limit)
        rows = run.engine.arrow(table).to_pylist()
        out = []
        for row in rows:
            crawled = row["crawled_at"].isoformat() if row["crawled_at"] is not None else None

            def dated(part: dict | None) -> dict | None:
                if part is None:
                    return None
                evidence = [{**e, "date": crawled} if e.get("date") == "item.crawled_at" else e
                            for e in part.get("evidence", [])]
                return {**part, "evidence": evidence}

            site = run.parts["site"].get(row["site_class"], {})
            header = run.parts["header"].get(row["header_class"], {})
            decision = run.decisions.get(row["decision_id"], {})
            out.append({
                "item": row["item"], "line": row["line"], "url": row["url"], "decision": row["decision"],
                "rule": decision.get("rule"), "error": row["error"], "notes": row["notes"], "crawled_at": crawled,
                "signals": {"robots.txt": site.get("crawl"), "content-signals": site.get("content_signals"),
                            "aipref": dated(run.parts["aipref"].get(row["aipref_id"])),
                            "tdmrep": dated(run.parts["tdmrep"].get(row["tdmrep_id"])),
                            "rsl": dated(run.parts["rsl"].get(row["rsl_id"])),
                            "noai": dated(header.get("noai")), "cawg": dated(run.parts["cawg"].get(row["cawg_id"]))},
                "registry": {"permission": row["registry"], "matches": row["matches"] or [],
                             "location": row["location"], "location_terms_event": row["location_event"]},
                "reservations": decision.get("reservations", []), "allowances": decision.get("allowances", []),
                "conflicts": decision.get("conflicts", []), "flags": decision.get("flags", [])})
        return out

    def verify(self, receipt: bytes | str | dict, *, outputs: dict[str, str | Path] | None = None) -> dict:
        """Check a receipt against this office's key history (what a third party does offline)."""
        return verify_receipt(receipt, TransparencyLog(self.store).key_history(), outputs=outputs)
