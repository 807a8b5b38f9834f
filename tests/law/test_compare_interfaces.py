"""`obra law compare|show|validate` and `GET /law/...`: one answer on both surfaces, gaps and doubts shown."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from obra.api.app import create_app
from obra.cli.main import app
from obra.law.compare import comparison, profile

from .conftest import RAW, write

runner = CliRunner(env={"COLUMNS": "250"})


def test_cli_compare_json_is_the_comparison_and_the_table_flags_low_confidence(cli_home):
    result = runner.invoke(app, ["law", "compare", "tdm", "DE", "ES", "JP", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == json.loads(json.dumps(comparison("tdm", ["DE", "ES", "JP"])))
    table = runner.invoke(app, ["law", "compare", "tdm", "DE", "ES", "JP"])
    assert table.exit_code == 0, table.output
    assert "LOW: verify" in table.stdout and "UrhG § 44b" in table.stdout and "1 of low confidence" in table.stdout


def test_cli_unknown_topic_or_jurisdiction_lists_the_known_ones(cli_home):
    topic = runner.invoke(app, ["law", "compare", "copyright"])
    assert topic.exit_code == 3 and "known: tdm, ai_output, remuneration" in topic.stderr
    place = runner.invoke(app, ["law", "show", "Atlantis"])
    assert place.exit_code == 3 and "known: EU, DE" in place.stderr


def test_cli_show_marks_what_a_state_inherits(cli_home):
    result = runner.invoke(app, ["law", "show", "US-TN"])
    assert result.exit_code == 0, result.output
    assert "(from US)" in result.stdout and "part of US" in result.stdout
    data = json.loads(runner.invoke(app, ["law", "show", "us-tn", "--json"]).stdout)
    assert data == json.loads(json.dumps(profile("US-TN")))


def test_cli_validate_names_the_fact_that_breaks_the_vocabulary(cli_home, tmp_path, raw):
    assert runner.invoke(app, ["law", "validate"]).exit_code == 0
    raw["facts"][3]["value"] = "maybe"
    bad = runner.invoke(app, ["law", "validate", str(write(tmp_path, raw))])
    assert bad.exit_code == 2 and "facts[3].value" in bad.stderr and "not an allowed value" in bad.stderr
    assert RAW["facts"][3]["value"] != "maybe"


def test_api_answers_what_the_cli_answers(sqlite_store):
    client = TestClient(create_app(sqlite_store))
    answer = client.get("/law/compare/tdm", params={"jurisdiction": ["DE", "ES", "JP"]})
    assert answer.status_code == 200 and answer.json() == json.loads(json.dumps(comparison("tdm", ["DE", "ES", "JP"])))
    assert client.get("/law/jurisdictions/us-tn").json() == json.loads(json.dumps(profile("US-TN")))
    index = client.get("/law").json()
    assert list(index["topics"]) == list(RAW["vocabulary"]) and set(index["jurisdictions"]) == set(RAW["jurisdictions"])
    missing = client.get("/law/compare/copyright")
    assert missing.status_code == 404 and "known: tdm" in missing.json()["message"]
    nowhere = client.get("/law/compare/tdm", params={"jurisdiction": ["XX"]})
    assert nowhere.status_code == 404 and "known: EU, DE" in nowhere.json()["message"]
    assert client.get("/law/jurisdictions/not a code").status_code == 422
