"""Demo usage reports for the demo catalogue: a month of streaming on a fictional service.

Writes what a service would send, in Obra's documented CSV formats (see
``docs/usage-formats.md``): a usage file (one line per subscriber × recording, Zipf
popularity, 15 % of lines without an ISRC and with noisy metadata, 2 % for recordings
nobody registered) and a pools file (each subscriber's monthly payment, plus an
ad-supported pool per territory). The demo then ingests them through the same path as
real reports. Seeded: the same catalogue and seed give byte-identical files.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

from obra.store.repertoire import Repertoire

TERRITORIES = {"UY": ("USD", "9.99"), "ES": ("EUR", "10.99"), "BR": ("USD", "4.99"), "JP": ("JPY", "1080")}
AD_POOL = {"UY": "812.40", "ES": "2310.75", "BR": "1290.10", "JP": "98000"}
SERVICE = "Tambor Music"


def _artist(item) -> str:
    performers = {p["party"] for p in item.record.get("recording", {}).get("performers", [])}
    names = [p["name"] for p in item.record.get("parties", []) if p["id"] in performers]
    return " & ".join(names) or "Unknown Artist"


def _noisy(rng: random.Random, title: str, artist: str) -> tuple[str, str]:
    variant = rng.choice(["remaster", "feat", "case", "accent", "plain"])
    if variant == "remaster":
        return f"{title} - Remastered {rng.choice([2009, 2011, 2019])}", artist
    if variant == "feat":
        return title, f"{artist} feat. {rng.choice(['DJ Sur', 'Los Tigres', 'Mika'])}"
    if variant == "case":
        return title.upper(), artist.lower()
    if variant == "accent":
        return title.replace("ó", "o").replace("ã", "a").replace("é", "e"), artist
    return title, artist


def write_demo_reports(repertoire: Repertoire, out: Path, period: str = "2026-10", seed: int = 2026,
                       subscribers: int = 3000, listens_per_subscriber: int = 12) -> list[Path]:
    """Write ``usage-<period>.csv`` and ``pools-<period>.csv`` under ``out``; returns their paths."""
    rng = random.Random(seed)
    recordings = sorted((r for r in repertoire.recordings.values() if r.isrc), key=lambda r: r.number)
    if not recordings:
        return []
    weights = [1 / (rank + 1) ** 1.07 for rank in range(len(recordings))]
    out.mkdir(parents=True, exist_ok=True)
    usage_path, pools_path = out / f"usage-{period}.csv", out / f"pools-{period}.csv"
    territories = list(TERRITORIES)
    with usage_path.open("w", newline="", encoding="utf-8") as usage, \
            pools_path.open("w", newline="", encoding="utf-8") as pools:
        u = csv.writer(usage)
        p = csv.writer(pools)
        u.writerow(["period", "territory", "service", "commercial_model", "use_type", "user_id", "isrc", "title",
                    "artist", "duration_s", "plays"])
        p.writerow(["period", "territory", "service", "commercial_model", "currency", "amount", "user_id"])
        for n in range(subscribers):
            user = f"sub-{n:05d}"
            territory = rng.choice(territories)
            currency, fee = TERRITORIES[territory]
            p.writerow([period, territory, SERVICE, "Subscription", currency, fee, user])
            heavy = rng.random() < 0.05
            picks: dict[int, int] = {}
            for _ in range(listens_per_subscriber * (8 if heavy else 1)):
                i = rng.choices(range(len(recordings)), weights)[0]
                picks[i] = picks.get(i, 0) + rng.randint(1, 30 if heavy else 6)
            for i, plays in sorted(picks.items()):
                rec = recordings[i]
                title, artist = rec.title, _artist(rec)
                isrc = rec.isrc
                if rng.random() < 0.15:
                    isrc = ""
                    title, artist = _noisy(rng, title, artist)
                u.writerow([period, territory, SERVICE, "Subscription", "stream", user, isrc, title, artist,
                            rec.duration_seconds or "", plays])
            if rng.random() < 0.02:
                u.writerow([period, territory, SERVICE, "Subscription", "stream", user, "", "Unregistered Song",
                            "Nobody Registered", 200, rng.randint(1, 9)])
        for territory in territories:
            currency, _ = TERRITORIES[territory]
            p.writerow([period, territory, SERVICE, "AdSupport", currency, AD_POOL[territory], ""])
            for i in range(300):
                rec = recordings[rng.choices(range(len(recordings)), weights)[0]]
                u.writerow([period, territory, SERVICE, "AdSupport", "stream", "", rec.isrc, rec.title, _artist(rec),
                            rec.duration_seconds or "", rng.randint(1, 50)])
    return [usage_path, pools_path]
