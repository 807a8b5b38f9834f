"""obra.canonical writes RFC 8785 bytes on both of its paths: the same bytes as ``jcs``, always."""

from __future__ import annotations

import json

import jcs
from hypothesis import given, settings
from hypothesis import strategies as st

from obra.canonical import _plain, canonical, canonical_plain, content_hash, sha256_hex

TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)
KEYS = st.one_of(TEXT, st.sampled_from(["a", "b", "\U0001F600", "\ufb33", "€", "\r", "1", "10"]))
SCALARS = st.one_of(st.none(), st.booleans(), TEXT, st.integers(-2**60, 2**60),
                    st.floats(allow_nan=False, allow_infinity=False))
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4),
                    max_leaves=25)


@settings(max_examples=400, deadline=None)
@given(JSON)
def test_both_paths_write_the_bytes_jcs_writes(value):
    assert canonical(value) == jcs.canonicalize(value)


def test_the_rfcs_sorting_example_takes_the_careful_path():
    # RFC 8785 §3.2.3: sorting by UTF-16 code units puts U+1F600 (a surrogate pair) before U+FB33
    doc = {"\u20ac": "Euro Sign", "\r": "Carriage Return", "\ufb33": "Hebrew Letter Dalet With Dagesh",
           "1": "One", "\U0001f600": "Emoji: Grinning Face", "\u0080": "Control", "\u00f6": "Latin Small Letter O With Diaeresis"}
    assert not _plain(doc)
    keys = list(json.loads(canonical(doc)))
    assert keys == ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]


def test_a_statement_like_document_takes_the_fast_path_and_hashes_as_jcs_does():
    doc = {"payee": "10", "lines": [{"amount_minor": 123456789, "share": "1/3", "title": "東京の夜 \t"}] * 3,
           "totals": {"EUR": {"net_minor": -5}}, "notes": [], "model": {"params": None}}
    assert _plain(doc)
    assert sha256_hex(doc) == __import__("hashlib").sha256(jcs.canonicalize(doc)).hexdigest()
    assert content_hash({**doc, "content_hash": "x"}) == sha256_hex(doc)


PLAIN_KEYS = st.text(alphabet=st.characters(max_codepoint=0xD7FF), max_size=8)
PLAIN = st.recursive(st.one_of(st.none(), st.booleans(), TEXT, st.integers(-2**53, 2**53)),
                     lambda inner: st.lists(inner, max_size=4) | st.dictionaries(PLAIN_KEYS, inner, max_size=4),
                     max_leaves=30)


@settings(max_examples=500, deadline=None)
@given(PLAIN)
def test_the_compiled_encoder_writes_the_bytes_jcs_writes_for_plain_values(value):
    """canonical_plain (orjson, sorted keys) is RFC 8785 for every value _plain admits: any text but lone
    surrogates, every control character, integers to ±2^53, member names below U+D800."""
    assert _plain(value)
    assert canonical_plain(value) == jcs.canonicalize(value)


def test_what_the_compiled_encoder_refuses_goes_to_jcs():
    deep = []
    for _ in range(300):  # beyond orjson's depth
        deep = [deep]
    assert canonical_plain(deep) == jcs.canonicalize(deep)
    assert canonical_plain({"n": 2**70}) == jcs.canonicalize({"n": 2**70}) == b'{"n":1.1805916207174113e+21}'
