"""A period distributed twice keeps both runs: the first run's statements stay readable and
verifiable, both runs are journal events that verify against the transparency log, and the
statements render in the payee's language."""

from __future__ import annotations

import io
import json

import jcs
import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from obra.access import authenticate
from obra.api.app import create_app
from obra.app import Obra
from obra.canonical import canonical
from obra.errors import NotFound
from obra.journal import verify_proof
from obra.royalties.pipeline import DistributionRequest
from tests.royalties.test_interfaces_distribution import seed


@pytest.fixture
def seeded(store):
    s = seed(store)
    obra = Obra(store)
    s["cmo"] = authenticate(store, s["tokens"]["cmo"])
    s["ana"] = authenticate(store, s["tokens"]["ana"])
    return obra, s


def test_a_rerun_supersedes_and_keeps_the_first_run(seeded):
    obra, s = seeded
    first = obra.royalties.distribute(s["cmo"], DistributionRequest(period="2026-03"))
    second = obra.royalties.distribute(s["cmo"], DistributionRequest(period="2026-03"))
    assert second["run"] != first["run"] and second["supersedes"] == [first["run"]]
    assert first["directory"] != second["directory"]

    runs = {r["id"]: r for r in obra.royalties.runs(s["cmo"], "2026-03")}
    assert runs[first["run"]]["superseded_by"] == second["run"] and runs[second["run"]]["superseded_by"] is None

    # the current run answers by default; the superseded run is still readable by its number
    artist = str(s["artist"])
    _, current = obra.royalties.statement(s["ana"], artist)
    data, earlier = obra.royalties.statement(s["ana"], artist, run=first["run"])
    assert current["run"] == second["run"] and earlier["run"] == first["run"]
    assert earlier["content_hash"] == first["statements"][artist]["content_hash"]
    # the same inputs give the same statement: both runs' hashes agree, recomputed with RFC 8785
    assert earlier["content_hash"] == current["content_hash"]
    body = {k: v for k, v in json.loads(data).items() if k != "content_hash"}
    assert __import__("hashlib").sha256(jcs.canonicalize(body)).hexdigest() == earlier["content_hash"]
    assert data == canonical(json.loads(data)) + b"\n"  # the file is the canonical form itself

    # both runs, the supersession and the law version are journal events that verify offline
    history = obra.log.key_history()
    events = {e["id"]: e for e in obra.read_journal(s["cmo"], kind="distribution.", limit=None)}
    assert [e["kind"] for e in events.values()] == ["distribution.run", "distribution.superseded",
                                                    "distribution.run"]
    for event_id, event in events.items():
        verified = verify_proof(obra.journal_proof(event_id), history)
        assert verified["valid"] and verified["kind"] == event["kind"]
    run_events = [e for e in events.values() if e["kind"] == "distribution.run"]
    assert [e["payload"]["run"] for e in run_events] == [first["run"], second["run"]]
    assert run_events[0]["payload"]["statements_hash"] == first["statements_hash"]
    law = obra.read_journal(s["cmo"], kind="law.rule_pack_used", limit=None)
    assert {e["payload"]["law_version"] for e in law} == {obra.law.version} == {first["law_version"]}


def test_an_altered_run_event_does_not_verify(seeded):
    from obra.errors import Unverifiable

    obra, s = seeded
    run = obra.royalties.distribute(s["cmo"], DistributionRequest(period="2026-03"))
    proof = obra.journal_proof(run["journal_event"])
    proof["event"]["payload"]["conservation"]["EUR"]["distributed"] += 1
    with pytest.raises(Unverifiable, match="altered"):
        verify_proof(proof, obra.log.key_history())


def test_an_unknown_run_is_not_found(seeded):
    obra, s = seeded
    with pytest.raises(NotFound, match="no distribution run 999"):
        obra.royalties.statement(s["cmo"], str(s["artist"]), run=999)


def test_statements_in_spanish_and_portuguese_name_the_payee(sqlite_store):
    s = seed(sqlite_store)
    client = TestClient(create_app(sqlite_store))
    cmo = {"Authorization": f"Bearer {s['tokens']['cmo']}"}
    assert client.post("/distributions", json={"period": "2026-03"}, headers=cmo).status_code == 201
    es = client.get(f"/statements/{s['artist']}", params={"format": "html"},
                    headers={**cmo, "Accept-Language": "es-UY,es;q=0.9"})
    assert es.headers["Content-Language"] == "es"
    assert "Liquidación de regalías" in es.text and "Ana García" in es.text and "Royalty statement" not in es.text
    pt = client.get(f"/statements/{s['artist']}", params={"format": "pdf"},
                    headers={**cmo, "Accept-Language": "pt-BR"})
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pt.content)).pages)
    assert pt.headers["Content-Language"] == "pt" and "Extrato de royalties" in text and "Ana García" in text
    assert "França" in text  # the territory FR, named in Portuguese
