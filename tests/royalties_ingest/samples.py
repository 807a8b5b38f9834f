"""Paths of the real DSR and CWR samples (copied from ../shared/data with their LICENSE files)."""

from __future__ import annotations

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
