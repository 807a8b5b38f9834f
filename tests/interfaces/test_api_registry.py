"""The REST API: public reads, authenticated writes, 401/403/422/413 where they belong."""

import pytest
from fastapi.testclient import TestClient

from obra.api.app import create_app


@pytest.fixture
def client(store):
    return TestClient(create_app(store))


def _auth(principals, role):
    return {"Authorization": f"Bearer {principals[role][1]}"}


def test_register_then_read_publicly(client, principals):
    body = {"title": "Canción Generada", "creation_mode": "ai_generated",
            "disclosure": {"systems": [{"name": "Udio"}], "ai_contribution": "everything"}}
    created = client.post("/registrations", json=body, headers=_auth(principals, "registrant"))
    assert created.status_code == 201, created.text
    number = created.json()["number"]
    shown = client.get(f"/registrations/{number}")
    assert shown.status_code == 200
    assert shown.json()["record"]["disclosure"]["systems"][0]["name"] == "Udio"
    assert [r["number"] for r in client.get("/search", params={"q": "cancion generada"}).json()] == [number]


def test_unauthenticated_write_gets_401_and_wrong_role_403(client, principals):
    assert client.post("/registrations", json={"title": "x"}).status_code == 401
    bad = client.post("/registrations", json={"title": "x"}, headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401
    denied = client.post("/registrations", json={"title": "x"}, headers=_auth(principals, "ai_developer"))
    assert denied.status_code == 403
    assert client.post("/parties", json={"name": "x"}).status_code == 401
    assert client.post("/parties", json={"name": "x"}, headers=_auth(principals, "ai_developer")).status_code == 403
    assert client.get("/search", params={"q": "x"}).json() == []


def test_invalid_input_lists_problems_with_fields(client, principals):
    response = client.post("/registrations", json={"title": "x", "iswc": "T0345246802", "colour": "blue"},
                           headers=_auth(principals, "registrant"))
    assert response.status_code == 422
    fields = {p["field"] for p in response.json()["problems"]}
    assert fields == {"iswc", "colour"}


def test_oversized_upload_gets_413(client, principals):
    from obra.api.limits import BodyLimits

    small_app = TestClient(create_app(client.app.state.store, limits=BodyLimits(json=100, upload=1000)))
    response = small_app.post("/batches", content=b"{" + b" " * 5000 + b"}",
                              headers=_auth(principals, "registrant") | {"content-type": "application/json"})
    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large" and "upload limit of 1000" in response.json()["message"]


def test_batch_is_all_or_nothing_over_http(client, principals):
    body = {"works": [{"title": "Good"}, {"title": "Bad", "iswc": "T0000000000"}, {"title": ""}]}
    response = client.post("/batches", json=body, headers=_auth(principals, "cmo"))
    assert response.status_code == 422
    problems = response.json()["problems"]
    assert {p["field"] for p in problems} == {"works[1].iswc", "works[2].title"}
    assert client.get("/search", params={"q": "good"}).json() == []


def test_openapi_is_served(client):
    spec = client.get("/openapi.json").json()
    assert "/registrations" in spec["paths"]
