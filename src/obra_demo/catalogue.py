"""A seeded, realistic demo catalogue: parties, works, recordings and agreements across territories.

Names and titles come from several languages (Spanish and Portuguese with accents,
Japanese, Chinese and Korean titles, English, French), about 10 % of works are
AI-assisted and 5 % AI-generated (each with a disclosure), every work has shares
summing to 100 % per right type, and publishers hold agreements (assignments,
administration, sub-publishing abroad) so that chains resolve to real payees. The
same seed always gives the same catalogue.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from obra import ids

FIRST = {
    "ES": ["Lucía", "Mateo", "Sofía", "Martín", "Valentina", "Joaquín", "Camila", "Tomás", "Inés", "Agustín"],
    "UY": ["Florencia", "Facundo", "Micaela", "Santiago", "Rocío", "Gonzalo", "Belén", "Nicolás"],
    "BR": ["João", "Ana", "Luíza", "Caetano", "Gilberto", "Beatriz", "Conceição", "Thiago"],
    "JP": ["Haruki", "Yui", "Sora", "Aiko", "Ren", "Hina"],
    "KR": ["Min-jun", "Seo-yeon", "Ji-ho", "Ha-eun"],
    "CN": ["Wei", "Xiu", "Jun", "Mei"],
    "US": ["Emma", "Liam", "Olivia", "Noah", "Ava", "Elijah"],
    "FR": ["Chloé", "Étienne", "Léa", "Théo", "Élodie"],
    "GB": ["Amelia", "Oliver", "Isla", "Harry"],
}
LAST = {
    "ES": ["García", "Fernández", "López", "Martínez", "Sánchez", "Pérez", "Gómez", "Núñez", "Ibáñez"],
    "UY": ["Rodríguez", "González", "Suárez", "Benítez", "Olivera", "Cabrera"],
    "BR": ["Silva", "Conceição", "Araújo", "Gonçalves", "Brandão", "Simões"],
    "JP": ["Sato", "Suzuki", "Takahashi", "Tanaka", "Watanabe"],
    "KR": ["Kim", "Lee", "Park", "Choi"],
    "CN": ["Wang", "Li", "Zhang", "Liu"],
    "US": ["Smith", "Johnson", "Williams", "Brown", "Davis"],
    "FR": ["Martin", "Bernard", "Lefèvre", "Moreau", "Girard"],
    "GB": ["Taylor", "Evans", "Hughes", "Wright"],
}
TITLE_WORDS = {
    "es": ["Canción", "Corazón", "Noche", "Mar", "Camino", "Luna", "Sueño", "Ilusión", "Montevideo", "Candombe",
           "Milonga", "Pasión", "Río", "Olvido", "Mañana"],
    "pt": ["Saudade", "Coração", "Mar", "Canção", "Sertão", "Lua", "Manhã", "Ilusão", "Violão", "Sambinha"],
    "en": ["Love", "Night", "River", "Heart", "Midnight", "Highway", "Summer", "Echo", "Golden", "Fire"],
    "fr": ["Chanson", "Été", "Cœur", "Rêve", "Lumière", "Forêt"],
    "ja": ["夜明け", "桜", "君の声", "東京", "月", "夢"],
    "zh": ["月亮", "心", "夜曲", "春天", "海洋"],
    "ko": ["사랑", "별", "밤", "바다", "봄날"],
}
LANG_OF = {"ES": "es", "UY": "es", "BR": "pt", "JP": "ja", "KR": "ko", "CN": "zh", "US": "en", "FR": "fr", "GB": "en"}
GENRES = ["pop", "rock", "latin", "tango", "samba", "jazz", "classical", "electronic", "hip-hop", "folk", "k-pop"]
AI_SYSTEMS = [("Suno", "v4.5", "Suno Inc."), ("Udio", "1.5", "Uncharted Labs"), ("MusicGen", "large", "Meta"),
              ("Stable Audio", "2.0", "Stability AI"), ("ChatGPT", "GPT-5", "OpenAI")]
PUBLISHERS = ["Ediciones del Plata", "Editora Atlântica", "Tokyo Songs KK", "Northern Lights Music Publishing",
              "Éditions Lumière", "Seoul Beat Publishing", "Pacific Rim Music", "Casa Musical Andina"]
LABELS = ["Sello Sur", "Discos Atlântico", "Neon Harbour Records", "Kaze Records"]
CMOS = [("AGADU", "UY"), ("SGAE", "ES"), ("UBC", "BR"), ("JASRAC", "JP"), ("PRS", "GB"), ("SACEM", "FR")]


def _ipi(rng: random.Random) -> str:
    nine = f"{rng.randrange(10**8, 10**9):09d}"
    return nine + ids.ipi_name_check(nine)


def _iswc(rng: random.Random) -> str:
    nine = f"{rng.randrange(10**8, 10**9):09d}"
    return f"T{nine}{ids.iswc_check_digit(nine)}"


def _isrc(rng: random.Random, country: str, n: int) -> str:
    return f"{country}{rng.choice('ABCDEFGHJK')}{rng.randrange(10, 99)}{rng.randrange(15, 26)}{n:05d}"


def _title(rng: random.Random, lang: str) -> str:
    words = TITLE_WORDS[lang]
    k = rng.choice([1, 2, 2, 3])
    sep = "" if lang in ("ja", "zh") else " "
    picked = rng.sample(words, min(k, len(words)))
    if lang in ("es", "pt", "fr") and k > 1:
        link = {"es": " de ", "pt": " do ", "fr": " de "}[lang]
        return picked[0] + link + " ".join(picked[1:]).lower()
    return sep.join(picked)


def _split_100(rng: random.Random, n: int) -> list[str]:
    """n percentages with two decimals that add up to exactly 100."""
    if n == 1:
        return ["100"]
    cuts = sorted(rng.sample(range(1, 10000), n - 1))
    parts = [b - a for a, b in zip([0] + cuts, cuts + [10000])]
    return [f"{p // 100}.{p % 100:02d}" for p in parts]


def demo_catalogue(seed: int = 2026, parties: int = 2000, works: int = 3000, recordings: int = 3000) -> dict:
    """The demo batch as an importable document (see :func:`obra.registry.batch.import_records`)."""
    rng = random.Random(seed)
    countries = list(FIRST)
    out: dict[str, list] = {"parties": [], "works": [], "recordings": [], "agreements": []}
    used_ipi: set[str] = set()

    def new_ipi() -> str:
        while True:
            v = _ipi(rng)
            if v not in used_ipi:
                used_ipi.add(v)
                return v

    publishers = []
    for i, name in enumerate(PUBLISHERS):
        key = f"pub{i}"
        out["parties"].append({"key": key, "kind": "organisation", "name": name, "roles": ["publisher"],
                               "ipi": new_ipi(), "country": rng.choice(countries)})
        publishers.append(key)
    labels = []
    for i, name in enumerate(LABELS):
        key = f"label{i}"
        out["parties"].append({"key": key, "kind": "organisation", "name": name, "roles": ["label", "producer"],
                               "country": rng.choice(countries)})
        labels.append(key)
    for i, (name, country) in enumerate(CMOS):
        out["parties"].append({"key": f"cmo{i}", "kind": "organisation", "name": name, "roles": ["cmo"],
                               "country": country})
    creators, performers = [], []
    n_people = max(parties - len(out["parties"]), 10)
    for i in range(n_people):
        c = rng.choice(countries)
        roles = rng.choice([["composer", "lyricist"], ["composer"], ["lyricist"], ["author"],
                            ["performer", "featured_performer"], ["composer", "featured_performer"],
                            ["non_featured_performer"]])
        key = f"p{i}"
        person = {"key": key, "kind": "person", "name": f"{rng.choice(FIRST[c])} {rng.choice(LAST[c])}",
                  "roles": roles, "country": c}
        if "composer" in roles or "lyricist" in roles or "author" in roles:
            person["ipi"] = new_ipi()
            creators.append((key, c))
        if any(r.endswith("performer") for r in roles):
            performers.append(key)
        out["parties"].append(person)

    for i in range(works):
        creator_keys = rng.sample(creators, rng.choice([1, 1, 2, 2, 3]))
        lang = LANG_OF[creator_keys[0][1]]
        mode = rng.choices(["human", "ai_assisted", "ai_generated"], [85, 10, 5])[0]
        pub = rng.choice(publishers) if rng.random() < 0.7 else None
        holders = [k for k, _ in creator_keys] + ([pub] if pub else [])
        work: dict = {"title": _title(rng, lang), "kind": "musical", "language": lang, "genre": rng.choice(GENRES),
                      "creation_date": (date(2000, 1, 1) + timedelta(days=rng.randrange(9000))).isoformat(),
                      "creation_mode": mode,
                      "contributors": [{"party": k, "role": rng.choice(["composer", "lyricist"])}
                                       for k, _ in creator_keys]}
        if rng.random() < 0.6:
            work["iswc"] = _iswc(rng)
        if rng.random() < 0.15:
            work["alternate_titles"] = [{"title": _title(rng, rng.choice(list(TITLE_WORDS))), "kind": "translated"}]
        if mode != "human":
            name, version, provider = rng.choice(AI_SYSTEMS)
            work["disclosure"] = {
                "systems": [{"name": name, "version": version, "provider": provider}],
                "ai_contribution": rng.choice(["melody and arrangement", "backing track", "full audio from a text prompt",
                                               "lyrics draft"]),
                "human_contribution": "" if mode == "ai_generated" else rng.choice(
                    ["lyrics and vocal melody", "selection and arrangement of generated sections", "production"]),
                "excluded_material": "AI-generated audio" if mode == "ai_generated" else "AI-generated backing track",
            }
        shares = []
        for right in ("performance", "mechanical"):
            for holder, pct in zip(holders, _split_100(rng, len(holders))):
                shares.append({"party": holder, "right_type": right, "territory": "2WL", "share": pct})
        work["shares"] = shares
        out["works"].append(work)

    label_of = {k: labels[i % len(labels)] for i, k in enumerate(performers)}
    for i in range(recordings):
        w = rng.randrange(works)
        performer_keys = rng.sample(performers, rng.choice([1, 1, 2]))
        country = rng.choice(["UY", "ES", "BR", "JP", "US", "FR", "GB", "KR"])
        out["recordings"].append({
            "title": out["works"][w]["title"], "isrc": _isrc(rng, country, i),
            "duration_seconds": rng.randrange(95, 420),
            "performers": [{"party": k, "role": "featured_performer"} for k in performer_keys],
            "works": [f"@{w}"], "label": label_of[performer_keys[0]],
            # Streaming pays the making-available right of the recording; broadcast pays neighbouring rights.
            "shares": [{"party": k, "right_type": right, "territory": "2WL", "share": pct}
                       for right in ("making_available", "neighbouring")
                       for k, pct in zip(performer_keys, _split_100(rng, len(performer_keys)))],
        })
    for i, pub in enumerate(publishers):
        out["agreements"].append({"kind": "sub_publishing", "assignor": pub,
                                  "assignee": publishers[(i + 1) % len(publishers)],
                                  "rights": ["performance", "mechanical"], "territories": [rng.choice(["JP", "KR", "BR", "FR"])],
                                  "start": "2020-01-01", "retained": "0.2"})
    for key, _ in rng.sample(creators, min(300, len(creators))):
        out["agreements"].append({"kind": rng.choice(["assignment", "administration"]), "assignor": key,
                                  "assignee": rng.choice(publishers), "rights": ["performance", "mechanical"],
                                  "territories": ["2WL"], "start": "2021-01-01", "retained": rng.choice(["0.5", "0.15"]),
                                  "advance": rng.choice([0, 0, 50000, 200000]), "currency": "EUR"})
    for key, label in label_of.items():
        out["agreements"].append({"kind": "recording_contract", "assignor": key, "assignee": label,
                                  "rights": ["making_available", "neighbouring"], "territories": ["2WL"], "start": "2019-06-01",
                                  "retained": "0.82", "advance": rng.choice([0, 100000]), "currency": "EUR"})
    return out
