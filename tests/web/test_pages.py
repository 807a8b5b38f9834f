"""Capability pages over TestClient: what the browser journeys do not walk."""

from __future__ import annotations

import json

from obra.access import create_principal
from obra.model.vocab import AccessRole
from tests.web.test_frame import client, sign_in, token_of

SUMMARY = {  # the EU AI Office template's fields, as tests/aiuse/licensing/test_disclosure.py files them
    "summary_version": "1.0", "last_updated": "2026-10-01",
    "provider": {"name": "Open Learner AI", "contact": "legal@open-learner.example"},
    "model": {"names": ["OL-2"], "placed_on_market": "2026-09-01"},
    "modalities": [{"modality": "text", "size": "1B-10T", "content_types": ["web pages"]}],
    "latest_collection": "2026-06",
    "sources": {"public_datasets": {"used": True, "modalities": ["text"], "names": ["Common Crawl"]},
                "licensed": {"used": False}, "private_third_party": {"used": False}, "user_data": {"used": False},
                "synthetic": {"used": False}, "other": {"used": False},
                "crawled": {"used": True, "crawlers": [{"name": "OpenLearnerBot", "user_agent": "OpenLearnerBot/2.1"}],
                            "period": {"from": "2025-01", "to": "2026-06"},
                            "top_domains": [{"domain": "ana.example", "share_percent": 3.5}]}},
    "opt_out": {"code_of_practice_signatory": True, "measures": "robots.txt and TDMRep honoured"},
}


def test_an_ai_developer_files_a_training_summary_every_missing_field_named_first(sqlite_store):
    admin, _ = create_principal(sqlite_store, "admin", AccessRole.ADMIN)
    _, token = create_principal(sqlite_store, "open-learner", AccessRole.AI_DEVELOPER, by=admin)
    c = client(sqlite_store)
    sign_in(c, "open-learner", token)
    csrf = token_of(c, "/portal/licences")
    r = c.post("/portal/licences/disclosure", data={"csrf_token": csrf},
               files={"summary": ("summary.json", b'{"provider": {}}', "application/json")})
    assert r.status_code == 422
    for field in ("summary_version", "provider.name", "model", "sources", "opt_out"):
        assert f"<td>{field}</td>" in r.text                    # each named in the problems table
    r = c.post("/portal/licences/disclosure", data={"csrf_token": csrf},
               files={"summary": ("summary.json", json.dumps(SUMMARY).encode(), "application/json")})
    assert r.status_code == 201 and "Open Learner AI" in r.text and "D-" in r.text


def test_a_creator_may_not_file_a_training_summary(sqlite_store):
    admin, _ = create_principal(sqlite_store, "admin", AccessRole.ADMIN)
    _, token = create_principal(sqlite_store, "ana", AccessRole.CREATOR, by=admin)
    c = client(sqlite_store)
    sign_in(c, "ana", token)
    page = c.get("/portal/licences")
    assert "/portal/licences/disclosure" not in page.text         # no form offered
    r = c.post("/portal/licences/disclosure", data={"csrf_token": token_of(c, "/portal/licences")},
               files={"summary": ("summary.json", json.dumps(SUMMARY).encode(), "application/json")})
    assert r.status_code == 403 and "You may not do this" in r.text
