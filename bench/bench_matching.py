"""Matching: how often the fuzzy matcher is right, against a naive baseline, and how fast.

1. **Quality** on the seeded noisy benchmark (:mod:`obra_demo.noisy`, known truth):
   precision, recall and F1 of the scoring model's ``match`` decision, against two naive
   baselines measured on the same pairs — exact equality of normalised titles, and of
   normalised title *and* artist; on clean-field pairs (``quality``) and on messy platform
   metadata (``quality_messy``: artist, version, "(Official Video)", album in the title, fields
   swapped or all in one, issue #18).
2. **Pair scoring throughput** (pairs per second, caches cleared first).
3. **Linkage against a peer**: the reported side of every pair linked to the registered side
   of all pairs (each report to its best candidate), by Obra's matcher (rapidfuzz candidates +
   the scoring model) and by Splink 5 (Fellegi–Sunter, *u* by random sampling, *m* by EM;
   Jaro-Winkler on normalised title and artist, exact album, duration bands), with the
   naive exact normalised title+artist join as baseline; precision, recall and seconds.
4. **Usage matching throughput**: a catalogue of recordings and a usage table where most
   lines carry an ISRC and the rest only noisy metadata, matched the way ``obra match``
   does (Ibis on DuckDB for identifiers, then fuzzy for the rest): lines per second,
   and the share of metadata-only lines the fuzzy stage recovered correctly.
"""

from __future__ import annotations

import random
import time

import ibis
import pyarrow as pa

from obra.royalties.matching import identifiers, metadata
from obra.royalties.records import MATCHES_SCHEMA
from obra.textnorm import normalize_text
from obra_demo import noisy

SCALES = {"smoke": {"pairs": 400, "linkage": 300, "recordings": 300, "lines": 3_000},
          "full": {"pairs": 20_000, "linkage": 10_000, "recordings": 20_000, "lines": 1_000_000}}


def _quality(decisions: list[bool], truth: list[bool]) -> dict:
    tp = sum(1 for d, t in zip(decisions, truth) if d and t)
    fp = sum(1 for d, t in zip(decisions, truth) if d and not t)
    fn = sum(1 for d, t in zip(decisions, truth) if not d and t)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
            "true_positives": tp, "false_positives": fp, "false_negatives": fn}


def _clear_caches() -> None:
    for fn in (metadata.normalise_title, metadata.normalise_artist, metadata.split_featured):
        fn.cache_clear()


def quality(n: int, messy: bool = False) -> dict:
    """Precision and recall of the ``match`` decision on clean-field noisy pairs, or (``messy``) on pairs whose
    reported side is messy platform metadata (:func:`obra_demo.noisy.messy_pairs`, issue #18)."""
    data = noisy.messy_pairs(n, seed=2026) if messy else noisy.noisy_pairs(n, seed=2026)
    truth = [p.same for p in data]
    _clear_caches()
    started = time.perf_counter()
    scores = [metadata.score_pair(p.left, p.right) for p in data]
    seconds = time.perf_counter() - started
    model = _quality([s.decision == "match" for s in scores], truth)
    model["review_share"] = round(sum(s.decision == "review" for s in scores) / n, 4)
    bare = [k for k, p in enumerate(data) if not (p.left.isrc and p.right.isrc)]
    metadata_only = _quality([scores[k].decision == "match" for k in bare], [truth[k] for k in bare])
    metadata_only["pairs"] = len(bare)
    title_eq = [normalize_text(p.left.title) == normalize_text(p.right.title) for p in data]
    both_eq = [t and normalize_text(p.left.artist) == normalize_text(p.right.artist) for t, p in zip(title_eq, data)]
    return {"pairs": n, "positives": sum(truth), "model": model, "model_without_isrc_on_a_side": metadata_only,
            "baseline_exact_title": _quality(title_eq, truth),
            "baseline_exact_title_artist": _quality(both_eq, truth),
            "f1_vs_title_baseline": round(model["f1"] / max(_quality(title_eq, truth)["f1"], 1e-9), 2),
            "pairs_per_second": round(n / seconds), "thresholds": {"match": metadata.MATCH_THRESHOLD,
                                                                  "review": metadata.REVIEW_THRESHOLD}}


def _linkage_quality(predicted: set[tuple[int, int]], truth: set[tuple[int, int]]) -> dict:
    tp = len(predicted & truth)
    fp, fn = len(predicted - truth), len(truth - predicted)
    return {"precision": round(tp / (tp + fp), 4) if tp + fp else 1.0,
            "recall": round(tp / (tp + fn), 4) if tp + fn else 1.0, "true_positives": tp,
            "false_positives": fp, "false_negatives": fn}


def _splink_links(registered: list[metadata.Track], reported: list[metadata.Track]) -> set[tuple[int, int]]:
    import pandas as pd
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    import logging

    for name in [n for n in logging.root.manager.loggerDict if n.startswith("splink")] + ["splink"]:
        logging.getLogger(name).setLevel(logging.WARNING)

    def frame(tracks: list[metadata.Track]) -> pd.DataFrame:
        return pd.DataFrame([{"unique_id": i, "title": metadata.normalise_title(t.title) or None,
                              "artist": metadata.normalise_artist(t.artist, t.title) or None,
                              "album": normalize_text(t.album) or None,
                              "duration_s": float(t.duration_s) if t.duration_s else None}
                             for i, t in enumerate(tracks)])

    settings = SettingsCreator(
        link_type="link_only",
        comparisons=[
            cl.JaroWinklerAtThresholds("title", [0.95, 0.88, 0.7]),
            cl.JaroWinklerAtThresholds("artist", [0.95, 0.88, 0.7]),
            cl.ExactMatch("album"),
            cl.CustomComparison(output_column_name="duration_s", comparison_levels=[
                cll.NullLevel("duration_s"),
                cll.CustomLevel("abs(duration_s_l - duration_s_r) <= 2"),
                cll.CustomLevel("abs(duration_s_l - duration_s_r) <= 10"),
                cll.ElseLevel()]),
        ],
        blocking_rules_to_generate_predictions=[block_on("substr(title,1,2)"), block_on("substr(artist,1,3)")])
    import duckdb

    connection = duckdb.connect()
    connection.execute("SET enable_progress_bar = false")
    db = DuckDBAPI(connection=connection)
    linker = Linker([db.register(frame(registered), dataset_display_name="registry"),
                     db.register(frame(reported), dataset_display_name="report")], settings)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("substr(title,1,2)"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("substr(artist,1,3)"))
    pred = linker.inference.predict(threshold_match_probability=0.5).as_pandas_dataframe()
    best: dict[int, tuple[float, int]] = {}
    for l_src, l_id, r_id, prob in zip(pred.source_dataset_l, pred.unique_id_l, pred.unique_id_r,
                                       pred.match_probability):
        reg, rep = (int(l_id), int(r_id)) if l_src == "registry" else (int(r_id), int(l_id))
        if rep not in best or prob > best[rep][0]:
            best[rep] = (float(prob), reg)
    return {(reg, rep) for rep, (_, reg) in best.items()}


def linkage(n: int) -> dict:
    data = noisy.noisy_pairs(n, seed=99)
    registered = [p.left for p in data]
    reported = [metadata.Track(p.right.title, p.right.artist, p.right.album, p.right.duration_s, None) for p in data]
    truth = {(i, i) for i, p in enumerate(data) if p.same}
    recordings = pa.table({"recording_number": [str(i) for i in range(n)], "isrc": [t.isrc for t in registered],
                           "work_number": [None] * n, "title": [t.title for t in registered],
                           "artist": [t.artist for t in registered], "album": [t.album for t in registered],
                           "duration_s": pa.array([t.duration_s for t in registered], pa.int32())},
                          schema=identifiers.RECORDINGS_SCHEMA)
    _clear_caches()
    started = time.perf_counter()
    index = metadata.FuzzyIndex(recordings)
    ours = {(int(hit["recording_number"]), j) for j, (hit, s) in enumerate(index.best_many(reported))
            if s is not None and s.decision == "match"}
    ours_seconds = time.perf_counter() - started
    started = time.perf_counter()
    splink_links = _splink_links(registered, reported)
    splink_seconds = time.perf_counter() - started
    key = {}
    for i, t in enumerate(registered):
        key.setdefault((normalize_text(t.title), normalize_text(t.artist)), i)
    naive = {(key[k], j) for j, t in enumerate(reported)
             if (k := (normalize_text(t.title), normalize_text(t.artist))) in key}
    return {"registered": n, "reported": n, "true_links": len(truth),
            "obra": {**_linkage_quality(ours, truth), "seconds": round(ours_seconds, 3)},
            "splink": {**_linkage_quality(splink_links, truth), "seconds": round(splink_seconds, 3)},
            "baseline_exact_title_artist": _linkage_quality(naive, truth)}


def usage_matching(n_recordings: int, n_lines: int) -> dict:
    rng = random.Random(11)
    catalogue = [noisy.random_track(rng) for _ in range(n_recordings)]
    recordings = pa.table({
        "recording_number": [f"OBRA-2026-{i:07d}-X" for i in range(n_recordings)],
        "isrc": [t.isrc for t in catalogue], "work_number": [f"W{i}" for i in range(n_recordings)],
        "title": [t.title for t in catalogue], "artist": [t.artist for t in catalogue],
        "album": [t.album for t in catalogue],
        "duration_s": pa.array([t.duration_s for t in catalogue], pa.int32())})
    works = pa.table({"work_number": [f"W{i}" for i in range(n_recordings)],
                      "iswc": pa.array([None] * n_recordings, pa.string())})
    # Zipf-like popularity; 85% of lines carry the ISRC, the rest a noisy description only.
    weights = [1 / (i + 1) for i in range(n_recordings)]
    picks = rng.choices(range(n_recordings), weights=weights, k=n_lines)
    variants: dict[int, list[metadata.Track]] = {}
    rows = {"source": [], "line": [], "isrc": [], "iswc": [], "proprietary_id": [], "title": [], "artist": [],
            "album": [], "duration_s": []}
    truth = []
    for line, i in enumerate(picks, start=1):
        t = catalogue[i]
        if rng.random() < 0.85:
            reported = t
        else:
            pool = variants.setdefault(i, [noisy.distort(rng, t) for _ in range(3)])
            reported = metadata.Track(*(rng.choice(pool).__dict__[k] for k in ("title", "artist", "album",
                                                                             "duration_s")), None)
        rows["source"].append("bench")
        rows["line"].append(line)
        rows["isrc"].append(reported.isrc)
        rows["iswc"].append(None)
        rows["proprietary_id"].append(None)
        rows["title"].append(reported.title)
        rows["artist"].append(reported.artist)
        rows["album"].append(reported.album)
        rows["duration_s"].append(reported.duration_s)
        truth.append(f"OBRA-2026-{i:07d}-X")
    usage = pa.table({**rows, "line": pa.array(rows["line"], pa.int64()),
                      "iswc": pa.array(rows["iswc"], pa.string()),
                      "proprietary_id": pa.array(rows["proprietary_id"], pa.string()),
                      "duration_s": pa.array(rows["duration_s"], pa.int32())})

    started = time.perf_counter()
    con = ibis.duckdb.connect()
    by_id = identifiers.match_by_id(con.create_table("u", usage), con.create_table("r", recordings),
                                 con.create_table("w", works)).order_by("line").to_pyarrow()
    id_seconds = time.perf_counter() - started
    index = metadata.FuzzyIndex(recordings)
    fuzzy_started = time.perf_counter()
    matched = metadata.fuzzy_match(usage, by_id.cast(MATCHES_SCHEMA), index)
    fuzzy_seconds = time.perf_counter() - fuzzy_started
    total = time.perf_counter() - started
    con.disconnect()

    methods = matched["method"].to_pylist()
    found = matched["recording_number"].to_pylist()
    meta_lines = [k for k, isrc in enumerate(rows["isrc"]) if isrc is None]
    fuzzy_right = sum(1 for k in meta_lines if methods[k] == "fuzzy" and found[k] == truth[k])
    fuzzy_wrong = sum(1 for k in meta_lines if methods[k] == "fuzzy" and found[k] != truth[k])
    id_right = sum(1 for k, m in enumerate(methods) if m == "isrc" and found[k] == truth[k])
    distinct = len({(rows["title"][k], rows["artist"][k], rows["album"][k], rows["duration_s"][k])
                    for k in meta_lines})
    return {"recordings": n_recordings, "lines": n_lines, "metadata_only_lines": len(meta_lines),
            "distinct_metadata_only": distinct,
            "isrc_matched_correctly": id_right,
            "fuzzy_recall": round(fuzzy_right / len(meta_lines), 4) if meta_lines else None,
            "fuzzy_precision": round(fuzzy_right / (fuzzy_right + fuzzy_wrong), 4) if fuzzy_right + fuzzy_wrong else None,
            "id_stage_seconds": round(id_seconds, 3), "fuzzy_stage_seconds": round(fuzzy_seconds, 3),
            "lines_per_second": round(n_lines / total)}


def run(scale: str = "full") -> dict:
    cfg = SCALES[scale]
    return {"quality": quality(cfg["pairs"]), "quality_messy": quality(cfg["pairs"], messy=True),
            "linkage": linkage(cfg["linkage"]),
            "usage_matching": usage_matching(cfg["recordings"], cfg["lines"])}


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(run(sys.argv[1] if len(sys.argv) > 1 else "smoke"), indent=2))
