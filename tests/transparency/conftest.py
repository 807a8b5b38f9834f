"""Fixtures for the transparency log: a log wired into a real registry on a real store."""

from __future__ import annotations

import pytest

from obra.registry.service import Registry
from obra.transparency.translog import TransparencyLog


@pytest.fixture
def log(store):
    return TransparencyLog(store)


@pytest.fixture
def registry(store, log):
    """The registry with the transparency log as its event sink (as the lead wires it)."""
    return Registry(store, sinks=[log])


@pytest.fixture
def registered(registry, admin):
    """A registered work, corrected once: two log entries for one number."""
    first = registry.register(admin, "work", {"title": "La cumparsita"})
    registry.correct(admin, first.number, {"title": "La Cumparsita"}, "capitalisation")
    return registry.show(first.number)
