"""Fixtures for ingest and matching: the bootstrap admin and a CMO allowed to ingest usage."""

from __future__ import annotations

import pytest

from obra.access import create_principal
from obra.model.vocab import AccessRole


@pytest.fixture
def root(sqlite_store):
    principal, _ = create_principal(sqlite_store, "root", AccessRole.ADMIN)
    return principal


@pytest.fixture
def cmo(sqlite_store, root):
    principal, _ = create_principal(sqlite_store, "cmo-1", AccessRole.CMO, by=root)
    return principal
