"""The demo job, end to end on the embedded store: catalogue → registrations → (royalties) → results.

Each capability contributes a step; the summary says what was produced and where.
"""

from __future__ import annotations

import json
from pathlib import Path
import time

from obra.access import Principal
from obra.registry.batch import import_records
from obra.registry.service import Registry
from obra.store import Store
from obra_demo.catalogue import demo_catalogue


def _certificate_step(store: Store, number: str) -> dict:
    """Certify one AI-generated work and verify the certificate offline, as a third party would."""
    from obra.registry.certificates import (certificate_bytes, certificate_for, render_html,
                                            verify_certificate)
    from obra.transparency.translog import TransparencyLog

    out = store.home / "certificates"
    out.mkdir(exist_ok=True)
    log = TransparencyLog(store)
    certificate = certificate_for(store, number)
    cert_path = out / f"{number}.json"
    cert_path.write_bytes(certificate_bytes(certificate))
    (out / f"{number}.html").write_text(render_html(certificate), encoding="utf-8")
    keys_path = out / "office-keys.json"
    keys_path.write_text(log.key_history().to_json(), encoding="utf-8")
    verified = verify_certificate(cert_path.read_bytes(), log.key_history())
    return {"example_ai_generated_work": number, "certificate": str(cert_path),
            "certificate_verified_offline": verified is not None, "office_keys": str(keys_path),
            "transparency_log_size": log.size()}


def _royalties_step(store: Store, principal: Principal, seed: int, period: str = "2026-10") -> dict:
    """A month of usage: ingest the service's reports, match, distribute two ways, write statements."""
    from obra.royalties.pipeline import compare_period, ingest_usage_csv, run_matching, run_period
    from obra_demo.reports import write_demo_reports

    started = time.perf_counter()
    reports = write_demo_reports(store.repertoire(), store.home / "reports", period, seed)
    ingested = [ingest_usage_csv(store, path, principal) for path in reports]
    matching = run_matching(store, principal, period)
    runs = {model: run_period(store, principal, period, model) for model in ("pro-rata", "user-centric")}
    comparison = compare_period(store, principal, period, "pro-rata", "user-centric")
    comparison_path = store.paths.royalties / f"comparison-{period}-pro-rata-vs-user-centric.json"
    comparison_path.write_text(json.dumps(comparison, indent=2, ensure_ascii=False, default=str))
    statements = Path(runs["pro-rata"]["directory"]) / "statements"
    return {
        "usage_reports": [str(p) for p in reports],
        "usage_lines": sum(i.get("counts", {}).get("usage", 0) for i in ingested),
        "matched_share": matching.get("matched_share"),
        "money_conserved": {cur: f"{c['distributed']} distributed + {c['unallocated']} unallocated = "
                                 f"{c['revenue']} revenue (minor units)"
                            for cur, c in runs["pro-rata"]["conservation"].items()},
        "payees_with_statements": runs["pro-rata"]["payees"],
        "distribution_runs": {m: r["run"] for m, r in runs.items()},
        "statements": str(statements),
        "model_comparison": str(comparison_path),
        "royalties_seconds": round(time.perf_counter() - started, 1),
    }


def run_demo(store: Store, principal: Principal, seed: int = 2026, works: int = 3000) -> dict:
    """Load the demo catalogue (once per store) and run every demo step; returns a summary."""
    registry = Registry(store)
    summary: dict = {"home": str(store.home)}
    started = time.perf_counter()
    if registry.counts().get("works", 0) == 0:
        catalogue = demo_catalogue(seed=seed, parties=max(50, works * 2 // 3), works=works, recordings=works)
        import_records(store, principal, source=f"demo catalogue (seed {seed})", **catalogue)
    summary["catalogue"] = registry.counts()
    summary["catalogue_seconds"] = round(time.perf_counter() - started, 1)
    sample = registry.search(creation_mode="ai_generated", limit=1)
    if sample:
        summary |= _certificate_step(store, sample[0]["number"])
    summary |= _royalties_step(store, principal, seed)
    out = store.home / "demo-summary.json"
    out.write_text(json.dumps(summary, indent=2, ensure_ascii=False, default=str))
    summary["summary_file"] = str(out)
    return summary
