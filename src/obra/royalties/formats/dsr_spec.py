"""What the DDEX DSR flat-file specification says: record types, their cells, cell types.

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
definition; our definitions (:data:`RECORDS`, from the DSRF 3 XSDs, UgcProfile 1.0 /
BasicAudioProfile) give each named cell its type and whether it is mandatory, and
:func:`cell_checker` the check of each cell type (integers, decimals, ISO dates, ISO 8601
durations, booleans, ISRC/ISWC check rules, ISO 3166 territories, ISO 4217 currencies).

This module only states the specification; both readers, the row-by-row reference
(:mod:`obra.royalties.formats.dsr_reference`) and the vectorised one
(:mod:`obra.royalties.formats.dsr_fast`), read their rules from here.
"""

from __future__ import annotations

import re
from decimal import Decimal
from functools import lru_cache
from typing import Callable

from obra import ids
from obra.errors import InvalidInput

# --- record definitions ----------------------------------------------------------------

# Cell types by cell name (DSRF uses one name for one meaning across record types).
INTEGER_CELLS = {"Usages", "Users", "Returns", "NumberOfStreams", "FileNumber", "NumberOfFiles",
            "NumberOfLinesInFile", "NumberOfLinesInReport", "NumberOfSummaryRecords",
            "NumberOfBlocksInFile", "NumberOfBlocksInReport", "UsagesInSubPeriod",
            "UsagesInReportingPeriod", "TotalUsages", "NumberOfBroadcasts"}
DECIMAL_CELLS = {"NetRevenue", "IndirectNetRevenue", "AllocatedUsages", "AllocatedRevenue",
            "AllocatedNetRevenue", "AllocatedAmount", "Subscribers", "ConsumerPaidUnitPrice",
            "FreeOrTrialSubscribers", "ExchangeRate", "RightsControllerMarketShare",
            "PriceConsumerPaidExcSalesTax", "RightShare%", "MusicUsageRatio"}
DATE_CELLS = {"UsageStartDate", "UsageEndDate", "ValidityPeriodStart", "ValidityPeriodEnd",
         "SubPeriodStartDate", "SubPeriodEndDate"}
BOOLEAN_CELLS = {"IsRoyaltyBearing", "SalesUpgrade"}
DURATION_CELLS = {"Duration"}
MULTI_VALUE_CELLS = {"DspReleaseId", "Usages", "AllocatedUsages", "AllocatedRevenue", "ComposerAuthor",
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
#: Records that report usage: one usage line each.
USAGE_RECORD_TYPES = {"SU01", "SU02", "SU03.01"}
#: Records of user-generated releases: one usage line each when their block has no SU record.
UGC_USAGE_RECORD_TYPES = {"RU01", "RU02"}

# DDEX AVS CommercialModelType values → the short names DSR file names and Obra use.
COMMERCIAL_MODELS = {"AdvertisementSupportedModel": "AdSupport", "SubscriptionModel": "Subscription",
                     "PayAsYouGoModel": "PayAsYouGo", "FreeOfChargeModel": "FreeOfCharge",
                     "DeviceFeeModel": "DeviceFee", "RightsClaimModel": "RightsClaim"}
# DDEX AVS UseType values → Obra's lower-case use types.
USE_TYPES = {"Stream": "stream", "OnDemandStream": "stream", "NonInteractiveStream": "stream",
             "PermanentDownload": "download", "ConditionalDownload": "download",
             "TetheredDownload": "download", "Download": "download", "Webcast": "webcast",
             "Broadcast": "broadcast", "UserMakeAvailableUserProvided": "ugc"}

#: A whole-number cell (Python's ``\d``: any Unicode digit, as the reference reads them).
INTEGER_RE = re.compile(r"-?\d+")
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


def period_from_name(name: str) -> str | None:
    """The reporting period in a DSR file name (``..._2015-Q4_IS_1of1_...`` → ``2015-Q4``)."""
    m = _FILENAME_RE.search(name)
    return m.group("period").upper() if m else None


def period_from_dates(start: str, end: str) -> str | None:
    """The period HEAD's usage dates span: a whole month, quarter or year, else None."""
    import calendar
    from datetime import date

    def as_date(text: str) -> date | None:
        digits = text.replace("-", "")
        if len(digits) != 8 or not ids.ascii_digits(digits):
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


@lru_cache(maxsize=None)
def cell_checker(name: str) -> Callable[[str], str | None] | None:
    """The check for one cell name: returns an error message, or None when the value is fine."""
    checks: list[Callable[[str], str | None]] = []
    if name in INTEGER_CELLS:
        checks.append(lambda p: None if INTEGER_RE.fullmatch(p) else f"'{p}' is not a whole number")
    if name in DECIMAL_CELLS:
        checks.append(lambda p: None if _DEC_RE.fullmatch(p) else f"'{p}' is not a decimal number such as 12.34")
    if name in DATE_CELLS:
        checks.append(lambda p: None if _DATE_RE.fullmatch(p) else f"'{p}' is not a date (YYYY-MM-DD)")
    if name in BOOLEAN_CELLS:
        checks.append(lambda p: None if p.lower() in ("true", "false") else f"'{p}' is not true or false")
    if name in DURATION_CELLS:
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
    multi = name in MULTI_VALUE_CELLS

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
