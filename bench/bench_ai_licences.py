"""AI licences at scale: quoting 1,000,000 manifest items against 1,000,000 works with offers, and the
licence server's token checks on loopback.

**Quote.** Data (seeded, generated here): 1,000,000 registered works, each with one of 20,000
parties; every party states catalogue terms for generative training, drawn from realistic offers
(per item at 1-300 cents, flat fees, per use, per crawl, in EUR, USD or JPY, a 12.5 % revenue share,
not allowed, allowed, silent); 10,000 works have their own per-crawl terms; 1 % of the works are
withdrawn. The manifest has 1,000,000 items, 95 % of them registered works (the rest are not in the
catalogue), each asking for 1-5 uses. Figures:

* **ours** — :func:`obra.aiuse.licensing.quote.price_items` (the joins on DuckDB) and the totals,
  timed from the Arrow tables in memory (the catalogue read from the store is not timed: at this
  size it is the store's cost, not the pricing's);
* **the straightforward per-item loop** (:func:`price_items_loop`) over a 100,000-item sample of
  the same manifest against the whole catalogue, extrapolated linearly; on the sample both give
  the same rows, cent for cent (checked here).

**Token checks.** A store with one licence, the API served by uvicorn on 127.0.0.1, and
``GET /ai/licensed/{number}`` with ``Authorization: License <token>`` (the CAP check: the token's
hash, its licence, the item) from 8 concurrent connections (``hey``, in its own process), against ``GET /health`` on the same server
as the baseline; checks per second and the p50/p95 latency of each; and the check itself called in
process (one thread), without HTTP.
"""

from __future__ import annotations

import tempfile
import threading
import time
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa

from bench.stages import hey

SCALES = {"full": {"works": 1_000_000, "items": 1_000_000, "parties": 20_000, "own": 10_000, "loop": 100_000,
                   "requests": 4_000},
          "smoke": {"works": 5_000, "items": 5_000, "parties": 200, "own": 100, "loop": 1_000, "requests": 100}}


def _offer(p: int) -> list[dict] | None:
    kind = p % 20
    use = "ai-train-generative"
    if kind < 10:
        return [{"use": use, "permission": "licence",
                 "price": {"model": "per-item", "currency": ("EUR", "USD", "JPY")[p % 3], "amount_minor": 1 + p % 300}}]
    if kind < 12:
        return [{"use": use, "permission": "licence", "price": {"model": "flat", "currency": "EUR",
                                                                "amount_minor": 100_000 + p}}]
    if kind < 14:
        return [{"use": use, "permission": "licence", "price": {"model": "per-use", "currency": "USD",
                                                                "amount_minor": 2}}]
    if kind == 14:
        return [{"use": use, "permission": "licence", "price": {"model": "revenue-share", "share_percent": "12.5"}}]
    if kind in (15, 16):
        return [{"use": use, "permission": "not-allowed"}]
    if kind == 17:
        return [{"use": use, "permission": "allowed"}]
    return None


def _catalogue(cfg: dict, rng: np.random.Generator):
    from obra.aiuse.licensing.quote import Catalogue

    n = cfg["works"]
    numbers = pa.array([f"W{i:07d}" for i in range(n)])
    withdrawn = rng.random(n) < 0.01
    party = rng.integers(0, cfg["parties"], n)
    terms = [{"subject_kind": "party", "subject": str(p), "version": 1, "journal_event": p + 1,
              "terms": {"uses": uses}} for p in range(cfg["parties"]) if (uses := _offer(p)) is not None]
    own = rng.choice(n, cfg["own"], replace=False)
    terms += [{"subject_kind": "work", "subject": f"W{i:07d}", "version": 1, "journal_event": 10**6 + int(i),
               "terms": {"uses": [{"use": "ai-train-generative", "permission": "licence",
                                   "price": {"model": "per-crawl", "currency": "USD", "amount_minor": 1}}]}}
              for i in own]
    return Catalogue(pa.table({"number": numbers, "withdrawn": pa.array(withdrawn)}),
                     pa.table({"number": numbers, "party": pa.array(party, pa.int64())}),
                     pa.table({"number": pa.array([], pa.string()), "sha256": pa.array([], pa.string())}), terms)


def _manifest(cfg: dict, rng: np.random.Generator) -> pa.Table:
    m = cfg["items"]
    picks = rng.integers(0, int(cfg["works"] / 0.95), m)
    return pa.table({"item": pa.array(np.arange(m, dtype=np.int64)),
                     "line": pa.array(np.arange(2, m + 2, dtype=np.int64)),
                     "number": pa.array([f"W{i:07d}" for i in picks]), "sha256": pa.nulls(m, pa.string()),
                     "url": pa.nulls(m, pa.string()), "count": pa.array(rng.integers(1, 6, m), pa.int64())})


def quote_figures(scale: str) -> dict:
    from obra.aiuse.licensing.quote import QuoteQuestion, price_items, price_items_loop, totals
    from obra.aiuse.vocabulary import Use

    cfg = SCALES[scale]
    rng = np.random.default_rng(15)
    catalogue = _catalogue(cfg, rng)
    items = _manifest(cfg, rng)
    question = QuoteQuestion(Use.AI_TRAIN_GENERATIVE, date(2026, 12, 1), date(2027, 11, 30))
    started = time.perf_counter()
    priced = price_items(items, catalogue, question)
    summary = totals(priced)
    ours = time.perf_counter() - started
    sample = items.slice(0, cfg["loop"])
    started = time.perf_counter()
    slow = price_items_loop(sample, catalogue, question)
    loop = time.perf_counter() - started
    fast_sample = price_items(sample, catalogue, question)
    assert fast_sample.to_pylist() == slow.to_pylist(), "vectorised and per-item quotes differ"
    loop_full = loop * items.num_rows / sample.num_rows
    return {"works": cfg["works"], "items": items.num_rows, "offers": len(catalogue.terms),
            "quote_seconds": round(ours, 2), "items_per_second": round(items.num_rows / ours),
            "loop_sample": sample.num_rows, "loop_seconds_sample": round(loop, 2),
            "loop_seconds_extrapolated": round(loop_full, 1), "speedup_vs_loop": round(loop_full / ours, 1),
            "sample_identical_to_loop": True, "summary": {k: v for k, v in summary.items()
                                                           if k != "not_licensable_reasons"},
            "target_seconds": 20, "meets_target": ours < 20}


def _serve(store, port: int):
    import uvicorn

    from obra.api.app import create_app

    server = uvicorn.Server(uvicorn.Config(create_app(store), host="127.0.0.1", port=port, log_level="warning",
                                           access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    return server, thread


def _load(url: str, headers: dict, n: int, clients: int = 8) -> dict:
    """``n`` requests from ``clients`` concurrent connections, by ``hey`` in its own process (a load
    generator inside the server's interpreter would share its GIL and measure itself)."""
    hey(url, min(n, 200), clients, headers)   # warm up
    found = hey(url, n, clients, headers)
    if found["non_2xx"] or found["errors"]:
        raise AssertionError(f"{url}: {found['non_2xx']} answers other than 2xx, {found['errors']} errors")
    return {"requests": n, "clients": clients, "per_second": round(found["requests_per_s"]),
            "p50_ms": found["p50_ms"], "p95_ms": found["p95_ms"]}


def token_figures(scale: str) -> dict:
    import socket

    import httpx

    from obra.access import create_principal
    from obra.app import Obra
    from obra.model.vocab import AccessRole
    from obra.store import Store

    cfg = SCALES[scale]
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(f"sqlite:///{Path(tmp) / 'obra.db'}", Path(tmp) / "home", migrate=True)
        obra = Obra(store)
        root, _ = create_principal(store, "root", AccessRole.ADMIN)
        dev, _ = create_principal(store, "dev", AccessRole.AI_DEVELOPER, by=root)
        party = obra.registry.add_party(root, {"kind": "person", "name": "Ana", "roles": ["author"]})
        number = obra.registry.register(root, "work", {"title": "Bench", "shares": [
            {"party": party.id, "right_type": "ai_training", "share": "100"}]}).number
        obra.ai_terms.set_terms(root, {"subject_kind": "party", "subject": str(party.id), "uses": [
            {"use": "ai-train-generative", "permission": "licence",
             "price": {"model": "per-item", "currency": "EUR", "amount_minor": 5}}]})
        svc = obra.ai_licences
        quote = svc.quote(dev, pa.table({"item": pa.array([0], pa.int64()), "line": pa.array([2], pa.int64()),
                                         "number": [number], "sha256": pa.nulls(1, pa.string()),
                                         "url": pa.nulls(1, pa.string()), "count": pa.array([1], pa.int64())}),
                          svc.question("ai-train-generative"))
        lic = svc.accept(dev, quote["quote_id"])
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server, thread = _serve(store, port)
        try:
            base = f"http://127.0.0.1:{port}"
            token = httpx.post(f"{base}/ai/olp/token", auth=(lic["client_id"], lic["client_secret"]),
                               data={"grant_type": "client_credentials"}).json()["access_token"]
            server_side = svc.server(base)
            started = time.perf_counter()
            for _ in range(cfg["requests"]):
                assert server_side.authorize(number, f"License {token}", {}).status == 200
            in_process = cfg["requests"] / (time.perf_counter() - started)
            checks = _load(f"{base}/ai/licensed/{number}", {"Authorization": f"License {token}"}, cfg["requests"])
            health = _load(f"{base}/health", {}, cfg["requests"])
        finally:
            server.should_exit = True
            thread.join(10)
            store.dispose()
    return {"token_checks": checks, "health_baseline": health,
            "in_process_checks_per_second": round(in_process),
            "checks_vs_health_throughput": round(checks["per_second"] / health["per_second"], 2),
            "target": {"per_second": 500, "p95_ms": 20},
            "meets_target": checks["per_second"] >= 500 and checks["p95_ms"] < 20}


def run(scale: str = "full") -> dict:
    return {"quote": quote_figures(scale), "licence_server": token_figures(scale)}
