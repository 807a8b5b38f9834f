"""Near-duplicate search is exact: the same pairs as comparing every code with every code."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from obra.errors import InvalidInput
from obra.identify.iscc import ContentCodes, unit_of
from obra.identify.similar import (ContentIndex, blocks_for, bulk_blocks, flips, near_duplicates)

ONE = np.uint64(1)


def brute_force(q: np.ndarray, x: np.ndarray, radius: int) -> set[tuple[int, int]]:
    d = np.bitwise_count(q[:, None] ^ x[None, :])
    qi, xi = np.nonzero(d <= radius)
    return set(zip(qi.tolist(), xi.tolist()))


def pairs(table) -> set[tuple[int, int]]:
    return set(zip(table["query"].to_pylist(), table["indexed"].to_pylist()))


def flip_bits(code: int, positions) -> int:
    for p in positions:
        code ^= 1 << p
    return code


codes64 = st.integers(min_value=0, max_value=2**64 - 1)


@st.composite
def planted(draw):
    """Indexed codes, and queries that are copies with 0-12 bits flipped (many at exactly 8 and 9)."""
    indexed = draw(st.lists(codes64, min_size=1, max_size=40))
    queries = draw(st.lists(codes64, max_size=10))
    for _ in range(draw(st.integers(0, 30))):
        base = draw(st.sampled_from(indexed))
        k = draw(st.sampled_from([0, 1, 2, 3, 7, 8, 8, 9, 9, 10, 12]))
        queries.append(flip_bits(base, draw(st.permutations(range(64)))[:k]))
    return np.array(queries, dtype=np.uint64), np.array(indexed, dtype=np.uint64)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=planted(), radius=st.sampled_from([0, 1, 3, 7, 8, 8, 8, 9, 12, 16]),
       partition_bits=st.sampled_from([None, 0, 3]))
def test_bulk_search_equals_brute_force(data, radius, partition_bits):
    q, x = data
    got = near_duplicates(q, x, radius, partition_bits=partition_bits)
    assert pairs(got) == brute_force(q, x, radius)
    assert got.num_rows == len(pairs(got))  # no pair reported twice
    d = dict(zip(zip(got["query"].to_pylist(), got["indexed"].to_pylist()), got["distance"].to_pylist()))
    for (qi, xi), dist in d.items():
        assert dist == (int(q[qi]) ^ int(x[xi])).bit_count()


def test_distance_exactly_8_is_found_and_9_is_not():
    rng = np.random.default_rng(5)
    x = rng.integers(0, 2**64 - 1, 500, dtype=np.uint64, endpoint=True)
    # Spread the flips over all blocks, and also pile them into one block (the hard case).
    spread = [flip_bits(int(x[0]), [0, 8, 16, 24, 32, 40, 48, 56])]
    piled = [flip_bits(int(x[1]), range(42, 50)), flip_bits(int(x[2]), range(0, 8))]
    nine = [flip_bits(int(x[3]), range(0, 9)), flip_bits(int(x[4]), [0, 7, 14, 21, 28, 35, 42, 49, 56])]
    q = np.array(spread + piled + nine, dtype=np.uint64)
    got = near_duplicates(q, x, 8)
    assert pairs(got) == brute_force(q, x, 8)
    assert {(0, 0), (1, 1), (2, 2)} <= pairs(got)
    assert not {(3, 3), (4, 4)} & pairs(got)
    assert set(pairs(near_duplicates(q, x, 9))) >= {(3, 3), (4, 4)}


def test_bulk_search_on_ten_thousand_codes_with_planted_copies():
    rng = np.random.default_rng(11)
    x = rng.integers(0, 2**64 - 1, 10_000, dtype=np.uint64, endpoint=True)
    q = rng.integers(0, 2**64 - 1, 2_000, dtype=np.uint64, endpoint=True)
    for i in range(1_000):
        q[i] = flip_bits(int(x[i * 7]), rng.choice(64, rng.integers(0, 11), replace=False).tolist())
    got = near_duplicates(q, x, 8, partition_bits=3)
    assert pairs(got) == brute_force(q, x, 8)
    assert got.num_rows > 700


def test_pigeonhole_layouts_hold_for_every_radius():
    for radius in range(0, 17):
        for layout in (blocks_for(radius, 9), bulk_blocks(radius)):
            assert sum(b.tolerance + 1 for b in layout) >= radius + 1
            assert all(b.tolerance >= 0 for b in layout)
    full = blocks_for(8, 9)
    assert sorted(b.width for b in full) == [7] * 8 + [8] and sum(b.width for b in full) == 64
    assert len(flips(21, 2)) == 1 + 21 + 210


@pytest.mark.parametrize("bad", [-1, 17, 2.5, "8", True])
def test_radius_out_of_range_is_refused(bad):
    with pytest.raises(InvalidInput, match="radius"):
        near_duplicates(np.zeros(1, np.uint64), np.zeros(1, np.uint64), bad)


def test_wrong_array_types_are_refused():
    with pytest.raises(InvalidInput, match="uint64"):
        near_duplicates(np.zeros(3, np.float64), np.zeros(3, np.uint64), 8)
    assert near_duplicates(np.zeros(0, np.uint64), np.zeros(3, np.uint64), 8).num_rows == 0


# --- the store's index (SQLite and PostgreSQL) ------------------------------------------

def codes_with(content_body: int, data_body: int, tag: str) -> ContentCodes:
    """ContentCodes whose image and data units have the given 64-bit bodies."""
    import iscc_core as ic

    content = ic.encode_component(ic.MT.CONTENT, ic.ST_CC.IMAGE, ic.VS.V0, 64, content_body.to_bytes(8, "big"))
    data = ic.encode_component(ic.MT.DATA, ic.ST.NONE, ic.VS.V0, 64, data_body.to_bytes(8, "big"))
    instance = ic.encode_component(ic.MT.INSTANCE, ic.ST.NONE, ic.VS.V0, 64,
                                   (hash(tag) % 2**64).to_bytes(8, "big"))
    iscc = ic.gen_iscc_code_v0([f"ISCC:{content}", f"ISCC:{data}", f"ISCC:{instance}"])["iscc"]
    return ContentCodes(filename=f"{tag}.png", mediatype="image/png", mode="image", iscc=iscc, meta=None,
                        content=f"ISCC:{content}", data=f"ISCC:{data}", instance=f"ISCC:{instance}",
                        datahash="1e20" + "00" * 32, filesize=1)


def test_index_finds_exactly_the_registered_codes_within_the_radius(store):
    rng = np.random.default_rng(3)
    base = int(rng.integers(0, 2**63))
    index = ContentIndex(store)
    bodies = {
        "UY-W-2026-000001": base,                                   # same image
        "UY-W-2026-000002": flip_bits(base, range(40, 48)),         # 8 bits, all in two blocks
        "UY-W-2026-000003": flip_bits(base, range(0, 64, 8)[:8]),   # 8 bits, one per block
        "UY-W-2026-000004": flip_bits(base, range(0, 9)),           # 9 bits: outside
        "UY-W-2026-000005": base ^ (2**64 - 1),                     # everything differs
    }
    with store.begin() as conn:
        for i, (number, body) in enumerate(bodies.items()):
            index.add(conn, number, 1, codes_with(body, int(rng.integers(0, 2**63)), f"f{i}"))
    query = codes_with(base, 12345, "query")
    found = [(m.number, m.distance) for m in index.near(query, units=["content-image"])]
    assert found == [("UY-W-2026-000001", 0), ("UY-W-2026-000002", 8), ("UY-W-2026-000003", 8)]
    assert [m.number for m in index.near(query.content, radius=9)][-1] == "UY-W-2026-000004"
    assert [m.number for m in index.near(query.content, radius=0)] == ["UY-W-2026-000001"]
    assert "UY-W-2026-000001" not in {m.number for m in index.near(query, exclude="UY-W-2026-000001")}
    # Brute force over what is stored, for several radii.
    for radius in (3, 8, 12, 16):
        expected = sorted((n, (b ^ base).bit_count()) for n, b in bodies.items() if (b ^ base).bit_count() <= radius)
        got = sorted((m.number, m.distance) for m in index.near(query.content, radius=radius))
        assert got == expected


def test_index_add_is_idempotent_and_a_different_file_needs_a_new_version(store):
    index = ContentIndex(store)
    a, b = codes_with(1, 2, "a"), codes_with(2**40, 3, "b")
    with store.begin() as conn:
        index.add(conn, "UY-W-2026-000009", 1, a)
        index.add(conn, "UY-W-2026-000009", 1, a)
    with pytest.raises(InvalidInput, match="new version"):
        with store.begin() as conn:
            index.add(conn, "UY-W-2026-000009", 1, b)
    with store.begin() as conn:
        index.add(conn, "UY-W-2026-000009", 2, b)
    # Only the newest version of a registration is compared.
    assert index.near(a.content, radius=0) == []
    assert [m.version for m in index.near(b.content, radius=0)] == [2]
    assert [f["version"] for f in index.files("UY-W-2026-000009")] == [1, 2]


def test_withdrawn_registrations_are_not_reported(store, admin):
    from obra.registry.service import Registry

    registry = Registry(store)
    work = registry.register(admin, "work", {"title": "Retrato", "creation_mode": "human"})
    index = ContentIndex(store)
    codes = codes_with(77, 78, "retrato")
    with store.begin() as conn:
        index.add(conn, work.number, work.version, codes)
    assert [m.number for m in index.near(codes.content)] == [work.number]
    registry.withdraw(admin, work.number, "registered by mistake")
    assert index.near(codes.content) == []


def test_a_bad_code_in_a_query_is_refused(sqlite_store):
    with pytest.raises(InvalidInput, match="not a valid ISCC code"):
        ContentIndex(sqlite_store).near("ISCC:NOT-A-CODE")
    assert unit_of("EEA2EF72Y3H5RCUQ").kind == "content-image"


def test_registering_a_file_warns_about_prior_work_but_not_about_itself(store):
    index = ContentIndex(store)
    first = codes_with(2**50 + 12345, 999, "first")
    with store.begin() as conn:
        assert index.register(conn, "UY-W-2026-000100", 1, first) == []
    copy = codes_with(flip_bits(2**50 + 12345, [1, 5, 60]), 31337, "copy")
    with store.begin() as conn:
        warnings = index.register(conn, "UY-W-2026-000101", 1, copy)
    assert [(m.number, m.unit, m.distance) for m in warnings] == [("UY-W-2026-000100", "content-image", 3)]
    with store.begin() as conn:  # a correction of the copy: its own earlier version is not prior work
        again = index.register(conn, "UY-W-2026-000101", 2, copy)
    assert [m.number for m in again] == ["UY-W-2026-000100"]
