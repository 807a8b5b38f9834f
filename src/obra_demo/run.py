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


def _ai_use_step(store: Store, principal: Principal, party_id: int, numbers: list[str], seed: int) -> dict:
    """A label states its AI-use terms, publishes them in every standard, and an AI developer checks
    a training manifest against them (signals of two sites, the registry, German law)."""
    import random

    from obra.aiuse.check.service import CheckService
    from obra.aiuse.protect_service import ProtectService
    from obra.aiuse.service import AITermsService

    started = time.perf_counter()
    site = "https://musica.example"
    price = {"model": "per-item", "currency": "EUR", "amount_minor": 500}
    terms = AITermsService(store)
    if terms.current("party", str(party_id)) is None:
        terms.set_terms(principal, {"subject_kind": "party", "subject": str(party_id), "contact": "licencias@musica.example",
                                    "uses": [{"use": "ai-train-generative", "permission": "licence", "price": price},
                                             {"use": "ai-train-other", "permission": "licence", "price": price},
                                             {"use": "ai-train-generative", "permission": "allowed",
                                              "purposes": ["research"]},
                                             {"use": "ai-input", "permission": "not-allowed"},
                                             {"use": "search", "permission": "allowed"}]})
        terms.set_terms(principal, {"subject_kind": "work", "subject": numbers[0],
                                    "uses": [{"use": "ai-train-generative", "permission": "not-allowed"}]})
    bundle = ProtectService(store).bundle("party", str(party_id), site=site)
    out = store.home / "ai-signals"
    for name, content in bundle["files"].items():
        target = out / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    rng = random.Random(seed)
    sites = [{"origin": site, "robots_status": 200, "robots_txt": bundle["files"]["robots.txt"],
              "tdmrep_json": bundle["files"][".well-known/tdmrep.json"],
              "rsl": {f"{site}/license.xml": bundle["files"]["license.xml"]}, "fetched_at": "2026-11-01T00:00:00Z"},
             {"origin": "https://open.example", "robots_status": 404, "fetched_at": "2026-11-01T00:00:00Z"}]
    items = [{"url": f"{rng.choice([site, 'https://open.example'])}/track/{i}", "crawled_at": "2026-11-02T10:00:00Z",
              "headers": {"Content-Usage": "train-ai=n"} if i % 7 == 0 else {}} for i in range(500)]
    check_dir = store.home / "ai-checks"
    check_dir.mkdir(exist_ok=True)
    manifest, sites_path = check_dir / "demo-manifest.jsonl", check_dir / "demo-sites.jsonl"
    manifest.write_text("".join(json.dumps(i) + "\n" for i in items), encoding="utf-8")
    sites_path.write_text("".join(json.dumps(s) + "\n" for s in sites), encoding="utf-8")
    done = CheckService(store).check(principal, manifest, sites_path, jurisdiction="DE", purpose="commercial",
                                     user_agent="GPTBot")
    return {"ai_terms_party": party_id, "ai_signal_files": str(out), "ai_check": done["directory"],
            "ai_check_decisions": done["summary"].get("decisions"),
            "ai_check_receipt": done["files"]["receipt"], "ai_seconds": round(time.perf_counter() - started, 1)}


def _evidence_step(store: Store, principal: Principal, number: str) -> dict:
    """The work the label reserved gets its score as a file (a correction: content codes); a dataset holds a
    copy and a scaled, annotated copy; the check finds both, and the rightholder gets a signed evidence bundle
    and its letters in four languages."""
    from datetime import datetime, timedelta, timezone

    from PIL import Image, ImageDraw

    from obra.aiuse.check.service import CheckService
    from obra.aiuse.evidence.service import EvidenceService
    from obra.identify import identify_file
    from obra.identify.registration import correct_with_file

    started = time.perf_counter()
    out = store.home / "evidence"
    out.mkdir(exist_ok=True)
    original, edited_path = out / "score.png", out / "score-edited.png"
    picture = Image.new("RGB", (256, 192))
    picture.putdata([(x, (x + y) % 256, y) for y in range(192) for x in range(256)])
    picture.save(original)
    edited = picture.resize((240, 180))   # scaled down and annotated: a near duplicate, 6 bits away
    ImageDraw.Draw(edited).rectangle((180, 130, 190, 140), fill=(255, 255, 255))
    edited.save(edited_path)
    registry = Registry(store)
    current = registry.show(number).record
    if not current.get("content"):
        correct_with_file(registry, principal, number, current[current["entity"]],
                          "the score as a file, for content identification", original)
    crawled = (datetime.now(timezone.utc) + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    items = [{"url": "https://images.example/score.png", "iscc": identify_file(original).iscc},
             {"url": "https://mirror.example/score-annotated.png", "iscc": identify_file(edited_path).iscc},
             {"url": "https://images.example/other.png"}]
    manifest = out / "dataset-manifest.jsonl"
    manifest.write_text("".join(json.dumps(i | {"crawled_at": crawled}) + "\n" for i in items), encoding="utf-8")
    check = CheckService(store).check(principal, manifest, None, jurisdiction="DE", purpose="commercial")
    done = EvidenceService(store).evidence(principal, Path(check["directory"]), work=number,
                                           against="Example AI Labs (dataset scores-v2)",
                                           jurisdictions={"developer": "US", "rightholder": "UY"})
    target = out / number
    target.mkdir(exist_ok=True)
    (target / "evidence.json").write_bytes(done["bundle_bytes"])
    (target / "office-keys.json").write_text(json.dumps(done["key_history"], indent=2), encoding="utf-8")
    for lang, letter in done["letters"].items():
        (target / f"letter.{lang}.html").write_text(letter["html"], encoding="utf-8")
    return {"evidence_work": number, "evidence_bundle": str(target / "evidence.json"),
            "evidence_items": done["bundle"]["items_total"], "evidence_journal_event": done["journal_event"],
            "evidence_outcomes": {b["jurisdiction"]: {k: v for k, v in b["decisions"].items() if v}
                                  for b in done["bundle"]["legal_basis"]},
            "evidence_seconds": round(time.perf_counter() - started, 1)}


def _observatory_step(store: Store, principal: Principal, period: str = "2026-10") -> dict:
    """The observatory's report of the demo month: indicators, the three payment models compared and a
    user-centric scenario with a floor, as a site, a PDF and tables, signed (docs/observatory.md)."""
    from obra.observatory.service import ObservatoryService, ReportRequest

    started = time.perf_counter()
    scenario = {"name": "User-centric with a floor", "rules": {"model": "user-centric", "per_play_floor_minor": "0.2"}}
    out = store.home / "observatory" / period
    result = ObservatoryService(store).write(principal, ReportRequest(period=period, scenario=scenario, model="pro-rata"),
                                             out, locales=("en",), pdf_locales=("en",))
    return {"observatory_report": str(out / "index.html"), "observatory_reconciled": result["reconciled"],
            "observatory_seconds": round(time.perf_counter() - started, 1)}


def _fairness_step(store: Store, principal: Principal, statements: str | None) -> dict:
    """A recording contract whose artist earns 18 % gets illustrative fairness terms (German law, a 40 %
    appropriate share): the renegotiation check flags it under UrhG § 32a, the letter is drafted in four
    languages and the artist's yearly transparency report is issued, signed (docs/examples/fairness/)."""
    from datetime import date

    from obra.fairness.service import CheckRequest, FairnessService
    from obra.fairness.terms import AgreementTerms
    from obra.transparency.translog import TransparencyLog

    if not statements:
        return {}
    started = time.perf_counter()
    paid = {p.name.split("-")[1] for p in Path(statements).glob("statement-*.json")}
    deal = next((a for a in store.repertoire().agreements
                 if str(a.kind) == "recording_contract" and str(a.assignor) in paid), None)
    if deal is None:
        return {}
    service = FairnessService(store)
    service.set_terms(principal, deal.id, AgreementTerms(
        jurisdiction="DE", appropriate_share="0.40", note="illustrative demo terms: a 40 % appropriate share"))
    result = service.check(principal, CheckRequest(as_of=date(2026, 12, 31), party=str(deal.assignor)))
    out = store.home / "fairness" / "examples"
    out.mkdir(parents=True, exist_ok=True)
    flag = next((f for f in result["flags"] if f["trigger"] == "disproportion"), None)
    if flag is not None:
        for lang in ("en", "es", "fr", "pt"):
            data, _ = service.letter(principal, result["check"], flag["flag"], "html", lang)
            (out / f"letter-adjustment-request.{lang}.html").write_bytes(data)
    report, meta = service.report(principal, str(deal.assignor), 2026, "json")
    (out / "transparency-report.json").write_bytes(report)
    for lang in ("en", "es"):
        (out / f"transparency-report.{lang}.html").write_bytes(service.render_report(meta["report"], "html", lang))
    (out / "office-keys.json").write_text(TransparencyLog(store).key_history().to_json())
    return {"fairness_check": result["check"], "fairness_flags": result["summary"]["by_trigger"],
            "fairness_examples": str(out), "fairness_seconds": round(time.perf_counter() - started, 1)}


def _portal_step(store: Store, principal: Principal, statements: str | None) -> dict:
    """A demo login per role for the portal (``make serve``): the creator is a payee with a statement.
    Tokens are shown once by the server, so the demo keeps them in ``portal-logins.json`` (mode 0600)."""
    import os

    from obra.access import create_principal

    path = store.home / "portal-logins.json"
    logins = json.loads(path.read_text()) if path.exists() else {}
    payee = None
    if statements:
        names = sorted(p.name for p in Path(statements).glob("statement-*.json"))
        payee = next((n.split("-")[1] for n in names if n.split("-")[1].isdigit()), None)
    for role in ("creator", "registrant", "office_staff", "cmo", "ai_developer"):
        if role not in logins:
            name = f"demo-{role.replace('_', '-')}"
            party = int(payee) if role == "creator" and payee else None
            made, token = create_principal(store, name, role, party, by=principal)
            logins[role] = {"name": made.name, "token": token, "party": party}
    path.write_text(json.dumps(logins, indent=2))
    os.chmod(path, 0o600)
    return {"portal": "run `make serve` (or `obra serve`) and open http://127.0.0.1:8000/portal/ ; sign in with "
                      "a name and token below (kept in " + str(path) + ")",
            "portal_logins": {role: f"{v['name']} / {v['token']}" for role, v in logins.items()}}


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
    summary |= _observatory_step(store, principal)
    works = registry.search(entity="work", creation_mode="human", limit=1)
    parties = store.repertoire().parties
    label = next((pid for pid, p in sorted(parties.items()) if "label" in p.roles), min(parties, default=None))
    if works and label is not None:
        summary |= _ai_use_step(store, principal, label, [works[0]["number"]], seed)
        summary |= _evidence_step(store, principal, works[0]["number"])
    summary |= _fairness_step(store, principal, summary.get("statements"))
    summary |= _portal_step(store, principal, summary.get("statements"))
    out = store.home / "demo-summary.json"
    out.write_text(json.dumps(summary, indent=2, ensure_ascii=False, default=str))
    summary["summary_file"] = str(out)
    return summary
