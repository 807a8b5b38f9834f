"""`obra ai check` and `POST /ai/check` as a user runs them: the same decisions, a receipt that verifies."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from obra.access import create_principal
from obra.api.app import create_app
from obra.cli.main import app
from obra.model.vocab import AccessRole

DATA = Path(__file__).parent / "data"
runner = CliRunner()


def test_cli_check_writes_results_and_the_receipt_verifies(cli_home, tmp_path):
    out = tmp_path / "results"
    result = runner.invoke(app, ["ai", "check", str(DATA / "manifest.csv"), "--sites", str(DATA / "sites.jsonl"),
                                 "--jurisdiction", "DE", "--purpose", "commercial", "--user-agent", "GPTBot",
                                 "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    done = json.loads(result.stdout)
    assert done["items"] and len(done["items"]) == done["summary"]["items"]
    assert {i["decision"] for i in done["items"]} <= {"allowed", "reserved", "licence-required", "licensed", "unknown"}
    assert (out / "items.parquet").exists() and (out / "receipt.json").exists()
    verified = runner.invoke(app, ["ai", "receipt", str(out / "receipt.json"), "--results", str(out), "--json"])
    assert verified.exit_code == 0, verified.output
    (out / "items.csv").write_text("tampered\n")
    tampered = runner.invoke(app, ["ai", "receipt", str(out / "receipt.json"), "--results", str(out)])
    assert tampered.exit_code == 8 and "changed" in tampered.stderr
    every = runner.invoke(app, ["ai", "check", str(DATA / "manifest.csv"), "--jurisdiction", "DE", "--purpose",
                                "commercial", "--format", "json", "--format", "csv", "--out", str(tmp_path / "two"),
                                "--json"])
    assert every.exit_code == 0, every.output
    assert json.loads(every.stdout)["formats"] == ["csv", "json"]
    assert sorted(p.name for p in (tmp_path / "two").glob("items.*")) == ["items.csv", "items.json"]
    text = runner.invoke(app, ["ai", "check", str(DATA / "manifest.csv"), "--jurisdiction", "US",
                               "--purpose", "commercial", "--items", "3"])
    assert text.exit_code == 0 and "receipt sha256" in text.stdout and "line " in text.stdout


def test_cli_check_needs_a_principal_and_names_bad_questions(cli_home):
    (cli_home / "credentials.json").unlink()
    denied = runner.invoke(app, ["ai", "check", str(DATA / "manifest.csv"), "--jurisdiction", "DE",
                                 "--purpose", "commercial"])
    assert denied.exit_code == 4


def test_api_check_answers_the_same_decisions_without_server_paths(sqlite_store, tmp_path):
    token = create_principal(sqlite_store, "dev", AccessRole.ADMIN)[1]
    client = TestClient(create_app(sqlite_store))
    auth = {"Authorization": f"Bearer {token}"}
    files = {"manifest": ("manifest.csv", (DATA / "manifest.csv").read_bytes(), "text/csv"),
             "sites": ("sites.jsonl", (DATA / "sites.jsonl").read_bytes(), "application/jsonl")}
    form = {"jurisdiction": "DE", "purpose": "commercial", "user_agent": "GPTBot", "items": "1000"}
    answer = client.post("/ai/check", data=form, files=files, headers=auth)
    assert answer.status_code == 201, answer.text
    done = answer.json()
    assert not done["directory"].startswith("/") and str(sqlite_store.home) not in answer.text
    assert len(done["items"]) == done["summary"]["items"]
    verified = client.post("/ai/check/receipt/verify", json=done["receipt"])
    assert verified.status_code == 200, verified.text
    forged = dict(done["receipt"], summary={**done["receipt"]["summary"], "items": 0})
    assert client.post("/ai/check/receipt/verify", json=forged).status_code == 400
    assert client.post("/ai/check", data=form, files=files).status_code == 401
    bad = client.post("/ai/check", data=form | {"purpose": "fun"}, files=files, headers=auth)
    assert bad.status_code == 422 and bad.json()["problems"][0]["field"] == "purpose"
    assert done["formats"] == ["parquet", "csv"]   # a CSV manifest: Parquet and CSV by default
    shutil.rmtree(sqlite_store.home / done["directory"])
    asked = client.post("/ai/check", data=form | {"formats": "json,parquet"}, files=files, headers=auth)
    assert asked.status_code == 201 and asked.json()["formats"] == ["parquet", "json"]
    assert set(asked.json()["receipt"]["outputs"]) >= {"parquet", "json"}
    shutil.rmtree(sqlite_store.home / asked.json()["directory"])
    unknown = client.post("/ai/check", data=form | {"formats": "xlsx"}, files=files, headers=auth)
    assert unknown.status_code == 422 and unknown.json()["problems"][0]["field"] == "formats"
