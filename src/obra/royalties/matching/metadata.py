"""The metadata scoring model: how alike are two track descriptions, and is that a match?

Used for fuzzy matching of usage lines that carry no known identifier, and by
``obra match score PAIRS.csv``. The model is deliberately small and documented so a
rightholder can see why a line was or was not matched:

1. **Normalise** both sides (:func:`normalise_title`, :func:`normalise_artist`): fold case,
   accents and width (``obra.textnorm``); move ``feat.``/``ft.``/``featuring`` guests from the
   title to the artist; drop version noise that does not change the work — ``Remastered
   2011``, ``- Remaster``, ``Radio Edit``, ``Album Version``, ``Explicit``, ``Mono``/``Stereo``;
   treat ``&``, ``and``, ``y``, ``et``, ``x``, ``,`` between artists alike; drop what video platforms
   add (``(Official Video)``, ``[Official Audio]``, ``(Lyric Video)``, ``[Explicit]``, ``(Video Oficial)``).
   A messy description is also read every other way it can be (:func:`readings`): a title holding
   several fields ("Artist - Title", "Title | Album", all in one) split at its separators, each part
   taken as the title and the rest as artist; title and artist swapped. The best reading counts.
2. **Compare** with rapidfuzz (0–1): title = max(ratio, token-sort ratio) — character
   ratio also works for CJK titles written without spaces; artist = token-set ratio (order
   and guests do not matter); album = token-set ratio; duration by the difference in
   seconds: ≤2 s → 1.0, ≤5 s → 0.8, ≤10 s → 0.5, ≤30 s → 0.2, more → 0.
3. **Weigh** what both sides have: title 0.50, artist 0.30, duration 0.15, album 0.05;
   weights of missing fields are left out and the rest renormalised, so a missing album
   neither helps nor hurts.
4. **Identifiers**: equal ISRCs → score 1.0 (the same recording). Two *different* ISRCs
   are two recordings — possibly of the same work — so the score is capped at
   :data:`REVIEW_CAP` and never becomes an automatic match.
5. **Decide**: score ≥ :data:`MATCH_THRESHOLD` → ``match``; ≥ :data:`REVIEW_THRESHOLD` →
   ``review`` (goes to the claims queue); below → ``no-match``. A ``match`` also needs the
   title and (when both sides have one) the artist to agree on their own (similarity ≥
   :data:`AGREEMENT`): the same title by a similar-looking artist is a review, not a match.

The thresholds were chosen on the seeded noisy benchmark (``bench/bench_matching.py``),
which reports precision and recall against a naive exact-title baseline.

**On usage lines** (:func:`fuzzy_match`): the lines no identifier matched are grouped by their
distinct (title, artist, album, duration); each is scored once against the registered
recordings whose normalised titles are nearest (:class:`FuzzyIndex`). A ``match`` upgrades the
lines to method ``fuzzy``; otherwise they stay ``none`` with the best score kept, for the
claims queue (:mod:`obra.royalties.matching.claims`).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pyarrow as pa
from rapidfuzz import fuzz, process

from obra.errors import InvalidInput, Problem
from obra.royalties.records import MATCHES_SCHEMA
from obra.textnorm import normalize_text

MATCH_THRESHOLD = 0.85
REVIEW_THRESHOLD = 0.65
REVIEW_CAP = 0.80
AGREEMENT = 0.80
WEIGHTS = {"title": 0.50, "artist": 0.30, "duration": 0.15, "album": 0.05}
PAIR_COLUMNS = ("left_title", "left_artist", "left_album", "left_duration", "left_isrc",
                "right_title", "right_artist", "right_album", "right_duration", "right_isrc")

_FEAT = re.compile(r"[\(\[]?\s*\b(?:feat\.?|ft\.?|featuring|with)\s+([^\)\]]+)[\)\]]?", re.IGNORECASE)
_NOISE = re.compile(
    r"[\(\[\-–—]\s*(?:\d{4}\s+)?(?:digital(?:ly)?\s+)?(?:remasterizad[oa]|versión remasterizada|remaster(?:ed)?|"
    r"re-?master(?:ed)?|radio edit|album version|single version|explicit|clean|mono|stereo|original mix)"
    r"(?:\s+(?:version|versión))?(?:\s+\d{4})?\s*[\)\]]?", re.IGNORECASE)
# what video platforms add to a title: never part of the work's or the recording's name
_PLATFORM_NOISE = re.compile(
    r"[\(\[]\s*(?:official\s+(?:music\s+)?(?:video|audio|lyric\s+video|visuali[sz]er)|lyric(?:s)?(?:\s+video)?|"
    r"visuali[sz]er|audio|video(?:\s+oficial)?|video\s+official|letra|hd|hq|4k|explicit(?:\s+version)?|"
    r"clean(?:\s+version)?)\s*[\)\]]", re.IGNORECASE)
# between the title, the artist and the album when a platform puts them in one field
_FIELD_SEP = re.compile(r"\s+[-–—|/]\s+|\s*[|–—]\s*|:\s+")
_ARTIST_SEP = re.compile(r"\s*(?:&|\+|,|;|/|\band\b|\by\b|\bet\b|\bx\b|\bvs\.?\b)\s*", re.IGNORECASE)


@dataclass(frozen=True)
class Track:
    """One side of a pair: what a usage line or a registered recording says about a track."""

    title: str | None = None
    artist: str | None = None
    album: str | None = None
    duration_s: int | None = None
    isrc: str | None = None


@dataclass(frozen=True)
class Score:
    score: float
    decision: str
    title: float | None = None
    artist: float | None = None
    album: float | None = None
    duration: float | None = None
    reason: str = ""

    def to_dict(self) -> dict:
        return {"score": round(self.score, 4), "decision": self.decision,
                "components": {k: (round(v, 4) if v is not None else None)
                               for k, v in (("title", self.title), ("artist", self.artist),
                                            ("album", self.album), ("duration", self.duration))},
                "reason": self.reason}


@lru_cache(maxsize=200_000)
def split_featured(title: str) -> tuple[str, str]:
    """``"Song (feat. X)"`` → (``"Song"``, ``"X"``)."""
    guests = []

    def keep(m: re.Match) -> str:
        guests.append(m.group(1))
        return " "

    return _FEAT.sub(keep, title), " ".join(guests)


@lru_cache(maxsize=200_000)
def normalise_title(title: str | None) -> str:
    if not title:
        return ""
    bare, _ = split_featured(title)
    bare = _NOISE.sub(" ", _PLATFORM_NOISE.sub(" ", bare))
    return normalize_text(bare)


@lru_cache(maxsize=200_000)
def readings(track: Track) -> tuple[Track, ...]:
    """The ways a (messy) track description can be read: as given, then each part of a title that holds
    several fields ("Artist - Title (Official Video)", "Title | Album") as the title with the other parts
    added to the artist, then title and artist swapped (fields in the wrong column).

    The scorer keeps the best reading (:func:`score_pair`), so a clean description scores as before and
    a messy one as its best interpretation; a different song by the same artist still has a different
    title in every reading.
    """
    out = [track]
    if not track.title:
        return tuple(out)
    bare = _NOISE.sub(" ", _PLATFORM_NOISE.sub(" ", track.title))
    parts = [p.strip() for p in _FIELD_SEP.split(bare) if p and p.strip()]
    if len(parts) > 1:
        for i, part in enumerate(parts):
            rest = " ".join(parts[:i] + parts[i + 1:])
            out.append(Track(part, " ".join(x for x in (track.artist, rest) if x), track.album, track.duration_s,
                             track.isrc))
    if track.artist:
        out.append(Track(track.artist, track.title, track.album, track.duration_s, track.isrc))
    return tuple(out)


@lru_cache(maxsize=200_000)
def normalise_artist(artist: str | None, title: str | None = None) -> str:
    names = [artist or ""]
    if title:
        names.append(split_featured(title)[1])
    text = " ".join(n for n in names if n)
    text = _FEAT.sub(lambda m: " " + m.group(1), text)
    parts = [normalize_text(p) for p in _ARTIST_SEP.split(text)]
    return " ".join(sorted(p for p in parts if p))


def artist_similarity(a: str, b: str) -> float:
    """Similarity of two normalised artist strings (0–1).

    Token-set similarity when one side's names are all on the other side (guests, "The",
    reordering: ``luis fonsi`` vs ``daddy yankee luis fonsi`` is 1.0); otherwise the plain
    token-sort similarity, so that sharing one first name is not enough
    (``noel nunez`` vs ``noel perez`` stays low).
    """
    ta, tb = set(a.split()), set(b.split())
    if ta <= tb or tb <= ta:
        return fuzz.token_set_ratio(a, b) / 100
    return fuzz.token_sort_ratio(a, b) / 100


def _duration_similarity(a: int, b: int) -> float:
    diff = abs(a - b)
    for limit, value in ((2, 1.0), (5, 0.8), (10, 0.5), (30, 0.2)):
        if diff <= limit:
            return value
    return 0.0


def decide(score: float) -> str:
    if score >= MATCH_THRESHOLD:
        return "match"
    if score >= REVIEW_THRESHOLD:
        return "review"
    return "no-match"


_DECISION_RANK = {"match": 2, "review": 1, "no-match": 0}


def score_pair(left: Track, right: Track) -> Score:
    """Score two track descriptions with the model in the module docstring: as given, and when that is not
    a match, every other reading of each (:func:`readings`) against the other as given; the best decision,
    then the best score, wins (ties keep the reading as given)."""
    li, ri = (left.isrc or "").replace("-", "").upper(), (right.isrc or "").replace("-", "").upper()
    if li and ri and li == ri:
        return Score(1.0, "match", reason="same ISRC")
    best = _score_reading(left, right)
    if best.decision == "match":  # as given, it already matches: no other reading can change the decision
        return best
    ours, theirs = readings(left), readings(right)
    # one side read another way against the other as given (reading both differently would compare,
    # say, each side's artist as its title)
    for a, b in [(ours[0], b) for b in theirs[1:]] + [(a, theirs[0]) for a in ours[1:]]:
        s = _score_reading(a, b)
        if (_DECISION_RANK[s.decision], s.score) > (_DECISION_RANK[best.decision], best.score):
            best = s
    return best


def _score_reading(left: Track, right: Track) -> Score:
    li, ri = (left.isrc or "").replace("-", "").upper(), (right.isrc or "").replace("-", "").upper()
    lt, rt = normalise_title(left.title), normalise_title(right.title)
    parts: dict[str, float] = {}
    if lt and rt:
        parts["title"] = max(fuzz.ratio(lt, rt), fuzz.token_sort_ratio(lt, rt)) / 100
    la, ra = normalise_artist(left.artist, left.title), normalise_artist(right.artist, right.title)
    if la and ra:
        parts["artist"] = artist_similarity(la, ra)
    lb, rb = normalize_text(left.album), normalize_text(right.album)
    if lb and rb:
        parts["album"] = fuzz.token_set_ratio(lb, rb) / 100
    if left.duration_s and right.duration_s:
        parts["duration"] = _duration_similarity(left.duration_s, right.duration_s)
    if "title" not in parts:
        return Score(0.0, "no-match", reason="a title is missing on one side")
    weight = sum(WEIGHTS[k] for k in parts)
    score = sum(WEIGHTS[k] * v for k, v in parts.items()) / weight
    reason = ""
    if li and ri and li != ri:
        score = min(score, REVIEW_CAP)
        reason = "different ISRCs: two recordings, at most a review"
    decision = decide(score)
    weak = [k for k in ("title", "artist") if k in parts and parts[k] < AGREEMENT]
    if decision == "match" and weak:
        decision = "review"
        reason = f"{' and '.join(weak)} disagree{'s' if len(weak) == 1 else ''}: at most a review"
    return Score(score, decision, parts.get("title"), parts.get("artist"), parts.get("album"),
                 parts.get("duration"), reason)


def _duration(value: str, line: int, fieldname: str, problems: list[Problem], source: str) -> int | None:
    value = (value or "").strip()
    if not value:
        return None
    m = re.fullmatch(r"(?:(\d+):)?(\d+)(?::(\d{2}))?", value)
    if not m:
        problems.append(Problem(f"'{value}' is not a duration: seconds (215) or m:ss (3:35)",
                                fieldname, line, source))
        return None
    a, b, c = m.groups()
    if c is not None:   # h:mm:ss or m:ss with the regex above: a:b:c
        return int(a or 0) * 3600 + int(b) * 60 + int(c)
    if a is not None:
        return int(a) * 60 + int(b)
    return int(b)


def score_pairs_file(path: str | Path) -> list[dict]:
    """Score every row of a pairs CSV (columns :data:`PAIR_COLUMNS`); refuse the file on any problem."""
    path = Path(path)
    problems: list[Problem] = []
    out = []
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        header = [h.strip() for h in reader.fieldnames or []]
        reader.fieldnames = header
        missing = [c for c in PAIR_COLUMNS if c not in header]
        if missing:
            raise InvalidInput([Problem(f"required column '{c}' is missing; the header must be "
                                        f"{','.join(PAIR_COLUMNS)}", c, 1, path.name) for c in missing])
        for row in reader:
            line = reader.line_num
            sides = []
            for side in ("left", "right"):
                sides.append(Track(
                    title=(row.get(f"{side}_title") or "").strip() or None,
                    artist=(row.get(f"{side}_artist") or "").strip() or None,
                    album=(row.get(f"{side}_album") or "").strip() or None,
                    duration_s=_duration(row.get(f"{side}_duration") or "", line, f"{side}_duration",
                                         problems, path.name),
                    isrc=(row.get(f"{side}_isrc") or "").strip() or None))
            result = score_pair(*sides)
            out.append({"line": line, **result.to_dict()})
    if problems:
        raise InvalidInput(problems)
    return out


# --------------------------------------------------------------------------- usage lines
#: How many registered recordings with the nearest titles are scored with the full model.
CANDIDATES = 10


def _candidate_key(title: str | None, artist: str | None) -> str:
    """What candidate search compares: normalised title, then artist (a same-title song by
    another artist ranks below the right one)."""
    return f"{normalise_title(title)} | {normalise_artist(artist, title)}"


class FuzzyIndex:
    """Registered recordings, normalised once, for candidate search and scoring."""

    def __init__(self, recordings: pa.Table):
        rows = recordings.to_pylist()
        self.rows = rows
        self.titles = [_candidate_key(r["title"], r["artist"]) for r in rows]
        self.tracks = [Track(r["title"], r["artist"], r["album"], r["duration_s"], r["isrc"]) for r in rows]

    def best(self, track: Track) -> tuple[dict | None, Score | None]:
        return self.best_many([track])[0]

    def best_many(self, tracks: list[Track], chunk: int = 2048) -> list[tuple[dict | None, Score | None]]:
        """For each track, the registered recording that scores highest, and that score.

        Candidates are the :data:`CANDIDATES` recordings whose normalised titles are nearest to
        each reading of the track (:func:`readings`; rapidfuzz ``cdist`` over blocks of queries, on
        every core), pooled, then each candidate is scored with the full model (:func:`score_pair`).
        """
        import numpy as np

        out: list[tuple[dict | None, Score | None]] = [(None, None)] * len(tracks)
        if not self.rows:
            return out
        # every reading of a messy description is a query of its own; their candidates are pooled
        owners, queries = [], []
        for i, t in enumerate(tracks):
            if not t.title:
                continue
            # readings are mostly the same words in another order: token_sort_ratio sees them alike
            for key in dict.fromkeys(" ".join(sorted(_candidate_key(r.title, r.artist).split()))
                                     for r in readings(t)):
                owners.append(i)
                queries.append(key)
        k = min(CANDIDATES, len(self.titles))
        pooled: dict[int, set[int]] = {}
        for start in range(0, len(queries), chunk):
            block = queries[start:start + chunk]
            matrix = process.cdist(block, self.titles, scorer=fuzz.token_sort_ratio, score_cutoff=40,
                                   dtype=np.uint8, workers=-1)
            nearest = np.argpartition(matrix, -k, axis=1)[:, -k:] if k < matrix.shape[1] else \
                np.tile(np.arange(matrix.shape[1]), (matrix.shape[0], 1))
            for row in range(len(block)):
                candidates = pooled.setdefault(owners[start + row], set())
                candidates.update(int(index) for index in nearest[row] if matrix[row, index] != 0)
        for i, candidates in pooled.items():
            best_row, best_score = None, None
            for index in sorted(candidates):
                s = score_pair(tracks[i], self.tracks[index])
                if best_score is None or s.score > best_score.score:
                    best_row, best_score = self.rows[index], s
            out[i] = (best_row, best_score)
        return out


def unmatched_metadata(usage: pa.Table, matches: pa.Table) -> tuple[list[int], list[tuple]]:
    """Positions (in ``matches``) of ``none`` lines and their (title, artist, album, duration)."""
    import pyarrow.compute as pc

    positions = pc.indices_nonzero(pc.equal(matches["method"], "none")).to_pylist()
    if not positions:
        return [], []
    lines = pc.take(matches["line"], pa.array(positions, pa.int64()))
    sub = usage.filter(pc.is_in(usage["line"], value_set=lines))
    meta = dict(zip(sub["line"].to_pylist(), zip(sub["title"].to_pylist(), sub["artist"].to_pylist(),
                                                  sub["album"].to_pylist(), sub["duration_s"].to_pylist())))
    return positions, [meta.get(line, (None, None, None, None)) for line in lines.to_pylist()]


def replace_matches(matches: pa.Table, updates: dict[int, dict]) -> pa.Table:
    """``matches`` with some rows' numbers, method and score replaced (by position)."""
    if not updates:
        return matches
    columns = {name: matches[name].to_pylist() for name in
               ("recording_number", "work_number", "isrc", "method", "score")}
    for pos, change in updates.items():
        for name, value in change.items():
            columns[name][pos] = value
    out = matches
    for name, values in columns.items():
        out = out.set_column(out.schema.get_field_index(name), name,
                             pa.array(values, MATCHES_SCHEMA.field(name).type))
    return out


def fuzzy_match(usage: pa.Table, matches: pa.Table, index: FuzzyIndex) -> pa.Table:
    """Upgrade ``none`` matches whose metadata scores a ``match`` against a registered recording.

    Each distinct (title, artist, album, duration) is scored once, however many lines carry it.
    """
    positions, metas = unmatched_metadata(usage, matches)
    distinct = sorted({key for key in metas if key[0]}, key=repr)
    best = dict(zip(distinct, index.best_many([Track(*key) for key in distinct])))
    isrcs = matches["isrc"]
    updates: dict[int, dict] = {}
    for pos, key in zip(positions, metas):
        hit, s = best.get(key, (None, None))
        if s is None:
            continue
        if s.decision == "match":
            updates[pos] = {"recording_number": hit["recording_number"], "work_number": hit["work_number"],
                            "isrc": isrcs[pos].as_py() or hit["isrc"], "method": "fuzzy",
                            "score": float(s.score)}
        else:
            updates[pos] = {"score": float(s.score)}
    return replace_matches(matches, updates)
