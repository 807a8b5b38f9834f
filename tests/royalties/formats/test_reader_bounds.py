"""Every reader is bounded (issue #13, finding 3): decompression bombs, endless lines, endless empty
lines, corrupt gzip, text that is not UTF-8 and control characters are each refused by name
(file, line, field, and how to fix it), quickly, in little memory; never a traceback.

Each test reads with all three readers (DDEX DSR, Obra's usage CSV, CISAC CWR), through the same
entry points ingest uses.
"""

from __future__ import annotations

import gzip
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest

from obra.errors import InvalidInput, ObraError, PayloadTooLarge
from obra.royalties.formats import cwr, dsr_fast, dsr_reference, usage_csv

from ..samples import NWR, YOUTUBE

CSV_HEADER = "period,territory,service,commercial_model,use_type,title,plays\n"
CSV_ROW = "2025-01,UY,Tambor,Subscription,stream,{title},3\n"


def read_dsr(path: Path, chunk_bytes: int = dsr_fast.CHUNK_BYTES):
    return dsr_fast.read_dsr_tables(path, on_table=lambda t: None, chunk_bytes=chunk_bytes)


def read_dsr_reference(path: Path):
    return dsr_reference.parse_dsr_reference(path)


def read_csv(path: Path):
    if usage_csv.read_usage_fast(path, on_table=lambda t: None) is None:
        return usage_csv.read_csv(path)
    return None


def read_cwr(path: Path):
    return cwr.parse_cwr(path)


READERS = {"dsr": read_dsr, "dsr-reference": read_dsr_reference, "csv": read_csv, "cwr": read_cwr}


def gzip_of_repeated(path: Path, unit: bytes, total: int, prefix: bytes = b"") -> Path:
    """A gzip file of ``prefix`` then ``unit`` repeated up to ``total`` bytes, written without holding
    it in memory."""
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = unit * max(1, (1 << 20) // len(unit))
    with open(path, "wb") as fh:
        fh.write(comp.compress(prefix))
        written = 0
        while written < total:
            fh.write(comp.compress(block))
            written += len(block)
        fh.write(comp.flush())
    return path


# --- decompression -------------------------------------------------------------------------

@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("unit", [b"\n", b"A"], ids=["newlines", "one endless line"])
def test_a_decompression_bomb_is_refused_at_the_ratio_limit(tmp_path, reader, unit):
    # a valid beginning, then 64 MiB of one byte: about 65 KB gzipped (the audit's 65 KB file of
    # newlines ran 159 s; its 261 KB one took 1.95 GB of memory)
    prefix = {"csv": (CSV_HEADER + CSV_ROW.format(title="a")).encode(), "cwr": b"\n".join(NWR.read_bytes().split(b"\n")[:3]) + b"\n"}
    bomb = gzip_of_repeated(tmp_path / "DSR_A_B_S_2026-03_ES_1of1_20260401T100000.tsv.gz", unit, 64 << 20,
                            prefix.get(reader, b"\n".join(YOUTUBE.read_bytes().split(b"\n")[:20]) + b"\n"))
    assert bomb.stat().st_size < 100_000
    started = time.monotonic()
    with pytest.raises(ObraError) as err:
        READERS[reader](bomb)
    assert time.monotonic() - started < 5
    if reader == "cwr" and unit == b"A":       # a CWR record stops at 64 KiB, before any ratio
        assert err.value.problems_list()[0]["field"] == "line"
        return
    assert isinstance(err.value, PayloadTooLarge), err.value
    assert bomb.name in err.value.message and "200:1" in err.value.message
    assert err.value.status == 413 and err.value.hint


def test_the_decompressed_size_limit_holds_whatever_the_ratio(tmp_path, monkeypatch):
    monkeypatch.setenv("OBRA_MAX_COMPRESSION_RATIO", "100000")
    monkeypatch.setenv("OBRA_MAX_DECOMPRESSED_BYTES", str(8 << 20))
    big = gzip_of_repeated(tmp_path / "usage.csv.gz", CSV_ROW.format(title="x").encode(), 32 << 20,
                           CSV_HEADER.encode())
    with pytest.raises(PayloadTooLarge, match="more than 8,388,608 bytes"):
        read_csv(big)


def test_a_bomb_uses_little_memory(tmp_path):
    """Measured in a child process: its peak memory stays near what importing the readers takes."""
    bomb = gzip_of_repeated(tmp_path / "report.tsv.gz", b"A", 256 << 20)   # 256 MiB of one line, ~260 KB gzipped
    code = (
        "import resource, sys\n"
        "from obra.royalties.formats import dsr_fast\n"
        "base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "try:\n"
        "    dsr_fast.read_dsr_tables(sys.argv[1], on_table=lambda t: None)\n"
        "except Exception as exc:\n"
        "    print(type(exc).__name__)\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base)\n")
    out = subprocess.run([sys.executable, "-c", code, str(bomb)], capture_output=True, text=True, timeout=120)
    name, grown_kib = out.stdout.split()
    assert name == "PayloadTooLarge", out.stderr
    assert int(grown_kib) < 150 * 1024       # before: 1.95 GB


@pytest.mark.parametrize("reader", READERS)
def test_a_corrupt_gzip_is_named_with_a_hint(tmp_path, reader):
    source = {"cwr": NWR, "csv": None}.get(reader, YOUTUBE)
    data = source.read_bytes() if source else (CSV_HEADER + CSV_ROW.format(title="x") * 500).encode()
    broken = tmp_path / "report.gz"
    packed = bytearray(gzip.compress(data * 20))
    packed[len(packed) // 2] ^= 0xFF            # a flipped byte in the deflate stream
    broken.write_bytes(bytes(packed))
    truncated = tmp_path / "truncated.gz"
    truncated.write_bytes(gzip.compress(data * 20)[:-40])
    for path in (broken, truncated):
        with pytest.raises(InvalidInput) as err:
            READERS[reader](path)
        problem = err.value.problems[0]
        assert problem.source == path.name and problem.field == "file" and "gzip" in problem.message
        assert "re-compress" in err.value.hint


# --- lines and cells -----------------------------------------------------------------------

@pytest.mark.parametrize("reader", READERS)
def test_an_endless_line_is_refused_at_its_line(tmp_path, monkeypatch, reader):
    monkeypatch.setenv("OBRA_MAX_LINE_BYTES", str(1 << 20))
    path = tmp_path / "long.txt"
    if reader == "csv":
        path.write_text(CSV_HEADER + CSV_ROW.format(title="x") + CSV_ROW.format(title="y" * (3 << 20)))
        line = 3
    elif reader == "cwr":
        lines = NWR.read_text().split("\n")
        path.write_text("\n".join(lines[:2] + ["A" * (3 << 20)] + lines[2:]))   # CWR records are short
        line = 3
    else:
        lines = YOUTUBE.read_text().split("\n")
        path.write_text("\n".join(lines[:20] + ["AS01\t" + "y" * (3 << 20)] + lines[20:]))
        line = 21
    with pytest.raises(InvalidInput) as err:
        READERS[reader](path)
    problem = err.value.problems[-1]
    assert (problem.line, problem.field, problem.source) == (line, "line", path.name), problem
    assert "longer than" in problem.message


def test_a_cwr_record_is_at_most_64_kib_whatever_the_line_limit(tmp_path):
    lines = NWR.read_text().split("\n")
    path = tmp_path / "long.V21"
    path.write_text("\n".join(lines[:2] + ["NWR" + "A" * 70_000] + lines[2:]))
    with pytest.raises(InvalidInput) as err:
        cwr.parse_cwr(path)
    assert (err.value.problems[0].line, err.value.problems[0].field) == (3, "line")


@pytest.mark.parametrize("chunk_bytes", [64, dsr_fast.CHUNK_BYTES])
def test_a_dsr_cell_past_the_field_limit_is_named(tmp_path, monkeypatch, chunk_bytes):
    monkeypatch.setenv("OBRA_MAX_FIELD_BYTES", "1000")
    lines = YOUTUBE.read_text().split("\n")
    at = next(i for i, line in enumerate(lines) if line.startswith("AS01\t2\t"))
    cells = lines[at].split("\t")
    cells[5] = "T" * 5000                      # the Title
    lines[at] = "\t".join(cells)
    path = tmp_path / YOUTUBE.name
    path.write_text("\n".join(lines))
    for read in (lambda p: read_dsr(p, chunk_bytes), read_dsr_reference):
        with pytest.raises(InvalidInput) as err:
            read(path)
        assert [(p.line, p.field) for p in err.value.problems] == [(at + 1, "Title")]


def test_a_csv_cell_past_the_field_limit_is_named_not_a_traceback(tmp_path, monkeypatch):
    # The audit: a cell over 131,072 characters (the csv module's own limit) printed a traceback.
    path = tmp_path / "usage.csv"
    path.write_text(CSV_HEADER + CSV_ROW.format(title="t" * 140_000))
    assert usage_csv.read_csv(path)["rows"] == 1       # accepted: under the 4 MiB default
    monkeypatch.setenv("OBRA_MAX_FIELD_BYTES", "100000")
    with pytest.raises(InvalidInput) as err:
        read_csv(path)
    assert err.value.problems[0].line == 2
    assert "longer than 100,000" in err.value.problems[0].message


# --- empty lines: cheap, and one problem per run ---------------------------------------------

@pytest.mark.parametrize("reader", READERS)
def test_millions_of_empty_lines_take_well_under_a_second_each_million(tmp_path, reader):
    """The audit's 65 KB gzip of newlines ran 159 s holding the ingest lock: every empty line went
    through the row-by-row checker. Now a run of empty lines is read in one step and is one problem."""
    n = 8_000_000
    if reader == "csv":
        text = CSV_HEADER + CSV_ROW.format(title="a") + "\n" * n + CSV_ROW.format(title="b")
        path = tmp_path / "usage.csv"
    elif reader == "cwr":
        lines = NWR.read_text().split("\n")
        text = "\n".join(lines[:3]) + "\n" * n + "\n".join(lines[3:])
        path = tmp_path / "nwr.V21"
    else:
        lines = YOUTUBE.read_text().split("\n")
        text = "\n".join(lines[:20]) + "\n" * n + "\n".join(lines[20:])
        path = tmp_path / YOUTUBE.name
    path.write_text(text)
    started = time.monotonic()
    try:
        READERS[reader](path)
        problems = []
    except InvalidInput as exc:
        problems = exc.problems
    assert time.monotonic() - started < 6
    if reader == "csv":
        assert problems == []                 # empty lines in a CSV are nothing (the csv module's rule)
        return
    runs = [p for p in problems if "empty line" in p.message]
    assert len(runs) == 1 and f"{n - 1:,} lines" in runs[0].message, runs


def test_a_dsr_of_nothing_but_empty_lines_is_one_problem_not_ten_thousand(tmp_path):
    path = tmp_path / "DSR_A_B_S_2026-03_ES_1of1_20260401T100000.tsv"
    path.write_bytes(b"\r\n" * 2_000_000)
    for read in (read_dsr, read_dsr_reference):
        with pytest.raises(InvalidInput) as err:
            read(path)
        assert [p.message for p in err.value.problems][:1] == [
            "empty line (a DSR file has one record per line, no blank lines): 2,000,000 lines, 1-2000000"]


def test_a_file_with_endless_problems_stops_reading_at_ten_thousand(tmp_path):
    lines = YOUTUBE.read_text().split("\n")
    path = tmp_path / YOUTUBE.name
    path.write_text("\n".join(lines[:20] + ["XX99\tnot a record"] * 50_000 + lines[20:]))
    for read in (read_dsr, read_dsr_reference):
        with pytest.raises(InvalidInput) as err:
            read(path)
        assert len(err.value.problems) == 10_001
        assert err.value.problems[-1].message.startswith("stopped reading after 10,000 problems")


# --- encodings and control characters ------------------------------------------------------

@pytest.mark.parametrize("chunk_bytes", [64, dsr_fast.CHUNK_BYTES])
def test_a_dsr_that_is_not_utf8_is_refused_at_its_line_and_cell(tmp_path, chunk_bytes):
    raw = YOUTUBE.read_bytes().replace("Marvin Gaye".encode(), "Marv\xeflo".encode("latin-1"))
    line = YOUTUBE.read_bytes()[:YOUTUBE.read_bytes().index(b"Marvin Gaye")].count(b"\n") + 1
    path = tmp_path / YOUTUBE.name
    path.write_bytes(raw)
    for read in (lambda p: read_dsr(p, chunk_bytes), read_dsr_reference):
        with pytest.raises(InvalidInput) as err:
            read(path)
        p = err.value.problems[0]
        assert (p.line, p.field, p.source) == (line, "DisplayArtistName", path.name)
        assert "not UTF-8" in p.message and "save it again as 'UTF-8'" in p.message


@pytest.mark.parametrize("chunk_bytes", [64, dsr_fast.CHUNK_BYTES])
@pytest.mark.parametrize("char", ["\x00", "\x1b", "\x7f"])
def test_control_characters_in_a_dsr_are_refused_by_name(tmp_path, char, chunk_bytes):
    text = YOUTUBE.read_text()
    line = text[:text.index("Sexual Healing")].count("\n") + 1
    path = tmp_path / YOUTUBE.name
    path.write_text(text.replace("Sexual Healing", f"Sexual{char}Healing", 1))
    for read in (lambda p: read_dsr(p, chunk_bytes), read_dsr_reference):
        with pytest.raises(InvalidInput) as err:
            read(path)
        assert [(p.line, p.field) for p in err.value.problems] == [(line, "Title")]
        assert f"U+{ord(char):04X}" in err.value.problems[0].message


def test_a_cwr_record_that_is_not_ascii_or_utf8_names_its_field(tmp_path):
    lines = NWR.read_bytes().split(b"\n")
    at = next(i for i, line in enumerate(lines) if line.startswith(b"SWR"))
    lines[at] = lines[at][:35] + "é".encode("latin-1") + lines[at][36:]       # in Writer Last Name
    path = tmp_path / "latin1.V21"
    path.write_bytes(b"\n".join(lines))
    with pytest.raises(InvalidInput) as err:
        cwr.parse_cwr(path)
    p = err.value.problems[0]
    assert (p.line, p.field) == (at + 1, "Writer Last Name")
    assert "Character Set" in p.message and "UTF-8" in p.message


def test_a_cwr_with_nul_names_its_field(tmp_path):
    lines = NWR.read_bytes().split(b"\n")
    at = next(i for i, line in enumerate(lines) if line.startswith(b"NWR"))
    lines[at] = lines[at][:25] + b"\x00" + lines[at][26:]        # in Work Title (columns 20-79)
    path = tmp_path / "nul.V21"
    path.write_bytes(b"\n".join(lines))
    with pytest.raises(InvalidInput) as err:
        cwr.parse_cwr(path)
    assert [(p.line, p.field) for p in err.value.problems] == [(at + 1, "Work Title")]


def test_a_declared_big5_cwr_is_read_as_big5(tmp_path):
    lines = NWR.read_bytes().split(b"\n")
    hdr = lines[0].ljust(101)
    lines[0] = hdr[:86] + b"Traditional Big5".ljust(15)[:15] + hdr[101:]
    path = tmp_path / "big5.V21"
    path.write_bytes(b"\n".join(lines))
    assert cwr.parse_cwr(path).sender["Character Set"] == "Traditional Big"


@pytest.mark.parametrize("cell,field", [("Canci\xf3n", "title"), ("a\x00b", "title"), ("a\x1b[31m", "title")])
def test_a_csv_cell_that_is_not_utf8_text_is_named(tmp_path, cell, field):
    path = tmp_path / "usage.csv"
    path.write_bytes((CSV_HEADER + CSV_ROW.format(title="ok")).encode()
                     + CSV_ROW.format(title=cell).encode("latin-1"))
    with pytest.raises(InvalidInput) as err:
        read_csv(path)
    assert [(p.line, p.field) for p in err.value.problems] == [(3, field)]


def test_byte_order_marks_are_not_part_of_the_first_record(tmp_path):
    bom = b"\xef\xbb\xbf"
    dsr = tmp_path / YOUTUBE.name
    dsr.write_bytes(bom + YOUTUBE.read_bytes())
    assert read_dsr(dsr).usage_lines == read_dsr(YOUTUBE).usage_lines == 6
    assert read_dsr_reference(dsr).usage_lines == 6
    csv_file = tmp_path / "usage.csv"
    csv_file.write_bytes(bom + (CSV_HEADER + CSV_ROW.format(title="a")).encode())
    assert usage_csv.read_csv(csv_file)["rows"] == 1
    cwr_file = tmp_path / "bom.V21"
    cwr_file.write_bytes(bom + NWR.read_bytes())
    assert len(cwr.parse_cwr(cwr_file).works) == len(cwr.parse_cwr(NWR).works)


def test_limits_in_the_environment_must_be_numbers(monkeypatch):
    monkeypatch.setenv("OBRA_MAX_LINE_BYTES", "lots")
    with pytest.raises(ObraError) as err:
        read_dsr(YOUTUBE)
    assert err.value.problems_list()[0]["field"] == "OBRA_MAX_LINE_BYTES"
