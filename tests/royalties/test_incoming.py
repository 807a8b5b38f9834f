"""Incoming statements (money already per work): read, summed, split over the catalogue."""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from obra.errors import InvalidInput
from obra.model import Agreement, Share
from obra.money import allocate
from obra.royalties import engine, statements
from obra.royalties.incoming import StatementLayout, money_per_work, read_statement, split_statement
from obra.royalties.waterfall import ItemRights

DMP = Path(__file__).parent.parent / "data" / "statements" / "royaltystatement_3k_rows.csv"
LAYOUT = StatementLayout(period="2020-Q1", currency="USD", territory="US")
RIGHT = {"P": "performance", "M": "mechanical"}


def dmp_rows() -> list[dict]:
    with open(DMP, newline="") as f:
        return list(csv.DictReader(f))


def exact_sums() -> dict[str, dict[str, Decimal]]:
    sums: dict = defaultdict(lambda: defaultdict(Decimal))
    for r in dmp_rows():
        sums[RIGHT[r["Right type"]]][r["Work ID"]] += Decimal(r["Amount"])
    return sums


def cents(value: Decimal) -> int:
    return int(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN) * 100)


def test_the_sample_statement_sums_per_right_type_and_work_to_the_cent():
    read = read_statement(DMP, LAYOUT, engine.connect("duckdb"))
    assert read.rows == 3000
    expected = exact_sums()
    assert sorted(read.by_right) == sorted(expected) == ["mechanical", "performance"]
    for right, sums in expected.items():
        dist = read.by_right[right]
        got = {r["item"]: r["amount_minor"] for r in dist.allocations.to_pyarrow().to_pylist()}
        assert dist.conservation["USD"].revenue == cents(sum(sums.values()))
        assert set(got) == {w for w, v in sums.items() if v > 0}
        for work, value in got.items():  # each work within one cent of its exact sum
            assert abs(Fraction(value) - Fraction(sums[work]) * 100) < 1


def test_drill_down_names_the_first_and_last_file_line_of_each_work():
    read = read_statement(DMP, LAYOUT, engine.connect("duckdb"))
    where: dict = defaultdict(list)
    for n, r in enumerate(dmp_rows(), start=2):  # the header is line 1
        where[(RIGHT[r["Right type"]], r["Work ID"])].append(n)
    for right, dist in read.by_right.items():
        for r in dist.summed.to_pyarrow().to_pylist():
            lines = where[(right, r["item"])]
            assert (r["first_line"], r["last_line"], r["usage_lines"]) == (lines[0], lines[-1], len(lines))
        some = dist.lines.filter(dist.lines.line == where[(right, r["item"])][0]).to_pyarrow().to_pylist()
        assert [(x["item"], x["service"]) for x in some] == [(r["item"], right)]


def test_split_pays_writers_their_shares_after_the_publishers_fee(tmp_path):
    sums = exact_sums()
    first, second = sorted(sums["performance"])[:2]
    rights = [ItemRights(first, "work", (Share(party=1, right_type="performance", share=Decimal(50)),
                                         Share(party=2, right_type="performance", share=Decimal(50)))),
              ItemRights(second, "work", (Share(party=2, right_type="performance", share=Decimal(100)),))]
    fee = Agreement(id=1, kind="administration", assignor=1, assignee=9, rights=("performance",),
                    start=date(2000, 1, 1), retained=Decimal("0.25"))
    runs = split_statement(DMP, LAYOUT, rights, [fee], con=engine.connect("duckdb"))
    perf = runs["performance"]
    paid = {r["item"]: r["amount_minor"] for r in perf.distribution.allocations.to_pyarrow().to_pylist()}
    by_payee: dict = defaultdict(int)
    for r in perf.lines.to_pyarrow().to_pylist():
        by_payee[(r["payee"], r["item"])] += r["amount_minor"]
    one, two = allocate(paid[first], [Fraction(1, 2), Fraction(1, 2)])
    assert by_payee[("2", first)] == two and by_payee[("2", second)] == paid[second]
    # party 1 keeps 75 % of its half; the administrator (party 9) takes 25 %
    assert by_payee[("1", first)] + by_payee[("9", first)] == one
    assert abs(by_payee[("9", first)] - Fraction(one, 4)) <= 1
    for run in runs.values():  # money of works the catalogue does not know is held, not lost
        assert all(c.balanced for c in run.conservation.values())
    exported = statements.export_statements(perf, tmp_path)
    assert exported["payees"] == 3


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.sampled_from([f"W{i}" for i in range(8)]),
                       st.decimals(min_value=-1000, max_value=1000, places=4, allow_nan=False), min_size=1))
def test_money_per_work_conserves_and_stays_within_a_cent(sums):
    revenue, paid, held = money_per_work(sums)
    assert sum(paid.values()) + sum(held.values()) == revenue == cents(sum(sums.values()))
    assert all(v >= 0 for v in paid.values()) and all(v <= 0 for v in held.values())
    assert set(paid) == {w for w, v in sums.items() if v > 0}
    assert set(held) == {w for w, v in sums.items() if v < 0}
    # The statement's total and its negative part are each rounded to the cent, so the positive
    # works share up to one cent more or less than their exact sum: each is under 2 cents off.
    for work, value in {**paid, **held}.items():
        assert abs(Fraction(value) - Fraction(sums[work]) * 100) < 2, work


def write(tmp_path: Path, body: str, name: str = "statement.csv") -> Path:
    path = tmp_path / name
    path.write_text('"Work ID","Right type","Amount"\n' + body)
    return path


@pytest.mark.parametrize("body,line,field,message", [
    ("W1,P,1.00\nW2,M,abc\n", 3, "Amount", "'abc' is not an amount"),
    ("W1,P,1.00000000001\n", 2, "Amount", "at most 10 decimals"),
    ("W1,P,1.00\nW2,X,2\n", 3, "Right type", "unknown right type 'X'"),
    ("W1,P,1.00\n  ,M,2\n", 3, "Work ID", "the work id is empty"),
    ("W1,P,1.00\nW2,M,12,5\n", 3, None, "4 cells but the header has 3"),
])
def test_a_bad_cell_refuses_the_file_naming_line_and_column(tmp_path, body, line, field, message):
    path = write(tmp_path, body)
    with pytest.raises(InvalidInput) as caught:
        read_statement(path, LAYOUT)
    problem = caught.value.problems[0]
    assert (problem.source, problem.line, problem.field) == (str(path), line, field)
    assert message in problem.message


def test_a_missing_column_is_named_with_the_columns_the_file_has(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("Work,Amount\nW1,1\n")
    with pytest.raises(InvalidInput, match="no column 'Work ID' .*it has: Work, Amount"):
        read_statement(path, LAYOUT)


def test_without_a_right_type_column_every_row_has_the_layouts_right(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("Work ID,Amount\nW1,1.005\nW1,2\nW2,-3.5\n")
    read = read_statement(path, StatementLayout(period="2020-Q1", currency="EUR", right_type_column=None,
                                                right_type="mechanical"))
    dist = read.by_right["mechanical"]
    assert [(r["item"], r["amount_minor"]) for r in dist.allocations.to_pyarrow().to_pylist()] == [("W1", 300)]
    assert [r["amount_minor"] for r in dist.unallocated.to_pyarrow().to_pylist()] == [-350]
    assert dist.conservation["EUR"].revenue == -50  # 3.005 - 3.5 = -0.495, rounded half to even


def test_ids_and_right_types_are_read_as_written_by_people(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text('"Work ID","Right type","Amount"\nW1,P,1\n W1 ,perf,2\nW1,M,4\nX-9,mech,8\n')
    read = read_statement(path, LAYOUT, work_ids={"X-9": "W2"})
    got = {(right, r["item"]): r["amount_minor"] for right, d in read.by_right.items()
           for r in d.allocations.to_pyarrow().to_pylist()}
    assert got == {("performance", "W1"): 300, ("mechanical", "W1"): 400, ("mechanical", "W2"): 800}
