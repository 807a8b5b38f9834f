"""Obra's CSV usage format: what a service without DDEX tooling can send (see docs/usage-formats.md).

Two kinds of CSV file, told apart by their header (UTF-8, comma-separated, one header row):

**Usage** (has a ``plays`` column): one row per use count of one track.

====================  ========  ==========================================================
column                required  meaning
====================  ========  ==========================================================
period                yes       ``2026-03`` (month), ``2026-Q1`` (quarter) or ``2026``
territory             yes       ISO 3166-1 alpha-2 country (``UY``, ``ES``)
service               yes       service or tier name (``ExampleMusic-Premium``)
commercial_model      yes       ``Subscription``, ``AdSupport``, ``PayAsYouGo`` …
use_type              yes       ``stream``, ``download``, ``webcast`` …
plays                 yes       whole number ≥ 0
user_id               no        the listener (pseudonymous); needed for user-centric models
isrc, iswc            no        identifiers (validated with their check rules)
proprietary_id        no        an Obra registration number or the sender's own id
title, artist, album  no        metadata as displayed (used for fuzzy matching)
duration_s            no        whole seconds
revenue, currency     no        line-level revenue in major units (``0.0042``) and ISO 4217
====================  ========  ==========================================================

**Pools** (has an ``amount`` column): the money to distribute per slice — ``period,
territory, service, commercial_model, currency, amount`` and optionally ``user_id`` (a
subscriber's own payment, for user-centric distribution). ``amount`` is in major units
with no more decimals than the currency has (``12.34`` USD, ``1200`` JPY): Obra stores
integer minor units and refuses to guess a rounding.

Every row is checked; every problem is reported with file, line and column, and a file
with any problem is refused whole.
"""

from __future__ import annotations

import csv
import re
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Callable

import pyarrow as pa
import pyarrow.compute as pc

from obra import ids, money
from obra.errors import InvalidInput, Problem
from obra.royalties.formats.text import (UTF8_BOM, Lines, decode_line, describe_control, first_long_line,
                                         has_control_bytes, limits, not_utf8, open_binary, read_lines)
from obra.royalties.records import POOL_ROWS_SCHEMA, REVENUE_TYPE, USAGE_ROWS_SCHEMA, PoolRow, UsageLine

USAGE_REQUIRED = ("period", "territory", "service", "commercial_model", "use_type", "plays")
USAGE_OPTIONAL = ("user_id", "isrc", "iswc", "proprietary_id", "title", "artist", "album", "duration_s",
                  "revenue", "currency")
POOL_REQUIRED = ("period", "territory", "service", "commercial_model", "currency", "amount")
POOL_OPTIONAL = ("user_id",)
_PERIOD = re.compile(r"\d{4}(-(0[1-9]|1[0-2])|-Q[1-4]|-H[12])?")


_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def read_header(path: Path) -> list[str]:
    """The header row's column names (stripped), read within the line and cell limits."""
    with open_binary(path) as fh:
        first = next(read_lines(fh, path.name), b"")
    if first.startswith(UTF8_BOM):
        first = first[len(UTF8_BOM):]
    text, bad = decode_line(first)
    if text is None:
        raise InvalidInput(Problem(not_utf8(f"byte {bad + 1} of the header", "Obra CSV files"),
                                   field="header", line=1, source=path.name))
    try:
        header = next(csv.reader([text]), [])
    except csv.Error as exc:
        raise InvalidInput(Problem(f"malformed CSV header: {exc}", field="header", line=1, source=path.name)) from None
    for name in header:
        if len(name) > 100 or _CONTROL.search(name):
            raise InvalidInput(Problem(f"'{name[:40]}…' is not a column name; see docs/usage-formats.md"
                                       if len(name) > 40 else f"{name!r} is not a column name; see docs/usage-formats.md",
                                       field="header", line=1, source=path.name))
    return [h.strip() for h in header]


def sniff_kind(path: Path) -> str:
    """``"usage"`` or ``"pools"``, from the header row."""
    path = Path(path)
    names = set(read_header(path))
    if "plays" in names:
        return "usage"
    if "amount" in names:
        return "pools"
    raise InvalidInput(Problem("the header has neither 'plays' (a usage file) nor 'amount' (a pools file); "
                               "see docs/usage-formats.md", field="header", line=1, source=path.name))


def read_csv(path: str | Path, *, display_name: str | None = None,
             on_usage: Callable[[UsageLine], None] | None = None,
             on_pool: Callable[[PoolRow], None] | None = None,
             progress: Callable[[int], None] | None = None) -> dict:
    """Validate a usage or pools CSV in one streaming pass; raise with every problem, or return counts."""
    path = Path(path)
    name = display_name or path.name
    kind = sniff_kind(path)
    required, optional = (USAGE_REQUIRED, USAGE_OPTIONAL) if kind == "usage" else (POOL_REQUIRED, POOL_OPTIONAL)
    problems: list[Problem] = []

    def problem(message: str, line: int, fld: str | None = None) -> None:
        if len(problems) < 10_000:
            problems.append(Problem(message, field=fld, line=line, source=name))

    callback = on_usage if kind == "usage" else on_pool
    rows = 0
    max_field = limits().max_field_bytes
    csv.field_size_limit(max_field)
    with open_binary(path) as fh:
        lines = Lines(fh, name)
        reader = csv.DictReader(_text_lines(lines, problem))
        header = [h.strip() for h in (reader.fieldnames or [])]
        reader.fieldnames = header
        missing = [c for c in required if c not in header]
        unknown = [c for c in header if c not in required and c not in optional]
        for c in missing:
            problem(f"required column '{c}' is missing from the header", 1, c)
        for c in unknown:
            problem(f"unknown column '{c}' (allowed: {', '.join(required + optional)})", 1, c)
        if missing or unknown:
            raise InvalidInput(problems)
        try:
            for row in reader:
                rows += 1
                line = lines.line
                if progress is not None and rows % 100_000 == 0:
                    progress(rows)
                if None in row:
                    problem(f"{len(header) + len(row[None])} cells but the header has {len(header)}", line)
                    continue
                if any(v is None for v in row.values()):
                    problem(f"fewer cells than the {len(header)} columns of the header", line)
                    continue
                parsed = _usage(row, line, problem) if kind == "usage" else _pool(row, line, problem)
                if parsed is not None and not problems and callback is not None:
                    callback(parsed)
        except csv.Error as exc:
            if "field larger than field limit" in str(exc):
                problem(f"a cell longer than {max_field:,} characters (OBRA_MAX_FIELD_BYTES)", lines.line)
            else:
                problem(f"malformed CSV: {exc}", lines.line)
    if rows == 0 and not problems:
        problem("the file has a header but no rows", 1)
    if problems:
        raise InvalidInput(problems)
    return {"kind": kind, "rows": rows}


def _text_lines(lines: Lines, problem):
    """The file's lines as text for the csv module: bounded (:func:`read_lines`), a leading byte-order
    mark skipped, every line that is not UTF-8 or holds a control character named at its column."""
    header: list[str] = []
    for raw in lines:
        n = lines.line
        if lines.blanks:          # a run of empty lines, however long, is one empty line to csv
            yield "\n"
            continue
        if n == 1 and raw.startswith(UTF8_BOM):
            raw = raw[len(UTF8_BOM):]
        text, bad = decode_line(raw)
        if text is None:
            text = raw.decode("utf-8", "replace")
            problem(not_utf8(f"byte {bad + 1} of the line", "Obra CSV files"), n,
                    _column_at(raw[:bad].decode("utf-8", "replace"), header))
        control = _CONTROL.search(text)
        if control is not None:
            problem(f"{describe_control(control.group())}: CSV cells are text and may not hold control characters",
                    n, _column_at(text[:control.start()], header))
        if n == 1:
            try:
                header = [h.strip() for h in next(csv.reader([text]), [])]
            except csv.Error:
                pass
        yield text


def _column_at(prefix: str, header: list[str]) -> str:
    """The column (its header name, else 'column N') of the cell a line's ``prefix`` ends in."""
    try:
        k = max(len(next(csv.reader([prefix]), [""])), 1)
    except csv.Error:
        k = prefix.count(",") + 1
    return header[k - 1] if k - 1 < len(header) else f"column {k}"


def _common(row: dict[str, str], line: int, problem) -> tuple[str, str, str, str] | None:
    ok = True
    period = row["period"].strip().upper()
    if not _PERIOD.fullmatch(period):
        problem(f"'{row['period']}' is not a period: use 2026-03, 2026-Q1, 2026-H1 or 2026", line, "period")
        ok = False
    territory = row["territory"].strip().upper()
    if territory not in ids.iso_countries():
        problem(f"'{row['territory']}' is not an ISO 3166-1 alpha-2 country code", line, "territory")
        ok = False
    for c in ("service", "commercial_model"):
        if not row[c].strip():
            problem("is required", line, c)
            ok = False
    return (period, territory, row["service"].strip(), row["commercial_model"].strip()) if ok else None


def _usage(row: dict[str, str], line: int, problem) -> UsageLine | None:
    common = _common(row, line, problem)
    ok = common is not None

    def opt(c: str) -> str | None:
        v = (row.get(c) or "").strip()
        return v or None

    use_type = (row["use_type"] or "").strip().lower()
    if not use_type:
        problem("is required", line, "use_type")
        ok = False
    plays_text = row["plays"].strip()
    if not ids.ascii_digits(plays_text):
        problem(f"'{row['plays']}' is not a whole number of plays (0 or more)", line, "plays")
        ok = False
    isrc = iswc = None
    try:
        isrc = ids.parse_isrc(opt("isrc")) if opt("isrc") else None
    except InvalidInput as exc:
        problem(exc.problems[0].message, line, "isrc")
        ok = False
    try:
        iswc = ids.parse_iswc(opt("iswc")) if opt("iswc") else None
    except InvalidInput as exc:
        problem(exc.problems[0].message, line, "iswc")
        ok = False
    duration = opt("duration_s")
    if duration is not None and not (ids.ascii_digits(duration) and int(duration) <= 86_400):
        problem(f"'{duration}' is not a duration in whole seconds (0-86400)", line, "duration_s")
        ok = False
    revenue = None
    currency = opt("currency")
    if opt("revenue") is not None:
        try:
            revenue = Decimal(opt("revenue"))
            if not revenue.is_finite():
                raise InvalidOperation
        except InvalidOperation:
            problem(f"'{opt('revenue')}' is not a decimal amount such as 0.0042", line, "revenue")
            ok = False
        if currency is None:
            problem("a revenue needs its currency (ISO 4217, e.g. USD)", line, "currency")
            ok = False
    if currency is not None:
        try:
            money.minor_exponent(currency)
        except InvalidInput:
            problem(f"'{currency}' is not an ISO 4217 currency code", line, "currency")
            ok = False
    if not ok:
        return None
    period, territory, service, model = common
    return UsageLine(line=line, period=period, territory=territory, service=service, commercial_model=model,
                     use_type=use_type, plays=int(plays_text), isrc=isrc, iswc=iswc,
                     proprietary_id=opt("proprietary_id"), title=opt("title"), artist=opt("artist"),
                     album=opt("album"), duration_s=int(duration) if duration else None, revenue=revenue,
                     currency=currency.upper() if currency else None, user_id=opt("user_id"))


def _pool(row: dict[str, str], line: int, problem) -> PoolRow | None:
    common = _common(row, line, problem)
    currency = row["currency"].strip().upper()
    amount = None
    try:
        amount = money.to_minor(row["amount"].strip(), currency, field="amount")
    except InvalidInput as exc:
        for p in exc.problems:
            problem(p.message, line, p.field or "amount")
    if amount is not None and amount < 0:
        problem("a pool cannot be negative", line, "amount")
        amount = None
    if common is None or amount is None:
        return None
    period, territory, service, model = common
    return PoolRow(line, period, territory, service, model, currency, amount,
                   (row.get("user_id") or "").strip() or None)


# --- the fast path ---------------------------------------------------------------------
#
# A valid usage file is the common case and can be large (millions of lines), so it is
# read with Arrow's CSV reader and checked column by column. The row-by-row validator
# above stays the single source of truth: any block in which a vectorised check flags a
# row is handed to it whole, so error messages, and the values of any row the two paths
# could judge differently, come from one place.

_ISRC_FAST = r"^[A-Z]{2}[A-Z0-9]{3}[0-9]{7}$"
_REVENUE_FAST = r"^-?[0-9]{1,27}(\.[0-9]{1,10})?$"


@lru_cache(maxsize=1)
def _isrc_prefixes() -> pa.Array:
    from obra.ids import _ISRC_SPECIAL_PREFIXES

    return pa.array(sorted(ids.iso_countries() | _ISRC_SPECIAL_PREFIXES))


def _blank_to_null(a: pa.Array) -> pa.Array:
    t = pc.utf8_trim_whitespace(a)
    return pc.if_else(pc.equal(t, ""), pa.scalar(None, pa.string()), t)


def _fast_block(batch: pa.RecordBatch, first_line: int) -> pa.Table | None:
    """The block as usage rows, or None when any row needs the row-by-row validator."""
    n = batch.num_rows
    names = batch.schema.names

    def col(name: str) -> pa.Array:
        return batch.column(names.index(name)) if name in names else pa.nulls(n, pa.string())

    period, territory, texts, ok = _fast_common(col, n)
    texts["use_type"] = pc.utf8_trim_whitespace(col("use_type"))
    ok = pc.and_(ok, pc.not_equal(texts["use_type"], ""))
    plays_text = pc.utf8_trim_whitespace(col("plays"))
    ok = pc.and_(ok, pc.match_substring_regex(plays_text, r"^[0-9]{1,18}$"))
    isrc = pc.utf8_upper(pc.replace_substring_regex(_blank_to_null(col("isrc")), r"[\s\-]", ""))
    isrc_ok = pc.and_(pc.match_substring_regex(isrc, _ISRC_FAST),
                      pc.is_in(pc.utf8_slice_codeunits(isrc, 0, 2), value_set=_isrc_prefixes()))
    ok = pc.and_(ok, pc.or_kleene(pc.is_null(isrc), isrc_ok))
    iswc = _blank_to_null(col("iswc"))
    if iswc.null_count < n:
        bad = [v for v in pc.unique(iswc.drop_null()).to_pylist() if not _iswc_ok(v)]
        if bad:
            return None
        iswc = pc.utf8_upper(pc.replace_substring_regex(iswc, r"[\s.\-]", ""))
    duration = _blank_to_null(col("duration_s"))
    ok = pc.and_(ok, pc.or_kleene(pc.is_null(duration), pc.match_substring_regex(duration, r"^[0-9]{1,5}$")))
    revenue = _blank_to_null(col("revenue"))
    currency = _blank_to_null(col("currency"))
    ok = pc.and_(ok, pc.or_kleene(pc.is_null(revenue), pc.and_(pc.match_substring_regex(revenue, _REVENUE_FAST),
                                                         pc.is_valid(currency))))
    ok = pc.and_(ok, pc.or_kleene(pc.is_null(currency), pc.match_substring_regex(currency, r"^[A-Za-z]{3}$")))
    if not pc.all(pc.fill_null(ok, False)).as_py():
        return None
    duration_i = pc.cast(duration, pa.int64())
    if pc.any(pc.greater(duration_i, 86_400)).as_py():
        return None
    return pa.table({
        "line": pa.array(range(first_line, first_line + n), pa.int64()), "period": period,
        "territory": territory, "service": texts["service"], "commercial_model": texts["commercial_model"],
        "use_type": pc.utf8_lower(texts["use_type"]), "user_id": _blank_to_null(col("user_id")), "isrc": isrc,
        "iswc": iswc, "proprietary_id": _blank_to_null(col("proprietary_id")),
        "title": _blank_to_null(col("title")), "artist": _blank_to_null(col("artist")),
        "album": _blank_to_null(col("album")), "duration_s": pc.cast(duration_i, pa.int32()),
        "plays": pc.cast(plays_text, pa.int64()), "revenue": pc.cast(revenue, REVENUE_TYPE),
        "currency": pc.utf8_upper(currency)}, schema=USAGE_ROWS_SCHEMA)


@lru_cache(maxsize=100_000)
def _iswc_ok(value: str) -> bool:
    try:
        ids.parse_iswc(value)
        return True
    except InvalidInput:
        return False


def read_usage_fast(path: str | Path, *, display_name: str | None = None,
                    on_table: Callable[[pa.Table], None],
                    progress: Callable[[int], None] | None = None,
                    block_size: int = 16 << 20) -> dict | None:
    """Validate a usage CSV block by block with Arrow; hand each valid block to ``on_table``.

    Returns None (having handed over nothing it would need to take back *only if the caller
    discards its staging*) when the file needs the row-by-row reader: a quoted line break
    inside a value, a ragged row, or any row a vectorised check flags. The caller then
    re-reads the file with :func:`read_csv`, which reports every problem with its line.
    """
    return _read_fast(path, "usage", USAGE_REQUIRED, USAGE_OPTIONAL, _fast_block, on_table, progress, block_size)


def read_pools_fast(path: str | Path, *, on_table: Callable[[pa.Table], None],
                    progress: Callable[[int], None] | None = None,
                    block_size: int = 16 << 20) -> dict | None:
    """The pools counterpart of :func:`read_usage_fast` (same contract, same fallback)."""
    return _read_fast(path, "pools", POOL_REQUIRED, POOL_OPTIONAL, _fast_pools_block, on_table, progress,
                      block_size)


def _fast_pools_block(batch: pa.RecordBatch, first_line: int) -> pa.Table | None:
    """The block as pool rows, or None when any row needs the row-by-row validator.

    Only the plain form of an amount (digits, at most the currency's decimals) is taken
    here, and only when every currency of the block has the same number of decimals;
    anything else (``1E3``, ``12.300``, mixed JPY and EUR) is left to :func:`money.to_minor`.
    """
    n = batch.num_rows
    names = batch.schema.names

    def col(name: str) -> pa.Array:
        return batch.column(names.index(name)) if name in names else pa.nulls(n, pa.string())

    period, territory, texts, ok = _fast_common(col, n)
    currency = pc.utf8_upper(pc.utf8_trim_whitespace(col("currency")))
    ok = pc.and_(ok, pc.match_substring_regex(currency, r"^[A-Z]{3}$"))
    if not pc.all(pc.fill_null(ok, False)).as_py():
        return None
    exponents = {money.minor_exponent(c) for c in pc.unique(currency).to_pylist()}
    if len(exponents) != 1:
        return None
    exp = exponents.pop()
    amount = pc.utf8_trim_whitespace(col("amount"))
    pattern = r"^[0-9]{1,15}$" if exp == 0 else rf"^[0-9]{{1,15}}(\.[0-9]{{1,{exp}}})?$"
    if not pc.all(pc.match_substring_regex(amount, pattern)).as_py():
        return None
    # "12" -> "12." so that every amount splits into whole and fraction
    dotted = pc.if_else(pc.match_substring(amount, "."), amount, pc.binary_join_element_wise(amount, "", "."))
    parts = pc.split_pattern(dotted, ".", max_splits=1)
    minor = pc.multiply(pc.cast(pc.list_element(parts, 0), pa.int64()), 10 ** exp)
    if exp:
        fraction = pc.utf8_rpad(pc.list_element(parts, 1), width=exp, padding="0")
        minor = pc.add(minor, pc.cast(fraction, pa.int64()))
    return pa.table({
        "line": pa.array(range(first_line, first_line + n), pa.int64()), "period": period,
        "territory": territory, "service": texts["service"], "commercial_model": texts["commercial_model"],
        "user_id": _blank_to_null(col("user_id")), "currency": currency, "amount_minor": minor},
        schema=POOL_ROWS_SCHEMA)


def _fast_common(col: Callable[[str], pa.Array], n: int) -> tuple[pa.Array, pa.Array, dict, pa.Array]:
    """Period, territory, service and commercial model checked vectorised (the ``_common`` rules)."""
    ok = pa.array([True] * n)
    period = pc.utf8_upper(pc.utf8_trim_whitespace(col("period")))
    ok = pc.and_(ok, pc.match_substring_regex(period, r"^[0-9]{4}(-(0[1-9]|1[0-2])|-Q[1-4]|-H[12])?$"))
    territory = pc.utf8_upper(pc.utf8_trim_whitespace(col("territory")))
    ok = pc.and_(ok, pc.is_in(territory, value_set=pa.array(sorted(ids.iso_countries()))))
    texts = {c: pc.utf8_trim_whitespace(col(c)) for c in ("service", "commercial_model")}
    for v in texts.values():
        ok = pc.and_(ok, pc.not_equal(v, ""))
    return period, territory, texts, ok


_EMPTY_LINE = re.compile(rb"\n\r?\n")


class _StepAside(Exception):
    """The fast path cannot vouch for these bytes: the row-by-row reader reads the file."""


class _Checked:
    """The file's bytes for Arrow's CSV reader, stopping it (:class:`_StepAside`) at what only the
    row-by-row reader words: a control character, an empty line, a line past the line limit."""

    def __init__(self, raw, max_line: int):
        self.raw, self.max_line, self.closed = raw, max_line, False
        self.tail = b""            # the last bytes read (an empty line may straddle two reads)
        self.open_line = 0         # bytes of the line still open at the end of the last read

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n)
        if not data:
            return data
        if (has_control_bytes(data) or _EMPTY_LINE.search(data) or _EMPTY_LINE.search(self.tail + data[:2])
                or (not self.tail and data[:1] in (b"\n", b"\r"))):
            raise _StepAside()
        first = data.find(b"\n")
        if self.open_line + (len(data) if first < 0 else first) > self.max_line or \
                (first >= 0 and first_long_line(data[first + 1:], self.max_line) is not None):
            raise _StepAside()
        last = data.rfind(b"\n")
        self.open_line = self.open_line + len(data) if last < 0 else len(data) - last - 1
        self.tail = (self.tail + data)[-2:]
        return data

    def close(self) -> None:
        self.closed = True
        self.raw.close()


def _read_fast(path: str | Path, kind: str, required: tuple, optional: tuple,
               block_fn: Callable[[pa.RecordBatch, int], pa.Table | None],
               on_table: Callable[[pa.Table], None], progress: Callable[[int], None] | None,
               block_size: int) -> dict | None:
    import pyarrow.csv as pacsv

    path = Path(path)
    header = read_header(path)
    if sniff_kind(path) != kind or any(c not in header for c in required) or \
            any(c not in required + optional for c in header) or len(set(header)) != len(header):
        return None
    bounds = limits()
    source = _Checked(open_binary(path), bounds.max_line_bytes)
    rows = 0
    max_field = bounds.max_field_bytes
    try:
        reader = pacsv.open_csv(
            source,
            read_options=pacsv.ReadOptions(block_size=block_size, column_names=header, skip_rows=1),
            parse_options=pacsv.ParseOptions(newlines_in_values=False, ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(column_types={c: pa.string() for c in header},
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False))
        for batch in reader:
            if any((pc.max(pc.binary_length(c)).as_py() or 0) > max_field for c in batch.columns):
                return None         # the row-by-row reader names the line and cell
            table = block_fn(batch, rows + 2)
            if table is None:
                return None
            on_table(table)
            rows += batch.num_rows
            if progress is not None:
                progress(rows)
    except (pa.ArrowInvalid, UnicodeDecodeError, _StepAside):
        return None
    finally:
        source.close()
    if rows == 0:
        return None
    return {"kind": kind, "rows": rows}
