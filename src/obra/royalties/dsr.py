"""DDEX DSR flat files (Digital Sales Reports, DSRF 3 multi-record-block profiles).

A DSR flat file is tab-separated text, one record per line, the first cell naming the
record type:

* ``HEAD`` once, first: message id, profile, file *n* of *m*, usage period, sender.
* ``SY0x`` summary records (``SY01``…``SY05``, ``SY02.01``): one per territory ×
  commercial model × use type × service, carrying the DSP's ``NetRevenue`` for that slice,
  the basis of royalty calculations. Usage records point at them by ``SummaryRecordId``.
* blocks, each a run of records sharing a ``BlockId``: release (``RE0x``), resources
  (``AS0x``: ISRC, title, artist, duration), musical works (``MW0x``: ISWC, proprietary
  work id), usage/sales (``SU0x``, and ``RU0x`` for user-generated releases) and rights
  allocations (``LI01``).
* ``FOOT`` once, last: the number of lines, summary records and blocks, which we check.

Lines starting with ``#`` are comments; a comment ``#TYPE<TAB>Name<TAB>Name…`` declares the
columns of that record type for this file (the DSRF convention, which real reports use to
say which version of a record they send). A declared header wins over our built-in
definition; our definitions (from the DSRF 3 XSDs, UgcProfile 1.0 / BasicAudioProfile)
give each named cell its type and whether it is mandatory.

**What is checked** (every problem is collected with file, line and field, then the file
is refused whole): known record types; HEAD first and FOOT last, nothing after FOOT;
summaries before blocks; no more cells than the record declares; mandatory cells present
(optional *trailing* cells may be omitted, as real reports do); cell types (integers,
decimals, ISO dates, ISO 8601 durations, booleans, ISRC/ISWC check rules, ISO 3166
territories); multi-value cells (``a|b|c``) of equal length where they pair up; usage
records refer to a declared summary; FOOT ``NumberOfLinesInFile``,
``NumberOfSummaryRecords`` and ``NumberOfBlocksInFile`` equal what the file holds (and the
``…InReport`` counts too when the report is one file).

**What comes out**: one :class:`UsageLine` per usage record (``SU01``/``SU02``/``SU03.01``;
a block with only ``RU0x`` records gives one line per ``RU`` record, its usages summed),
carrying the dimensions of its summary and the identifiers of its block's resource and
work; and one :class:`Pool` per summary slice with the summary's ``NetRevenue``.

The parser streams: memory is bounded by one block and the summary table, never the file
(blocks are counted by ``BlockId`` changes, so a block id reused after another block counts
twice: the footer check then catches it).

**Two readers, one specification.** :class:`ReferenceParser` (``parse_dsr_reference``) checks
row by row in plain Python: it *is* the definition of the rules above and the only code that
words a problem. :func:`parse_dsr` and ingest use the vectorised reader in
:mod:`obra.royalties.dsr_fast` (several times faster), which checks whole columns with Arrow
and hands every line it does not vouch for to the reference parser, so that both give the same
usage lines, pools and problems (``tests/royalties_ingest/test_dsr_fast.py`` holds them to it).
"""

from __future__ import annotations

import gzip
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Callable

from obra import ids
from obra.errors import InvalidInput, Problem

# --- record definitions ----------------------------------------------------------------

# Cell types by cell name (DSRF uses one name for one meaning across record types).
_INTEGER = {"Usages", "Users", "Returns", "NumberOfStreams", "FileNumber", "NumberOfFiles",
            "NumberOfLinesInFile", "NumberOfLinesInReport", "NumberOfSummaryRecords",
            "NumberOfBlocksInFile", "NumberOfBlocksInReport", "UsagesInSubPeriod",
            "UsagesInReportingPeriod", "TotalUsages", "NumberOfBroadcasts"}
_DECIMAL = {"NetRevenue", "IndirectNetRevenue", "AllocatedUsages", "AllocatedRevenue",
            "AllocatedNetRevenue", "AllocatedAmount", "Subscribers", "ConsumerPaidUnitPrice",
            "FreeOrTrialSubscribers", "ExchangeRate", "RightsControllerMarketShare",
            "PriceConsumerPaidExcSalesTax", "RightShare%", "MusicUsageRatio"}
_DATE = {"UsageStartDate", "UsageEndDate", "ValidityPeriodStart", "ValidityPeriodEnd",
         "SubPeriodStartDate", "SubPeriodEndDate"}
_BOOLEAN = {"IsRoyaltyBearing", "SalesUpgrade"}
_DURATION = {"Duration"}
_MULTI = {"DspReleaseId", "Usages", "AllocatedUsages", "AllocatedRevenue", "ComposerAuthor",
          "ComposerAuthorPartyId", "Arranger", "ArrangerPartyId", "MusicPublisher",
          "MusicPublisherPartyId", "WorkContributor", "WorkContributorPartyId",
          "DisplayArtistName", "DisplayArtistPartyId", "ProprietaryWorkId"}


def _fields(spec: str) -> tuple[tuple[str, bool], ...]:
    """``"A B? C"`` → ((A, mandatory), (B, optional), (C, mandatory))."""
    return tuple((name.rstrip("?"), not name.endswith("?")) for name in spec.split())


_SUMMARY_HEAD = "SummaryRecordId DistributionChannel? DistributionChannelDPID? CommercialModel UseType Territory"
RECORDS: dict[str, tuple[tuple[str, bool], ...]] = {
    "HEAD": _fields("MessageVersion Profile ProfileVersion MessageId MessageCreatedDateTime FileNumber "
                    "NumberOfFiles UsageStartDate UsageEndDate SenderPartyId SenderName "
                    "ServiceDescription? RecipientPartyId? RecipientName? RepresentedRepertoire?"),
    "SY01": _fields(f"{_SUMMARY_HEAD} ServiceDescription? Usages Subscribers? Currency NetRevenue "
                    "IndirectNetRevenue?"),
    "SY02": _fields(f"{_SUMMARY_HEAD} ServiceDescription Usages Users? Currency NetRevenue RightsController? "
                    "RightsControllerPartyId? AllocatedUsages? AllocatedRevenue? AllocatedNetRevenue?"),
    "SY02.01": _fields(f"{_SUMMARY_HEAD} ServiceDescription Usages Users? Currency NetRevenue "
                       "RightsController? RightsControllerPartyId? AllocatedUsages? AllocatedRevenue? "
                       "AllocatedNetRevenue? RightsType?"),
    "SY03": _fields(f"{_SUMMARY_HEAD} ServiceDescription Usages Subscribers Currency NetRevenue "
                    "RightsController? RightsControllerPartyId? AllocatedUsages? AllocatedRevenue? "
                    "AllocatedNetRevenue? RightsControllerMarketShare? ConsumerPaidUnitPrice "
                    "FreeOrTrialSubscribers ExchangeRateBaseCurrency? ExchangeRate?"),
    "SY04": _fields(f"{_SUMMARY_HEAD} ServiceDescription SubscriberType Subscribers SubPeriodStartDate? "
                    "SubPeriodEndDate? UsagesInSubPeriod? UsagesInReportingPeriod? Currency "
                    "ExchangeRateBaseCurrency? ExchangeRate? ConsumerPaidUnitPrice NetRevenue"),
    "SY05": _fields(f"{_SUMMARY_HEAD} ServiceDescription? RightsController? RightsControllerPartyId? "
                    "RightsType TotalUsages? AllocatedUsages? MusicUsageRatio? AllocatedRevenue? "
                    "AllocatedNetRevenue? RightsControllerMarketShare?"),
    "RE01": _fields("BlockId ReleaseReference DspReleaseId ProprietaryReleaseId? CatalogNumber? ICPN? "
                    "DisplayArtistName? DisplayArtistPartyId? Title? SubTitle? ReleaseType? Label? PLine? "
                    "DataProvider?"),
    "AS01": _fields("BlockId ResourceReference DspResourceId ISRC? Title? SubTitle? DisplayArtistName? "
                    "DisplayArtistPartyId? Duration? ResourceType?"),
    "AS02": _fields("BlockId ResourceReference DspResourceId ISRC? Title? SubTitle? DisplayArtistName? "
                    "DisplayArtistPartyId? Duration? ResourceType? ISWC? ComposerAuthor? "
                    "ComposerAuthorPartyId? Arranger? ArrangerPartyId? MusicPublisher? "
                    "MusicPublisherPartyId? WorkContributor? WorkContributorPartyId? DataProvider? "
                    "ProprietaryWorkId?"),
    "MW01": _fields("BlockId DspWorkId ISWC? Title? SubTitle? ComposerAuthor? ComposerAuthorPartyId? "
                    "Arranger? ArrangerPartyId? MusicPublisher? MusicPublisherPartyId? WorkContributor? "
                    "WorkContributorPartyId? ProprietaryWorkId?"),
    "MW01.01": _fields("BlockId DspWorkId ISWC? Title? SubTitle? ComposerAuthor? ComposerAuthorPartyId? "
                       "Arranger? ArrangerPartyId? MusicPublisher? MusicPublisherPartyId? "
                       "WorkContributor? WorkContributorPartyId? DataProvider? ProprietaryWorkId?"),
    "RU01": _fields("BlockId SummaryRecordId DspReleaseId Usages"),
    "RU02": _fields("BlockId SummaryRecordId DspReleaseId ReleaseTitle ReleaseURL Usages"),
    "SU01": _fields("BlockId SummaryRecordId SalesTransactionId TransactedRelease? TransactedResource? "
                    "IsRoyaltyBearing SalesUpgrade Usages Returns PriceConsumerPaidExcSalesTax? "
                    "PromotionalActivity?"),
    "SU02": _fields("BlockId SummaryRecordId SalesTransactionId TransactedRelease? TransactedResource? "
                    "IsRoyaltyBearing? NumberOfStreams PriceConsumerPaidExcSalesTax? PromotionalActivity?"),
    "SU03.01": _fields("BlockId SalesTransactionId SummaryRecordId? DspReleaseId Usages? NetRevenue "
                       "ValidityPeriodStart? ValidityPeriodEnd?"),
    "LI01": _fields("BlockId SummaryRecordId RightsController RightsControllerProprietaryID? "
                    "RightsControllerWorkID? RightShare% RightType AllocatedNetRevenue? AllocatedAmount?"),
    "LI01.01": _fields("BlockId SummaryRecordId RightsController RightsControllerProprietaryID? "
                       "RightsControllerWorkID? RightShare% RightType AllocatedNetRevenue? "
                       "AllocatedAmount?"),
    "FOOT": _fields("NumberOfLinesInFile NumberOfLinesInReport? NumberOfSummaryRecords? "
                    "NumberOfBlocksInFile? NumberOfBlocksInReport?"),
}
_USAGE_TYPES = {"SU01", "SU02", "SU03.01"}
_UGC_USAGE_TYPES = {"RU01", "RU02"}

# DDEX AVS CommercialModelType values → the short names DSR file names and Obra use.
COMMERCIAL_MODELS = {"AdvertisementSupportedModel": "AdSupport", "SubscriptionModel": "Subscription",
                     "PayAsYouGoModel": "PayAsYouGo", "FreeOfChargeModel": "FreeOfCharge",
                     "DeviceFeeModel": "DeviceFee", "RightsClaimModel": "RightsClaim"}
# DDEX AVS UseType values → Obra's lower-case use types.
USE_TYPES = {"Stream": "stream", "OnDemandStream": "stream", "NonInteractiveStream": "stream",
             "PermanentDownload": "download", "ConditionalDownload": "download",
             "TetheredDownload": "download", "Download": "download", "Webcast": "webcast",
             "Broadcast": "broadcast", "UserMakeAvailableUserProvided": "ugc"}

_INT_RE = re.compile(r"-?\d+")
_DEC_RE = re.compile(r"-?\d+(\.\d+)?")
_DATE_RE = re.compile(r"\d{4}(-\d{2}(-\d{2})?)?|\d{8}")
_DURATION_RE = re.compile(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?")
_FILENAME_RE = re.compile(
    r"DSR_(?P<sender>[^_]+)_(?P<recipient>[^_]+)_(?P<service>[^_]+)_(?P<period>\d{4}(?:-(?:Q[1-4]|H[12]|\d{2}))?)"
    r"_(?P<territory>[A-Za-z0-9]+)_(?P<n>\d+)of(?P<m>\d+)_(?P<stamp>\d{8}T\d{6})", re.IGNORECASE)


def record_definition(record_type: str) -> tuple[tuple[str, bool], ...] | None:
    """The built-in cells of a record type, or None when DSRF has no such record."""
    return RECORDS.get(record_type)


@lru_cache(maxsize=10_000)
def duration_seconds(value: str) -> int | None:
    """ISO 8601 ``PT3M25S`` → 205; ``PT0H0M0S`` (the DSP does not know) → None."""
    m = _DURATION_RE.fullmatch(value)
    if not m or value in ("P", "PT"):
        raise ValueError(f"'{value}' is not an ISO 8601 duration such as PT3M25S")
    days, hours, minutes, seconds = m.groups()
    total = (int(days or 0) * 86400 + int(hours or 0) * 3600 + int(minutes or 0) * 60
             + int(Decimal(seconds or 0)))
    return total or None


# --- output ----------------------------------------------------------------------------

@dataclass(frozen=True)
class UsageLine:
    """One reported use of one resource in one summary slice (parsed, validated)."""

    line: int
    period: str
    territory: str
    service: str
    commercial_model: str
    use_type: str
    plays: int
    isrc: str | None = None
    iswc: str | None = None
    proprietary_id: str | None = None
    title: str | None = None
    artist: str | None = None
    album: str | None = None
    duration_s: int | None = None
    revenue: Decimal | None = None
    currency: str | None = None
    user_id: str | None = None


@dataclass(frozen=True)
class Pool:
    """The money of one summary slice: the DSP's net revenue for it, in the report's currency."""

    line: int
    period: str
    territory: str
    service: str
    commercial_model: str
    currency: str
    net_revenue: Decimal
    user_id: str | None = None


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


# --- reading ---------------------------------------------------------------------------

def open_text(path: Path) -> io.TextIOBase:
    """Open a report as UTF-8 text, transparently gunzipping ``.gz`` (detected by magic bytes)."""
    with open(path, "rb") as fh:
        magic = fh.read(2)
    raw = gzip.open(path, "rb") if magic == b"\x1f\x8b" else open(path, "rb")
    return io.TextIOWrapper(raw, encoding="utf-8", errors="strict", newline="")


def period_from_name(name: str) -> str | None:
    """The reporting period in a DSR file name (``..._2015-Q4_IS_1of1_...`` → ``2015-Q4``)."""
    m = _FILENAME_RE.search(name)
    return m.group("period").upper() if m else None


def _period_from_dates(start: str, end: str) -> str | None:
    import calendar
    from datetime import date

    def as_date(text: str) -> date | None:
        digits = text.replace("-", "")
        if len(digits) != 8 or not digits.isdigit():
            return None
        try:
            return date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
        except ValueError:
            return None

    s, e = as_date(start), as_date(end)
    if not s or not e or s.day != 1 or e.year != s.year:
        return None
    last = calendar.monthrange(e.year, e.month)[1]
    if e.day != last:
        return None
    if e.month == s.month:
        return f"{s.year:04d}-{s.month:02d}"
    if (s.month - 1) % 3 == 0 and e.month == s.month + 2:
        return f"{s.year:04d}-Q{(s.month - 1) // 3 + 1}"
    if s.month == 1 and e.month == 12:
        return f"{s.year:04d}"
    return None


class _Block:
    __slots__ = ("block_id", "release", "assets", "works", "usage_seen", "ru_lines")

    def __init__(self, block_id: str):
        self.block_id = block_id
        self.release: dict[str, str] | None = None
        self.assets: list[dict[str, str]] = []
        self.works: list[dict[str, str]] = []
        self.usage_seen = False
        self.ru_lines: list[tuple[int, dict[str, str]]] = []


def parse_dsr(path: str | Path, *, display_name: str | None = None,
              on_line: Callable[[UsageLine], None] | None = None,
              progress: Callable[[int], None] | None = None) -> Report:
    """Validate a DSR file in one streaming pass, handing each usage line to ``on_line``.

    Raises :class:`InvalidInput` listing every problem (file, line, field) if anything is
    wrong; the caller must then discard whatever ``on_line`` received (the store writes to
    a temporary directory for exactly this reason). ``progress`` is called with the number
    of lines read so far.

    The file is read by the vectorised reader (:mod:`obra.royalties.dsr_fast`), which hands
    every stretch it cannot vouch for to :class:`ReferenceParser`; the result, the usage
    lines and the problems are those :func:`parse_dsr_reference` gives.
    """
    from obra.royalties import dsr_fast

    return dsr_fast.read_dsr_tables(path, display_name=display_name, on_line=on_line, progress=progress)


def parse_dsr_reference(path: str | Path, *, display_name: str | None = None,
                        on_line: Callable[[UsageLine], None] | None = None,
                        progress: Callable[[int], None] | None = None,
                        parser: "ReferenceParser | None" = None) -> Report:
    """The specification: validate a DSR file row by row, in pure Python (slow, plain).

    Same contract as :func:`parse_dsr`; kept as the executable definition of what a valid
    file is, what it yields and which problems it reports, against which the fast reader is
    tested. ``progress`` is called every 100,000 lines.
    """
    path = Path(path)
    p = parser or ReferenceParser(path, display_name or path.name, on_line)
    try:
        with open_text(path) as fh:
            for raw in fh:
                p.feed(raw)
                if progress is not None and p.line_no % 100_000 == 0:
                    progress(p.line_no)
    except UnicodeDecodeError as exc:
        p.problem(f"not UTF-8 text ({exc.reason} at byte {exc.start} of the line); DSR files are UTF-8",
                  p.line_no + 1)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        p.problem(f"cannot read the file: {exc}", p.line_no or 1)
    return p.finish()


class ReferenceParser:
    """The row-by-row checker, one line at a time: :meth:`feed` each line, then :meth:`finish`.

    It holds what the stream has established so far (declared columns, summaries, the open
    block, counts, problems). Memory is bounded by one block and the summary table. The fast
    reader feeds it the lines it does not handle itself (HEAD, summaries, comments, FOOT, any
    block a vectorised check flags) and keeps its counts and open block up to date for the
    blocks it did handle, so every problem is reported by this code, in this order.
    """

    def __init__(self, path: Path, name: str, on_line: Callable[[UsageLine], None] | None = None):
        self.name = name
        self.on_line = on_line
        self.problems: list[Problem] = []
        self.declared: dict[str, tuple[str, ...]] = {}
        self.layouts: dict[str, tuple] = {}
        self.report = Report(source=name, period="")
        self.summaries: dict[str, list[dict[str, str]]] = {}
        self.summary_lines: dict[str, int] = {}
        self.block: _Block | None = None
        self.seen_head = self.seen_foot = False
        self.file_period = period_from_name(path.name) or period_from_name(name)
        self.line_no = 0
        self.last_kind = ""

    def problem(self, message: str, line: int, fld: str | None = None) -> None:
        if len(self.problems) < 10_000:
            self.problems.append(Problem(message, field=fld, line=line, source=self.name))

    def layout(self, rtype: str) -> tuple[tuple[str, ...], list[bool], list]:
        """(cell names, mandatory flags, checkers) of a record type as this file declares it."""
        layout = self.layouts.get(rtype)
        if layout is None:
            spec = RECORDS[rtype]
            names = self.declared.get(rtype) or tuple(n for n, _ in spec)
            mandatory = {n for n, m in spec if m}
            layout = self.layouts[rtype] = (names, [n in mandatory for n in names],
                                            [_checker(n) for n in names])
        return layout

    def emit_block(self, b: _Block | None) -> None:
        if b is None or b.usage_seen:
            return
        for line_no, rec in b.ru_lines:   # a UGC block reported only by RU records
            self._emit(line_no, rec, b, kind="RU")

    def _emit(self, line_no: int, rec: dict[str, str], b: _Block, kind: str) -> None:
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
        self.line_no += 1
        line_no, problem, report = self.line_no, self.problem, self.report
        text = raw.rstrip("\r\n")
        if self.seen_foot:
            problem("content after the FOOT record (FOOT must be the last line)", line_no)
            return
        if not text.strip():
            problem("empty line (a DSR file has one record per line, no blank lines)", line_no)
            return
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
        bad = False
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
            period = self.file_period or _period_from_dates(rec.get("UsageStartDate", ""),
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
                block = self.block = _Block(block_id)
                report.blocks += 1
            if bad:
                return
            if rtype.startswith("RE"):
                block.release = rec
            elif rtype.startswith("AS"):
                block.assets.append(rec)
            elif rtype.startswith("MW"):
                block.works.append(rec)
            elif rtype in _UGC_USAGE_TYPES:
                ids_, uses = rec["DspReleaseId"].split("|"), rec["Usages"].split("|")
                if len(ids_) != len(uses):
                    problem(f"{len(ids_)} DspReleaseIds but {len(uses)} Usages: the lists must "
                            "pair up", line_no, "Usages")
                else:
                    block.ru_lines.append((line_no, rec))
            elif rtype in _USAGE_TYPES:
                block.usage_seen = True
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
            _check_foot(report, problem)
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


def _asset_for(rec: dict[str, str], block: _Block) -> dict[str, str] | None:
    """The resource a usage record reports: by reference, by DSP id, or the block's only one."""
    ref = rec.get("TransactedResource")
    dsp = rec.get("DspReleaseId") or rec.get("DspResourceId")
    for asset in block.assets:
        if ref and asset.get("ResourceReference") == ref:
            return asset
        if dsp and asset.get("DspResourceId") == dsp:
            return asset
    return block.assets[0] if block.assets else None


@lru_cache(maxsize=None)
def _checker(name: str) -> Callable[[str], str | None] | None:
    """The check for one cell name: returns an error message, or None when the value is fine."""
    checks: list[Callable[[str], str | None]] = []
    if name in _INTEGER:
        checks.append(lambda p: None if _INT_RE.fullmatch(p) else f"'{p}' is not a whole number")
    if name in _DECIMAL:
        checks.append(lambda p: None if _DEC_RE.fullmatch(p) else f"'{p}' is not a decimal number such as 12.34")
    if name in _DATE:
        checks.append(lambda p: None if _DATE_RE.fullmatch(p) else f"'{p}' is not a date (YYYY-MM-DD)")
    if name in _BOOLEAN:
        checks.append(lambda p: None if p.lower() in ("true", "false") else f"'{p}' is not true or false")
    if name in _DURATION:
        checks.append(_duration_error)
    if name == "ISRC":
        checks.append(_isrc_error)
    if name == "ISWC":
        checks.append(_iswc_error)
    if name == "Territory":
        checks.append(lambda p: None if p.upper() in ids.iso_countries()
                      else f"'{p}' is not an ISO 3166-1 alpha-2 country code")
    if name in ("Currency", "ExchangeRateBaseCurrency"):
        checks.append(lambda p: None if re.fullmatch(r"[A-Za-z]{3}", p) else f"'{p}' is not an ISO 4217 currency code")
    if not checks:
        return None
    multi = name in _MULTI

    def check(value: str) -> str | None:
        for part in (value.split("|") if multi else (value,)):
            if part:
                for c in checks:
                    message = c(part)
                    if message:
                        return message
        return None

    return check


def _cached_error(parse: Callable[[str], object]) -> Callable[[str], str | None]:
    """The message of the first problem ``parse`` finds in a cell, cached (identifier cells repeat)."""

    @lru_cache(maxsize=100_000)
    def error(value: str) -> str | None:
        try:
            parse(value)
        except InvalidInput as exc:
            return exc.problems[0].message
        return None

    return error


_isrc_error = _cached_error(ids.parse_isrc)
_iswc_error = _cached_error(ids.parse_iswc)


@lru_cache(maxsize=10_000)
def _duration_error(value: str) -> str | None:
    try:
        duration_seconds(value)
    except ValueError as exc:
        return str(exc)
    return None


def _check_foot(report: Report, problem: Callable[..., None]) -> None:
    foot = report.foot
    line = report.lines
    single = report.head.get("NumberOfFiles", "1") in ("1", "") and report.head.get("FileNumber", "1") in ("1", "")

    def check(name: str, actual: int) -> None:
        value = foot.get(name)
        if value and _INT_RE.fullmatch(value) and int(value) != actual:
            problem(f"FOOT says {name} = {value}, but the file has {actual}", line, name)

    check("NumberOfLinesInFile", report.lines)
    check("NumberOfSummaryRecords", report.summaries)
    check("NumberOfBlocksInFile", report.blocks)
    if single:
        check("NumberOfLinesInReport", report.lines)
        check("NumberOfBlocksInReport", report.blocks)
