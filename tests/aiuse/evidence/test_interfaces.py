"""`obra ai evidence` and `POST /ai/evidence` as a rightholder runs them: files written, the same bundle shape,
a bundle that verifies offline, refusals and denials on both surfaces."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from obra.access import create_principal
from obra.api.app import create_app
from obra.cli.main import app
from obra.model.vocab import AccessRole

runner = CliRunner()


@pytest.fixture
def cli_store(sqlite_evidence_world, monkeypatch):
    """The command line pointed at the evidence world's store."""
    store = sqlite_evidence_world["store"]
    monkeypatch.setenv("OBRA_HOME", str(store.home))
    monkeypatch.setenv("OBRA_DATABASE_URL", store.engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("OBRA_OFFICE", store.office)
    monkeypatch.delenv("OBRA_TOKEN", raising=False)
    return sqlite_evidence_world


@pytest.fixture(scope="module")
def tokens(sqlite_evidence_world):
    world = sqlite_evidence_world
    root = world["principals"]["admin"][0]
    out = {"cmo": world["principals"]["cmo"][1]}
    out["ana"] = create_principal(world["store"], "ana-ui", AccessRole.CREATOR, world["party"], by=root)[1]
    out["eva"] = create_principal(world["store"], "eva-ui", AccessRole.CREATOR, world["silent_party"], by=root)[1]
    out["dev"] = create_principal(world["store"], "dev-ui", AccessRole.AI_DEVELOPER, by=root)[1]
    return out


def _args(world, work="A", *more):
    return ["ai", "evidence", world["checks"]["after"]["directory"], "--work", world["numbers"][work],
            "--against", "Example AI Ltd", *more]


def test_cli_writes_the_bundle_keys_and_letters_and_the_bundle_verifies_offline(cli_store, tokens, tmp_path):
    out = tmp_path / "evidence"
    result = runner.invoke(app, [*_args(cli_store), "--developer-jurisdiction", "US", "--locale", "es",
                                 "--locale", "pt", "--out", str(out), "--token", tokens["ana"], "--json"])
    assert result.exit_code == 0, result.output
    done = json.loads(result.stdout)
    assert sorted(p.name for p in out.iterdir()) == ["evidence.json", "letter.es.html", "letter.pt.html",
                                                       "office-keys.json"]
    assert "Alemania" in (out / "letter.es.html").read_text() and "Alemanha" in (out / "letter.pt.html").read_text()
    assert done["bundle"]["legal_basis"][1]["jurisdiction"] == "US" and done["journal_event"]
    verified = runner.invoke(app, ["ai", "evidence-verify", str(out / "evidence.json"), "--keys",
                                   str(out / "office-keys.json"), "--json"])
    assert verified.exit_code == 0, verified.output
    assert json.loads(verified.stdout)["bundle_sha256"] == done["bundle_sha256"]
    text = (out / "evidence.json").read_text().replace("Example AI Ltd", "Example Al Ltd")
    (out / "evidence.json").write_text(text)
    tampered = runner.invoke(app, ["ai", "evidence-verify", str(out / "evidence.json")])
    assert tampered.exit_code == 8 and "altered" in tampered.stderr


def test_cli_says_plainly_when_there_is_no_reservation_and_writes_nothing(cli_store, tokens, tmp_path):
    out = tmp_path / "nothing"
    result = runner.invoke(app, [*_args(cli_store, "E"), "--out", str(out), "--token", tokens["cmo"]])
    assert result.exit_code == 6 and "has no AI-use reservation on record" in result.stderr
    assert "obra ai terms set" in result.stderr and not out.exists()
    unknown = runner.invoke(app, [*_args(cli_store), "--developer-jurisdiction", "XX", "--token", tokens["cmo"]])
    assert unknown.exit_code == 2 and "known: EU, DE" in unknown.stderr


def test_cli_denies_other_peoples_works_and_the_roles_that_may_never_ask(cli_store, tokens, tmp_path):
    other = runner.invoke(app, [*_args(cli_store), "--out", str(tmp_path / "x"), "--token", tokens["eva"]])
    assert other.exit_code == 5 and "may not ai evidence" in other.stderr and not (tmp_path / "x").exists()
    dev = runner.invoke(app, [*_args(cli_store), "--token", tokens["dev"]])
    assert dev.exit_code == 5 and "role 'ai_developer' may not ai evidence" in dev.stderr
    credentials = cli_store["store"].paths.credentials
    assert not credentials.exists()  # no local admin to fall back on: no token means no principal
    nobody = runner.invoke(app, _args(cli_store))
    assert nobody.exit_code == 4 and "'ai evidence' needs an authenticated principal" in nobody.stderr


def test_api_evidence_by_the_checks_journal_event_the_same_shape_and_verifiable(sqlite_evidence_world, tokens):
    world = sqlite_evidence_world
    store = world["store"]
    kept = store.home / "ai-checks" / "check-kept"
    shutil.copytree(world["checks"]["after"]["directory"], kept, dirs_exist_ok=True)
    client = TestClient(create_app(store))
    body = {"check": str(world["checks"]["after"]["journal_event"]), "work": world["numbers"]["D"],
            "against": "Example AI Ltd", "rightholder_jurisdiction": "JP", "locales": ["fr"], "pdf": True}
    answer = client.post("/ai/evidence", json=body, headers={"Authorization": f"Bearer {tokens['ana']}"})
    assert answer.status_code == 201, answer.text
    done = answer.json()
    assert str(store.home) not in answer.text and list(done["letters"]) == ["fr"]
    assert "Allemagne" in done["letters"]["fr"]["html"] and done["letters"]["fr"]["pdf_base64"]
    assert done["bundle"]["reservations"][0]["subject_kind"] == "party"
    assert [b["jurisdiction"] for b in done["bundle"]["legal_basis"]] == ["DE", "JP"]
    assert client.post("/ai/evidence/verify", json=done["bundle"]).json()["valid"] is True
    forged = dict(done["bundle"], items_total=99)
    refused = client.post("/ai/evidence/verify", json=forged)
    assert refused.status_code == 400 and "altered" in refused.json()["message"]
    shutil.rmtree(kept)


@pytest.mark.parametrize(("who", "status", "words"), [
    (None, 401, "'ai evidence' needs an authenticated principal"),
    ("dev", 403, "role 'ai_developer' may not ai evidence"),
    ("eva", 403, "may not ai evidence for"),
])
def test_api_denials(sqlite_evidence_world, tokens, who, status, words):
    world = sqlite_evidence_world
    client = TestClient(create_app(world["store"]))
    headers = {"Authorization": f"Bearer {tokens[who]}"} if who else {}
    answer = client.post("/ai/evidence", json={"check": "1", "work": world["numbers"]["A"], "against": "X"},
                         headers=headers)
    assert answer.status_code == status and words in answer.json()["message"]


def test_api_refuses_a_path_for_the_check(sqlite_evidence_world, tokens):
    client = TestClient(create_app(sqlite_evidence_world["store"]))
    answer = client.post("/ai/evidence", json={"check": str(Path(sqlite_evidence_world["checks"]["after"]["directory"])),
                                               "work": sqlite_evidence_world["numbers"]["A"], "against": "X"},
                         headers={"Authorization": f"Bearer {tokens['cmo']}"})
    assert answer.status_code == 422 and "neither a journal event id nor a receipt hash" in answer.json()["message"]
