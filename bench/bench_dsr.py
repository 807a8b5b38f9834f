"""DDEX DSR flat-file ingest: the vectorised reader against the row-by-row reference, same run.

The input is a generated, valid DSR in the DSRF basic-audio layout (HEAD, SY02.01 summaries
for 3 territories x 2 commercial models, then blocks of RE01 release, AS01 resources, MW01.01
work, SU02/SU03.01 usage and LI01 allocation records, FOOT): 2,000,000 usage lines at
"full" (about 4.2 million file lines, 330 MB), a few thousand at "smoke". Blocks vary: half
carry a release, a few have several resources (usage records then name their resource by
``TransactedResource``), some have no work record, usage counts are Zipf-like.

Figures:

* **fast** — :func:`obra.royalties.formats.dsr_fast.read_dsr_tables` (what ``obra ingest dsr`` uses):
  usage lines per second and file lines per second over the whole file, and peak memory
  (``tracemalloc`` does not see Arrow's allocator, so peak RSS is measured in a child
  process for each path).
* **reference** — :func:`obra.royalties.formats.dsr_reference.parse_dsr_reference`, the row-by-row
  specification, on the first ``reference_lines`` usage lines of the same generator (a
  slice: it is slow), with its rate and the ratio fast / reference.
* **ingest** — ``pipeline.ingest_dsr`` end to end (validate + write Parquet) on the
  whole file, lines per second.
* **agreement** — on the slice, the two paths give the same usage lines and pools.
"""

from __future__ import annotations

import json
import random
import tempfile
import time
from pathlib import Path

from bench.stages import peak_rss, run_child

SCALES = {"full": {"usage_lines": 2_000_000, "reference_lines": 200_000},
          "smoke": {"usage_lines": 3_000, "reference_lines": 3_000}}
NAME = "DSR_PADPIDA2013020802I_PADPIDA20070627029_Streamly_2026-03_ES_1of1_20260401T100000.tsv"
TERRITORIES = (("ES", "EUR"), ("FR", "EUR"), ("DE", "EUR"))
MODELS = ("SubscriptionModel", "AdvertisementSupportedModel")


def _iswc(n: int) -> str:
    from obra.ids import iswc_check_digit

    digits = f"{n:09d}"
    return f"T{digits}{iswc_check_digit(digits)}"


def write_dsr(path: Path, usage_lines: int, seed: int = 7) -> dict:
    """Write a valid DSR flat file with exactly ``usage_lines`` usage records; FOOT computed."""
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
    t = time.perf_counter()
    report = dsr_fast.read_dsr_tables(path, on_table=count, stats=stats)
    seconds = time.perf_counter() - t
    assert rows == report.usage_lines
    return {"seconds": seconds, "usage_lines": report.usage_lines, "file_lines": report.lines,
            "fast_share": stats["fast_lines"] / report.lines, "peak_rss": _peak_rss()}


def stage_reference(path: str) -> dict:
    from obra.royalties.formats import dsr_reference

    _imports()
    t = time.perf_counter()
    report = dsr_reference.parse_dsr_reference(path, on_line=lambda u: None)
    return {"seconds": time.perf_counter() - t, "usage_lines": report.usage_lines, "file_lines": report.lines,
            "peak_rss": _peak_rss()}


def stage_ingest(path: str, home: str) -> dict:
    """``obra ingest dsr``'s code path: validate and write the usage and pools partitions."""
    from obra.access import Principal
    from obra.model.vocab import AccessRole
    from obra.royalties.pipeline import ingest_dsr
    from obra.store import Store

    store = Store.open(f"sqlite:///{home}/ingest.db", Path(home) / "ingested", migrate=True)
    _imports()
    t = time.perf_counter()
    result = ingest_dsr(store, path, Principal("bench-cmo", AccessRole.CMO))
    return {"seconds": time.perf_counter() - t, "usage_lines": result["usage_lines"],
            "counts": result["counts"], "peak_rss": _peak_rss()}


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


def run(scale: str = "full") -> dict:
    cfg = SCALES[scale]
    with tempfile.TemporaryDirectory(prefix="obra-bench-dsr-") as tmp:
        tmp = Path(tmp)
        (tmp / "full").mkdir()
        (tmp / "slice").mkdir()
        full, part = tmp / "full" / NAME, tmp / "slice" / NAME
        t = time.perf_counter()
        made = write_dsr(full, cfg["usage_lines"])
        generate_seconds = time.perf_counter() - t
        sliced = write_dsr(part, cfg["reference_lines"])     # the same generator: a prefix of the full file
        fast = _child("fast", path=str(full))
        fast_slice = _child("fast", path=str(part))
        reference = _child("reference", path=str(part))
        ingest = _child("ingest", path=str(full), home=str(tmp / "store"))
        agree = _agree(part)
    return {
        "file": {**made, "generate_seconds": round(generate_seconds, 2)},
        "fast": {"usage_lines_per_second": _rate(fast), "file_lines_per_second": round(fast["file_lines"] / fast["seconds"]),
                 "seconds": round(fast["seconds"], 2), "peak_rss_mib": round(fast["peak_rss"] / 2**20),
                 "share_of_lines_read_by_the_fast_path": round(fast["fast_share"], 6)},
        "reference_slice": {"usage_lines": sliced["usage_lines"], "file_lines": sliced["file_lines"],
                            "usage_lines_per_second": _rate(reference), "seconds": round(reference["seconds"], 2),
                            "peak_rss_mib": round(reference["peak_rss"] / 2**20)},
        "fast_slice": {"usage_lines_per_second": _rate(fast_slice), "seconds": round(fast_slice["seconds"], 2),
                       "peak_rss_mib": round(fast_slice["peak_rss"] / 2**20)},
        "speedup_same_slice": round(reference["seconds"] / fast_slice["seconds"], 2),
        "speedup_full_vs_reference_rate": round(_rate(fast) / _rate(reference), 2),
        "ingest": {"usage_lines": ingest["usage_lines"], "seconds": round(ingest["seconds"], 2),
                   "usage_lines_per_second": _rate(ingest), "peak_rss_mib": round(ingest["peak_rss"] / 2**20)},
        "fast_equals_reference_on_slice": agree,
        "usage_lines": made["usage_lines"],
    }


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--stage", required=True)
    parser.add_argument("--args", default="{}")
    ns = parser.parse_args()
    print(json.dumps(globals()[f"stage_{ns.stage}"](**json.loads(ns.args))))
