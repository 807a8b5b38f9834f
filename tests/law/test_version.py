"""The law data's version: SHA-256 of its RFC 8785 canonical JSON, recomputed here independently."""

from __future__ import annotations

import hashlib
import json
import random

import jcs
from hypothesis import given, settings
from hypothesis import strategies as st

from obra.law import load

from .conftest import FILE, RAW, write


def test_the_version_is_the_sha256_of_the_canonical_file():
    with FILE.open(encoding="utf-8") as f:
        expected = hashlib.sha256(jcs.canonicalize(json.load(f))).hexdigest()
    assert load().version == expected
    assert len(expected) == 64


def test_one_corrected_fact_gives_a_new_version(raw, tmp_path):
    raw["facts"][41]["summary"] += " (corrected)"
    law = load(write(tmp_path, raw))
    assert law.version != load().version
    assert law.version == hashlib.sha256(jcs.canonicalize(raw)).hexdigest()


def shuffled(value, rng: random.Random):
    """The same JSON with every object's keys in another order."""
    if isinstance(value, dict):
        items = list(value.items())
        rng.shuffle(items)
        return {k: shuffled(v, rng) for k, v in items}
    if isinstance(value, list):
        return [shuffled(v, rng) for v in value]
    return value


@settings(max_examples=5, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), indent=st.sampled_from([None, 1, 4]))
def test_key_order_and_whitespace_do_not_change_the_version(tmp_path_factory, seed, indent):
    path = tmp_path_factory.mktemp("law") / "jurisdictions.json"
    path.write_text(json.dumps(shuffled(RAW, random.Random(seed)), indent=indent, ensure_ascii=indent is None),
                    encoding="utf-8")
    assert load(path).version == load().version
