"""The national register (issue #18): bulk loading and ranked search, on SQLite and PostgreSQL.

1. **Bulk registration**: a seeded catalogue (parties with IPI numbers, works with two to four
   writers' shares and contributors, a third with an alternate title) loaded by ``obra import``'s
   set-based path (:mod:`obra.registry.bulk`), against the per-record path (``method="per-record"``,
   what every import did before) on a sample in the same run: registrations per second, each with
   its log leaf and journal event, one signed tree head per import, and the time 10,000,000 would take
   at that rate (an extrapolation: the rate is measured, not the 10M load); the CPU seconds of this process
   for the whole load and for each stage of it (validate, resolve, build, log, journal, registrations,
   side tables: :data:`obra.registry.bulk.STAGES`), wall seconds beside them.
2. **Search** over the loaded register and over registers of national size generated in bulk
   (:func:`scale_store`: the catalogue's titles, alternate titles, parties, shares and contributors written
   straight into the tables with ``COPY`` / ``executemany`` and the indexes built after, stub records and no log
   leaves; built once and cached under ``/tmp/obra-bench-cache`` or ``OBRA_BENCH_CACHE``, PostgreSQL schema
   ``bench_register_<n>_v<version>``; sizes from ``OBRA_BENCH_REGISTER_SIZES``, default 1,000,000): a mixed
   query set (exact titles, prefixes, misspellings, CJK substrings, party names), each with the registration it
   should find, answered by the ranked search (:mod:`obra.registry.search`) and, on a sample of the same
   queries, by the ``LIKE '%…%'`` scan ordered by title that was the search before, in the same run: latency
   p50/p95 (wall) and mean CPU per query, and recall of the expected registration in the top 10, strictly and
   counting the works the query cannot tell from it (the same normalised title; for a party's name, that
   party's works). One entry per size (``search_by_size``): the scaling curve.

3. **A whole register** (``OBRA_BENCH_REGISTER_PARTS=whole``, PostgreSQL, about 15 minutes; not in the default
   run): :func:`whole_register` loads as many works as an office can number in a year (9,950,000 in files of
   50,000) into an empty store, one ``import`` after another, and times each: the target's 10,000,000 works as an
   office loads them, not extrapolated.

``python -m bench register`` (full: 200,000 works per store loaded, search also at 1,000,000) or ``--scale smoke``.
"""

from __future__ import annotations

import json
import os
import random
import resource
import shutil
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, func, or_, select, text

from obra.access import create_principal
from obra.ids import ipi_name_check
from obra.model.vocab import AccessRole
from obra.registry.batch import Batch, import_batches
from obra.registry.service import Registry
from obra.store import Store
from obra.store.schema import contributors, parties, registrations, titles
from obra.textnorm import normalize_text

PG_URL = os.environ.get("OBRA_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SCALES = {"full": {"works": 200_000, "per_record": 2_000, "queries": 250, "scan": 25, "chunk": 50_000,
                   "search_sizes": [int(x) for x in os.environ.get("OBRA_BENCH_REGISTER_SIZES", "1000000").split(",")
                                    if x],
                   "search_scan": int(os.environ.get("OBRA_BENCH_REGISTER_SCAN", "25"))},
          "smoke": {"works": 600, "per_record": 60, "queries": 25, "scan": 25, "chunk": 300, "search_sizes": []}}
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


class _Ranking:
    """A random ranking of ``words`` (a fresh one per title), drawn lazily: the word at rank ``r`` is
    picked uniformly among the words not ranked yet the first time ``r`` is asked for, which is the same
    distribution as shuffling the whole list, at the cost of the few ranks a title uses."""

    def __init__(self, rng: random.Random, words: tuple | list):
        self.rng, self.words, self.at, self.used = rng, words, {}, set()

    def zipf(self) -> str:
        rank = min(int(self.rng.paretovariate(1.1)) - 1, len(self.words) - 1)
        word = self.at.get(rank)
        while word is None:
            pick = self.rng.choice(self.words)
            if pick not in self.used:
                word = self.at[rank] = pick
                self.used.add(pick)
        return word


def _title(rng: random.Random, k: int) -> str:
    r = rng.random()
    if r < 0.08:
        return rng.choice(_CJK) + (f" {k % 97}" if rng.random() < 0.7 else "")
    words = _ES if r < 0.7 else _EN
    n = rng.choice((1, 2, 2, 3, 3, 3, 4, 5))
    ranking = _Ranking(rng, words)
    text_ = " ".join(ranking.zipf() if rng.random() < 0.6 else rng.choice(words) for _ in range(n))
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


def _load(store, admin, n: int, chunk: int, per_file: list[tuple[int, float]] | None = None
          ) -> tuple[float, float, dict[str, float]]:
    """Wall and CPU seconds (this process's) to bulk-import ``n`` works (in imports of ``chunk`` works, each
    with its parties; generating the catalogue not counted), and the CPU and wall seconds of each stage of the
    bulk path (:data:`obra.registry.bulk.STAGES`); ``per_file`` gets each import's works and wall seconds."""
    from obra.registry import bulk

    seconds = cpu = 0.0
    bulk.STAGES.clear()
    for start in range(0, n, chunk):
        parties, works = catalogue(min(chunk, n - start), start=start)
        batch = Batch({"parties": parties, "works": works}, f"catalogue-{start}.json")
        t0, c0 = time.perf_counter(), _cpu()
        import_batches(store, admin, [batch], method="bulk")
        wall = time.perf_counter() - t0
        seconds += wall
        cpu += _cpu() - c0
        if per_file is not None:
            per_file.append((len(works), wall))
    return seconds, cpu, dict(bulk.STAGES)


def _per_record(store, admin, n: int) -> tuple[float, float]:
    """Wall and CPU seconds to import ``n`` works one registration at a time (generating them not counted)."""
    parties, works = catalogue(n, start=10_000_000)
    t0, c0 = time.perf_counter(), _cpu()
    import_batches(store, admin, [Batch({"parties": parties, "works": works}, "sample.json")], method="per-record")
    return time.perf_counter() - t0, _cpu() - c0


def _typo(rng: random.Random, word: str) -> str:
    i = rng.randrange(1, len(word) - 2)
    return word[:i] + word[i + 1] + word[i] + word[i + 2:]


def queries(store, n: int, seed: int = 5) -> list[tuple[str, str, str, str, str | None]]:
    """(kind, query, expected number, its normalised title, the party named): drawn from what was loaded."""
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
    out: list[tuple[str, str, str, str, str | None]] = []
    for slot in range(n):
        kind = kinds[slot % len(kinds)]
        for _ in range(len(sample)):
            made = _query(rng, kind, sample[rng.randrange(len(sample))])
            if made is not None:
                out.append(made)
                break
    return out


def _query(rng: random.Random, kind: str, row) -> tuple[str, str, str, str, str | None] | None:
    norm = normalize_text(row.title)
    cjk = any("\u3040" <= ch <= "\u9fff" for ch in norm)
    words = row.title.split()
    if kind == "exact":
        return kind, row.title, row.number, norm, None
    if kind == "prefix" and not cjk and len(norm) > 8:
        return kind, row.title[: max(5, len(row.title) * 2 // 3)], row.number, norm, None
    if kind == "misspelling" and not cjk:
        longest = max(range(len(words)), key=lambda i: len(words[i]))
        if len(words[longest]) >= 5:
            words[longest] = _typo(rng, words[longest])
            return kind, " ".join(words), row.number, norm, None
    if kind == "cjk" and cjk and len(norm.split()[0]) >= 4:  # a substring: the title without its first character
        return kind, norm[1:], row.number, norm, None
    if kind == "party" and row.record.get("parties"):
        name = rng.choice(row.record["parties"])["name"]
        return kind, name, row.number, norm, name
    return None


def _like_scan(store, text_: str, limit: int = 50) -> list[tuple[str, str]]:
    """The search before issue #18: LIKE '%…%' on titles and alternate titles, ordered by title."""
    r = registrations
    needle = "%" + normalize_text(text_).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    alt = select(titles.c.registration_id).where(titles.c.title_norm.like(needle, escape="\\"))
    stmt = (select(r.c.number, r.c.title).where(r.c.is_current, or_(r.c.title_norm.like(needle, escape="\\"),
                                                                     r.c.id.in_(alt)))
            .order_by(r.c.title_norm, r.c.number).limit(limit))
    with store.connect() as conn:
        return [tuple(row) for row in conn.execute(stmt)]


def _of_party(store, name: str, numbers: list[str]) -> bool:
    """True when one of ``numbers`` names the party called ``name`` (as a contributor)."""
    if not numbers:
        return False
    r, c, p = registrations, contributors, parties
    with store.connect() as conn:
        return conn.execute(select(r.c.number).join(c, c.c.registration_id == r.c.id)
                            .join(p, p.c.id == c.c.party_id)
                            .where(p.c.name == name, r.c.number.in_(numbers)).limit(1)).first() is not None


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * 0.95) - 1)]


def _measure(store, run, qs) -> dict:
    """Latency (wall and this process's CPU) and recall of each query's expected registration in the top 10:
    strictly that registration, and any registration the query cannot tell from it (the same normalised
    title; for a party's name, a registration of that party), since a generated register holds many works
    with the same title (a party has ~19 works, a CJK title hundreds of namesakes at 1M)."""
    times, cpu, hits, equivalent = [], [], 0, 0
    per_kind: dict[str, list[int]] = {}
    per_kind_eq: dict[str, list[int]] = {}
    per_kind_ms: dict[str, list[float]] = {}
    for kind, q, expected, expected_title, _ in qs:
        t0, c0 = time.perf_counter(), time.process_time()
        found = run(q)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        per_kind_ms.setdefault(kind, []).append(times[-1] * 1000)
        top = found[:10]
        ok = expected in [number for number, _ in top]
        if kind == "party":
            same = _of_party(store, q, [number for number, _ in top])
        else:
            same = any(normalize_text(title) == expected_title for _, title in top)
        hits += ok
        equivalent += same or ok
        per_kind.setdefault(kind, []).append(ok)
        per_kind_eq.setdefault(kind, []).append(same or ok)
    times.sort()
    return {"queries": len(qs), "p50_ms": round(statistics.median(times) * 1000, 2),
            "p95_ms": round(times[max(0, int(len(times) * 0.95) - 1)] * 1000, 2),
            "max_ms": round(times[-1] * 1000, 2),
            "cpu_ms_mean": round(statistics.mean(cpu) * 1000, 2),
            "ms_by_kind": {k: {"p50": round(statistics.median(v), 2), "p95": round(_p95(v), 2)}
                           for k, v in sorted(per_kind_ms.items())},
            "recall_at_10": round(hits / len(qs), 4),
            "recall_at_10_by_kind": {k: round(sum(v) / len(v), 3) for k, v in sorted(per_kind.items())},
            "recall_at_10_equivalent": round(equivalent / len(qs), 4),
            "recall_at_10_equivalent_by_kind": {k: round(sum(v) / len(v), 3) for k, v in sorted(per_kind_eq.items())}}


def measure_search(store, n_queries: int, n_scan: int) -> dict:
    """The ranked search on ``n_queries`` mixed queries and the LIKE scan on the first ``n_scan`` of them
    (every fifth kind alike), in the same run; and the ranked search with every tier run (no settled first
    page, :data:`obra.registry.search.SETTLED`) on the same queries, with how many of its first pages differ.
    Warm: every query is answered once before anything is timed."""
    from obra.registry import search

    registry = Registry(store)
    qs = queries(store, n_queries)
    settled, search.SETTLED = search.SETTLED, 10**9
    try:  # warm: every page any of the runs below reads is read once first (every tier reads the most)
        for _, q, *_ in qs:
            registry.search(q, limit=50)
    finally:
        search.SETTLED = settled
    load_before = os.getloadavg()[0]
    answers: dict[str, list] = {"settled": [], "every tier": []}

    def ranked_search(q: str, into: list) -> list[tuple[str, str]]:
        found = [(r["number"], r["title"]) for r in registry.search(q, limit=50)]
        into.append([number for number, _ in found[:10]])
        return found
    ranked = _measure(store, lambda q: ranked_search(q, answers["settled"]), qs)
    settled, search.SETTLED = search.SETTLED, 10**9
    try:
        every_tier = _measure(store, lambda q: ranked_search(q, answers["every tier"]), qs)
    finally:
        search.SETTLED = settled
    scan = _measure(store, lambda q: _like_scan(store, q), qs[:n_scan])
    same = _measure(store, lambda q: [(r["number"], r["title"]) for r in registry.search(q, limit=50)],
                    qs[:n_scan])
    with store.connect() as conn:
        total = conn.execute(select(func.count()).select_from(registrations)).scalar_one()
    return {"registrations": total, "query_kinds": sorted({k for k, *_ in qs}), "ranked": ranked,
            "ranked_every_tier_baseline": {k: every_tier[k] for k in ("p50_ms", "p95_ms", "max_ms", "cpu_ms_mean",
                                                                      "ms_by_kind", "recall_at_10",
                                                                      "recall_at_10_equivalent")},
            "first_pages_differing_from_every_tier": sum(a != b for a, b in zip(*answers.values())),
            "p95_every_tier_over_settled": round(every_tier["p95_ms"] / max(ranked["p95_ms"], 1e-6), 1),
            "like_scan_baseline": scan, "ranked_on_the_scan_sample": {k: same[k] for k in ("p50_ms", "p95_ms")},
            "p95_speedup_same_queries": round(scan["p95_ms"] / max(same["p95_ms"], 1e-6), 1),
            "load_average_1min": [round(load_before, 1), round(os.getloadavg()[0], 1)]}


def _cpu() -> float:
    """CPU seconds of this process and its finished children (worker processes)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def _search_sizes(kind: str, cfg: dict, searched: dict) -> dict:
    """The search measured on the generated national-size stores (:func:`scale_store`), one entry per size."""
    for size in cfg["search_sizes"]:
        big, build = scale_store(kind, size)
        try:
            searched[str(size)] = measure_search(big, cfg["queries"], cfg.get("search_scan", cfg["scan"]))
            searched[str(size)]["store_built_in"] = build or "cached"
        finally:
            big.dispose()
    return searched


def whole_register(files: int = 50_000, n: int | None = None) -> dict:
    """Seconds to load a whole register into an empty PostgreSQL store: ``n`` works (default: the most one office
    can number in a year, in whole files) in files of ``files`` works with their parties, one import after another,
    as an office loads its register (generating each file not timed); the rate of the files, which falls as the
    indexes grow."""
    from obra.registry.bulk import NUMBERS_PER_YEAR

    n = n if n is not None else NUMBERS_PER_YEAR // files * files
    with tempfile.TemporaryDirectory(prefix="obra-bench-whole-") as tmp:
        store, cleanup = _open("postgresql", Path(tmp))
        try:
            admin, _ = create_principal(store, "bench", AccessRole.ADMIN)
            per_file: list[tuple[int, float]] = []
            total = _load(store, admin, n, files, per_file)[0]
        finally:
            _close(store, cleanup)
    seconds = [wall for _, wall in per_file]
    rates = sorted(works / wall for works, wall in per_file)
    return {"works": n, "files": len(seconds), "works_per_file": files, "seconds": round(total, 1),
            "minutes": round(total / 60, 2), "registrations_per_s": round(n / total),
            "file_rate_p05_median_p95": [round(rates[len(rates) // 20]), round(statistics.median(rates)),
                                         round(rates[-1 - len(rates) // 20])],
            "first_and_last_tenth_seconds": [round(sum(seconds[:len(seconds) // 10]), 1),
                                             round(sum(seconds[-(len(seconds) // 10):]), 1)],
            "load_average": [round(x, 1) for x in os.getloadavg()]}


def run_store(kind: str, cfg: dict) -> dict:
    if os.environ.get("OBRA_BENCH_REGISTER_PARTS") == "search":  # the search part alone, on the generated stores
        searched = _search_sizes(kind, cfg, {})
        largest = max(searched, key=int)
        return {"search_by_size": searched,
                "search": {**searched[largest], "queries": searched[largest]["ranked"]["queries"]}}
    with tempfile.TemporaryDirectory(prefix="obra-bench-register-") as tmp:
        store, cleanup = _open(kind, Path(tmp))
        try:
            admin, _ = create_principal(store, "bench", AccessRole.ADMIN)
            bulk_s, bulk_cpu, stages = _load(store, admin, cfg["works"], cfg["chunk"])
            per_record_s, per_record_cpu = _per_record(store, admin, cfg["per_record"])
            bulk_only = os.environ.get("OBRA_BENCH_REGISTER_PARTS") == "bulk"  # the bulk part alone
            searched = {} if bulk_only else {str(cfg["works"]): measure_search(store, cfg["queries"], cfg["scan"])}
        finally:
            _close(store, cleanup)
    if bulk_only:
        return _bulk_figures(cfg, bulk_s, bulk_cpu, stages, per_record_s, per_record_cpu)
    _search_sizes(kind, cfg, searched)
    largest = max(searched, key=int)
    return {**_bulk_figures(cfg, bulk_s, bulk_cpu, stages, per_record_s, per_record_cpu),
            "search_by_size": searched,
            "search": {**searched[largest], "queries": searched[largest]["ranked"]["queries"]}}


def _bulk_figures(cfg: dict, bulk_s: float, bulk_cpu: float, stages: dict, per_record_s: float,
                  per_record_cpu: float) -> dict:
    bulk_rate = cfg["works"] / bulk_s
    per_record_rate = cfg["per_record"] / per_record_s
    return {
        "bulk": {"works": cfg["works"], "seconds": round(bulk_s, 2), "cpu_seconds_client": round(bulk_cpu, 2),
                 "registrations_per_s": round(bulk_rate),
                 "cpu_ms_per_registration_client": round(bulk_cpu / cfg["works"] * 1000, 3),
                 "stages_cpu_seconds": {k: round(cpu, 2) for k, (cpu, _) in stages.items()},
                 "stages_wall_seconds": {k: round(wall, 2) for k, (_, wall) in stages.items()},
                 "extrapolated_10M_minutes": round(TARGET / bulk_rate / 60, 1)},
        "per_record_baseline": {"works": cfg["per_record"], "seconds": round(per_record_s, 2),
                                "cpu_seconds_client": round(per_record_cpu, 2),
                                "registrations_per_s": round(per_record_rate),
                                "extrapolated_10M_hours": round(TARGET / per_record_rate / 3600, 1)},
        "bulk_vs_per_record": round(bulk_rate / per_record_rate, 1),
        "load_average": [round(x, 1) for x in os.getloadavg()],
    }


def partial() -> bool:
    """True when only some parts run (``OBRA_BENCH_REGISTER_PARTS``): ``python -m bench`` then merges the figures
    into the ones the other parts wrote before instead of replacing them."""
    return bool(os.environ.get("OBRA_BENCH_REGISTER_PARTS"))


def run(scale: str = "full") -> dict:
    cfg = SCALES[scale]
    if os.environ.get("OBRA_BENCH_REGISTER_PARTS") == "whole":  # PostgreSQL's whole register alone
        return {"postgresql": {"whole_register": whole_register(n=None if scale == "full" else 200_000)}}
    out = {"sqlite": run_store("sqlite", cfg)}
    try:
        out["postgresql"] = run_store("postgresql", cfg)
    except Exception as exc:  # noqa: BLE001 - no server: the SQLite figures stand alone, the reason kept
        if os.environ.get("OBRA_REQUIRE_SERVICES") == "1":
            raise
        out["postgresql"] = {"skipped": f"{type(exc).__name__}: {exc}"[:200]}
    return out


# --- a search store at national scale, generated in bulk ----------------------------------------------

CACHE = Path(os.environ.get("OBRA_BENCH_CACHE", "/tmp/obra-bench-cache"))
SCALE_VERSION = 3
"""Bump when the generated rows change: the cached stores are keyed by it, the size and the seed."""


def _scale_rows(n: int, start: int, party_base: int, reg_base: int, office: str, now: str):
    """The rows ``catalogue(n, start=start)`` would leave in the search tables, with ids given here.

    Only what search reads is real (titles, alternate titles, party names, shares, contributors); the
    record is a stub naming the parties (the query set draws party names from it), numbers are spread
    over years (seven digits per office and year) and no log leaf is written.
    """
    from obra.ids import format_registration_number

    parties_, works = catalogue(n, start=start)
    key_id = {p["key"]: party_base + i for i, p in enumerate(parties_)}
    party_rows = [(key_id[p["key"]], "person", p["name"], normalize_text(p["name"]), '["composer"]', p["ipi"],
                   now, "bench") for p in parties_]
    names = {key_id[p["key"]]: p["name"] for p in parties_}
    regs, alts, shares_, people = [], [], [], []
    for k, w in enumerate(works):
        rid = reg_base + k
        seq = start + k
        number = format_registration_number(office, 2000 + seq // 9_000_000, seq % 9_000_000 + 1)
        pids = [key_id[c["party"]] for c in w["contributors"]]
        record = json.dumps({"number": number, "parties": [{"id": p, "name": names[p]} for p in pids]},
                            ensure_ascii=False)
        regs.append((rid, number, 1, "work", "registered", True, w["title"], normalize_text(w["title"]), "human",
                     record, "0" * 64, "bench", now))
        for t in w.get("alternate_titles", ()):
            alts.append((rid, t["title"], normalize_text(t["title"])))
        for s, pid in zip(w["shares"], pids):
            shares_.append((rid, pid, "performance", "2WL", s["share"]))
            people.append((rid, pid, "composer"))
    return {"parties": (party_rows, "id, kind, name, name_norm, roles, ipi, created_at, created_by"),
            "registrations": (regs, "id, number, version, entity, status, is_current, title, title_norm, "
                                    "creation_mode, record, record_hash, registrant, created_at"),
            "titles": (alts, "registration_id, title, title_norm"),
            "shares": (shares_, "registration_id, party_id, right_type, territory, share"),
            "contributors": (people, "registration_id, party_id, role")}


_TYPES = {"parties": (0,), "registrations": (0, 2, 5), "titles": (0,), "shares": (0, 1), "contributors": (0, 1)}
"""The integer columns of each generated table's rows (SQLite gets them as numbers, PostgreSQL's COPY as text)."""
_SCALE_TABLES = ("parties", "registrations", "titles", "shares", "contributors")
_SCALE_NOW = "2026-01-01 00:00:00.000000"


def _tsv(value) -> str:
    if value is True or value is False:
        return "1" if value else "0"
    out = str(value)
    if any(c in out for c in "\t\n\r\\"):
        raise ValueError(f"generated value not TSV-safe: {out!r}")
    return out


def _scale_chunk(job: tuple) -> str:
    """One chunk of :func:`_scale_rows` written as tab-separated files (a worker process's share)."""
    folder, index, size, start, party_base, reg_base, office = job
    rows = _scale_rows(size, start, party_base, reg_base, office, _SCALE_NOW)
    for table in _SCALE_TABLES:
        values, _ = rows[table]
        with open(Path(folder) / f"{table}.{index:04d}.tsv", "w", encoding="utf-8") as out:
            out.writelines("\t".join(_tsv(v) for v in row) + "\n" for row in values)
    return f"{start + size:,}"


def _scale_files(n: int, office: str, chunk: int, log=print) -> tuple[Path, dict[str, str]]:
    """The generated rows of ``n`` works as TSV files, one per table and chunk (built once by every core,
    under a lock so two stores being built at once share them); returns the folder and each table's columns."""
    import fcntl
    import pickle
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    columns = {t: c for t, (_, c) in _scale_rows(0, 0, 1, 1, office, _SCALE_NOW).items()}
    if n % chunk == 0:  # the first chunks of a larger register are this one's rows (same seeds, same ids)
        for larger in sorted(CACHE.glob(f"rows_*_{chunk}_v{SCALE_VERSION}/complete")):
            if int(larger.parent.name.split("_")[1]) >= n:
                return larger.parent, columns
    folder = CACHE / f"rows_{n}_{chunk}_v{SCALE_VERSION}"
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (folder / "complete").exists():
            jobs, party_base = [], 1
            for index, start in enumerate(range(0, n, chunk)):
                size = min(chunk, n - start)
                jobs.append((str(folder), index, size, start, party_base, 1 + start, office))
                party_base += max(4, size // 8)
            t0 = time.perf_counter()
            try:  # worker processes need this module importable by name (not when loaded from its file path)
                pickle.dumps(_scale_chunk)
                pool = ProcessPoolExecutor(max_workers=os.cpu_count() or 2, mp_context=get_context("fork"))
            except (pickle.PicklingError, AttributeError):
                pool = None
            try:
                for done in (pool.map(_scale_chunk, jobs) if pool else map(_scale_chunk, jobs)):
                    log(f"  rows_{n}: {done} works generated, {time.perf_counter() - t0:.0f} s")
            finally:
                if pool:
                    pool.shutdown()
            (folder / "complete").write_text("")
    return folder, columns


def _sqlite_import(database: Path, folder: Path, columns: dict[str, str], chunks: int, log=print) -> None:
    """Load the first ``chunks`` TSV files of each table with the ``sqlite3`` shell (``.import`` into a staging
    table whose INTEGER columns convert the numbers, then one ``INSERT … SELECT``)."""
    import subprocess

    script = ["PRAGMA journal_mode = OFF;", "PRAGMA synchronous = OFF;", "PRAGMA cache_size = -1000000;",
              ".mode ascii", '.separator "\\t" "\\n"', "BEGIN;"]
    for table in _SCALE_TABLES:
        names = [c.strip() for c in columns[table].split(",")]
        typed = ", ".join(f"{c} {'INTEGER' if i in _TYPES[table] else 'TEXT'}" for i, c in enumerate(names))
        script.append(f"CREATE TABLE load_{table} ({typed});")
        script += [f".import {path} load_{table}" for path in sorted(folder.glob(f"{table}.*.tsv"))[:chunks]]
        script += [f"INSERT INTO {table} ({columns[table]}) SELECT * FROM load_{table};", f"DROP TABLE load_{table};"]
    script.append("COMMIT;")
    t0 = time.perf_counter()
    done = subprocess.run(["sqlite3", "-bail", str(database)], input="\n".join(script) + "\n", text=True,
                          capture_output=True)
    if done.returncode:
        raise RuntimeError(f"sqlite3 shell: {done.stderr[-2000:]}")
    log(f"  {database.parent.name}: rows loaded by the sqlite3 shell {time.perf_counter() - t0:.0f} s")


def scale_store(kind: str, n: int, chunk: int = 250_000, log=print):
    """A store holding ``n`` generated works, built once and cached under :data:`CACHE` (or PostgreSQL
    schema ``bench_register_<n>_v<version>``); returns (store, build seconds or None when cached).

    The rows are generated once as TSV files by every core (:func:`_scale_files`), then loaded like a real
    store would be restored: the schema by the migrations, the rows with the indexes, search triggers and
    (PostgreSQL) foreign-key triggers off, then the indexes and the FTS5 tables built in one pass each and
    the statistics gathered (``ANALYZE``)."""
    name = f"register_{kind}_{n}_v{SCALE_VERSION}"
    home = CACHE / name
    home.mkdir(parents=True, exist_ok=True)
    done = home / "complete"
    if kind == "sqlite":
        url, schema = f"sqlite:///{home / 'obra.db'}", None
    else:
        url, schema = PG_URL, f"bench_register_{n}_v{SCALE_VERSION}"
    if done.exists():
        return Store.open(url, home / "home", schema=schema, migrate=True), None
    t0, c0 = time.perf_counter(), time.process_time()
    if kind == "sqlite":
        (home / "obra.db").unlink(missing_ok=True)
    else:
        engine = create_engine(PG_URL)
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        engine.dispose()
    store = Store.open(url, home / "home", schema=schema, migrate=True)
    folder, columns = _scale_files(n, store.office, chunk, log)
    generated = time.perf_counter() - t0
    with store.engine.connect() as sa_conn:
        raw = sa_conn.connection.dbapi_connection
        cur = raw.cursor()
        if kind == "sqlite":
            for pragma in ("journal_mode = OFF", "synchronous = OFF", "cache_size = -2000000",
                           "temp_store = MEMORY"):
                cur.execute(f"PRAGMA {pragma}")
            cur.execute("SELECT type, name, sql FROM sqlite_master WHERE type IN ('index', 'trigger') AND sql IS NOT "
                        f"NULL AND tbl_name IN ({', '.join(repr(t) for t in _SCALE_TABLES)})")
            later = cur.fetchall()
            cur.execute("BEGIN")
            for what, object_name, _ in later:
                cur.execute(f'DROP {what.upper()} "{object_name}"')
            if shutil.which("sqlite3"):  # the sqlite3 shell's .import reads the files in C, 5x less CPU
                cur.execute("COMMIT")
                _sqlite_import(home / "obra.db", folder, columns, -(-n // chunk), log)
                cur.execute("BEGIN")
        else:
            cur.execute("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND "
                        "tablename = ANY(%s) AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE "
                        "connamespace = current_schema()::regnamespace)", (list(_SCALE_TABLES),))
            later = cur.fetchall()
            for index_name, _ in later:
                cur.execute(f'DROP INDEX "{index_name}"')
            cur.execute("SET session_replication_role = replica")  # the rows are consistent by construction
            raw.commit()
        for table in _SCALE_TABLES if kind != "sqlite" or not shutil.which("sqlite3") else ():
            t1 = time.perf_counter()
            for path in sorted(folder.glob(f"{table}.*.tsv"))[:-(-n // chunk)]:
                with open(path, encoding="utf-8") as f:
                    if kind == "sqlite":
                        ints = _TYPES[table]
                        marks = ", ".join("?" * len(columns[table].split(",")))

                        def parsed(f=f, ints=ints):
                            for line in f:
                                row = line[:-1].split("\t")
                                for i in ints:
                                    row[i] = int(row[i])
                                yield row
                        cur.executemany(f"INSERT INTO {table} ({columns[table]}) VALUES ({marks})", parsed())
                    else:
                        with cur.copy(f"COPY {table} ({columns[table]}) FROM STDIN") as copy:
                            while block := f.read(1 << 22):
                                copy.write(block)
                        raw.commit()
            log(f"  {name}: {table} loaded {time.perf_counter() - t1:.0f} s")
        if kind == "sqlite":
            for what, object_name, sql in later:
                t1 = time.perf_counter()
                cur.execute(sql)
                log(f"  {name}: {what} {object_name} {time.perf_counter() - t1:.0f} s")
            for fts, source in (("search_titles(rowid, title)", "id, title_norm FROM registrations"),
                                ("search_alt_titles(title, registration_id)", "title_norm, registration_id FROM titles"),
                                ("search_parties(rowid, name)", "id, name_norm FROM parties")):
                t1 = time.perf_counter()
                cur.execute(f"INSERT INTO {fts} SELECT {source}")
                log(f"  {name}: {fts} {time.perf_counter() - t1:.0f} s")
            cur.execute("COMMIT")
            cur.execute("PRAGMA analysis_limit = 1000")
            cur.execute("ANALYZE")
        else:
            cur.execute("SET session_replication_role = DEFAULT")
            cur.execute("SET maintenance_work_mem = '1GB'")
            for index_name, definition in later:
                t1 = time.perf_counter()
                cur.execute(definition)
                raw.commit()
                log(f"  {name}: index {index_name} {time.perf_counter() - t1:.0f} s")
            for table in ("parties", "registrations"):
                cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
            cur.execute("ANALYZE")
            raw.commit()
    build = {"wall_s": round(time.perf_counter() - t0, 1), "generate_wall_s": round(generated, 1),
             "cpu_s_client": round(time.process_time() - c0, 1)}
    done.write_text(json.dumps(build))
    return store, build


if __name__ == "__main__":
    import sys

    print(json.dumps(run(sys.argv[1] if len(sys.argv) > 1 else "smoke"), indent=2))
