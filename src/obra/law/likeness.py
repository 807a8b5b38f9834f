"""Statutory limits on voice and likeness consents (digital replicas), per jurisdiction.

The numbers a consent record is held to — the longest term for an adult, a minor, after death;
whether the intended uses must be described specifically; whether the performer must have been
represented — are law, so they live here with their citations (``data/likeness.json``), not in
the engine that applies them (:mod:`obra.aiuse.licensing.consent`). A rule marked ``pending``
comes from a bill not yet enacted: engines apply it as the cautious reading and say so.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

__all__ = ["DATA", "likeness_rules"]

DATA = "likeness.json"


@lru_cache(maxsize=1)
def likeness_rules() -> dict:
    """The rule file: ``about``, ``checked`` and ``rules`` (each with ``jurisdiction``, its limits,
    ``status``, ``citation``, ``source_url`` and ``confidence``)."""
    return json.loads((resources.files("obra.law") / "data" / DATA).read_text(encoding="utf-8"))
