"""The transparency API: public log, proofs, keys and certificates; verification over HTTP."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from obra.api.app import create_app
from obra.transparency import merkle


@pytest.fixture
def client(store):
    return TestClient(create_app(store))


def test_log_proofs_keys_and_certificate_round_trip(client, registered, log):
    b = registered.log_index - 1  # entries before: the principals' journal events
    sth = client.get("/log/sth").json()
    assert sth["tree_size"] == b + 2
    entries = client.get("/log/entries", params={"start": b}).json()
    assert [e["index"] for e in entries] == [b, b + 1]
    proof = client.get("/log/proof/inclusion", params={"index": b, "size": b + 2}).json()
    merkle.verify_inclusion(bytes.fromhex(entries[0]["leaf_hash"]), b, b + 2,
                            [bytes.fromhex(h) for h in proof["hashes"]], bytes.fromhex(sth["root_hash"]))
    assert client.get("/log/proof/consistency", params={"old": b + 1, "new": b + 2}).json()["hashes"]
    assert client.get("/keys").json()["office"] == "OBRA"

    cert = client.get(f"/registrations/{registered.number}/certificate")
    assert cert.status_code == 200
    verified = client.post("/verify", content=cert.content)
    assert verified.status_code == 200 and verified.json()["number"] == registered.number
    bad = client.post("/verify", content=cert.content.replace(b"Cumparsita", b"Cumparsito"))
    assert bad.status_code == 400 and "altered" in bad.json()["message"]
    html = client.get(f"/registrations/{registered.number}/certificate", params={"format": "html"})
    assert html.status_code == 200 and registered.number in html.text


def test_unknown_things_are_404_and_import_needs_a_principal(client, principals):
    assert client.get("/log/proof/inclusion", params={"index": 50}).status_code == 404
    assert client.get("/registrations/OBRA-2026-0000009-8/certificate").status_code in (404, 422)
    assert client.post("/federation/import", json={}).status_code == 401
    staff = {"Authorization": f"Bearer {principals['office_staff'][1]}"}
    refused = client.post("/federation/import", json={"format": "nope"}, headers=staff)
    assert refused.status_code == 400 and "log export" in refused.json()["message"]
