"""Sample files: the real DSR and CWR samples (copied from ../shared/data with their LICENSE files),
malformed variants of them, and usage or pools CSV files written from rows."""

from __future__ import annotations

import csv
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "data"
YOUTUBE = DATA / "dsr" / "DSR_TEST_YouTube_AdSupport-music_2015-Q4_IS_1of1_20160121T150926.tsv"
NAME_FIXTURES = sorted((DATA / "dsr").glob("DSR_PADPIDA*.tsv"))
NWR = DATA / "cwr" / "nwrexample2.V21"
REV = DATA / "cwr" / "revexample.V21"
DEMO_22 = DATA / "cwr" / "demo_cwr_cleaned.v22"


def variant(tmp_path: Path, source: Path, edit, name: str | None = None) -> Path:
    """A copy of a real sample with ``edit(lines) -> lines`` applied (malformed variants)."""
    lines = source.read_text(encoding="utf-8").split("\n")
    out = tmp_path / (name or source.name)
    out.write_text("\n".join(edit(lines)), encoding="utf-8")
    return out


#: The columns of a usage CSV (docs/usage-formats.md), in the order the tests write them.
COLUMNS = ["period", "territory", "service", "commercial_model", "use_type", "user_id", "isrc", "iswc",
           "proprietary_id", "title", "artist", "album", "duration_s", "plays", "revenue", "currency"]
#: The columns of a pools CSV.
POOL_COLUMNS = ["period", "territory", "service", "commercial_model", "currency", "amount", "user_id"]


def write_csv(path, rows, columns=COLUMNS):
    """Write ``rows`` (dicts; None for an empty cell) as a CSV file with a header row."""
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=columns)
        w.writeheader()
        for r in rows:
            w.writerow({c: ("" if r.get(c) is None else r.get(c)) for c in columns})
    return path
