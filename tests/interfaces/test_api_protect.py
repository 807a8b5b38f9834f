"""POST /ai/protect: the signal files of stored or given terms, public, as a zip or as JSON (issue #14,
items 3 and 5); the same parameters as `obra ai protect` (tests/interfaces/test_surfaces.py)."""

import io
import json
import zipfile

import pytest
from fastapi.testclient import TestClient

from obra.aiuse.signals import cawg, robots, rsl
from obra.aiuse.vocabulary import Use
from obra.api.app import create_app

SITE = "https://example.org"
RESERVE = [{"use": "ai-train-generative", "permission": "not-allowed"},
           {"use": "ai-train-other", "permission": "not-allowed"}, {"use": "search", "permission": "allowed"}]


@pytest.fixture
def client(store):
    return TestClient(create_app(store))


def _auth(principals, role):
    return {"Authorization": f"Bearer {principals[role][1]}"}


def test_anyone_gets_the_zip_of_stored_terms(client, principals):
    number = client.post("/registrations", json={"title": "Chacarera"},
                         headers=_auth(principals, "registrant")).json()["number"]
    stated = client.put("/ai/terms", json={"subject_kind": "work", "subject": number, "uses": RESERVE},
                        headers=_auth(principals, "registrant"))
    assert stated.status_code == 201, stated.text
    response = client.post("/ai/protect", data={"kind": "work", "subject": number, "site": SITE})   # no token
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    robots_txt = archive.read("robots.txt").decode()
    assert not robots.crawl_rule(robots_txt, "GPTBot", "/chacarera").allowed
    assert "Content-Usage: train-ai=n, search=y" in robots_txt
    assert f"journal event {stated.json()['journal_event']}" in archive.read("README.txt").decode()
    again = client.post("/ai/protect", data={"kind": "work", "subject": number, "site": SITE})
    assert again.content == response.content                                # the same terms, the same bytes


def test_inline_terms_as_json_with_signed_media(client, monkeypatch):
    from cryptography.hazmat.primitives.asymmetric import ec

    from tests.aiuse.test_cawg import _make_ca, jpeg

    chain, key, _root = _make_ca(ec.generate_private_key(ec.SECP256R1()))
    monkeypatch.setenv("OBRA_C2PA_CERT", chain.decode())
    monkeypatch.setenv("OBRA_C2PA_KEY", key.decode())
    terms = {"subject_kind": "location", "subject": SITE + "/photos/*", "uses": RESERVE}
    response = client.post("/ai/protect", data={"terms": json.dumps(terms), "contact": "rights@example.org",
                                                "licence_url": SITE + "/licences/photos.xml"},
                           files=[("media", ("sunset.jpg", jpeg(), "image/jpeg"))],
                           headers={"Accept": "application/json"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["path"] == "/photos/*" and body["signed_media"] == ["sunset.jpg"]
    assert "License: https://example.org/licences/photos.xml" in body["files"]["robots.txt"]
    document = rsl.parse_rsl(body["files"]["license.xml"])
    assert rsl.evaluate(document, SITE + "/photos/1.jpg", Use.SEARCH).outcome is rsl.Outcome.LICENSED
    import base64

    signed = cawg.read_media(base64.b64decode(body["signed_media_base64"]["media/sunset.jpg"]), "image/jpeg")
    assert {e.key: e.use for e in signed.entries} == {"cawg.ai_generative_training": "notAllowed",
                                                      "cawg.ai_training": "notAllowed"}


def test_what_cannot_be_published_is_named(client):
    missing = client.post("/ai/protect", data={"kind": "party", "subject": "7", "site": SITE})
    assert missing.status_code == 404 and "--terms" in missing.json()["hint"]
    bad = client.post("/ai/protect", data={"terms": "{\"subject_kind\": \"party\", \"subject\": \"7\", "
                                                    "\"subject\": \"8\"}", "site": SITE})
    assert bad.status_code == 422 and bad.json()["problems"][0]["field"].startswith("terms")
    site = client.post("/ai/protect", data={"terms": json.dumps({"subject_kind": "party", "subject": "7",
                                                                 "uses": RESERVE}), "site": "example.org",
                                            "contact": "nobody"})
    assert site.status_code == 422
    assert {p["field"] for p in site.json()["problems"]} == {"site", "contact"}
    kind = client.post("/ai/protect", data={"kind": "song", "subject": "7", "site": SITE})
    assert kind.status_code == 422
