"""The fast DSR reader agrees with the row-by-row reference: same usage lines, report and pools for
a valid file, the same problems (messages, lines, fields, order) for a bad one.

Files are generated from the record definitions themselves (every record type, declared column
orders, several resources per block, RU-only blocks, usage records before their resource ...),
valid or with faults injected (bad ISRC, missing mandatory cell, wrong FOOT counts, bad date, and
structural ones), and read with tiny chunks so that blocks straddle chunk boundaries and the
fast path and the reference hand over to each other many times per file.
"""

from __future__ import annotations

import gzip
import random
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, event, given, settings, strategies as st, target

from obra.errors import InvalidInput
from obra.royalties.datasets import partitions, published_sources, usage_dataset
from obra.royalties.formats import dsr_fast
from obra.royalties.formats.dsr_fast import parse_dsr
from obra.royalties.formats.dsr_reference import parse_dsr_reference
from obra.royalties.formats.dsr_spec import (BOOLEAN_CELLS, COMMERCIAL_MODELS, DATE_CELLS, DECIMAL_CELLS,
                                             DURATION_CELLS, INTEGER_CELLS, RECORDS, USE_TYPES)
from obra.royalties.ingest import _usage_row
from obra.royalties.pipeline import ingest_dsr
from obra.royalties.records import USAGE_SCHEMA, UsageLine
from ..samples import NAME_FIXTURES, YOUTUBE

BENCH_NAME = "DSR_PADPIDA2013020802I_PADPIDA20070627029_Streamly_2026-03_ES_1of1_20260401T100000.tsv"

# --- running both paths ------------------------------------------------------------------

def reference(path: Path):
    lines = []
    try:
        report = parse_dsr_reference(path, on_line=lines.append)
    except InvalidInput as exc:
        return "invalid", exc.problems
    except (ValueError, KeyError) as exc:       # the reference's own arithmetic on odd cells
        return "error", (type(exc), str(exc))
    return "valid", (report, lines)


def fast(path: Path, chunk_bytes: int = dsr_fast.CHUNK_BYTES, stats: dict | None = None):
    lines = []
    try:
        report = dsr_fast.read_dsr_tables(path, on_line=lines.append, chunk_bytes=chunk_bytes, stats=stats)
    except InvalidInput as exc:
        return "invalid", exc.problems
    except (ValueError, KeyError) as exc:
        return "error", (type(exc), str(exc))
    return "valid", (report, lines)


def assert_same(path: Path, chunk_bytes: int) -> str:
    expected = reference(path)
    got = fast(path, chunk_bytes)
    assert got[0] == expected[0]
    if expected[0] == "valid":
        (report, lines), (want_report, want_lines) = got[1], expected[1]
        assert lines == want_lines
        # Decimal("2.0") == Decimal("2.00"): the text must be the file's, so compare exponents too
        assert [str(u.revenue) for u in lines] == [str(u.revenue) for u in want_lines]
        assert report == want_report
    else:
        assert got[1] == expected[1]
    return expected[0]


# --- generated reports ---------------------------------------------------------------------

VALID = {
    "int": ["0", "1", "7", "42", "0012", "-3"],
    "dec": ["0", "1.0", "0.0031", "-2.5", "7", "2.50"],
    "date": ["2026-03-01", "20260301", "2026", "2026-03"],
    "bool": ["true", "False", "TRUE"],
    "duration": ["PT3M25S", "PT0H0M0S", "PT1H0M1S", "P1DT2S", "PT3.5S", "P2D"],
    "ISRC": ["USSM19803037", "QZOBR2400001", "us-sm1-98-03037", "GB AYE 06 01498", "USUV71101875"],
    "ISWC": ["T9109247316", "T-070.247.279-4", "t0702472794", "T0702472794"],
    "Territory": ["ES", "is", "US"],
    "Currency": ["EUR", "usd"],
    "text": ["Title", "Título ☃", "A|B", "x y", "#not a comment", "P1|P2", "|myns::4534"],
}
# Valid to the reference, but not in the plain form the vectorised checks accept or convert: the
# block goes to the reference (a Unicode digit, plays beyond int64, revenue beyond 10 decimals).
ODD = {"int": ["\u0663", "123456789012345678901"], "dec": ["12345.678901234567", "\u0661.5"]}
INVALID = {
    "int": ["many", "1.5", "1 2"], "dec": ["1,5", ".5", "1.", "abc"], "date": ["2026/03/01", "1-3-2026"],
    "bool": ["yes", "1"], "duration": ["3:25", "PT", "P", "PTXS"],
    "ISRC": ["USSM1980303", "XX1234567890", "12SM19803037"], "ISWC": ["T9109247317", "T123", "9109247316"],
    "Territory": ["XX", "ESP"], "Currency": ["EURO", "€"],
}


def cell_kind(name: str) -> str:
    for kind, names in (("int", INTEGER_CELLS), ("dec", DECIMAL_CELLS), ("date", DATE_CELLS), ("bool", BOOLEAN_CELLS),
                        ("duration", DURATION_CELLS)):
        if name in names:
            return kind
    if name in ("ISRC", "ISWC", "Territory"):
        return name
    if name in ("Currency", "ExchangeRateBaseCurrency"):
        return "Currency"
    return "text"


class Report:
    """Draws a DSR file: lines as text, with the faults it was given."""

    def __init__(self, rnd: random.Random, faulty: bool):
        self.rnd, self.faulty = rnd, faulty
        self.layouts: dict[str, list[tuple[str, bool]]] = {t: list(spec) for t, spec in RECORDS.items()}
        self.sids: list[str] = []

    def choice(self, options):
        return self.rnd.choice(list(options))

    def chance(self, p: float) -> bool:
        return self.rnd.random() < p

    def integer(self, lo: int, hi: int) -> int:
        return self.rnd.randint(lo, hi)

    def shuffled(self, items: list) -> list:
        items = list(items)
        self.rnd.shuffle(items)
        return items

    def value(self, name: str, mandatory: bool, given: dict[str, str]) -> str:
        if name in given:
            return given[name]
        kind = cell_kind(name)
        if self.faulty and kind in INVALID and self.chance(0.04):
            return self.choice(INVALID[kind])
        if kind in ODD and self.chance(0.015):
            return self.choice(ODD[kind])
        if not mandatory and self.chance(0.3):
            return ""
        if name == "SummaryRecordId":
            return self.choice(self.sids or ["1"])
        if name in ("ResourceReference", "TransactedResource"):
            return self.choice(["R1", "R2", "R3"])
        if name in ("DspResourceId", "DspReleaseId"):
            return self.choice(["D1", "D2", "D3"])
        if name == "CommercialModel":
            return self.choice([*COMMERCIAL_MODELS, "SomeOtherModel"])
        if name == "UseType":
            return self.choice([*list(USE_TYPES)[:5], "Other"])
        if name in ("Usages", "AllocatedUsages", "AllocatedRevenue") and self.chance(0.2):
            return "|".join(self.choice(VALID[kind]) for _ in range(2))
        return self.choice(VALID[kind])

    def record(self, rtype: str, **given: str) -> str:
        layout = self.layouts[rtype]
        cells = [self.value(n, m, given) for n, m in layout]
        last_mandatory = max((i for i, (_, m) in enumerate(layout) if m), default=-1)
        keep = self.integer(last_mandatory + 1, len(cells))
        if self.faulty and self.chance(0.03):
            keep = self.integer(0, len(cells))            # may cut a mandatory cell
        return "\t".join([rtype, *cells[:keep]])

    def declare(self, rtype: str) -> str:
        """A ``#TYPE`` column header: the built-in names, some in other case, optional ones moved."""
        spec = list(RECORDS[rtype])
        mandatory = [c for c in spec if c[1]]
        optional = [c for c in spec if not c[1]]
        optional = self.shuffled(optional)
        optional = optional[:self.integer(0, len(optional))]
        names = mandatory + optional
        if self.faulty and self.chance(0.1):
            names = names[1:]                                         # drops a mandatory cell
        if self.chance(0.2):
            names = names + [("Remark", False)]                      # a column we do not know
        self.layouts[rtype] = names
        shown = [n.lower() if self.chance(0.3) else n for n, _ in names]
        return "\t".join(["#" + rtype, *shown])

    def block(self, block_id: str) -> list[str]:
        out = []
        if self.chance(0.4):
            out.append(self.record("RE01", BlockId=block_id))
        for a in range(self.integer(0, 3)):
            out.append(self.record(self.choice(["AS01", "AS02"]), BlockId=block_id, ResourceReference=f"R{a + 1}",
                                   DspResourceId=f"D{a + 1}"))
        for _ in range(self.integer(0, 2)):
            out.append(self.record(self.choice(["MW01", "MW01.01"]), BlockId=block_id))
        for _ in range(self.integer(0, 2)):
            n = self.integer(1, 3)
            ids = "|".join(self.choice(["D1", "D2", "v1", "v2"]) for _ in range(n))
            uses = "|".join(self.choice(["1", "25", "", "7"]) for _ in range(n))
            if self.faulty and self.chance(0.1):
                uses += "|3"                                          # does not pair up
            out.append(self.record(self.choice(["RU01", "RU02"]), BlockId=block_id, DspReleaseId=ids, Usages=uses))
        for _ in range(self.integer(0 if self.chance(0.3) else 1, 3)):
            rtype = self.choice(["SU01", "SU02", "SU03.01"])
            given = {"BlockId": block_id}
            if self.faulty and self.chance(0.05):
                given["SummaryRecordId"] = "99"                       # no such summary
            if rtype == "SU01" and self.chance(0.7):
                given["Usages"] = self.choice(["3", "0012", "4"])
            out.append(self.record(rtype, **given))
        for _ in range(self.integer(0, 2)):
            out.append(self.record(self.choice(["LI01", "LI01.01"]), BlockId=block_id))
        if self.chance(0.15):
            out = self.shuffled(out)                     # usage before its resource ...
        return out

    def lines(self) -> tuple[list[str], dict]:
        head_given = {"FileNumber": "1", "NumberOfFiles": self.choice(["1", "1", "2"])}
        lines = [self.record("HEAD", **head_given)]
        for rtype in ("SY02", "SU03.01", "AS01", "RU01"):
            if self.chance(0.25):
                lines.append(self.declare(rtype))
        n_summaries = self.integer(1, 4)
        for i in range(n_summaries):
            sid = self.choice([str(i + 1), str(i + 1), "1"])               # a repeated id: first one wins
            self.sids.append(sid)
            lines.append(self.record(self.choice(["SY01", "SY02", "SY02.01"]), SummaryRecordId=sid))
        n_blocks = 0
        previous = None
        for b in range(self.integer(0, 10)):
            block_id = self.choice([str(b + 1), str(b + 1), str(b + 1), "1"])   # reused ids count twice
            records = self.block(block_id)
            if not records:
                continue
            if self.chance(0.06):
                records.insert(self.integer(0, len(records)), "# a comment between records")
            if self.chance(0.05):
                records.insert(0, self.declare(self.choice(["AS01", "SU03.01", "MW01.01"])))
            lines.extend(records)
            n_blocks += block_id != previous
            previous = block_id
        n_lines = len(lines) + 1
        foot = [n_lines, n_lines, n_summaries, n_blocks, n_blocks]
        lines.append("FOOT\t" + "\t".join(map(str, foot)))
        return lines, {"blocks": n_blocks}


FAULTS = ["foot count", "bad isrc", "missing mandatory", "bad date", "extra cell", "unknown record",
          "blank line", "summary after block", "second head", "no head", "no foot", "after foot",
          "undeclared summary", "lone cr", "not utf-8", "bom"]


def fault(draw, lines: list[str]) -> tuple[list[str], bytes | None]:
    """Apply one fault to the lines; some faults are in the bytes."""
    kind = draw(st.sampled_from(FAULTS))
    body = [i for i, line in enumerate(lines) if line[:2] in ("RE", "AS", "MW", "RU", "SU", "LI")]
    at = draw(st.sampled_from(body)) if body else len(lines) - 1
    counts = [k for k, c in enumerate(lines[-1].split("\t")) if c.isdigit()] if lines[-1].startswith("FOOT") else []
    if kind == "foot count" and counts:
        cells = lines[-1].split("\t")
        k = draw(st.sampled_from(counts))
        cells[k] = str(int(cells[k]) + draw(st.sampled_from([-1, 1, 120])))
        lines[-1] = "\t".join(cells)
    elif kind == "bad isrc":
        lines.insert(at, f"AS01\t1\tR1\tD1\t{draw(st.sampled_from(INVALID['ISRC']))}\tTitle")
    elif kind == "missing mandatory":
        cells = lines[at].split("\t")
        cells[1 if len(cells) > 1 else 0] = ""
        lines[at] = "\t".join(cells)
    elif kind == "bad date":
        lines.insert(at, "SU03.01\t1\tT1\t1\tD1\t5\t1.0\t2026/03/01\t2026-03-31")
    elif kind == "extra cell":
        lines[at] += "\t" * 30 + "extra"
    elif kind == "unknown record":
        lines.insert(at, "XX99\t1\tsomething")
    elif kind == "blank line":
        lines.insert(at, draw(st.sampled_from(["", "  ", "\t"])))
    elif kind == "summary after block":
        lines.insert(at, "SY01\t7\t\t\tSubscriptionModel\tStream\tES\t\t10\t\tEUR\t1.00")
    elif kind == "second head":
        lines.insert(at, lines[0])
    elif kind == "no head":
        lines.pop(0)
    elif kind == "no foot":
        lines.pop()
    elif kind == "after foot":
        lines.append(lines[at])
    elif kind == "undeclared summary":
        lines.insert(at, "SU02\t1\t42\tT1\t\t\ttrue\t5")
    raw = None
    if kind in ("lone cr", "not utf-8", "bom"):
        raw = "\n".join(lines).encode()
        pos = raw.find(b"\n", len(raw) // 2) if kind != "bom" else 0
        raw = raw[:pos] + {"lone cr": b"\r", "not utf-8": b"\xff\xfe", "bom": b"\xef\xbb\xbf"}[kind] + raw[pos:]
    return lines, raw


@st.composite
def dsr_files(draw):
    faulty = draw(st.booleans())
    report = Report(draw(st.randoms(use_true_random=True)), faulty)   # hypothesis seeds it
    lines, _ = report.lines()
    raw = None
    if faulty:
        for _ in range(draw(st.integers(1, 2))):
            lines, raw = fault(draw, lines)
            if raw is not None:
                break
    newline = draw(st.sampled_from(["\n", "\n", "\r\n"]))
    if raw is None:
        raw = newline.join(lines).encode() + draw(st.sampled_from([b"", newline.encode()]))
    name = draw(st.sampled_from([BENCH_NAME, "report.tsv"]))
    return name, raw, draw(st.booleans())


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(file=dsr_files(), chunk_bytes=st.sampled_from([5, 17, 64, 256, 4096, dsr_fast.CHUNK_BYTES]))
def test_fast_reader_agrees_with_the_reference(tmp_path_factory, file, chunk_bytes):
    name, raw, gzipped = file
    path = tmp_path_factory.mktemp("dsr") / name
    path.write_bytes(gzip.compress(raw) if gzipped else raw)
    outcome = assert_same(path, chunk_bytes)
    stats: dict = {}
    fast(path, chunk_bytes, stats)
    # steer the search towards files where the fast path does much of the reading
    target(float(stats["fast_lines"]), label="lines read by the fast path")
    event(f"{outcome}, fast path {'used' if stats['fast_lines'] else 'not used'}")


# --- the real samples ---------------------------------------------------------------------

@pytest.mark.parametrize("chunk_bytes", [1, 100, 1000, dsr_fast.CHUNK_BYTES])
@pytest.mark.parametrize("path", [YOUTUBE, *NAME_FIXTURES], ids=lambda p: getattr(p, "name", p)[-30:])
def test_real_samples_read_the_same(path, chunk_bytes):
    assert assert_same(path, chunk_bytes) == ("valid" if path == YOUTUBE else "invalid")


def test_unreadable_files_are_reported_as_the_reference_reports_them(tmp_path):
    missing = tmp_path / "DSR_A_B_S_2026-03_ES_1of1_20260401T100000.tsv"
    assert assert_same(missing, dsr_fast.CHUNK_BYTES) == "invalid"
    truncated = tmp_path / (YOUTUBE.name + ".gz")
    truncated.write_bytes(gzip.compress(YOUTUBE.read_bytes() * 3)[:900])
    for chunk in (64, dsr_fast.CHUNK_BYTES):
        assert assert_same(truncated, chunk) == "invalid"
    stats: dict = {}
    fast(truncated, 64, stats)
    assert stats["restarted"]


# --- a large file, where the fast path does the work -------------------------------------

def _bench():
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "bench_dsr", Path(__file__).resolve().parents[3] / "bench" / "bench_dsr.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def big_report(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("big") / BENCH_NAME
    _bench().write_dsr(path, usage_lines=6_000, seed=3)
    return path


def test_valid_large_report_is_read_by_the_fast_path(big_report):
    stats: dict = {}
    got = fast(big_report, chunk_bytes=64 << 10, stats=stats)
    assert got == reference(big_report)
    report, lines = got[1]
    assert len(lines) == report.usage_lines == 6_000
    # everything but the preamble and the last block (read with the FOOT) went the fast way
    assert stats["fast_lines"] > 0.99 * report.lines and not stats["restarted"]


SCATTERED = {
    "bad isrc": lambda cells: cells[:4] + ["USSM1980303"] + cells[5:] if cells[0] == "AS01" else None,
    "missing mandatory": lambda cells: cells[:3] + [""] + cells[4:] if cells[0] == "SU02" else None,
    "bad date": lambda cells: cells[:7] + ["2026/03/01"] + cells[8:] if cells[0] == "SU03.01" else None,
    "bad duration": lambda cells: cells[:9] + ["3:25"] + cells[10:] if cells[0] == "AS01" else None,
    "undeclared summary": lambda cells: cells[:2] + ["77"] + cells[3:] if cells[0] == "SU02" else None,
    "comment": lambda cells: ["# reviewed"] if cells[0] == "LI01" else None,   # inserted before the line
}


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10**6), kinds=st.lists(st.sampled_from([*SCATTERED, "foot count"]), min_size=0,
                                                   max_size=4), chunk=st.sampled_from([4 << 10, 64 << 10]))
def test_large_report_with_scattered_faults(tmp_path_factory, big_report, seed, kinds, chunk):
    """Faults at random lines of a large file: the blocks around them go to the reference, the
    fast path resumes after them, and the problems come out as the reference reports them."""
    rng = random.Random(seed)
    lines = big_report.read_text(encoding="utf-8").split("\n")
    for kind in kinds:
        if kind == "foot count":
            lines[-2] = lines[-2].replace("FOOT\t", "FOOT\t1")
            continue
        for _ in range(200):
            i = rng.randrange(20, len(lines) - 2)
            changed = SCATTERED[kind](lines[i].split("\t"))
            if changed is not None:
                if kind == "comment":
                    lines.insert(i, changed[0])
                else:
                    lines[i] = "\t".join(changed)
                break
    path = tmp_path_factory.mktemp("scattered") / BENCH_NAME
    path.write_text("\n".join(lines), encoding="utf-8")
    stats: dict = {}
    expected = reference(path)
    got = fast(path, chunk, stats)
    if expected[0] == "valid":
        assert got == expected
    else:
        assert got[0] == expected[0] and got[1] == expected[1]
    assert stats["fast_lines"] > 0.8 * len(lines)


# --- the store ------------------------------------------------------------------------------

def test_ingest_writes_what_row_by_row_ingest_wrote(sqlite_store, cmo, big_report):
    """The usage partition holds exactly the rows the row-by-row path produced (``_usage_row``)."""
    expected = []
    parse_dsr_reference(big_report, on_line=expected.append)
    result = ingest_dsr(sqlite_store, big_report, cmo)
    [(_, source, part)] = partitions(usage_dataset(sqlite_store), sources=published_sources(sqlite_store))
    table = pq.read_table(part)
    assert table.schema.equals(USAGE_SCHEMA)
    assert table.to_pylist() == [_usage_row(source, u) for u in expected]
    assert result["usage_lines"] == len(expected) == 6_000


def test_revenue_beyond_ten_decimals_is_rounded_as_row_by_row_ingest_did():
    base = dict(line=1, period="2026-03", territory="ES", service="S", commercial_model="AdSupport",
                use_type="stream", plays=1, isrc=None, iswc=None, proprietary_id=None, title=None, artist=None,
                album=None, duration_s=None, currency="EUR", user_id=None)
    usages = [UsageLine(**base, revenue=Decimal(r)) for r in ("0.00000000005", "0.00000000015", "2.0", "-1.25")]
    got = dsr_fast.to_usage_contract(dsr_fast.lines_table(usages), "s", USAGE_SCHEMA)
    assert got.column("revenue").to_pylist() == [_usage_row("s", u)["revenue"] for u in usages]
    assert got.column("revenue").to_pylist()[:2] == [Decimal("0E-10"), Decimal("2E-10")]   # half to even


def test_public_parse_dsr_is_the_fast_reader(big_report):
    got = []
    report = parse_dsr(big_report, on_line=got.append)
    want = []
    assert report == parse_dsr_reference(big_report, on_line=want.append)
    assert got == want
