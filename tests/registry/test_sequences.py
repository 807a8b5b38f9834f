"""Issue #13, finding 6 (sequences): the first registration of a year used to crash on a duplicate
``sequences`` key when two writers started the year at once on PostgreSQL (``SELECT … FOR UPDATE`` has no
row to lock yet, so both inserted it). Numbers are now unique and gapless under concurrent writers, on both
stores, and a rolled-back registration gives its number back.
"""

from __future__ import annotations

import threading

import pytest

from obra import ids
from obra.errors import InvalidInput
from obra.registry.service import Registry, _next_sequence
from obra.transparency.translog import TransparencyLog

WRITERS = 8


def _together(store, work, n: int = WRITERS) -> tuple[list, list]:
    """Run ``work(i)`` in ``n`` threads released at the same instant; their results and their errors."""
    start = threading.Barrier(n)
    results, errors, lock = [], [], threading.Lock()

    def run(i: int) -> None:
        start.wait()
        try:
            value = work(i)
        except Exception as exc:  # noqa: BLE001 - any error is what the test looks for
            with lock:
                errors.append(exc)
        else:
            with lock:
                results.append(value)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return results, errors


def test_writers_starting_a_new_year_at_once_get_unique_gapless_numbers(store):
    """Eight transactions allocate the first numbers of each of twelve fresh years at the same instant."""
    def allocate(year: int):
        def work(_):
            with store.begin() as conn:
                return _next_sequence(conn, store.office, year)
        return work

    for year in range(3001, 3013):
        values, errors = _together(store, allocate(year))
        assert errors == [], f"year {year}: {errors[0]!r}"
        assert sorted(values) == list(range(1, WRITERS + 1)), year


def test_a_rolled_back_registration_gives_its_number_back(store):
    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        with store.begin() as conn:
            assert _next_sequence(conn, store.office, 3100) == 1
            raise Boom
    with store.begin() as conn:
        assert _next_sequence(conn, store.office, 3100) == 1
        assert _next_sequence(conn, store.office, 3100) == 2


def test_the_first_registrations_of_a_fresh_store_run_concurrently(store, admin):
    """End to end: eight registrants at once on an empty store (the year's row does not exist yet)."""
    registry = Registry(store)
    log_size = TransparencyLog(store).size()
    numbers, errors = _together(store, lambda i: registry.register(admin, "work", {"title": f"Work {i}"}).number)
    assert errors == []
    sequences = sorted(int(ids.parse_registration_number(n).split("-")[2]) for n in numbers)
    assert sequences == list(range(1, WRITERS + 1))
    assert TransparencyLog(store).size() == log_size + WRITERS
    # a refused registration uses no number
    with pytest.raises(InvalidInput):
        registry.register(admin, "work", {"title": "Bad", "iswc": "T-000.000.000-1"})
    nxt = registry.register(admin, "work", {"title": "Next"}).number
    assert int(nxt.split("-")[2]) == WRITERS + 1
