"""A seeded generator of realistic noisy metadata pairs with known truth.

DSPs report what their catalogue says, not what the registry says: titles with
"- Remastered 2011" or "(feat. Guest)", typos, dropped accents, artists written "A & B"
or "B, A", missing ISRCs, durations a second or two off, and titles in Spanish or CJK.
:func:`noisy_pairs` makes labelled pairs of (registered track, reported track):

* **positives** — the same recording, reported through 1-3 random distortions;
* **hard negatives** — a *different* recording by the same artist, or with a similar
  title, or another recording of the same song (a live version: a different recording);
* **easy negatives** — two unrelated tracks.

The same seed always gives the same pairs, so benchmark figures are reproducible.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from obra.royalties.matching.metadata import Track

_WORDS = ("love night heart dance fire rain blue summer city dream light gold river road moon star "
          "home wild young forever time lost shadow song sky sea girl boy baby world free fly").split()
_ES = ("amor noche corazón canción vida sueño luna mar cielo fuego lágrimas dolor alegría "
       "besos camino tierra sol mañana").split()
_CJK = ["月亮代表我的心", "夜空中最亮的星", "千本桜", "夜に駆ける", "소주 한 잔", "红豆", "恋", "青花瓷",
        "残酷な天使のテーゼ", "봄날", "후회", "甜蜜蜜", "海阔天空", "シャルル", "打上花火", "告白气球"]
_FIRST = "Ana Luis María José Sofía Carlos Kim Yuki Wei Lena Omar Zoë Noël Chloé Björn Søren".split()
_LAST = "García Pérez Müller Smith Chen Tanaka Park Dubois Rossi Novák Ångström López Núñez".split()
_BANDS = ("The Wolves", "Los Tigres", "Blue Harbour", "Neon Sky", "Cielo Rojo", "Kōhī", "Ivy & Stone")


@dataclass(frozen=True)
class Pair:
    left: Track
    right: Track
    same: bool
    kind: str  # positive | hard-negative | easy-negative


def _title(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.15:
        return rng.choice(_CJK) + (f" {rng.randint(2, 9)}" if rng.random() < 0.3 else "")
    if r < 0.35:
        return " ".join(rng.sample(_ES, rng.randint(1, 3))).capitalize()
    return " ".join(w.capitalize() for w in rng.sample(_WORDS, rng.randint(1, 4)))


def _artist(rng: random.Random) -> str:
    return rng.choice(_BANDS) if rng.random() < 0.3 else f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"


def _isrc(rng: random.Random) -> str:
    return f"{rng.choice(['US', 'GB', 'ES', 'UY', 'JP', 'KR'])}{''.join(rng.choices('ABCDEFGHJKLMNPQRSTUVWXYZ0123456789', k=3))}" \
           f"{rng.randint(0, 99):02d}{rng.randint(0, 99999):05d}"


def random_track(rng: random.Random) -> Track:
    return Track(title=_title(rng), artist=_artist(rng),
                 album=(" ".join(w.capitalize() for w in rng.sample(_WORDS, 2)) if rng.random() < 0.7 else None),
                 duration_s=rng.randint(120, 360), isrc=_isrc(rng))


def _typo(rng: random.Random, text: str) -> str:
    if len(text) < 4:
        return text
    i = rng.randrange(1, len(text) - 1)
    op = rng.random()
    if op < 0.33:
        return text[:i] + text[i + 1:]
    if op < 0.66:
        return text[:i] + text[i + 1] + text[i] + text[i + 2:]
    return text[:i] + rng.choice("aeiourstnl") + text[i + 1:]


def _strip_accents(text: str) -> str:
    import unicodedata

    stripped = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", stripped)


_DISTORTIONS = ("typo", "feat", "remaster", "accents", "case", "artist_order", "no_isrc", "duration",
                "no_album", "the")


def distort(rng: random.Random, t: Track, n: int | None = None) -> Track:
    """The same recording as a DSP might report it."""
    title, artist, album, duration, isrc = t.title, t.artist, t.album, t.duration_s, t.isrc
    for d in rng.sample(_DISTORTIONS, n or rng.randint(1, 3)):
        if d == "typo":
            title = _typo(rng, title)
        elif d == "feat":
            guest = f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"
            title = f"{title} ({rng.choice(['feat.', 'ft.', 'featuring'])} {guest})"
        elif d == "remaster":
            title = f"{title}{rng.choice([' - Remastered 2011', ' (Remastered)', ' - 2009 Remaster', ' (Radio Edit)'])}"
        elif d == "accents":
            title, artist = _strip_accents(title), _strip_accents(artist)
        elif d == "case":
            title = title.upper() if rng.random() < 0.5 else title.lower()
        elif d == "artist_order" and " " in artist:
            artist = f"{artist}, {rng.choice(_FIRST)}" if rng.random() < 0.5 else artist.upper()
        elif d == "no_isrc":
            isrc = None
        elif d == "duration" and duration:
            duration = duration + rng.choice([-2, -1, 1, 2])
        elif d == "no_album":
            album = None
        elif d == "the" and artist.startswith("The "):
            artist = artist[4:]
    if rng.random() < 0.8:   # most reports of an unidentified line carry no ISRC at all
        isrc = None
    return Track(title, artist, album, duration, isrc)


def _hard_negative(rng: random.Random, base: Track) -> Track:
    """Another recording that looks like ``base``: same artist and another song, a similar title by someone
    else, or a live recording of the same song (much longer)."""
    choice = rng.random()
    if choice < 0.4:
        other = random_track(rng)
        return Track(other.title, base.artist, other.album, other.duration_s, None)
    if choice < 0.7:
        return Track(_typo(rng, base.title), _artist(rng), None, rng.randint(120, 360), None)
    return Track(f"{base.title} (Live)", base.artist, "Live at the Apollo",
                 (base.duration_s or 200) + rng.randint(35, 90), _isrc(rng) if rng.random() < 0.5 else None)


def _pairs(n: int, seed: int, positive_share: float, report, hard, prefix: str = "") -> list[Pair]:
    """``n`` labelled pairs: a registered track and ``report`` of it (positive), ``hard(rng, base)`` (a hard
    negative) or ``report(rng, unrelated, 1)`` (an easy negative)."""
    rng = random.Random(seed)
    out: list[Pair] = []
    for _ in range(n):
        base = random_track(rng)
        r = rng.random()
        if r < positive_share:
            out.append(Pair(base, report(rng, base), True, f"{prefix}positive"))
        elif r < positive_share + (1 - positive_share) * 0.6:
            out.append(Pair(base, hard(rng, base), False, f"{prefix}hard-negative"))
        else:
            out.append(Pair(base, report(rng, random_track(rng), 1), False, f"{prefix}easy-negative"))
    return out


def noisy_pairs(n: int, seed: int = 7, positive_share: float = 0.5) -> list[Pair]:
    """``n`` labelled pairs; about ``positive_share`` of them are the same recording."""
    return _pairs(n, seed, positive_share, distort, _hard_negative)


# --- messy platform metadata (issue #18) ------------------------------------------------------------
# What platforms really send for user uploads and long-tail catalogue: the artist, the version,
# "(Official Video)", "[Explicit]", remaster years and the album put into the title field, fields in
# the wrong column, or everything in one field.

_VIDEO = (" (Official Video)", " (Official Music Video)", " [Official Audio]", " (Lyric Video)", " (Lyrics)",
          " (Visualizer)", " [HD]", " (Audio)", " (Video Oficial)", " (Letra)")
_SEPARATORS = (" - ", " – ", " — ", " | ", ": ", " - ")
_MESSY = ("artist_in_title", "title_then_artist", "video", "explicit", "remaster_year", "album_in_title",
          "swapped", "all_in_one", "feat_in_artist")


def messy(rng: random.Random, t: Track, n: int | None = None) -> Track:
    """The same recording as a platform's messy feed might carry it (no ISRC: that is why it is messy)."""
    title, artist, album, duration = t.title, t.artist, t.album, t.duration_s
    sep = rng.choice(_SEPARATORS)
    for kind in rng.sample(_MESSY, n or rng.choice((1, 1, 2, 2, 3))):
        if kind == "artist_in_title" and artist:
            title, artist = f"{artist}{sep}{title}", (artist if rng.random() < 0.5 else None)
        elif kind == "title_then_artist" and artist:
            title, artist = f"{title}{sep}{artist}", (artist if rng.random() < 0.5 else None)
        elif kind == "video":
            title += rng.choice(_VIDEO)
        elif kind == "explicit":
            title += rng.choice((" [Explicit]", " (Explicit)", " (Clean)", " [Explicit Version]"))
        elif kind == "remaster_year":
            year = rng.randint(1995, 2024)
            title += rng.choice((f" - Remastered {year}", f" ({year} Remaster)", f" [Remastered {year}]",
                                 f" - {year} Remastered Version", f" (Remasterizado {year})"))
        elif kind == "album_in_title" and album:
            title, album = f"{title}{sep}{album}", None
        elif kind == "swapped" and artist:
            title, artist = artist, title
        elif kind == "all_in_one":
            parts = [p for p in (artist, title, album if rng.random() < 0.5 else None) if p]
            title, artist, album = sep.join(parts) + (rng.choice(_VIDEO) if rng.random() < 0.4 else ""), None, None
        elif kind == "feat_in_artist" and artist:
            artist += f" {rng.choice(['feat.', 'ft.', 'Feat.', 'x', '&'])} {rng.choice(_FIRST)} {rng.choice(_LAST)}"
    if rng.random() < 0.3:   # and, sometimes, the ordinary noise on top
        title = _typo(rng, title) if rng.random() < 0.5 else _strip_accents(title)
    if duration and rng.random() < 0.3:
        duration += rng.choice([-2, -1, 1, 2])
    return Track(title, artist, album, duration, None)


def messy_pairs(n: int, seed: int = 18, positive_share: float = 0.5) -> list[Pair]:
    """``n`` labelled pairs whose reported side is messy (:func:`messy`), with the same kinds of negatives as
    :func:`noisy_pairs` made messy too: another song by the same artist, a similar title by someone else, a
    live recording of the same song, an unrelated track."""
    # the artist in a messy title must not carry a hard negative to a match
    return _pairs(n, seed, positive_share, messy, lambda rng, base: messy(rng, _hard_negative(rng, base)), "messy-")
