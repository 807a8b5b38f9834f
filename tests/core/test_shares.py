"""Share arithmetic: per right type and territory, shares sum to exactly 100 %."""

from decimal import Decimal

from hypothesis import given, strategies as st

from obra.model import Share, applicable_shares, share_problems


def _shares(parts, right="performance", territory="2WL"):
    return [Share(party=i + 1, right_type=right, territory=territory, share=p) for i, p in enumerate(parts)]


@st.composite
def splits(draw):
    n = draw(st.integers(1, 12))
    cuts = sorted(draw(st.lists(st.integers(1, 999_999), min_size=n - 1, max_size=n - 1, unique=True)))
    bounds = [0] + cuts + [1_000_000]
    return [Decimal(b - a) / 10_000 for a, b in zip(bounds, bounds[1:])]


@given(splits())
def test_any_exact_split_of_100_is_accepted(parts):
    assert share_problems(_shares(parts)) == []


@given(splits(), st.integers(1, 10_000))
def test_a_split_off_by_any_amount_is_refused_with_the_difference(parts, ten_thousandths):
    delta = Decimal(ten_thousandths) / 10_000
    over = parts[-1] + delta <= 100
    parts = parts[:-1] + [parts[-1] + delta if over else parts[-1] - delta]
    problems = share_problems(_shares(parts))
    assert len(problems) == 1
    assert ("over by" if over else "missing") in problems[0].message
    assert f"{delta.normalize():f}%" in problems[0].message


def test_each_right_and_territory_is_checked_separately():
    shares = _shares([Decimal(60), Decimal(40)]) + _shares([Decimal(50)], right="mechanical") + \
        _shares([Decimal(100)], territory="US")
    problems = share_problems(shares)
    assert [p.message.split(" ")[0] for p in problems] == ["mechanical"]
    assert "missing 50%" in problems[0].message


def test_the_most_specific_territory_governs():
    shares = _shares([Decimal(100)], territory="2WL") + [Share(party=9, right_type="performance", territory="US",
                                                               share=Decimal(100))]
    assert [s.party for s in applicable_shares(shares, "performance", "US")] == [9]
    assert [s.party for s in applicable_shares(shares, "performance", "UY")] == [1]
