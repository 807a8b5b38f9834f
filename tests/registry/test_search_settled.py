"""A settled first page (search.SETTLED): once equal and beginning titles fill it, the slower tiers are skipped,
and what is answered is exactly the head of the answer every tier would give, on both stores."""

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from obra.access import create_principal
from obra.model.vocab import AccessRole
from obra.registry import search
from obra.registry.service import Registry

# few words, so that a query is equal to or the beginning of anything from one title to hundreds
WORDS = ["amor", "noche", "luna", "canción", "mar", "vida", "sol", "camino"]


def _catalogue(seed: int = 18, n: int = 400) -> list[str]:
    rng = random.Random(seed)
    out = []
    for k in range(n):
        words = [rng.choice(WORDS[: rng.choice((3, 8))]) for _ in range(rng.choice((1, 2, 2, 3, 4)))]
        out.append(" ".join(words).capitalize() + (f" {k}" if rng.random() < 0.3 else ""))
    return out


@pytest.fixture
def catalogue_registry(store):
    admin, _ = create_principal(store, "admin", AccessRole.ADMIN)
    registry = Registry(store)
    titles = _catalogue()
    for title in titles:
        registry.register(admin, "work", {"title": title})
    return registry, titles


def _numbers(registry, q: str, limit: int) -> list[str]:
    return [r["number"] for r in registry.search(q, limit=limit)]


def _every_tier(registry, q: str, limit: int, monkeypatch) -> list[str]:
    with monkeypatch.context() as m:
        m.setattr(search, "SETTLED", 10**9)
        return _numbers(registry, q, limit)


def _queries(titles: list[str]) -> st.SearchStrategy[str]:
    """Whole titles, their beginnings, single words, a word's middle and two words not in that order."""
    title = st.sampled_from(titles)
    return st.one_of(title,
                     st.builds(lambda t, k: t[: max(2, len(t) * k // 10)], title, st.integers(2, 9)),
                     st.sampled_from(WORDS), st.sampled_from(["ncion", "och", "ida sol", "luna amor", "mino de"]),
                     st.builds(lambda a, b: f"{a} {b}", st.sampled_from(WORDS), st.sampled_from(WORDS)))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_settled_page_is_the_head_of_the_answer_of_every_tier(catalogue_registry, monkeypatch, data):
    registry, titles = catalogue_registry
    q = data.draw(_queries(titles), label="query")
    limit = data.draw(st.sampled_from([5, 10, 20, 50]), label="limit")
    settled, full = _numbers(registry, q, limit), _every_tier(registry, q, limit, monkeypatch)
    assert settled[:10] == full[:10]
    assert settled == full[: len(settled)]
    assert len(settled) >= min(limit, search.SETTLED, len(full))


def test_the_slower_tiers_are_skipped_when_the_page_is_settled(store, monkeypatch):
    """"amor" begins ten titles: "Clamor" (a substring, eleventh with every tier) is not looked for."""
    admin, _ = create_principal(store, "admin", AccessRole.ADMIN)
    registry = Registry(store)
    registry.register(admin, "work", {"title": "Clamor"})
    for k in range(search.SETTLED):
        registry.register(admin, "work", {"title": f"Amor {k}"})
    found = [r["title"] for r in registry.search("amor")]
    assert found == [f"Amor {k}" for k in range(search.SETTLED)]
    assert _every_tier(registry, "amor", 50, monkeypatch)[search.SETTLED:] == [registry.search("clamor")[0]["number"]]


def test_nine_equal_titles_leave_the_page_open(store):
    """One short of SETTLED: the substring tier still runs and ranks its title tenth."""
    admin, _ = create_principal(store, "admin", AccessRole.ADMIN)
    registry = Registry(store)
    registry.register(admin, "work", {"title": "Clamor"})
    for k in range(search.SETTLED - 1):
        registry.register(admin, "work", {"title": f"Amor {k}"})
    assert [r["title"] for r in registry.search("amor")][search.SETTLED - 1:] == ["Clamor"]
