"""Incoming royalty statements: money already reported per work, split over the catalogue.

A publisher (or a writer's administrator) receives statements from societies and
sub-publishers: one row per use or per work, with the amount already earned. What is left
to do is what django-music-publisher's royalty calculation does: find each row's work,
split its money over the writers' and publishers' shares and agreements, and tell every
payee what they earned and from which rows. Here that is the same contract waterfall and
the same statements as a distribution run (:mod:`obra.royalties.waterfall`,
:mod:`obra.royalties.statements`); only the front differs: the money comes from the
statement, not from a pool shared over plays.

**Reading.** The CSV is parsed by Arrow on all cores, reading only the three columns the
:class:`StatementLayout` names (work id, right type, amount). Rows are then summed per
right type and work in Arrow's hash aggregation, keeping each work's first and last row
number and row count for the drill-down, so a 10-million-row statement becomes a few
thousand sums before any money is split. Rows are numbered as file lines (the header is
line 1, the first row line 2), which they are unless a quoted cell spans lines.

**Money.** Amounts are exact decimals (up to 10 places; more is refused, never rounded
silently). Per right type, the statement's total is rounded once to minor units (half to
even): that is the revenue. Works whose rows net to a negative sum (reversals larger than
the income) are held as unallocated, each rounded half to even; the rest of the revenue is
split over the works with a positive sum by largest remainder (:func:`obra.money.allocate`),
their exact sums as weights. So distributed + unallocated = revenue to the minor unit; a
work is less than one minor unit from its exact sum plus its part of the (under one unit)
difference between the rounded total and the rounded negatives, so always under two; the
waterfall then splits each work's money once over its payees.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any, Iterable, Mapping

import ibis
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from obra.errors import InvalidInput, Problem
from obra.model.vocab import RightType
from obra.money import allocate, assert_conserved
from obra.royalties import engine as engines
from obra.royalties.distribution.common import Distribution
from obra.royalties.records import ALLOCATION_KEYS, ALLOCATIONS_SCHEMA, POOL_KEYS, UNALLOCATED_SCHEMA

#: Amounts are read with this many decimal places at most.
AMOUNT_TYPE = pa.decimal128(38, 10)
#: The commercial model recorded for money that came in on a statement.
COMMERCIAL_MODEL = "statement"
#: The file line of the first row after the header (the drill-down's and the errors' line numbers).
FIRST_LINE = 2
#: How a right-type cell is read: by its first letter, as societies' statements abbreviate it.
RIGHT_TYPE_LETTERS = {"P": RightType.PERFORMANCE, "M": RightType.MECHANICAL, "S": RightType.SYNCHRONISATION}


@dataclass(frozen=True)
class StatementLayout:
    """Which columns of an incoming statement hold what, and the context the file omits.

    The defaults read django-music-publisher's statement layout (``Work ID``, ``Right
    type``, ``Amount``). ``right_type_column=None`` reads every row as ``right_type``.
    ``minor_digits`` is the currency's number of decimals (2 for EUR/USD, 0 for JPY).
    """

    period: str
    currency: str
    territory: str = "2WL"
    work_id_column: str = "Work ID"
    amount_column: str = "Amount"
    right_type_column: str | None = "Right type"
    right_type: RightType = RightType.PERFORMANCE
    minor_digits: int = 2

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "right_type", RightType(self.right_type))
        except ValueError:
            raise InvalidInput(Problem(f"unknown right type '{self.right_type}'; use one of "
                                       f"{', '.join(r.value for r in RightType)}", field="right_type")) from None
        if not 0 <= self.minor_digits <= 4:
            raise InvalidInput(Problem("a currency has 0 to 4 minor digits", field="minor_digits"))


@dataclass
class IncomingStatement:
    """A statement read and summed: one :class:`Distribution` per right type it reports."""

    source: str
    rows: int
    by_right: dict[str, Distribution] = field(default_factory=dict)


def read_statement(path: str | Path, layout: StatementLayout, con: Any = None,
                   source: str | None = None, work_ids: Mapping[str, str] | None = None) -> IncomingStatement:
    """Read ``path``, sum it per right type and work, and turn the sums into money per work.

    ``work_ids`` maps the statement's work ids to the catalogue's items (e.g. ISWC to
    registration number); an id it does not know is kept as it is, so its money is held
    by the waterfall as "no shares registered" rather than lost.

    Refuses the whole file, naming file, row and column, when a column is missing, an
    amount is not a number (or has more than 10 decimals), a work id is empty or a right
    type is not one of P/M/S.
    """
    path = Path(path)
    source = source or path.name
    con = con if con is not None else engines.connect("duckdb")
    table = _read(path, layout)
    rows = table.num_rows
    work = table.column(layout.work_id_column)
    _refuse_empty_ids(work, layout.work_id_column, path)
    ids = work_ids or {}
    work = _recode(work, lambda v: ids.get(v.strip(), v.strip()))  # on the distinct ids only
    if layout.right_type_column:
        right = table.column(layout.right_type_column)
        _check_right_types(right, layout.right_type_column, path)
        right = _recode(right, lambda v: str(RIGHT_TYPE_LETTERS[v.strip()[:1].upper()]))
    else:
        right = pa.chunked_array([pa.DictionaryArray.from_arrays(pa.array(np.zeros(rows, np.int32)),
                                                                  pa.array([str(layout.right_type)]))])
    names = right.chunk(0).dictionary.to_pylist() if right.num_chunks else []
    lines = pa.table({"line": pa.array(np.arange(FIRST_LINE, rows + FIRST_LINE, dtype=np.int64)), "right": right,
                      "item": work,
                      "amount": table.column(layout.amount_column)})
    sums = lines.group_by(["right", "item"]).aggregate(
        [("amount", "sum"), ("line", "min"), ("line", "max"), ("line", "count")])
    sums = sums.set_column(0, "right", sums.column("right").cast(pa.string()))
    sums = sums.set_column(1, "item", sums.column("item").cast(pa.string()))
    # The rows stay in Arrow (DuckDB scans them in place); only a drill-down to single rows reads them.
    codes = pa.chunked_array([c.indices for c in right.chunks], pa.int32())
    rows_t = engines.table(con, pa.table({"line": lines.column("line"), "right_code": codes, "item": work}),
                           copy=False)
    statement = IncomingStatement(source, rows)
    for right_type in sorted(set(sums.column("right").to_pylist())):
        part = sums.filter(pc.equal(sums.column("right"), right_type))
        mine = rows_t.filter(rows_t.right_code.isin([i for i, n in enumerate(names) if n == right_type]))
        statement.by_right[right_type] = _distribution(con, part, mine, right_type, layout, source)
    return statement


def _recode(column: pa.ChunkedArray, fn: Any) -> pa.ChunkedArray:
    """A dictionary column with ``fn`` applied to its distinct values (merging equal results).

    The work is on the dictionary (a few thousand values) and one integer ``take`` per
    chunk, never on the text of every cell; chunks share one dictionary afterwards.
    """
    if not column.num_chunks:
        return column
    mapped = [fn(v) for v in column.chunk(0).dictionary.to_pylist()]
    distinct = list(dict.fromkeys(mapped))
    position = {v: i for i, v in enumerate(distinct)}
    codes = pa.array([position[v] for v in mapped], pa.int32())
    dictionary = pa.array(distinct, pa.string())
    return pa.chunked_array([pa.DictionaryArray.from_arrays(pc.take(codes, c.indices), dictionary)
                             for c in column.chunks])


def _first_row(column: pa.ChunkedArray, bad: set[int]) -> int:
    """The file line of the first cell whose dictionary code is in ``bad``."""
    offset = FIRST_LINE - 1
    for chunk in column.chunks:
        hit = pc.is_in(chunk.indices, value_set=pa.array(sorted(bad), pa.int32()))
        if pc.any(hit).as_py():
            return offset + pc.index(hit, True).as_py() + 1
        offset += len(chunk)
    raise AssertionError("no such code")


def _refuse_empty_ids(work: pa.ChunkedArray, column: str, path: Path) -> None:
    values = work.chunk(0).dictionary.to_pylist() if work.num_chunks else []
    bad = {i for i, v in enumerate(values) if not v.strip()}
    if bad:
        raise InvalidInput(Problem("the work id is empty", field=column, line=_first_row(work, bad),
                                   source=str(path)))


def _check_right_types(right: pa.ChunkedArray, column: str, path: Path) -> None:
    """Every right-type cell names a right we know (checked on the distinct values)."""
    values = right.chunk(0).dictionary.to_pylist() if right.num_chunks else []
    letters = [v.strip()[:1].upper() for v in values]
    bad = {i for i, k in enumerate(letters) if k not in RIGHT_TYPE_LETTERS}
    if bad:
        at = _first_row(right, bad)
        shown = right[at - FIRST_LINE].as_py()
        raise InvalidInput(Problem(f"unknown right type '{shown}'; use P (performance), M (mechanical) or "
                                   "S (synchronisation)", field=column, line=at, source=str(path)))


def _read(path: Path, layout: StatementLayout) -> pa.Table:
    wanted = [layout.work_id_column, layout.amount_column] + (
        [layout.right_type_column] if layout.right_type_column else [])
    with open(path, newline="", encoding="utf-8", errors="replace") as f:
        header = [h.strip() for h in next(csv.reader(f), [])]
    if not header:
        raise InvalidInput(Problem("not a CSV statement: the header row is missing", source=str(path), line=1))
    missing = [c for c in wanted if c not in header]
    if missing:
        raise InvalidInput([Problem(f"the header has no column '{c}' (it has: {', '.join(header)})",
                                    field=c, line=1, source=str(path)) for c in missing])
    # Ids and right types repeat: read them dictionary-encoded, so checks and the group-by
    # work on the distinct values and integer codes rather than on every cell's text.
    text = pa.dictionary(pa.int32(), pa.string())
    types = {layout.work_id_column: text, layout.amount_column: AMOUNT_TYPE}
    if layout.right_type_column:
        types[layout.right_type_column] = text
    try:
        return pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(
            column_types=types, include_columns=wanted, strings_can_be_null=False)).unify_dictionaries()
    except pa.ArrowInvalid as exc:
        raise InvalidInput(_ragged_row(path, len(header)) or _amount_problem(path, layout) or Problem(
            f"cannot read the statement: {exc}", source=str(path))) from None


def _ragged_row(path: Path, width: int) -> Problem | None:
    """The first row whose cell count differs from the header's (Arrow names no row for it)."""
    with open(path, newline="", encoding="utf-8", errors="replace") as f:
        rows = csv.reader(f)
        next(rows, None)
        for row in rows:
            if row and len(row) != width:
                return Problem(f"{len(row)} cells but the header has {width}", line=rows.line_num,
                               source=str(path))
    return None


#: An amount: optional sign, digits, at most 10 decimals (what :data:`AMOUNT_TYPE` holds).
_AMOUNT = r"^\s*[+-]?(\d+(\.\d{0,10})?|\.\d{1,10})\s*$"


def _amount_problem(path: Path, layout: StatementLayout) -> Problem | None:
    """Arrow names no row for a bad decimal: read the column as text and find the first one."""
    cells = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(
        column_types={layout.amount_column: pa.string()}, include_columns=[layout.amount_column],
        strings_can_be_null=False)).column(0)
    ok = pc.match_substring_regex(cells, _AMOUNT)
    if pc.all(ok).as_py():
        return None
    at = pc.index(ok, False).as_py()
    return Problem(f"'{cells[at].as_py()}' is not an amount (a decimal number with at most 10 decimals)",
                   field=layout.amount_column, line=at + FIRST_LINE, source=str(path))


def money_per_work(sums: Mapping[str, Decimal], minor_digits: int = 2) -> tuple[int, dict[str, int], dict[str, int]]:
    """(revenue, paid per work, held per work) in minor units for one right type.

    Revenue is the exact total rounded half to even. The works netting negative are held:
    their exact sum rounded half to even, split over them by largest remainder. The rest of
    the revenue goes to the positive works by largest remainder over their exact sums; it
    is never negative, as rounding is monotonic (round(P + N) >= round(N) for P >= 0).
    """
    unit = Decimal(1).scaleb(-minor_digits)

    def minor(value: Decimal) -> int:
        return int(value.quantize(unit, rounding=ROUND_HALF_EVEN).scaleb(minor_digits))

    revenue = minor(sum(sums.values(), Decimal(0)))
    negative = sorted(w for w, v in sums.items() if v < 0)
    held_total = minor(sum((sums[w] for w in negative), Decimal(0)))
    held = dict(zip(negative, allocate(held_total, [-sums[w] for w in negative]))) if negative else {}
    positive = sorted(w for w, v in sums.items() if v > 0)
    paid = dict(zip(positive, allocate(revenue - held_total, [sums[w] for w in positive]))) if positive else {}
    return revenue, paid, held


def _distribution(con: Any, sums: pa.Table, rows: Any, right_type: str, layout: StatementLayout,
                  source: str) -> Distribution:
    items = sums.column("item").to_pylist()
    exact = dict(zip(items, sums.column("amount_sum").to_pylist()))
    revenue, paid, held = money_per_work(exact, layout.minor_digits)
    pool = {"period": layout.period, "territory": layout.territory, "service": right_type,
            "commercial_model": COMMERCIAL_MODEL, "currency": layout.currency}
    counts = dict(zip(items, sums.column("line_count").to_pylist()))
    alloc = pa.table({**{k: pa.repeat(pool[k], len(paid)) for k in ALLOCATION_KEYS},
                      "item": pa.array(list(paid), pa.string()),
                      "amount_minor": pa.array(list(paid.values()), pa.int64()),
                      "plays": pa.array([counts[w] for w in paid], pa.int64()),
                      "usage_lines": pa.array([counts[w] for w in paid], pa.int64())}, schema=ALLOCATIONS_SCHEMA)
    held_t = pa.table({**{k: pa.repeat(pool[k], len(held)) for k in ALLOCATION_KEYS},
                       "amount_minor": pa.array(list(held.values()), pa.int64()),
                       "reason": pa.repeat("work netted negative on this statement", len(held))},
                      schema=UNALLOCATED_SCHEMA)
    summed = pa.table({**{k: pa.repeat(pool[k], len(items)) for k in POOL_KEYS},
                       "item": sums.column("item"), "source": pa.repeat(source, len(items)),
                       "plays": sums.column("line_count"), "usage_lines": sums.column("line_count"),
                       "first_line": sums.column("line_min"), "last_line": sums.column("line_max")})
    drill = rows.select(source=ibis.literal(source), line=rows.line,
                        **{k: ibis.literal(pool[k]) for k in POOL_KEYS}, item=rows.item.cast("string"),
                        plays=ibis.literal(1, "int64"))
    run = Distribution(COMMERCIAL_MODEL, {"source": source, "right_type": right_type}, "work",
                       engines.table(con, alloc, copy=False), engines.table(con, held_t, copy=False), drill,
                       summed=engines.table(con, summed, copy=False))
    run.conservation = {layout.currency: assert_conserved(
        revenue, sum(paid.values()), sum(held.values()), context=f"statement {source} ({right_type})")}
    return run


def split_statement(path: str | Path, layout: StatementLayout, rights: Iterable[Any], agreements: Iterable[Any],
                    con: Any = None, work_ids: Mapping[str, str] | None = None, **waterfall: Any) -> dict[str, Any]:
    """Read a statement and run the contract waterfall on each right type it reports.

    Returns right type → :class:`obra.royalties.waterfall.Waterfall`; write them with
    :func:`obra.royalties.statements.export_statements` or ``build_statements``. Works
    the catalogue does not know keep their money as unallocated ("no shares registered").
    """
    from obra.royalties.waterfall import run_waterfall

    con = con if con is not None else engines.connect("duckdb")
    statement = read_statement(path, layout, con, work_ids=work_ids)
    rights, agreements = list(rights), list(agreements)
    return {right: run_waterfall(dist, rights, agreements, right_type=right, con=con, **waterfall)
            for right, dist in statement.by_right.items()}


#: How the statement names works: by Obra registration number or by ISWC.
ID_KINDS = ("number", "iswc")


__all__ = ["StatementLayout", "IncomingStatement", "read_statement", "split_statement", "money_per_work", "ID_KINDS"]
