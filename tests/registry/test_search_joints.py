"""SQLite asks the FTS5 index for a phrase of several words by its word joints (search.JOINTS), then checks
the whole phrase on the rows found: the answer must be the one the whole phrase gives, on both stores."""

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from obra.access import create_principal
from obra.model.vocab import AccessRole
from obra.registry import search
from obra.registry.service import Registry
from obra.store.schema import registrations

WORDS = ["amor", "de", "noche", "luna", "canción", "mar", "vida", "sol", "dolor", "viento"]


def test_word_joints_are_the_trigrams_across_a_space():
    assert search.word_joints("dolor viento destino") == ["r v", "o d"]
    assert search.word_joints("fire fire fire dr") == ["e f", "e d"]  # each once
    assert search.word_joints("cancion") == [] and search.word_joints("a b") == ["a b"]


def _titles(seed: int = 18, n: int = 300) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 6))).capitalize() for _ in range(n)]


@pytest.fixture
def lite_and_pg(tmp_path, pg_admin_engine):
    from tests.conftest import _pg_store, _sqlite_store

    titles = _titles()
    (tmp_path / "pg").mkdir()
    with _sqlite_store(tmp_path) as lite, _pg_store(pg_admin_engine, tmp_path / "pg") as pg:
        registries = []
        for store in (lite, pg):
            admin, _ = create_principal(store, "admin", AccessRole.ADMIN)
            registry = Registry(store)
            for k, title in enumerate(titles):
                data = {"title": title}
                if k % 4 == 0:  # alternate titles go through the same probe
                    data["alternate_titles"] = [{"title": titles[-1 - k]}]
                registry.register(admin, "work", data)
            registries.append(registry)
        yield registries, titles


def _phrases(titles: list[str]) -> st.SearchStrategy[str]:
    """Pieces of titles (whole words or cut inside them) and words strung together that no title may hold."""
    def piece(title: str, a: int, b: int) -> str:
        a, b = sorted((a % len(title), b % (len(title) + 1)))
        return title[a:b]
    return st.one_of(st.builds(piece, st.sampled_from(titles), st.integers(0, 60), st.integers(0, 60)),
                     st.lists(st.sampled_from(WORDS), min_size=3, max_size=5).map(" ".join))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_phrase_asked_by_its_joints_finds_what_the_whole_phrase_finds(lite_and_pg, monkeypatch, data):
    (lite, pg), titles = lite_and_pg
    q = data.draw(_phrases(titles), label="query")
    if not q.strip():
        return
    # the substring probe read 3 matches deep (not PROBE): which matches the index gives first decides the
    # answer, so a joint's match that is not the phrase's, kept by the probe, would show
    monkeypatch.setattr(search.TitleSearch._substring_rows, "__defaults__", (3,))
    joints = [r["number"] for r in lite.search(q, limit=50)]
    with monkeypatch.context() as m:
        m.setattr(search, "JOINTS", 10**9)  # every substring asked of the index as a whole phrase
        whole = [r["number"] for r in lite.search(q, limit=50)]
    assert joints == whole
    assert joints == [r["number"] for r in pg.search(q, limit=50)]


def test_a_title_holding_the_joints_but_not_the_phrase_does_not_take_a_place(store, monkeypatch):
    """"Mar vida sol viento destino" has both joints of "dolor viento destino" ("r v", "o d") and comes first;
    read one match deep, the probe must still give the title holding the phrase (checked before the LIMIT)."""
    admin, _ = create_principal(store, "admin", AccessRole.ADMIN)
    registry = Registry(store)
    registry.register(admin, "work", {"title": "Mar vida sol viento destino"})
    number = registry.register(admin, "work", {"title": "El dolor viento destino"}).number
    monkeypatch.setattr(search.TitleSearch._substring_rows, "__defaults__", (1,))
    with store.connect() as conn:
        found = search.ranked_hits(conn, "dolor viento destino", "dolor viento destino", [registrations.c.is_current],
                                   50)
    assert [(h.number, h.tier) for h in found.hits.values() if h.tier < search.FUZZY] == [(number, search.WORD)]


def test_a_title_holding_the_joint_letter_does_not_match_a_space(store):
    """PostgreSQL indexes a title with its spaces written as "ǂ" (migration 0017): a title that holds a "ǂ" of its
    own ("Amorǂde noche") must not be found for "or de no" (it is, by the index, and the whole needle's check on
    the row refuses it), and the plan reads the joint index, not the rows."""
    admin, _ = create_principal(store, "admin", AccessRole.ADMIN)
    registry = Registry(store)
    registry.register(admin, "work", {"title": "Amorǂde noche"})
    number = registry.register(admin, "work", {"title": "Amor de noche"}).number
    with store.connect() as conn:
        found = search.ranked_hits(conn, "or de no", "or de no", [registrations.c.is_current], 50)
        assert [(h.number, h.tier) for h in found.hits.values() if h.tier < search.FUZZY] == [
            (number, search.SUBSTRING)]
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
            where = " AND ".join(str(c.compile(conn, compile_kwargs={"literal_binds": True}))
                                 for c in search._pg_title_contains(registrations.c.title_norm, "or de no"))
            plan = conn.exec_driver_sql(f"EXPLAIN SELECT id FROM registrations WHERE {where}").scalars().all()
            assert any("search_titles_joints" in line for line in plan), plan
