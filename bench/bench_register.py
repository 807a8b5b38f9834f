"""The national register (issue #18): bulk loading and ranked search, on SQLite and PostgreSQL.

1. **Bulk registration**: a seeded catalogue (parties with IPI numbers, works with two to four
   writers' shares and contributors, a third with an alternate title) loaded by ``obra import``'s
   set-based path (:mod:`obra.registry.bulk`), against the per-record path (``method="per-record"``,
   what every import did before) on a sample in the same run: registrations per second, each with
   its log leaf and journal event, one signed tree head per import, and the time 10,000,000 would take
   at that rate (an extrapolation: the rate is measured, not the 10M load).
2. **Search** over the loaded register: a mixed query set (exact titles, prefixes, misspellings, CJK
   substrings, party names), each with the registration it should find, answered by the ranked search
   (:mod:`obra.registry.search`) and by the ``LIKE '%…%'`` scan ordered by title that was the search
   before, in the same run: latency p50/p95 and recall of the expected registration in the top 10.

``python -m bench register`` (full: 200,000 works per store) or ``--scale smoke``.
"""

from __future__ import annotations

import os
import random
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, or_, select, text

from obra.access import create_principal
from obra.ids import ipi_name_check
from obra.model.vocab import AccessRole
from obra.registry.batch import Batch, import_batches
from obra.registry.service import Registry
from obra.store import Store
from obra.store.schema import registrations, titles
from obra.textnorm import normalize_text

PG_URL = os.environ.get("OBRA_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SCALES = {"full": {"works": 200_000, "per_record": 2_000, "queries": 250, "chunk": 50_000},
          "smoke": {"works": 600, "per_record": 60, "queries": 25, "chunk": 300}}
TARGET = 10_000_000

_ES = ("canción amor noche corazón vida sueño luna mar cielo fuego lágrimas dolor alegría besos camino tierra "
       "sol mañana tango milonga vals niña río ciudad tiempo verano invierno flor guitarra puerto barrio calle "
       "madre viento silencio promesa olvido ausencia destino esperanza").split()
_EN = ("love night heart dance fire rain blue summer city dream light gold river road moon star home wild young "
       "forever time lost shadow song sky sea girl boy baby world free fly").split()
_CJK = ("月亮代表我的心", "夜空中最亮的星", "千本桜", "夜に駆ける", "红豆", "青花瓷", "残酷な天使のテーゼ", "甜蜜蜜",
        "海阔天空", "打上花火", "告白气球", "小幸运", "後來", "稻香", "晴天", "说好的幸福呢")
_FIRST = ("Ana Luis María José Sofía Carlos Lucía Martín Valentina Diego Camila Jorge Julieta Pablo Florencia "
          "Andrés Paula Nicolás Agustina Tomás").split()
_LAST = ("García Pérez Rodríguez González Fernández López Martínez Sánchez Romero Díaz Álvarez Torres Ruiz "
         "Ramírez Flores Acosta Benítez Medina Herrera Suárez Aguirre Giménez Molina Silva Castro Rojas").split()


def _zipf(rng: random.Random, words: tuple | list) -> str:
    return words[min(int(rng.paretovariate(1.1)) - 1, len(words) - 1)]


def _title(rng: random.Random, k: int) -> str:
    r = rng.random()
    if r < 0.08:
        return rng.choice(_CJK) + (f" {k % 97}" if rng.random() < 0.7 else "")
    words = _ES if r < 0.7 else _EN
    n = rng.choice((1, 2, 2, 3, 3, 3, 4, 5))
    shuffled = list(words)
    rng.shuffle(shuffled)
    text_ = " ".join(_zipf(rng, shuffled) if rng.random() < 0.6 else rng.choice(words) for _ in range(n))
    return (text_.capitalize() if rng.random() < 0.8 else text_.title()) + (f" {k}" if rng.random() < 0.5 else "")


def _ipi(k: int) -> str:
    nine = f"{100_000_000 + k:09d}"
    return nine + ipi_name_check(nine)


def catalogue(n_works: int, seed: int = 18, start: int = 0) -> tuple[list[dict], list[dict]]:
    """Parties (one per 8 works) and works with shares; keys are unique across calls with other ``start``."""
    rng = random.Random(seed + start)
    n_parties = max(4, n_works // 8)
    parties = [{"key": f"p{start + i}", "name": f"{rng.choice(_FIRST)} {rng.choice(_LAST)} {start + i}",
                "ipi": _ipi(start + i), "roles": ["composer"]} for i in range(n_parties)]
    works = []
    for k in range(n_works):
        writers = rng.sample(range(n_parties), rng.choice((1, 2, 2, 3, 4)))
        share, rest = divmod(10_000, len(writers))
        parts = [share + (1 if i < rest else 0) for i in range(len(writers))]
        work = {"title": _title(rng, start + k),
                "contributors": [{"party": f"p{start + w}", "role": "composer"} for w in writers],
                "shares": [{"party": f"p{start + w}", "right_type": "performance",
                            "share": f"{p // 100}.{p % 100:02d}"} for w, p in zip(writers, parts)]}
        if rng.random() < 0.3:
            work["alternate_titles"] = [{"title": _title(rng, start + k + 7)}]
        works.append(work)
    return parties, works


def _open(kind: str, tmp: Path):
    if kind == "sqlite":
        return Store.open(f"sqlite:///{tmp / 'obra.db'}", tmp / "home", migrate=True), None
    engine = create_engine(PG_URL)
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    return Store.open(PG_URL, tmp / "home", schema=schema, migrate=True), (engine, schema)


def _close(store, cleanup) -> None:
    store.dispose()
    if cleanup:
        engine, schema = cleanup
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


def _load(store, admin, n: int, chunk: int) -> float:
    """Seconds to bulk-import ``n`` works (in imports of ``chunk`` works, each with its parties)."""
    seconds = 0.0
    for start in range(0, n, chunk):
        parties, works = catalogue(min(chunk, n - start), start=start)
        batch = Batch({"parties": parties, "works": works}, f"catalogue-{start}.json")
        t0 = time.perf_counter()
        import_batches(store, admin, [batch], method="bulk")
        seconds += time.perf_counter() - t0
    return seconds


def _per_record(store, admin, n: int) -> float:
    parties, works = catalogue(n, start=10_000_000)
    t0 = time.perf_counter()
    import_batches(store, admin, [Batch({"parties": parties, "works": works}, "sample.json")], method="per-record")
    return time.perf_counter() - t0


def _typo(rng: random.Random, word: str) -> str:
    i = rng.randrange(1, len(word) - 2)
    return word[:i] + word[i + 1] + word[i] + word[i + 2:]


def queries(store, n: int, seed: int = 5) -> list[tuple[str, str, str]]:
    """(kind, query, expected number): drawn from what was loaded."""
    rng = random.Random(seed)
    with store.connect() as conn:
        top = conn.execute(select(registrations.c.id).order_by(registrations.c.id.desc()).limit(1)).scalar()
        sample = []
        while len(sample) < n * 20:
            rid = rng.randint(1, top)
            row = conn.execute(select(registrations.c.number, registrations.c.title, registrations.c.record)
                               .where(registrations.c.id == rid)).first()
            if row is not None:
                sample.append(row)
    kinds = ("exact", "prefix", "misspelling", "cjk", "party")
    out: list[tuple[str, str, str]] = []
    for slot in range(n):
        kind = kinds[slot % len(kinds)]
        for _ in range(len(sample)):
            made = _query(rng, kind, sample[rng.randrange(len(sample))])
            if made is not None:
                out.append(made)
                break
    return out


def _query(rng: random.Random, kind: str, row) -> tuple[str, str, str] | None:
    norm = normalize_text(row.title)
    cjk = any("\u3040" <= ch <= "\u9fff" for ch in norm)
    words = row.title.split()
    if kind == "exact":
        return kind, row.title, row.number
    if kind == "prefix" and not cjk and len(norm) > 8:
        return kind, row.title[: max(5, len(row.title) * 2 // 3)], row.number
    if kind == "misspelling" and not cjk:
        longest = max(range(len(words)), key=lambda i: len(words[i]))
        if len(words[longest]) >= 5:
            words[longest] = _typo(rng, words[longest])
            return kind, " ".join(words), row.number
    if kind == "cjk" and cjk and len(norm.split()[0]) >= 4:  # a substring: the title without its first character
        return kind, norm[1:], row.number
    if kind == "party" and row.record.get("parties"):
        return kind, rng.choice(row.record["parties"])["name"], row.number
    return None


def _like_scan(store, text_: str, limit: int = 50) -> list[str]:
    """The search before issue #18: LIKE '%…%' on titles and alternate titles, ordered by title."""
    r = registrations
    needle = "%" + normalize_text(text_).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    alt = select(titles.c.registration_id).where(titles.c.title_norm.like(needle, escape="\\"))
    stmt = (select(r.c.number).where(r.c.is_current, or_(r.c.title_norm.like(needle, escape="\\"), r.c.id.in_(alt)))
            .order_by(r.c.title_norm, r.c.number).limit(limit))
    with store.connect() as conn:
        return list(conn.execute(stmt).scalars())


def _measure(run, qs) -> dict:
    times, hits = [], 0
    per_kind: dict[str, list[int]] = {}
    for kind, q, expected in qs:
        t0 = time.perf_counter()
        found = run(q)
        times.append(time.perf_counter() - t0)
        ok = expected in found[:10]
        hits += ok
        per_kind.setdefault(kind, []).append(ok)
    times.sort()
    return {"p50_ms": round(statistics.median(times) * 1000, 2),
            "p95_ms": round(times[int(len(times) * 0.95) - 1] * 1000, 2),
            "recall_at_10": round(hits / len(qs), 4),
            "recall_at_10_by_kind": {k: round(sum(v) / len(v), 3) for k, v in sorted(per_kind.items())}}


def run_store(kind: str, cfg: dict) -> dict:
    with tempfile.TemporaryDirectory(prefix="obra-bench-register-") as tmp:
        store, cleanup = _open(kind, Path(tmp))
        try:
            admin, _ = create_principal(store, "bench", AccessRole.ADMIN)
            bulk_s = _load(store, admin, cfg["works"], cfg["chunk"])
            per_record_s = _per_record(store, admin, cfg["per_record"])
            bulk_rate = cfg["works"] / bulk_s
            per_record_rate = cfg["per_record"] / per_record_s
            registry = Registry(store)
            qs = queries(store, cfg["queries"])
            ranked = _measure(lambda q: [r["number"] for r in registry.search(q, limit=50)], qs)
            scan = _measure(lambda q: _like_scan(store, q), qs)
            with store.connect() as conn:
                total = conn.execute(select(registrations.c.id).order_by(registrations.c.id.desc()).limit(1)).scalar()
        finally:
            _close(store, cleanup)
    return {
        "bulk": {"works": cfg["works"], "seconds": round(bulk_s, 2), "registrations_per_s": round(bulk_rate),
                 "extrapolated_10M_minutes": round(TARGET / bulk_rate / 60, 1)},
        "per_record_baseline": {"works": cfg["per_record"], "seconds": round(per_record_s, 2),
                                "registrations_per_s": round(per_record_rate),
                                "extrapolated_10M_hours": round(TARGET / per_record_rate / 3600, 1)},
        "bulk_vs_per_record": round(bulk_rate / per_record_rate, 1),
        "search": {"registrations": total, "queries": len(qs),
                   "query_kinds": sorted({k for k, _, _ in qs}),
                   "ranked": ranked, "like_scan_baseline": scan,
                   "p95_speedup": round(scan["p95_ms"] / max(ranked["p95_ms"], 1e-6), 1)},
    }


def run(scale: str = "full") -> dict:
    cfg = SCALES[scale]
    out = {"sqlite": run_store("sqlite", cfg)}
    try:
        out["postgresql"] = run_store("postgresql", cfg)
    except Exception as exc:  # noqa: BLE001 - no server: the SQLite figures stand alone, the reason kept
        if os.environ.get("OBRA_REQUIRE_SERVICES") == "1":
            raise
        out["postgresql"] = {"skipped": f"{type(exc).__name__}: {exc}"[:200]}
    return out


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(run(sys.argv[1] if len(sys.argv) > 1 else "smoke"), indent=2))
