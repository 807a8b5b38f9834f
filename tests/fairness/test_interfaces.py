"""`obra fairness` and `/fairness` over one store: the same check, letters and signed reports on both surfaces."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from obra.api.app import create_app
from obra.cli.main import app

from .catalogue import build

runner = CliRunner()


def test_cli_and_api_check_letter_and_report(sqlite_store, monkeypatch, tmp_path):
    cat = build(sqlite_store)
    monkeypatch.setenv("OBRA_HOME", str(sqlite_store.home))
    monkeypatch.setenv("OBRA_DATABASE_URL", str(sqlite_store.engine.url))
    cmo = {"OBRA_TOKEN": cat["tokens"]["cmo"]}
    set_terms = runner.invoke(app, ["fairness", "terms", str(cat["buyout"]), "--jurisdiction", "DE", "--lump-sum",
                                    "5000.00", "--appropriate-share", "0.10", "--json"], env=cmo)
    assert set_terms.exit_code == 0, set_terms.output
    ran = runner.invoke(app, ["fairness", "check", "--as-of", "2025-06-30", "--json"], env=cmo)
    assert ran.exit_code == 0, ran.output
    cli_check = json.loads(ran.output)
    client = TestClient(create_app(sqlite_store))
    auth = {n: {"Authorization": f"Bearer {t}"} for n, t in cat["tokens"].items()}
    api = client.post("/fairness/checks", json={"as_of": "2025-06-30"}, headers=auth["cmo"])
    assert api.status_code == 201, api.text
    api_check = api.json()
    assert api_check["flags"] == cli_check["flags"] and api_check["summary"] == cli_check["summary"]
    flag = next(f["flag"] for f in api_check["flags"] if f["trigger"] == "disproportion")

    letter = client.post(f"/fairness/checks/{api_check['check']}/letters/{flag}",
                         headers={**auth["jost"], "Accept-Language": "fr-FR"})
    assert letter.status_code == 201 and "Demande d’information" in letter.text and "UrhG § 32a" in letter.text
    assert client.post(f"/fairness/checks/{api_check['check']}/letters/{flag}", headers=auth["ana"]).status_code == 403
    pdf = runner.invoke(app, ["fairness", "letter", str(cli_check["check"]), str(flag), "--format", "pdf",
                              "--locale", "pt", "--output", str(tmp_path / "carta.pdf"), "--json"],
                        env={"OBRA_TOKEN": cat["tokens"]["jost"]})
    assert pdf.exit_code == 0, pdf.output
    assert (tmp_path / "carta.pdf").read_bytes()[:5] == b"%PDF-"

    report = client.post(f"/fairness/reports/{cat['ana']}", params={"year": 2025}, headers=auth["ana"])
    assert report.status_code == 201
    path = tmp_path / "report.json"
    path.write_bytes(report.content)
    keys = tmp_path / "keys.json"
    exported = runner.invoke(app, ["keys", "export", "--out", str(keys)])
    assert exported.exit_code == 0, exported.output
    ok = runner.invoke(app, ["fairness", "verify", str(path), "--keys", str(keys), "--json"])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.output)["valid"] is True
    altered = json.loads(report.content)
    altered["totals"]["EUR"]["remuneration_due_minor"] = 10**9
    path.write_text(json.dumps(altered))
    bad = runner.invoke(app, ["fairness", "verify", str(path), "--keys", str(keys)])
    assert bad.exit_code != 0 and "signature" in bad.output
    assert client.post(f"/fairness/reports/{cat['jost']}", params={"year": 2025},
                       headers=auth["ana"]).status_code == 403
    docs = client.get("/fairness/documents", params={"party": str(cat["ana"])}, headers=auth["ana"]).json()
    assert [d["kind"] for d in docs] == ["report"]
    for odd in ("ana", "²", "\U0005e47a\u00c7"):   # not a number (str.isdigit() takes '²', int() does not): named, no 500
        answer = client.get("/fairness/documents", params={"party": odd}, headers=auth["cmo"])
        assert answer.status_code in (400, 422) and answer.json()["problems"][0]["field"] == "party", answer.text
