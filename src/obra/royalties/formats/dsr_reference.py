"""The row-by-row DSR checker: the executable definition of a valid DDEX DSR flat file.

The record types and cell types are :mod:`obra.royalties.formats.dsr_spec`; this module is
what a reader does with them, line by line, in plain Python.

**What is checked** (every problem is collected with file, line and field, then the file
is refused whole): known record types; HEAD first and FOOT last, nothing after FOOT;
summaries before blocks; no more cells than the record declares; mandatory cells present
(optional *trailing* cells may be omitted, as real reports do); cell types (integers,
decimals, ISO dates, ISO 8601 durations, booleans, ISRC/ISWC check rules, ISO 3166
territories); multi-value cells (``a|b|c``) of equal length where they pair up; usage
records refer to a declared summary; FOOT ``NumberOfLinesInFile``,
``NumberOfSummaryRecords`` and ``NumberOfBlocksInFile`` equal what the file holds (and the
``…InReport`` counts too when the report is one file).

**The footer policy.** A FOOT whose counts disagree with the file is refused by default
(``footer_policy="refuse"``). Under ``"accept-with-warning"`` such a file is read as if its
counts were right and each disagreement becomes a :class:`FooterWarning` in
:attr:`Report.footer_warnings` (the field, the value the FOOT states, the value counted, file
and line), for ingest to record; only that: a missing or malformed FOOT, and any other
problem, still refuse the file (the disagreements are then listed with the other problems).

**What comes out**: one :class:`obra.royalties.records.UsageLine` per usage record
(``SU01``/``SU02``/``SU03.01``; a block with only ``RU0x`` records gives one line per ``RU``
record, its usages summed), carrying the dimensions of its summary and the identifiers of its
block's resource and work; and one :class:`obra.royalties.records.Pool` per summary slice with
the summary's ``NetRevenue``.

The parser streams: memory is bounded by one block and the summary table, never the file
(blocks are counted by ``BlockId`` changes, so a block id reused after another block counts
twice: the footer check then catches it).

**Two readers, one specification.** :class:`ReferenceParser` (:func:`parse_dsr_reference`)
checks row by row: it *is* the definition of the rules above and the only code that words a
problem. :func:`obra.royalties.formats.dsr_fast.parse_dsr` and ingest use the vectorised reader
(:mod:`obra.royalties.formats.dsr_fast`, several times faster), which checks whole columns with
Arrow and hands every line it does not vouch for to this parser, so that both give the same
usage lines, pools and problems (``tests/royalties/formats/test_dsr_fast.py`` holds them to it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Callable

from obra.errors import InvalidInput, Problem
from obra.royalties.formats.dsr_spec import (COMMERCIAL_MODELS, INTEGER_RE, RECORDS, UGC_USAGE_RECORD_TYPES,
                                             USAGE_RECORD_TYPES, USE_TYPES, cell_checker, duration_seconds,
                                             period_from_dates, period_from_name)
from obra.royalties.formats.text import UTF8_BOM, Lines, decode_line, describe_control, limits, not_utf8, open_binary
from obra.royalties.records import Pool, UsageLine


#: Problems collected before a reader stops reading a file it will refuse anyway.
MAX_PROBLEMS = 10_000
#: What to do with a FOOT whose counts disagree with the file: refuse it (the default), or take the
#: file and record each disagreement as a :class:`FooterWarning`.
FOOTER_POLICIES = ("refuse", "accept-with-warning")
# Control characters a DSR cell may not hold: C0 except TAB, and DEL (CR only ends a line).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f]")


@dataclass(frozen=True)
class FooterWarning:
    """A FOOT count that disagrees with the file, taken under ``footer_policy="accept-with-warning"``."""

    field: str          # the FOOT cell, e.g. NumberOfLinesInFile
    stated: int         # what the FOOT says
    counted: int        # what the file holds
    source: str         # the file's name
    line: int           # the FOOT's line

    @property
    def message(self) -> str:
        return f"FOOT says {self.field} = {self.stated}, but the file has {self.counted}"

    def as_dict(self) -> dict:
        return {"field": self.field, "stated": self.stated, "counted": self.counted, "file": self.source,
                "line": self.line, "message": self.message}


def check_footer_policy(policy: str) -> str:
    """The policy, if it is one of :data:`FOOTER_POLICIES`; else the problem, by name."""
    if policy not in FOOTER_POLICIES:
        raise InvalidInput(Problem(f"unknown footer policy {policy!r}; use {' or '.join(FOOTER_POLICIES)}",
                                   field="footer_policy"))
    return policy


@dataclass
class Report:
    """What a parsed DSR file says about itself (HEAD and FOOT), after validation."""

    source: str
    period: str
    head: dict[str, str] = field(default_factory=dict)
    foot: dict[str, str] = field(default_factory=dict)
    lines: int = 0
    summaries: int = 0
    blocks: int = 0
    usage_lines: int = 0
    pools: list[Pool] = field(default_factory=list)
    footer_warnings: list[FooterWarning] = field(default_factory=list)


class Block:
    """The block being read: its release, resources, works, and RU lines held until it closes."""

    __slots__ = ("block_id", "release", "assets", "works", "usage_seen", "ru_lines")

    def __init__(self, block_id: str):
        self.block_id = block_id
        self.release: dict[str, str] | None = None
        self.assets: list[dict[str, str]] = []
        self.works: list[dict[str, str]] = []
        self.usage_seen = False
        self.ru_lines: list[tuple[int, dict[str, str]]] = []


def parse_dsr_reference(path: str | Path, *, display_name: str | None = None,
                        on_line: Callable[[UsageLine], None] | None = None,
                        progress: Callable[[int], None] | None = None,
                        parser: "ReferenceParser | None" = None, footer_policy: str = "refuse") -> Report:
    """The specification: validate a DSR file row by row, in pure Python (slow, plain).

    Same contract as :func:`obra.royalties.formats.dsr_fast.parse_dsr`; kept as the executable
    definition of what a valid file is, what it yields and which problems it reports, against
    which the fast reader is tested. ``progress`` is called every 100,000 lines. ``footer_policy``:
    see :data:`FOOTER_POLICIES` (a ``parser`` given brings its own).
    """
    path = Path(path)
    p = parser or ReferenceParser(path, display_name or path.name, on_line, footer_policy=footer_policy)
    with open_binary(path) as fh:
        lines = Lines(fh, p.name)
        for raw in lines:
            if lines.blanks:
                p.feed_blank_run(lines.blanks)
                continue
            if p.line_no == 0 and raw.startswith(UTF8_BOM):
                raw = raw[len(UTF8_BOM):]
            p.feed_bytes(raw)
            if progress is not None and p.line_no % 100_000 == 0:
                progress(p.line_no)
    return p.finish()


class ReferenceParser:
    """The row-by-row checker, one line at a time: :meth:`feed` each line, then :meth:`finish`.

    It holds what the stream has established so far (declared columns, summaries, the open
    block, counts, problems). Memory is bounded by one block and the summary table. The fast
    reader feeds it the lines it does not handle itself (HEAD, summaries, comments, FOOT, any
    block a vectorised check flags) and keeps its counts and open block up to date for the
    blocks it did handle, so every problem is reported by this code, in this order.
    """

    def __init__(self, path: Path, name: str, on_line: Callable[[UsageLine], None] | None = None,
                 footer_policy: str = "refuse"):
        self.name = name
        self.footer_policy = check_footer_policy(footer_policy)
        self.on_line = on_line
        self.problems: list[Problem] = []
        self.declared: dict[str, tuple[str, ...]] = {}
        self.layouts: dict[str, tuple] = {}
        self.report = Report(source=name, period="")
        self.summaries: dict[str, list[dict[str, str]]] = {}
        self.summary_lines: dict[str, int] = {}
        self.block: Block | None = None
        self.seen_head = self.seen_foot = False
        self.file_period = period_from_name(path.name) or period_from_name(name)
        self.line_no = 0
        self.last_kind = ""
        self.blank_run: tuple[int, int] | None = None      # (first line, index of its problem)
        self.incomplete: set[str] = set()       # record types declared without a mandatory cell
        self.max_field = limits().max_field_bytes

    def problem(self, message: str, line: int, fld: str | None = None) -> None:
        """Note a problem; at :data:`MAX_PROBLEMS` stop reading (raise): the file is refused anyway,
        and reading on would only cost time (a file of millions of bad lines)."""
        self.problems.append(Problem(message, field=fld, line=line, source=self.name))
        if len(self.problems) >= MAX_PROBLEMS:
            self.problems.append(Problem(f"stopped reading after {MAX_PROBLEMS:,} problems; fix these and send "
                                         "the file again", line=line, source=self.name))
            raise InvalidInput(self.problems)

    def cell_name(self, text: str, position: int) -> str | None:
        """The name of the cell holding character ``position`` of a line (None on a comment)."""
        if text.startswith("#"):
            return None
        k = text.count("\t", 0, position)
        if k == 0:
            return "RecordType"
        rtype = text.split("\t", 1)[0]
        names = self.layout(rtype)[0] if rtype in RECORDS else ()
        return names[k - 1] if k - 1 < len(names) else f"cell {k + 1}"

    def feed_bytes(self, raw: bytes) -> None:
        """:meth:`feed` a line as read from the file: not UTF-8 is a problem at its cell (the line is
        then read with the bad bytes replaced, so the structure of the file is still checked)."""
        text, bad = decode_line(raw)
        if text is None:
            text = raw.decode("utf-8", "replace")
            cell = self.cell_name(raw[:bad].decode("utf-8", "replace"), len(raw[:bad].decode("utf-8", "replace")))
            self.problem(not_utf8(f"byte {bad + 1} of the line", "DSR files"), self.line_no + 1, cell)
        self.feed(text)

    def feed_blank_run(self, n: int) -> None:
        """``n`` blank lines in a row: what ``n`` calls of ``feed("\\n")`` do, at the cost of one. A run
        of blank lines is one problem, however long."""
        first = self.line_no + 1
        self.line_no += n
        if self.blank_run is not None:
            start, index = self.blank_run
            self.problems[index] = self._blank_problem(start, self.line_no)
            return
        self.problem(self._blank_problem(first, self.line_no).message, first)
        self.blank_run = (first, len(self.problems) - 1)

    def _blank_problem(self, first: int, last: int) -> Problem:
        if self.seen_foot:
            what = "content after the FOOT record (FOOT must be the last line)"
        else:
            what = "empty line (a DSR file has one record per line, no blank lines)"
        if last > first:
            what = f"{what}: {last - first + 1:,} lines, {first}-{last}"
        return Problem(what, line=first, source=self.name)

    def layout(self, rtype: str) -> tuple[tuple[str, ...], list[bool], list]:
        """(cell names, mandatory flags, checkers) of a record type as this file declares it."""
        layout = self.layouts.get(rtype)
        if layout is None:
            spec = RECORDS[rtype]
            names = self.declared.get(rtype) or tuple(n for n, _ in spec)
            mandatory = {n for n, m in spec if m}
            layout = self.layouts[rtype] = (names, [n in mandatory for n in names],
                                            [cell_checker(n) for n in names])
            if mandatory <= set(names):
                self.incomplete.discard(rtype)
            else:
                self.incomplete.add(rtype)
        return layout

    def emit_block(self, b: Block | None) -> None:
        if b is None or b.usage_seen:
            return
        for line_no, rec in b.ru_lines:   # a UGC block reported only by RU records
            self._emit(line_no, rec, b, kind="RU")

    def _emit(self, line_no: int, rec: dict[str, str], b: Block, kind: str) -> None:
        report, summaries = self.report, self.summaries
        sid = rec.get("SummaryRecordId") or ""
        if not sid and len(summaries) == 1:
            sid = next(iter(summaries))
        rows = summaries.get(sid)
        if rows is None:
            self.problem(f"refers to summary record '{sid}', which no SY record before the blocks declares",
                         line_no, "SummaryRecordId")
            return
        territory, service, commercial_model, use_type, currency = summary_dimensions(report, rows[0])
        asset = _asset_for(rec, b)
        work = b.works[0] if len(b.works) == 1 else None
        if kind == "RU":
            plays = sum(int(u) for u in rec.get("Usages", "").split("|") if u)
        elif "NumberOfStreams" in rec:
            plays = int(rec["NumberOfStreams"] or 0)
        else:
            plays = int(rec.get("Usages") or 0)
        revenue = Decimal(rec["NetRevenue"]) if rec.get("NetRevenue") else None
        iswc = (work or {}).get("ISWC") or (asset or {}).get("ISWC") or None
        proprietary = ((work or {}).get("ProprietaryWorkId") or (asset or {}).get("ProprietaryWorkId")
                       or None)
        duration = None
        if asset and asset.get("Duration"):
            duration = duration_seconds(asset["Duration"])
        usage = UsageLine(
            line=line_no, period=report.period, territory=territory, service=service,
            commercial_model=commercial_model, use_type=use_type,
            plays=plays,
            isrc=(asset or {}).get("ISRC") or None, iswc=iswc,
            proprietary_id=proprietary.split("|")[0] if proprietary else None,
            title=((asset or {}).get("Title") or (work or {}).get("Title") or None),
            artist=(asset or {}).get("DisplayArtistName") or None,
            album=(b.release or {}).get("Title") or None,
            duration_s=duration, revenue=revenue, currency=currency)
        report.usage_lines += 1
        if self.on_line is not None and not self.problems:
            self.on_line(usage)

    def feed(self, raw: str) -> None:
        """Check one line (with or without its line break) and take what it says."""
        text = raw.rstrip("\n")
        text = text[:-1] if text.endswith("\r") else text
        if not text.strip():
            self.feed_blank_run(1)
            return
        self.blank_run = None
        self.line_no += 1
        line_no, problem, report = self.line_no, self.problem, self.report
        if self.seen_foot:
            problem("content after the FOOT record (FOOT must be the last line)", line_no)
            return
        control = _CONTROL.search(text)
        if control is not None:
            ch = control.group()
            what = ("a carriage return (CR) inside the line: DSR lines end with LF or CR LF" if ch == "\r"
                    else f"{describe_control(ch)}: DSR cells are text and may not hold control characters")
            problem(what, line_no, self.cell_name(text, control.start()))
        if len(text) > self.max_field:
            start = 0
            for cell in text.split("\t"):
                if len(cell.encode()) > self.max_field:
                    problem(f"a cell of {len(cell.encode()):,} bytes; at most {self.max_field:,} "
                            "(OBRA_MAX_FIELD_BYTES)", line_no, self.cell_name(text, start))
                    return
                start += len(cell) + 1
        if text.startswith("#"):
            cells = text[1:].split("\t")
            rtype = cells[0]
            if rtype in RECORDS and len(cells) > 1:
                canonical = {n.lower(): n for n, _ in RECORDS[rtype]}
                names = tuple(canonical.get(c.lower(), c) for c in cells[1:])
                self.declared[rtype] = names
                self.layouts.pop(rtype, None)
                missing = [n for n, mandatory in RECORDS[rtype] if mandatory and n not in names]
                for n in missing:
                    problem(f"the column header for {rtype} does not declare the mandatory "
                            f"cell '{n}'", line_no, n)
            return
        cells = text.split("\t")
        rtype = cells[0]
        spec = RECORDS.get(rtype)
        if spec is None:
            problem(f"unknown record type '{rtype}': expected HEAD, SY01-SY05, RE01, AS01/AS02, "
                    "MW01, RU01/RU02, SU01/SU02/SU03.01, LI01 or FOOT", line_no, "RecordType")
            return
        names, required, checkers = self.layout(rtype)
        values = cells[1:]
        if len(values) > len(names):
            problem(f"{rtype} has {len(values)} cells but {len(names)} are declared "
                    f"({', '.join(names)})", line_no)
            return
        rec = dict(zip(names, values))
        # a declared header without a mandatory cell was reported where it was declared; its
        # records are checked but never used (they lack what the rest of the reader relies on)
        bad = rtype in self.incomplete
        for i, n in enumerate(names):
            v = values[i] if i < len(values) else ""
            if not v:
                if required[i]:
                    problem(f"mandatory cell is empty or missing in {rtype}", line_no, n)
                    bad = True
                continue
            check = checkers[i]
            if check is not None:
                message = check(v)
                if message:
                    problem(message, line_no, n)
                    bad = True
        if not self.seen_head and rtype != "HEAD":
            problem("the first record must be HEAD", line_no, "RecordType")
            self.seen_head = True
        if rtype == "HEAD":
            if self.seen_head:
                problem("a second HEAD record", line_no, "RecordType")
            self.seen_head = True
            report.head = rec
            period = self.file_period or period_from_dates(rec.get("UsageStartDate", ""),
                                                            rec.get("UsageEndDate", ""))
            if period is None:
                start, end = rec.get("UsageStartDate", ""), rec.get("UsageEndDate", "")
                period = f"{start}..{end}" if start and end else ""
            if not period:
                problem("no reporting period: neither the file name (DSR_..._2015-02_...) nor "
                        "HEAD UsageStartDate/UsageEndDate give one", line_no, "UsageStartDate")
            report.period = period
        elif rtype.startswith("SY"):
            if self.block is not None:
                problem("summary record after the first block (summaries come before blocks)",
                        line_no, "RecordType")
            report.summaries += 1
            if not bad:
                sid = rec["SummaryRecordId"]
                self.summaries.setdefault(sid, []).append(rec)
                self.summary_lines.setdefault(sid, line_no)
                if rec.get("NetRevenue") and rec.get("Currency"):
                    report.pools.append(Pool(
                        line=line_no, period=report.period, territory=rec["Territory"].upper(),
                        service=(report.head.get("ServiceDescription")
                                 or rec.get("ServiceDescription") or ""),
                        commercial_model=COMMERCIAL_MODELS.get(rec["CommercialModel"],
                                                               rec["CommercialModel"]),
                        currency=rec["Currency"].upper(), net_revenue=Decimal(rec["NetRevenue"])))
        elif rtype == "FOOT":
            self.seen_foot = True
            report.foot = rec
        else:
            block_id = rec.get("BlockId", "")
            block = self.block
            if block is None or block.block_id != block_id:
                self.emit_block(block)
                block = self.block = Block(block_id)
                report.blocks += 1
            if bad:
                return
            if rtype.startswith("RE"):
                block.release = rec
            elif rtype.startswith("AS"):
                block.assets.append(rec)
            elif rtype.startswith("MW"):
                block.works.append(rec)
            elif rtype in UGC_USAGE_RECORD_TYPES:
                ids_, uses = rec["DspReleaseId"].split("|"), rec["Usages"].split("|")
                if len(ids_) != len(uses):
                    problem(f"{len(ids_)} DspReleaseIds but {len(uses)} Usages: the lists must "
                            "pair up", line_no, "Usages")
                else:
                    block.ru_lines.append((line_no, rec))
            elif rtype in USAGE_RECORD_TYPES:
                block.usage_seen = True
                if "|" in rec.get("Usages", "") or "|" in rec.get("NumberOfStreams", ""):
                    name = "Usages" if "|" in rec.get("Usages", "") else "NumberOfStreams"
                    problem(f"{name} holds a list ('{rec[name]}') in {rtype}: a sales or usage record reports one "
                            "number of uses (lists pair up with DspReleaseId in RU records only)", line_no, name)
                else:
                    self._emit(line_no, rec, block, kind="SU")
        self.last_kind = rtype

    def finish(self) -> Report:
        """Close the last block, check HEAD/FOOT and the footer counts; raise or return the report."""
        self.emit_block(self.block)
        report, problem = self.report, self.problem
        report.lines = self.line_no
        if not self.seen_head and self.line_no:
            problem("no HEAD record", 1, "RecordType")
        if not self.seen_foot:
            problem("no FOOT record: the file is truncated or not a DSR flat file", max(self.line_no, 1),
                    "RecordType")
        else:
            mismatches = _check_foot(report)
            if self.footer_policy == "refuse" or self.problems:
                for w in mismatches:      # refused: each disagreement is a problem like any other
                    problem(w.message, w.line, w.field)
            else:
                report.footer_warnings = mismatches
        if self.problems:
            raise InvalidInput(self.problems)
        return report


def summary_dimensions(report: Report, summary: dict[str, str]) -> tuple[str, str, str, str, str | None]:
    """(territory, service, commercial model, use type, currency) a usage line takes from its summary."""
    return (summary["Territory"].upper(),
            report.head.get("ServiceDescription") or summary.get("ServiceDescription") or "",
            COMMERCIAL_MODELS.get(summary["CommercialModel"], summary["CommercialModel"]),
            USE_TYPES.get(summary["UseType"], summary["UseType"].lower()),
            summary.get("Currency") or None)


def _asset_for(rec: dict[str, str], block: Block) -> dict[str, str] | None:
    """The resource a usage record reports: by reference, by DSP id, or the block's only one."""
    ref = rec.get("TransactedResource")
    dsp = rec.get("DspReleaseId") or rec.get("DspResourceId")
    for asset in block.assets:
        if ref and asset.get("ResourceReference") == ref:
            return asset
        if dsp and asset.get("DspResourceId") == dsp:
            return asset
    return block.assets[0] if block.assets else None


def _check_foot(report: Report) -> list[FooterWarning]:
    """The FOOT counts that disagree with what the file holds (a malformed count is a cell problem,
    reported where the line was read)."""
    foot = report.foot
    line = report.lines
    single = report.head.get("NumberOfFiles", "1") in ("1", "") and report.head.get("FileNumber", "1") in ("1", "")
    out: list[FooterWarning] = []

    def check(name: str, actual: int) -> None:
        value = foot.get(name)
        if value and INTEGER_RE.fullmatch(value) and int(value) != actual:
            out.append(FooterWarning(name, int(value), actual, report.source, line))

    check("NumberOfLinesInFile", report.lines)
    check("NumberOfSummaryRecords", report.summaries)
    check("NumberOfBlocksInFile", report.blocks)
    if single:
        check("NumberOfLinesInReport", report.lines)
        check("NumberOfBlocksInReport", report.blocks)
    return out
