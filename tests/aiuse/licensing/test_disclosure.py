"""Training-data disclosures after the EU AI Office template: validated by name, cross-checked with dates."""

from __future__ import annotations

import copy

import pytest

from obra.errors import InvalidInput, PermissionDenied
from obra.journal import Journal

from .conftest import write_manifest

SUMMARY = {
    "summary_version": "1.0", "last_updated": "2026-10-01",
    "provider": {"name": "Open Learner AI", "contact": "legal@open-learner.example"},
    "model": {"names": ["OL-2"], "placed_on_market": "2026-09-01"},
    "modalities": [{"modality": "text", "size": "1B-10T", "content_types": ["web pages"]},
                   {"modality": "audio", "size": "<10k h"}],
    "latest_collection": "2026-06",
    "sources": {"public_datasets": {"used": True, "modalities": ["text"], "names": ["Common Crawl"]},
                "licensed": {"used": True, "modalities": ["audio"]},
                "private_third_party": {"used": False}, "user_data": {"used": False},
                "synthetic": {"used": False}, "other": {"used": False},
                "crawled": {"used": True, "crawlers": [{"name": "OpenLearnerBot", "user_agent": "OpenLearnerBot/2.1"}],
                            "period": {"from": "2025-01", "to": "2099-06"},
                            "top_domains": [{"domain": "ana.example", "share_percent": 3.5},
                                            {"domain": "bo.example"}, {"domain": "free.example"},
                                            {"domain": "unknown.example"}]}},
    "opt_out": {"code_of_practice_signatory": True, "measures": "robots.txt and TDMRep honoured"},
}


def _location(world, subject, permission, price=None):
    use = {"use": "ai-train-generative", "permission": permission}
    if price:
        use["price"] = price
    return world["obra"].ai_terms.set_terms(world["cmo"], {"subject_kind": "location", "subject": subject,
                                                           "uses": [use]}, party=world["ana"])


def test_a_disclosure_is_cross_checked_against_reservations_and_licences(world, tmp_path):
    reserved = _location(world, "https://bo.example/*", "not-allowed")
    _location(world, "https://music.ana.example/*", "licence",
              {"model": "per-item", "currency": "EUR", "amount_minor": 100})
    _location(world, "https://free.example/*", "allowed")
    svc = world["svc"]
    quote = svc.quote(world["dev"], write_manifest(tmp_path / "m.csv", [
        {"number": world["a"], "url": "https://music.ana.example/a.mp3"}]), svc.question("ai-train-generative"))
    svc.accept(world["dev"], quote["quote_id"])
    done = svc.disclose(world["dev"], SUMMARY)
    by = {d["domain"]: d for d in done["report"]["domains"]}
    assert by["bo.example"]["status"] == "reserved"
    assert by["bo.example"]["terms"][0]["journal_event"] == reserved["journal_event"]
    assert by["ana.example"]["status"] == "licensed" and by["ana.example"]["licences"]
    assert by["free.example"]["status"] == "allowed" and by["unknown.example"]["status"] == "no-terms"
    assert done["report"]["reserved_domains"] == ["bo.example"]
    assert Journal(world["obra"].store).verify(done["journal_event"])["kind"] == "aiuse.disclosure"
    assert svc.disclose(world["dev"], SUMMARY)["already"] is True
    html = svc.disclosure_report(done, locale="fr").decode()
    assert "Résumé du contenu d’entraînement comparé au registre" in html and "réservé" in html
    assert "bo.example" in html and f"{reserved['journal_event']}" in html


def test_missing_mandatory_fields_are_named(world):
    bad = copy.deepcopy(SUMMARY)
    del bad["provider"]["contact"]
    del bad["sources"]["crawled"]["period"]
    bad["modalities"][0]["size"] = "lots"
    bad["latest_collection"] = "June 2026"
    with pytest.raises(InvalidInput) as err:
        world["svc"].disclose(world["dev"], bad)
    fields = {p.field for p in err.value.problems}
    assert {"provider.contact", "sources.crawled", "modalities.0", "latest_collection"} <= fields, fields
    with pytest.raises(InvalidInput, match="not JSON"):
        world["svc"].disclose(world["dev"], b"{nope")
    with pytest.raises(PermissionDenied):
        world["svc"].disclose(world["creator"], SUMMARY)
