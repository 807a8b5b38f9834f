"""A seeded generator of realistic streaming usage, pools and repertoire (for benchmarks and demos).

What makes it realistic enough to test a royalty engine:

* **Popularity is Zipf-distributed** over recordings (a few hits, a long tail), and
  **listening is heavy-tailed** over users (log-normal activity: many light listeners,
  a few heavy ones), which is exactly where pro-rata and user-centric differ.
* Several **territories** (with their currencies), **services** and **commercial
  models** (subscription with per-subscriber payments; ad-supported with one pool).
* **Genres** per artist, several recordings per artist.
* **Messy metadata**: a share of lines lack their ISRC, titles and artists come in
  variant spellings, some lines are for recordings outside the repertoire (they must end
  up unallocated, held for claims).

Everything is written with numpy and pyarrow straight into the Parquet contract of
:mod:`obra.royalties.records` (usage, pools, and matches by identifier, so the
distribution side never waits for matching); 10 million lines take well under a
minute. The same seed gives the same files.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from obra.model import Agreement, Share
from obra.royalties.records import MATCHES_SCHEMA, POOLS_SCHEMA, USAGE_SCHEMA
from obra.royalties.waterfall import ItemRights

TERRITORIES = {"FR": "EUR", "DE": "EUR", "ES": "EUR", "GB": "GBP", "US": "USD"}
SERVICES = ("Streamly", "Tunebox", "Wavely")
GENRES = ("pop", "rock", "hip-hop", "electronic", "classical", "jazz", "folk", "latin")
SUBSCRIPTION_MINOR = {"EUR": 1099, "GBP": 1099, "USD": 1199}
RIGHTHOLDER_SHARE = Decimal("0.52")  # share of a subscription fee paid to recording rightholders
_SYLLABLES = np.array(["la", "mo", "ri", "ka", "zu", "ne", "to", "shi", "ba", "el", "or", "vin",
                       "dra", "sol", "mi", "quo", "ta", "ren", "jo", "xa"])


@dataclass
class Generated:
    """What was written, plus the repertoire the usage refers to."""

    period: str
    lines: int
    users: int
    sources: list[str]
    recordings: pa.Table  # recording_number, isrc, work_number, title, artist, album, duration_s, genre
    rights: list[ItemRights]
    agreements: list[Agreement]
    files: dict[str, list[Path]] = field(default_factory=dict)
    bytes_written: int = 0


def _names(rng: np.random.Generator, n: int, parts: int) -> np.ndarray:
    picks = rng.integers(0, len(_SYLLABLES), size=(n, parts))
    words = _SYLLABLES[picks]
    out = np.char.add(words[:, 0], words[:, 1])
    for i in range(2, parts):
        out = np.char.add(out, words[:, i])
    return np.char.capitalize(out)


def repertoire(n_recordings: int, seed: int = 7, recordings_per_artist: int = 4) -> tuple[pa.Table, list[ItemRights], list[Agreement]]:
    """A catalogue of recordings with artists, genres, shares and label deals.

    Each artist (party ``1000 + artist``) holds 100 % of the making-available right of its
    recordings and has a recording contract with one of five labels (parties 1..5) that
    keeps 75–85 %; some deals carry an advance. Recording numbers are ``R`` + 7 digits,
    ISRCs ``QZ`` (a prefix the ISRC agency allocates directly) + ``OBR`` + year + serial: valid ISRCs.
    """
    rng = np.random.default_rng(seed)
    n_artists = max(1, n_recordings // recordings_per_artist)
    artist_of = np.arange(n_recordings) % n_artists
    artist_names = np.char.add(_names(rng, n_artists, 2), " ")
    artist_names = np.char.add(artist_names, _names(rng, n_artists, 3))
    genre_of_artist = rng.choice(len(GENRES), size=n_artists, p=[.3, .15, .18, .12, .05, .05, .07, .08])
    numbers = np.char.add("R", np.char.zfill(np.arange(1, n_recordings + 1).astype(str), 7))
    isrcs = np.char.add("QZOBR24", np.char.zfill(np.arange(1, n_recordings + 1).astype(str), 5))
    titles = _names(rng, n_recordings, 3)
    durations = rng.integers(120, 360, size=n_recordings).astype(np.int32)
    recordings = pa.table({
        "recording_number": numbers, "isrc": isrcs,
        "work_number": np.char.add("W", np.char.zfill(np.arange(1, n_recordings + 1).astype(str), 7)),
        "title": titles, "artist": artist_names[artist_of],
        "album": np.char.add(artist_names[artist_of], " — Album"),
        "duration_s": durations, "genre": np.array(GENRES)[genre_of_artist[artist_of]],
        "artist_party": (1000 + artist_of).astype(np.int64),
    })
    label_of_artist = rng.integers(1, 6, size=n_artists)
    retained = [Decimal("0.75"), Decimal("0.80"), Decimal("0.82"), Decimal("0.85")]
    agreements = []
    for a in range(n_artists):
        advance = int(rng.choice([0, 0, 0, 50_000, 200_000]))
        agreements.append(Agreement(
            id=a + 1, kind="recording_contract", assignor=1000 + a, assignee=int(label_of_artist[a]),
            rights=("making_available",), start=date(2015, 1, 1), retained=retained[a % 4],
            advance=advance, currency="EUR"))
    rights = [ItemRights(str(numbers[i]), "recording",
                         (Share.model_construct(party=int(1000 + artist_of[i]), role="performer",
                                                right_type="making_available", territory="2WL",
                                                share=Decimal(100)),),
                         (int(1000 + artist_of[i]),), str(titles[i]))
              for i in range(n_recordings)]
    return recordings, rights, agreements


def _source_id(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()[:16]


def generate(home: Path, lines: int = 1_000_000, users: int = 100_000, recordings: int = 20_000,
             period: str = "2024-03", seed: int = 42, missing_isrc: float = 0.06,
             outside_repertoire: float = 0.04, zipf_s: float = 1.05,
             chunk: int = 5_000_000) -> Generated:
    """Write ``lines`` usage lines for ``users`` listeners, with pools and id matches, under ``home``.

    One source file per service. Lines are written in row groups of ``chunk`` so memory
    stays bounded at any scale (100 million lines need a few GB of disk, not of RAM).
    """
    rng = np.random.default_rng(seed)
    recs, rights, agreements = repertoire(recordings, seed)
    n_outside = max(1, int(recordings * 0.2))
    n_tracks = recordings + n_outside
    outside_ids = np.arange(n_outside)
    # Per-track columns (repertoire first, then tracks nobody registered), taken per line with
    # Arrow's C++ take: no Python string work per line.
    track_isrc = pa.concat_arrays([recs["isrc"].combine_chunks(), pa.array(
        np.char.add("QZOUT24", np.char.zfill(outside_ids.astype(str), 5)))])
    plain_titles = pa.concat_arrays([recs["title"].combine_chunks(),
                                     pa.array(np.char.add("Track ", outside_ids.astype(str)))])
    track_title = pa.concat_arrays([plain_titles, pc.utf8_upper(plain_titles)])  # + noisy variants
    track_artist = pa.concat_arrays([recs["artist"].combine_chunks(),
                                     pa.array(np.char.add("Unsigned ", (outside_ids % 997).astype(str)))])
    track_number = pa.concat_arrays([recs["recording_number"].combine_chunks(), pa.nulls(n_outside, pa.string())])
    track_dur = np.concatenate([recs["duration_s"].to_numpy(), np.full(n_outside, 200, np.int32)])
    # Popularity: Zipf over repertoire + outside tracks, shuffled so ids do not encode rank.
    ranks = np.arange(1, n_tracks + 1, dtype=np.float64)
    pop = ranks ** -zipf_s
    pop = pop[rng.permutation(len(pop))]
    inside = pop[:recordings] / pop[:recordings].sum() * (1 - outside_repertoire)
    outside = pop[recordings:] / pop[recordings:].sum() * outside_repertoire
    track_p = np.concatenate([inside, outside])
    track_cdf = np.cumsum(track_p)
    track_cdf /= track_cdf[-1]

    # Users: territory, service, commercial model and a heavy-tailed activity level.
    terr_names = np.array(list(TERRITORIES))
    user_terr = rng.choice(len(terr_names), size=users, p=[.22, .22, .14, .17, .25])
    user_service = rng.choice(len(SERVICES), size=users, p=[.5, .3, .2])
    user_sub = rng.random(users) < 0.7
    activity = rng.lognormal(mean=0.0, sigma=1.2, size=users)
    user_cdf = np.cumsum(activity)
    user_cdf /= user_cdf[-1]
    user_ids = pa.array(np.char.add("u", np.arange(users).astype(str)))
    terr_arr = pa.array(terr_names)
    cur_arr = pa.array([TERRITORIES[x] for x in terr_names])
    model_arr = pa.array(["AdSupport", "Subscription"])
    use_arr = pa.array(["NonInteractiveStream", "OnDemandStream"])

    usage_root, pools_root, matches_root = home / "usage", home / "pools", home / "matches"
    sources = {s: _source_id(f"generated:{seed}:{period}:{s}") for s in SERVICES}
    files: dict[str, list[Path]] = {"usage": [], "pools": [], "matches": []}
    written = 0
    writers: dict[tuple[str, str], pq.ParquetWriter] = {}
    line_counter = {s: 0 for s in SERVICES}

    def writer(kind: str, root: Path, schema: pa.Schema, service: str) -> pq.ParquetWriter:
        key = (kind, service)
        if key not in writers:
            path = root / f"period={period}" / f"source={sources[service]}" / "part-0.parquet"
            path.parent.mkdir(parents=True, exist_ok=True)
            writers[key] = pq.ParquetWriter(path, schema, compression="zstd")
            files[kind].append(path)
        return writers[key]

    remaining = lines
    while remaining > 0:
        n = min(chunk, remaining)
        remaining -= n
        u = np.searchsorted(user_cdf, rng.random(n), side="right").clip(0, users - 1)
        t = np.searchsorted(track_cdf, rng.random(n), side="right").clip(0, len(track_p) - 1)
        plays = rng.geometric(0.45, size=n).astype(np.int64)
        active = (rng.random(n) < 0.6).astype(np.int8)
        has_isrc = rng.random(n) >= missing_isrc
        noisy = (rng.random(n) < 0.1).astype(np.int64)
        for si, service in enumerate(SERVICES):
            sel = np.nonzero(user_service[u] == si)[0]
            if not len(sel):
                continue
            k = len(sel)
            us, ts = u[sel], t[sel]
            start = line_counter[service]
            line_counter[service] += k
            src = pa.array(np.full(k, sources[service]))
            line_no = np.arange(start + 1, start + k + 1, dtype=np.int64)
            isrc_col = pc.if_else(pa.array(has_isrc[sel]), track_isrc.take(ts), pa.scalar(None, pa.string()))
            usage = pa.table({
                "source": src, "line": line_no,
                "period": pa.array(np.full(k, period)), "territory": terr_arr.take(user_terr[us]),
                "service": pa.array(np.full(k, service)),
                "commercial_model": model_arr.take(user_sub[us].astype(np.int8)),
                "use_type": use_arr.take(active[sel]),
                "user_id": user_ids.take(us), "isrc": isrc_col,
                "iswc": pa.nulls(k, pa.string()), "proprietary_id": pa.nulls(k, pa.string()),
                "title": track_title.take(ts + noisy[sel] * n_tracks), "artist": track_artist.take(ts),
                "album": pa.nulls(k, pa.string()), "duration_s": track_dur[ts],
                "plays": plays[sel], "revenue": pa.nulls(k, USAGE_SCHEMA.field("revenue").type),
                "currency": cur_arr.take(user_terr[us]),
            }, schema=USAGE_SCHEMA)
            writer("usage", usage_root, USAGE_SCHEMA, service).write_table(usage)
            matched = pa.array((ts < recordings) & has_isrc[sel])
            matches = pa.table({
                "source": src, "line": line_no,
                "recording_number": pc.if_else(matched, track_number.take(ts), pa.scalar(None, pa.string())),
                "work_number": pa.nulls(k, pa.string()),
                "isrc": isrc_col, "iswc": pa.nulls(k, pa.string()),
                "method": pc.if_else(matched, "isrc", "none"),
                "score": pc.if_else(matched, 1.0, 0.0),
            }, schema=MATCHES_SCHEMA)
            writer("matches", matches_root, MATCHES_SCHEMA, service).write_table(matches)

    # Pools: each subscriber pays the rightholders' share of their fee to the service they use;
    # ad-supported slices get one pool each, sized like 20 % of the subscription revenue there.
    for si, service in enumerate(SERVICES):
        src = sources[service]
        rows: dict[str, list] = {n: [] for n in POOLS_SCHEMA.names}
        mine = np.nonzero((user_service == si) & user_sub)[0]
        for ti_, terr in enumerate(terr_names):
            cur = TERRITORIES[terr]
            fee = int(SUBSCRIPTION_MINOR[cur] * RIGHTHOLDER_SHARE)
            subs = mine[user_terr[mine] == ti_]
            rows["user_id"].extend(user_ids.take(subs).to_pylist())
            rows["amount_minor"].extend([fee] * len(subs))
            for col, value in (("source", src), ("period", period), ("territory", str(terr)),
                               ("service", service), ("commercial_model", "Subscription"), ("currency", cur)):
                rows[col].extend([value] * len(subs))
            ad_pool = int(len(subs) * fee * 0.2) + 1
            for col, value in (("source", src), ("period", period), ("territory", str(terr)),
                               ("service", service), ("commercial_model", "AdSupport"), ("currency", cur),
                               ("user_id", None), ("amount_minor", ad_pool)):
                rows[col].append(value)
        table = pa.table(rows, schema=POOLS_SCHEMA)
        path = pools_root / f"period={period}" / f"source={src}" / "part-0.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, path, compression="zstd")
        files["pools"].append(path)
    for w in writers.values():
        w.close()
    for paths in files.values():
        written += sum(p.stat().st_size for p in paths)
    return Generated(period, lines, users, sorted(sources.values()), recs, rights, agreements, files, written)
