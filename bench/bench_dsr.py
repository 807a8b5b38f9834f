"""DDEX DSR: a 10,000,000-line report from file to statements, and the vectorised reader against the
row-by-row reference, same run.

The input is a generated, valid DSR in the DSRF basic-audio layout (HEAD, SY02.01 summaries
for 3 territories x 2 commercial models, then blocks of RE01 release, AS01 resources, MW01.01
work, SU02/SU03.01 usage and LI01 allocation records, FOOT): **10,000,000 file lines** at "full"
(as ``wc -l`` counts them; about 4.3 million usage lines, 730 MB), a few thousand at "smoke".
Blocks vary: half carry a release, a few have several resources (usage records then name their
resource by ``TransactedResource``), some have no work record, usage counts are Zipf-like. The
file is generated once and kept under ``$OBRA_BENCH_CACHE`` (default ``/tmp/obra-bench-cache``),
keyed by its parameters, and so is the catalogue store it is matched against (the demo
catalogue's parties, works and agreements, 20,000 recordings carrying the generator's ISRCs:
about three quarters of the usage matches by ISRC).

Figures:

* **end_to_end** — file → ``obra ingest dsr`` → ``obra match --no-fuzzy`` → ``obra distribute``
  (pro-rata, waterfall, every payee's JSON and CSV statement, the run kept): the same
  ``Obra.royalties`` calls the commands make, in one child process, with each stage's wall and CPU
  seconds (CPU: all threads, the honest figure on a loaded 2-core machine) and the peak RSS.
  Target: under 60 s. The metadata model is left out there (its cost grows with the distinct
  unmatched descriptions, not the lines); **end_to_end_slice_fuzzy** measures the same path with
  it, on the slice below.
* **fast** — :func:`obra.royalties.formats.dsr_fast.read_dsr_tables` (the reader ingest uses) on
  the whole file: usage and file lines per second, peak RSS in a child process of its own.
* **reference** — :func:`obra.royalties.formats.dsr_reference.parse_dsr_reference`, the row-by-row
  specification, on the first ``reference_lines`` usage lines of the same generator (a slice: it
  is slow), with its rate and the ratio fast / reference on that same slice (the same-run baseline).
* **agreement** — on the slice, the two readers give the same usage lines and pools.
"""

from __future__ import annotations

import json
import os
import random
import tempfile
import time
from pathlib import Path

from bench.stages import peak_rss, run_child

SCALES = {"full": {"file_lines": 10_000_000, "reference_lines": 200_000, "recordings": 20_000},
          "smoke": {"file_lines": 7_000, "reference_lines": 3_000, "recordings": 300}}
#: Part of the cache keys: bump when the generator or the catalogue changes.
GENERATOR_VERSION = 2
NAME = "DSR_PADPIDA2013020802I_PADPIDA20070627029_Streamly_2026-03_ES_1of1_20260401T100000.tsv"
TERRITORIES = (("ES", "EUR"), ("FR", "EUR"), ("DE", "EUR"))
MODELS = ("SubscriptionModel", "AdvertisementSupportedModel")


def _iswc(n: int) -> str:
    from obra.ids import iswc_check_digit

    digits = f"{n:09d}"
    return f"T{digits}{iswc_check_digit(digits)}"


def write_dsr(path: Path, usage_lines: int | None = None, seed: int = 7, file_lines: int | None = None) -> dict:
    """Write a valid DSR flat file with exactly ``usage_lines`` usage records, or exactly ``file_lines``
    lines (as ``wc -l`` counts them; the last block is cut to fit); FOOT computed. Files of the same
    seed are prefixes of one another up to their last block."""
    assert (usage_lines is None) != (file_lines is None)
    if usage_lines is None:
        usage_lines = file_lines            # an upper bound: every block has a usage line
    rng = random.Random(seed)
    out: list[str] = [
        "HEAD\tdsrf/30\tBasicAudioProfile\t1.1\tMSG-BENCH-1\t2026-04-01T10:00:00Z\t1\t1\t2026-03-01\t"
        "2026-03-31\tPADPIDA2013020802I\tStreamly\tStreamly-Premium\tPADPIDA20070627029\tOBRA\t",
        "#SY02.01\tSummaryRecordId\tDistributionChannel\tDistributionChannelDPID\tCommercialModel\tUseType\t"
        "Territory\tServiceDescription\tUsages\tUsers\tCurrency\tNetRevenue",
    ]
    summaries = []
    for t, (territory, currency) in enumerate(TERRITORIES):
        for m, model in enumerate(MODELS):
            sid = str(len(summaries) + 1)
            summaries.append(sid)
            out.append(f"SY02.01\t{sid}\t\t\t{model}\tOnDemandStream\t{territory}\tStreamly-Premium\t"
                       f"{1_000_000 * (t + 1)}\t\t{currency}\t{12345.67 * (m + 1) + t:.2f}")
    n_summaries = len(summaries)
    lines = blocks = 0
    emitted = 0
    fh = open(path, "w", encoding="utf-8", newline="\n")
    try:
        fh.write("\n".join(out) + "\n")
        lines = len(out)
        buf: list[str] = []
        while emitted < usage_lines:
            if file_lines is not None and file_lines - (lines + len(buf)) - 1 <= 11:
                # the last block fills the file exactly: a resource and the usage lines that fit
                b = blocks = blocks + 1
                room = file_lines - (lines + len(buf)) - 1
                buf.append(f"AS01\t{b}\tRES0\tD{b * 4}\tQZOBR24{b * 4 % 100000:05d}\tTrack {b * 4}\t\t"
                           f"Artist {b % 997}\t\tPT3M0S\tSoundRecording")
                for _ in range(room - 1):
                    emitted += 1
                    buf.append(f"SU03.01\t{b}\tT{emitted}\t{summaries[0]}\tD{b * 4}\t1\t0.0031\t2026-03-01\t2026-03-31")
                break
            blocks += 1
            b = blocks
            n_assets = 1 if rng.random() < 0.9 else rng.randint(2, 3)
            if rng.random() < 0.5:
                buf.append(f"RE01\t{b}\tREL{b}\tDR{b}\t\tCAT{b}\t\tArtist {b % 997}\t\tAlbum {b}\t\tAlbum\tLabel {b % 13}")
            for a in range(n_assets):
                k = b * 4 + a
                isrc = f"QZOBR{24 + a}{k % 100000:05d}" if rng.random() < 0.95 else ""
                buf.append(f"AS01\t{b}\tRES{a}\tD{k}\t{isrc}\tTrack {k}\t\tArtist {b % 997}|Guest {a}\t\t"
                           f"PT{rng.randint(1, 7)}M{rng.randint(0, 59)}S\tSoundRecording")
            if n_assets == 1 and rng.random() < 0.8:
                buf.append(f"MW01.01\t{b}\tW{b}\t{_iswc(b)}\tWork {b}\t\tComposer {b % 311}\t\t\t\t"
                           f"Publisher {b % 17}\t\t\t\t\tPUB::{b}")
            for _ in range(min(rng.randint(1, 4), usage_lines - emitted)):
                emitted += 1
                sid = summaries[rng.randrange(n_summaries)]
                plays = int(rng.paretovariate(1.2))
                res = f"RES{rng.randrange(n_assets)}"
                if rng.random() < 0.5:
                    buf.append(f"SU02\t{b}\t{sid}\tT{emitted}\tREL{b}\t{res}\ttrue\t{plays}\t0.{rng.randint(0, 99):02d}\t")
                else:
                    buf.append(f"SU03.01\t{b}\tT{emitted}\t{sid}\tD{b * 4}\t{plays}\t"
                               f"{plays * 0.0031:.4f}\t2026-03-01\t2026-03-31")
            buf.append(f"LI01\t{b}\t{summaries[0]}\tPADPIDA20070627029\t\t\t100\tMakeAvailableRight\t\t")
            if len(buf) > 50_000:
                lines += len(buf)
                fh.write("\n".join(buf) + "\n")
                buf.clear()
        lines += len(buf) + 1
        buf.append(f"FOOT\t{lines}\t{lines}\t{n_summaries}\t{blocks}\t{blocks}")
        fh.write("\n".join(buf) + "\n")
    finally:
        fh.close()
    return {"usage_lines": emitted, "file_lines": lines, "blocks": blocks, "bytes": path.stat().st_size}


def _peak_rss() -> int:
    return peak_rss()


def _child(stage: str, **kw) -> dict:
    """Run one stage in a fresh interpreter (its peak memory is its own) and return its result."""
    return run_child("bench.bench_dsr", stage, **kw)


# --------------------------------------------------------------------------- stages (child processes)
def _imports() -> None:
    """Load what any path loads once per process (pyarrow imports pandas on its first conversion),
    so that the timings are of reading the file."""
    import pandas  # noqa: F401
    import pyarrow as pa

    from obra import ids

    pa.array(["warm"])
    ids.iso_countries()


def stage_fast(path: str) -> dict:
    from obra.royalties.formats import dsr_fast

    _imports()
    rows = 0

    def count(table) -> None:
        nonlocal rows
        rows += table.num_rows

    stats: dict = {}
    t, c = time.perf_counter(), _cpu()
    report = dsr_fast.read_dsr_tables(path, on_table=count, stats=stats)
    seconds = time.perf_counter() - t
    assert rows == report.usage_lines
    return {"seconds": seconds, "cpu_seconds": _cpu() - c, "usage_lines": report.usage_lines, "file_lines": report.lines,
            "fast_share": stats["fast_lines"] / report.lines, "peak_rss": _peak_rss()}


def stage_reference(path: str) -> dict:
    from obra.royalties.formats import dsr_reference

    _imports()
    t, c = time.perf_counter(), _cpu()
    report = dsr_reference.parse_dsr_reference(path, on_line=lambda u: None)
    return {"seconds": time.perf_counter() - t, "cpu_seconds": _cpu() - c, "usage_lines": report.usage_lines,
            "file_lines": report.lines,
            "peak_rss": _peak_rss()}


def _rss_now() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * 4096


def _cpu() -> float:
    """CPU seconds of this process (all its threads) and its finished children."""
    import resource

    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def catalogue(recordings: int, seed: int = 7) -> dict:
    """The registry the usage is matched against: the demo catalogue's parties, works and agreements,
    its recordings carrying the ISRCs the generator gives the first resource of a block
    (``QZOBR24`` + 4·b mod 100,000), so that most usage matches by ISRC and the rest does not."""
    from obra_demo.catalogue import demo_catalogue

    batch = demo_catalogue(seed=seed, parties=2_000 if recordings >= 2_000 else 200, works=recordings,
                           recordings=recordings)
    for i, rec in enumerate(batch["recordings"]):
        rec["isrc"] = f"QZOBR24{4 * i % 100_000:05d}"
    return batch


def stage_catalogue(home: str, recordings: int) -> dict:
    """A store holding the catalogue (preparation, not timed in the figures; cached by its parameters)."""
    from obra.access import create_principal
    from obra.model.vocab import AccessRole
    from obra.registry.batch import import_records
    from obra.store import Store

    store = Store.open(f"sqlite:///{home}/obra.db", Path(home) / "home", migrate=True)
    admin, _ = create_principal(store, "bench-admin", AccessRole.ADMIN)
    _, token = create_principal(store, "bench-cmo", AccessRole.CMO, by=admin)
    (Path(home) / "cmo-token").write_text(token)
    t = time.perf_counter()
    made = import_records(store, admin, source="bench catalogue", **catalogue(recordings))
    store.dispose()
    return {"seconds": time.perf_counter() - t, "recordings": len(made.get("recordings", []))}


def stage_e2e(path: str, home: str, period: str = "2026-03", fuzzy: bool = False) -> dict:
    """File to statements through the service calls ``obra ingest dsr``, ``obra match`` and ``obra distribute``
    make (``Obra.royalties``), each stage's wall and CPU seconds, and the peak RSS of the whole."""
    from obra.access import authenticate
    from obra.royalties.pipeline import DistributionRequest, RoyaltiesService
    from obra.store import Store

    store = Store.open(f"sqlite:///{home}/obra.db", Path(home) / "home", migrate=True)
    cmo = authenticate(store, (Path(home) / "cmo-token").read_text())
    service = RoyaltiesService(store)
    _imports()
    stages: dict = {}
    started, cpu0 = time.perf_counter(), _cpu()

    def timed(name: str, fn):
        t, c = time.perf_counter(), _cpu()
        out = fn()
        stages[name] = {"wall_seconds": round(time.perf_counter() - t, 2), "cpu_seconds": round(_cpu() - c, 2)}
        return out

    ingested = timed("ingest", lambda: service.ingest_dsr(cmo, Path(path)))
    matched = timed("match", lambda: service.match(cmo, period, fuzzy=fuzzy))
    run = timed("distribute_and_statements", lambda: service.distribute(cmo, DistributionRequest(period=period)))
    total = {"wall_seconds": round(time.perf_counter() - started, 2), "cpu_seconds": round(_cpu() - cpu0, 2)}
    import pyarrow.parquet as pq

    return {"stages": stages, "total": total, "usage_lines": ingested["usage_lines"],
            "file_lines": ingested["lines"], "matched": matched["by_method"], "payees": run["payees"],
            "statement_lines": pq.read_metadata(run["statement_lines"]).num_rows,
            "statements_written": sum(len(v["files"]) for v in run["statements"].values()),
            "conservation": run.get("conservation"),
            "rss_mib_at_end": _rss_now() // 2**20,
            "peak_rss": _peak_rss()}


def _agree(path: Path) -> bool:
    """Do the two paths give the same usage lines (revenue text included) and report?"""
    from obra.royalties.formats import dsr_fast, dsr_reference

    fast: list = []
    reference: list = []
    got = dsr_fast.read_dsr_tables(path, on_line=fast.append)
    want = dsr_reference.parse_dsr_reference(path, on_line=reference.append)
    return (got == want and fast == reference
            and [str(u.revenue) for u in fast] == [str(u.revenue) for u in reference])


def _rate(stage: dict) -> int:
    return round(stage["usage_lines"] / stage["seconds"])


def _cached(kind: str, key: str, make) -> Path:
    """``$OBRA_BENCH_CACHE/kind-key``, made by ``make(directory)`` the first time (atomically)."""
    import shutil

    root = Path(os.environ.get("OBRA_BENCH_CACHE", "/tmp/obra-bench-cache"))
    target = root / f"{kind}-{key}"
    if not (target / ".done").exists():
        shutil.rmtree(target, ignore_errors=True)
        building = root / f".{kind}-{key}-{os.getpid()}"
        shutil.rmtree(building, ignore_errors=True)
        building.mkdir(parents=True)
        (building / "made.json").write_text(json.dumps(make(building)))
        (building / ".done").touch()
        building.rename(target)
    return target


def _report_file(file_lines: int) -> tuple[Path, dict, float]:
    made: dict = {}

    def make(d: Path) -> dict:
        t = time.perf_counter()
        made.update(write_dsr(d / NAME, file_lines=file_lines), generate_seconds=round(time.perf_counter() - t, 2))
        return made

    d = _cached("dsr-report", f"{file_lines}-seed7-v{GENERATOR_VERSION}", make)
    info = json.loads((d / "made.json").read_text())
    return d / NAME, info, (info["generate_seconds"] if not made else made["generate_seconds"])


def _catalogue_store(recordings: int, into: Path) -> Path:
    """A fresh copy of the cached catalogue store (each run ingests into its own)."""
    import shutil

    d = _cached("dsr-catalogue", f"{recordings}-v{GENERATOR_VERSION}",
                lambda d: _child("catalogue", home=str(d), recordings=recordings))
    shutil.copytree(d, into)
    return into


def _e2e_figures(e2e: dict) -> dict:
    return {"usage_lines": e2e["usage_lines"], "file_lines": e2e["file_lines"], "stages": e2e["stages"],
            "total": e2e["total"], "matched": e2e["matched"], "payees": e2e["payees"],
            "statement_lines": e2e["statement_lines"], "statement_files": e2e["statements_written"],
            "conserved": all(c["revenue"] == c["distributed"] + c["unallocated"] for c in e2e["conservation"].values()), "peak_rss_mib": round(e2e["peak_rss"] / 2**20),
            "file_lines_per_second_end_to_end": round(e2e["file_lines"] / e2e["total"]["wall_seconds"]),
            "file_lines_per_cpu_second_end_to_end": round(e2e["file_lines"] / e2e["total"]["cpu_seconds"])}


def run(scale: str = "full") -> dict:
    cfg = SCALES[scale]
    load_before = os.getloadavg()
    full, made, generate_seconds = _report_file(cfg["file_lines"])
    with tempfile.TemporaryDirectory(prefix="obra-bench-dsr-") as tmp:
        tmp = Path(tmp)
        (tmp / "slice").mkdir()
        part = tmp / "slice" / NAME
        sliced = write_dsr(part, cfg["reference_lines"])     # the same generator: a prefix of the full file
        e2e = _child("e2e", path=str(full), home=str(_catalogue_store(cfg["recordings"], tmp / "e2e")))
        e2e_fuzzy = _child("e2e", path=str(part), home=str(_catalogue_store(cfg["recordings"], tmp / "e2e-slice")),
                           fuzzy=True)
        fast = _child("fast", path=str(full))
        fast_slice = _child("fast", path=str(part))
        reference = _child("reference", path=str(part))
        agree = _agree(part)
    total = e2e["total"]
    return {
        "file": {**{k: made[k] for k in ("usage_lines", "file_lines", "blocks", "bytes")},
                 "generate_seconds": generate_seconds, "cached": True},
        "end_to_end": _e2e_figures(e2e),
        "end_to_end_target_seconds": 60,
        "end_to_end_target_met_wall": total["wall_seconds"] < 60,
        "end_to_end_target_met_cpu": total["cpu_seconds"] < 60,
        "end_to_end_slice_fuzzy": _e2e_figures(e2e_fuzzy),
        "fast": {"usage_lines_per_second": _rate(fast), "file_lines_per_second": round(fast["file_lines"] / fast["seconds"]),
                 "seconds": round(fast["seconds"], 2), "cpu_seconds": round(fast["cpu_seconds"], 2),
                 "peak_rss_mib": round(fast["peak_rss"] / 2**20),
                 "share_of_lines_read_by_the_fast_path": round(fast["fast_share"], 6)},
        "reference_slice": {"usage_lines": sliced["usage_lines"], "file_lines": sliced["file_lines"],
                            "usage_lines_per_second": _rate(reference), "seconds": round(reference["seconds"], 2),
                            "cpu_seconds": round(reference["cpu_seconds"], 2),
                            "peak_rss_mib": round(reference["peak_rss"] / 2**20)},
        "fast_slice": {"usage_lines_per_second": _rate(fast_slice), "seconds": round(fast_slice["seconds"], 2),
                       "cpu_seconds": round(fast_slice["cpu_seconds"], 2),
                       "peak_rss_mib": round(fast_slice["peak_rss"] / 2**20)},
        "speedup_same_slice": round(reference["seconds"] / fast_slice["seconds"], 2),
        "speedup_same_slice_cpu": round(reference["cpu_seconds"] / fast_slice["cpu_seconds"], 2),
        "speedup_full_vs_reference_rate": round(_rate(fast) / _rate(reference), 2),
        "fast_equals_reference_on_slice": agree,
        "usage_lines": made["usage_lines"],
        "load_average": {"before": [round(x, 2) for x in load_before],
                         "after": [round(x, 2) for x in os.getloadavg()]},
    }


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--stage", required=True)
    parser.add_argument("--args", default="{}")
    ns = parser.parse_args()
    print(json.dumps(globals()[f"stage_{ns.stage}"](**json.loads(ns.args))))
