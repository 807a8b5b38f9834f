"""Issue #13, "what to build" 8: fuzzing the batch readers. Real batch files (the demo catalogue as a JSON
batch, a parties and a works CSV) are mutated — bytes flipped, cut and inserted, values swapped for other
types, huge numbers, control characters and surrogates, keys duplicated, cells blown up, encodings changed
— and imported. Every outcome is either a valid import whose counts match what it says it created, or a
named :class:`~obra.errors.ObraError` after which the store is exactly as before (counts, log size,
journal). Any other exception (a traceback on the CLI, a 500 on the API) fails the test.

Bounded for CI (about 15 s on both stores); ``OBRA_LONG_TESTS=1`` runs twenty times as many cases.
"""

from __future__ import annotations

import copy
import json
import os
import re

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from obra.access import create_principal
from obra.errors import ObraError
from obra.model.vocab import AccessRole
from obra.registry.batch import import_file
from obra_demo.catalogue import demo_catalogue

from .test_input_bounds import state

LONG = os.environ.get("OBRA_LONG_TESTS") == "1"


def examples(n: int) -> int:
    return n * 20 if LONG else n


FUZZ = dict(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                                  HealthCheck.data_too_large])

SEED_JSON = json.dumps(demo_catalogue(seed=7, parties=5, works=3, recordings=2), default=str, indent=1)
SEED_PARTIES_CSV = ("key,name,kind,roles,ipi,country\n"
                    "ana,Ana Conceição,person,composer|lyricist,00014107338,BR\n"
                    "sur,Ediciones del Sur,organisation,publisher,,UY\n"
                    '"lee","Lee, Min-jun",person,performer,,KR\n')
SEED_WORKS_CSV = ("title,iswc,language,creation_mode,ai_systems,ai_contribution,human_contribution,"
                  "alternate_titles,shares\n"
                  "Milonga del sur,T-034.524.680-1,es,human,,,,Milonga|Sur,\n"
                  'Canción del Algoritmo,,es,ai_generated,Suno v4.5,"music and vocals","lyrics, melody",,\n'
                  "月亮代表我的心,,zh,human,,,,,\n")

# values that have broken readers and stores before: out-of-range numbers, NUL, escapes, surrogates,
# zero-width text, markup, very long text, deep nesting
NASTY_TEXT = ["", " ", "\x00", "\x1b[31m", "\u200b", "\ud800", "[/]", "x" * 200_000, "\u202e", "%", "_",
              "²", "١٢٣", "T-034.524.680-1", "00014107338", "2WL", "performance", "@0", "@99", "null"]
NASTY_NUMBERS = ["1e400", "-0", "1" * 400, "9223372036854775808", "2147483648", "-1", "0.00000000000000000001",
                 "100.00000000000000000001", "NaN", "Infinity", "1E+999999999"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20) | st.sampled_from(NASTY_TEXT),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=6)


def _paths(doc, prefix=()):
    """Every path to a value in ``doc`` (keys and indexes)."""
    yield prefix
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from _paths(v, prefix + (i,))


def _set(doc, path, value, drop=False):
    """``doc`` with ``value`` at ``path`` (or the member there dropped). The value goes in as a copy: the
    nasty values are module constants (``[]``, ``{}``, a list of 64 strings), and a later edit inside an
    inserted one must not change the constant, nor make a document that contains itself."""
    value = copy.deepcopy(value)
    if not path:
        return value
    parent = doc
    for step in path[:-1]:
        parent = parent[step]
    if drop:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return doc


@st.composite
def mutated_json(draw) -> bytes:
    doc = json.loads(SEED_JSON)
    # mostly edits a reader accepts (so the model and the store see them), some it must refuse
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        paths = list(_paths(doc))[1:] or [()]
        path = draw(st.sampled_from(paths))
        op = draw(st.sampled_from(["text", "text", "any", "drop"] if path else ["any"]))
        value = draw(st.sampled_from(NASTY_TEXT) | st.text(max_size=12)) if op == "text" else draw(json_values)
        doc = _set(doc, path, value, drop=op == "drop")
    text = json.dumps(doc, ensure_ascii=draw(st.booleans()))
    for _ in range(draw(st.sampled_from([0, 0, 1, 2]))):
        text = draw(_text_edit(text))
    data = text.encode("utf-8", "surrogatepass")
    for _ in range(draw(st.sampled_from([0, 0, 0, 1]))):
        data = draw(_byte_edit(data))
    return data


def _text_edit(text: str):
    """A strategy for one textual edit: a key written twice, a number swapped for a nasty one, deep nesting."""
    keys = list(re.finditer(r'\{"([^"\\]{1,20})": ', text))
    numbers = list(re.finditer(r"(?<=[:\[, ])-?[0-9][0-9.eE+-]*", text))
    options = [st.integers(min_value=1, max_value=3000).map(
        lambda depth: text.replace('"works": [', '"works": [' + "[" * depth + "]" * depth + ", ", 1))]
    if keys:
        options.append(st.sampled_from(keys).map(
            lambda m: text[:m.start() + 1] + f'"{m.group(1)}": 1, ' + text[m.start() + 1:]))
    if numbers:
        options.append(st.tuples(st.sampled_from(numbers), st.sampled_from(NASTY_NUMBERS)).map(
            lambda t: text[:t[0].start()] + t[1] + text[t[0].end():]))
    return st.one_of(options)


def _byte_edit(data: bytes):
    at = st.integers(min_value=0, max_value=max(len(data) - 1, 0))
    return st.one_of(
        st.tuples(at, st.integers(min_value=1, max_value=255)).map(
            lambda t: data[:t[0]] + bytes([data[t[0]] ^ t[1]]) + data[t[0] + 1:] if data else data),
        at.map(lambda i: data[:i]),
        st.tuples(at, st.binary(min_size=1, max_size=8)).map(lambda t: data[:t[0]] + t[1] + data[t[0]:]),
        st.tuples(at, st.sampled_from([b"\x00", b"\xff", b"\xc3", b"\xed\xa0\x80", b'"', b"\n", b"\r", b",",
                                       b"|", b":", b"\xef\xbb\xbf", "é".encode("latin-1")])).map(
            lambda t: data[:t[0]] + t[1] + data[t[0]:]),
        st.sampled_from(["latin-1", "utf-16", "cp1252"]).map(
            lambda enc: data.decode("utf-8", "replace").encode(enc, "replace")),
    )


@st.composite
def mutated_csv(draw, seed: str) -> bytes:
    rows = seed.splitlines()
    for _ in range(draw(st.integers(min_value=0, max_value=2))):
        i = draw(st.integers(min_value=0, max_value=len(rows) - 1))
        cells = rows[i].split(",")
        j = draw(st.integers(min_value=0, max_value=len(cells) - 1))
        cells[j] = draw(st.sampled_from(NASTY_TEXT + NASTY_NUMBERS + ["x" * 140_000, '"unclosed', "a\nb"])
                        | st.text(max_size=12))
        rows[i] = ",".join(cells)
    data = ("\n".join(rows) + "\n").encode("utf-8", "surrogatepass")
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        data = draw(_byte_edit(data))
    return data


def _outcome(store, admin, path, entity=None):
    """Import ``path``: a valid result whose counts match the store, or a named error and no change."""
    before = state(store)
    try:
        result = import_file(store, admin, path, entity)
    except ObraError as exc:
        assert not exc.internal, exc
        assert state(store) == before, f"{type(exc).__name__} but the store changed"
        return f"refused: {type(exc).__name__}"
    after = state(store)
    created = len(result["works"]) + len(result["recordings"])
    assert (after[0].get("works", 0) + after[0].get("recordings", 0)
            - before[0].get("works", 0) - before[0].get("recordings", 0)) == created
    assert after[1] >= before[1] + created
    return "imported"


@pytest.fixture
def fuzz_admin(store):
    return create_principal(store, "fuzz-admin", AccessRole.ADMIN)[0]


def _runs(store, sqlite: int, postgresql: int) -> int:
    return examples(sqlite if store.engine.dialect.name == "sqlite" else postgresql)


def test_the_seed_files_import(store, fuzz_admin, tmp_path):
    """The fuzzers start from files that import cleanly (so mutations reach every check)."""
    for name, data, entity in [("batch.json", SEED_JSON, None), ("parties.csv", SEED_PARTIES_CSV, "parties"),
                               ("works.csv", SEED_WORKS_CSV, "works")]:
        (tmp_path / name).write_text(data, encoding="utf-8")
        assert _outcome(store, fuzz_admin, tmp_path / name, entity) == "imported", name


def test_mutated_json_batches_are_imported_or_refused_by_name(store, fuzz_admin, tmp_path):
    @settings(max_examples=_runs(store, 60, 25), **FUZZ)
    @given(data=mutated_json())
    def run(data):
        path = tmp_path / "batch.json"
        path.write_bytes(data)
        event(_outcome(store, fuzz_admin, path))

    run()


@pytest.mark.parametrize("seed, entity", [(SEED_PARTIES_CSV, "parties"), (SEED_WORKS_CSV, "works")])
def test_mutated_csv_batches_are_imported_or_refused_by_name(store, fuzz_admin, tmp_path, seed, entity):
    @settings(max_examples=_runs(store, 40, 15), **FUZZ)
    @given(data=mutated_csv(seed))
    def run(data):
        path = tmp_path / f"{entity}.csv"
        path.write_bytes(data)
        event(_outcome(store, fuzz_admin, path, entity))

    run()
