"""The bulk load's plain path for works (:mod:`obra.registry.plain_works`) against pydantic.

The plain path only ever accepts: a row it takes must be one the model accepts, with the same dump and the
same fields; every other row goes to pydantic, so a batch's problems are pydantic's own, word for word.
Hypothesis draws work rows of every shape, valid and not (nasty text, wrong types, out-of-range shares,
bad codes, unknown fields, AI disclosures) and holds the two paths to that.
"""

from __future__ import annotations

import copy
from datetime import date, datetime
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.bench_register import catalogue
from obra.errors import InvalidInput
from obra.model import Work, parse
from obra.registry.bulk import Located, parse_section
from obra.registry.plain_works import PlainWork, plain_work

NASTY_TEXT = ["", " ", "\u200b", "\x00", "\x1b[31m", "\ud800", "x" * 600, "a\tb", "é" * 501, "y" * 2100,
              "\u200bTítulo\ufeff", "  Canción  ", "ＡＢＣ"]
ANY = st.one_of(st.none(), st.booleans(), st.integers(-3, 2**31 + 3), st.floats(allow_nan=True),
                st.text(max_size=8), st.sampled_from(NASTY_TEXT), st.just([]), st.just({}),
                st.just(date(2020, 1, 2)), st.just(datetime(2020, 1, 2, 3, 4)), st.decimals(places=5))


@st.composite
def mostly(draw, good, bad=ANY, p: float = 0.95):
    """A value from ``good`` 19 times in 20, from ``bad`` otherwise: most rows are nearly valid, so that
    both paths meet valid rows often and each invalid one has one or two faults to find."""
    return draw(good) if draw(_chance(p)) else draw(bad)


def _chance(p: float):
    """True with probability about ``p`` (a float draw would not do: Hypothesis favours 0.0 and 1.0)."""
    hits = round(p * 20)
    return st.sampled_from([True] * hits + [False] * (20 - hits) if p >= 0.5 else [False] * (20 - hits) + [True] * hits)


TEXT = mostly(st.one_of(st.text(min_size=1, max_size=12), st.sampled_from(
    ["Milonga del sur", "  Canción  ", "月亮代表我的心", "\u200bTítulo\ufeff", "ＡＢＣ", "Ça va", "x" * 500])))
PARTY = mostly(st.one_of(st.sampled_from(["p1", "00014107338", " p2 ", "k" * 100, "k" * 101]), st.integers(1, 2**31 - 1)))
SHARE = mostly(st.one_of(st.sampled_from(["100", "50", "33.33", "33.3333", "0", "010.5", "100.00", "0.0001",
                                          "33.33333", "100.0001", " 50", "1e2", "-0", "50.", ".5", "١٠٠"]),
                         st.integers(0, 100), st.decimals(0, 100, places=4)))
TERRITORY = mostly(st.sampled_from(["2WL", "uy", "UY", " ES ", "2EU", "GB", "UK", "XX"]))
ROLE = mostly(st.sampled_from(["composer", "lyricist", "publisher", "performer", "Composer"]))
RIGHT = mostly(st.sampled_from(["performance", "mechanical", "PERFORMANCE"]))
ISWC = mostly(st.sampled_from(["T-034.524.680-1", "T0345246801", " T0345246801 ", "", "T-034.524.680-2"]))


def _maybe(draw, strategy, key: str, out: dict, p: float = 0.5) -> None:
    if draw(_chance(p)):
        out[key] = draw(strategy)


@st.composite
def work_rows(draw) -> dict:
    """A work row as a batch holds it: mostly plausible, often wrong in one place."""
    row: dict = {}
    _maybe(draw, TEXT, "title", row, 0.97)
    _maybe(draw, mostly(st.sampled_from(["musical", "literary", "MUSICAL"])), "kind", row, 0.2)
    _maybe(draw, ISWC, "iswc", row, 0.3)
    _maybe(draw, mostly(st.sampled_from(["2020-01-02", "2020-02-30", "20200102", "2020-1-2"])
                        | st.dates().map(str) | st.dates()), "creation_date", row, 0.15)
    _maybe(draw, mostly(st.sampled_from(["es", "", " en "])), "language", row, 0.2)
    _maybe(draw, mostly(st.sampled_from(["tango", ""])), "genre", row, 0.1)
    _maybe(draw, mostly(st.sampled_from(["human", "ai_assisted", "Human"])), "creation_mode", row, 0.15)
    _maybe(draw, mostly(st.just({"systems": [{"name": "Suno"}], "ai_contribution": "music"})), "disclosure",
           row, 0.05)
    people = st.lists(mostly(st.fixed_dictionaries({"party": PARTY, "role": ROLE}),
                             st.fixed_dictionaries({"party": PARTY, "role": ROLE, "instrument": TEXT})),
                      max_size=4)
    _maybe(draw, mostly(people | people.map(tuple)), "contributors", row, 0.6)
    one_share = st.fixed_dictionaries({"party": PARTY, "right_type": RIGHT, "share": SHARE},
                                      optional={"role": ROLE, "territory": TERRITORY})
    shares = st.lists(mostly(one_share, st.fixed_dictionaries({"party": PARTY, "right_type": RIGHT,
                                                               "share": SHARE, "note": TEXT})), max_size=4)
    hundred = st.lists(PARTY, min_size=1, max_size=3).map(
        lambda ps: [{"party": p, "right_type": "performance", "share": f"{100 // len(ps) + (k == 0) * (100 % len(ps))}"}
                    for k, p in enumerate(ps)])
    _maybe(draw, mostly(st.one_of(shares, shares.map(tuple), hundred)), "shares", row, 0.7)
    titles = st.lists(st.fixed_dictionaries({"title": TEXT}, optional={"kind": TEXT, "language": TEXT}),
                      max_size=2)
    _maybe(draw, mostly(titles), "alternate_titles", row, 0.3)
    idents = st.lists(st.fixed_dictionaries({"scheme": TEXT, "value": TEXT}), max_size=2)
    _maybe(draw, mostly(idents), "identifiers", row, 0.15)
    _maybe(draw, TEXT, "subtitle", row, 0.03)
    return row


def _same_as_model(plain: PlainWork, model: Work) -> None:
    assert plain.dump == model.model_dump(mode="json")
    assert (plain.kind, plain.title, plain.iswc, plain.creation_mode, plain.disclosure) == \
        (model.kind, model.title, model.iswc, model.creation_mode, model.disclosure)
    assert [tuple(s) for s in plain.shares] == [(s.party, s.role, s.right_type, s.territory, s.share)
                                                for s in model.shares]
    assert all(type(a.share) is Decimal and str(a.share) == str(b.share) for a, b in zip(plain.shares, model.shares))
    assert [tuple(c) for c in plain.contributors] == [(c.party, c.role) for c in model.contributors]
    assert [tuple(t) for t in plain.alternate_titles] == [(t.title, t.kind, t.language)
                                                          for t in model.alternate_titles]
    assert [tuple(i) for i in plain.identifiers] == [(i.scheme, i.value) for i in model.identifiers]


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(work_rows())
def test_a_row_the_plain_path_takes_is_one_the_model_takes_the_same_way(row):
    plain = plain_work(row)
    try:
        model = parse(Work, row)
    except InvalidInput:
        assert plain is None, f"the plain path took a row the model refuses: {row!r}"
        return
    if plain is not None:
        _same_as_model(plain, model)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(work_rows(), min_size=1, max_size=12))
def test_a_section_gets_the_same_problems_and_models_as_pydantic_alone(rows):
    located = Located("works.json", {("works", i): i + 2 for i in range(len(rows))})
    models = parse_section("works", rows, located)
    expected = Located("works.json", {("works", i): i + 2 for i in range(len(rows))})
    for i, row in enumerate(rows):
        try:
            model = parse(Work, row)
        except InvalidInput as exc:
            expected.add("works", i, exc.problems)
            assert i not in models
            continue
        got = models[i]
        if isinstance(got, PlainWork):
            _same_as_model(got, model)
        else:
            assert got == model
    assert located.problems == expected.problems


def test_the_catalogues_rows_take_the_plain_path_and_unusual_ones_do_not():
    """Not vacuous: an office's plain rows (the benchmark's catalogue) are all taken by the plain path, and an
    AI-assisted work, a float share, a datetime as a date and an unknown field all go to pydantic."""
    _, works = catalogue(500)
    taken = [plain_work(w) for w in works]
    assert all(isinstance(p, PlainWork) for p in taken)
    for plain, row in zip(taken, works):
        _same_as_model(plain, parse(Work, row))
    row = {"title": "Tango", "iswc": "T-034.524.680-1", "creation_date": "2020-01-02", "language": "es",
           "shares": [{"party": 7, "right_type": "performance", "share": 100, "territory": "uy"}],
           "contributors": [{"party": 7, "role": "composer"}], "identifiers": [{"scheme": "cwr:X", "value": "1"}],
           "alternate_titles": [{"title": "El tango", "language": "es"}]}
    _same_as_model(plain_work(row), parse(Work, row))
    assert plain_work({**row, "creation_mode": "ai_assisted",
                       "disclosure": {"systems": [{"name": "Suno"}], "ai_contribution": "music"}}) is None
    assert plain_work({**row, "shares": [{"party": 7, "right_type": "performance", "share": 100.0}]}) is None
    assert plain_work({**row, "creation_date": datetime(2020, 1, 2)}) is None
    assert plain_work({**row, "subtitle": "x"}) is None


BORDER = ["", " ", "\u200b", "\x00", "\ud800", "a\tb", "x" * 100, "x" * 101, "x" * 500, "x" * 501, "x" * 2065,
          " pad ", "Composer", "composer", "PERFORMANCE", "performance", "2WL", "uy", "XX", "UK", "100", "100.0001",
          "33.33333", "33.3333", "-0", "0", "1e2", " 50", "50.", "T-034.524.680-1", "T-034.524.680-2", "2020-02-30",
          "2020-01-02", 0, 1, -1, 100, 101, 2**31 - 1, 2**31, True, None, 50.0, Decimal("50.00001"), Decimal("1E+1"),
          [], {}, date(2020, 1, 2), datetime(2020, 1, 2)]
BASE = {"title": "Tango", "iswc": "T-034.524.680-1", "language": "es",
        "shares": [{"party": "p1", "right_type": "performance", "share": "100", "territory": "2WL", "role": "composer"}],
        "contributors": [{"party": "p1", "role": "composer"}], "identifiers": [{"scheme": "cwr:X", "value": "1"}],
        "alternate_titles": [{"title": "El tango", "kind": "alternate", "language": "es"}]}
PLACES = [("title",), ("kind",), ("iswc",), ("creation_date",), ("language",), ("genre",), ("creation_mode",),
          ("shares", 0, "party"), ("shares", 0, "share"), ("shares", 0, "territory"), ("shares", 0, "role"),
          ("shares", 0, "right_type"), ("contributors", 0, "party"), ("contributors", 0, "role"),
          ("alternate_titles", 0, "title"), ("alternate_titles", 0, "kind"), ("alternate_titles", 0, "language"),
          ("identifiers", 0, "scheme"), ("identifiers", 0, "value"), ("subtitle",), ("shares", 0, "note"),
          ("contributors", 0, "instrument"), ("alternate_titles", 0, "script")]


def test_each_borderline_value_in_each_field_alone():
    """A valid row with one field set to each borderline value (a text one character over its bound, a share
    of 100.0001 or five places, a code in the wrong case, a type the field does not take): the plain path and
    the model agree on every one, and the plain path takes those the model takes whenever it can."""
    taken = 0
    for place in PLACES:
        for value in BORDER:
            row = copy.deepcopy(BASE)
            holder = row
            for key in place[:-1]:
                holder = holder[key]
            holder[place[-1]] = value
            plain = plain_work(row)
            try:
                model = parse(Work, row)
            except InvalidInput:
                assert plain is None, (place, value)
                continue
            if plain is not None:
                _same_as_model(plain, model)
                taken += 1
    assert taken > 100
