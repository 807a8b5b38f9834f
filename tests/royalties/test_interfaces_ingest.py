"""`obra ingest|match|claims` and the matching API, as a user and a script use them."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from obra.access import create_principal
from obra.api.app import create_app
from obra.cli.main import app
from obra.model.vocab import AccessRole

from .samples import NAME_FIXTURES, REV, YOUTUBE

runner = CliRunner()


def _json(args):
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_ingest_match_and_claim_from_the_command_line(cli_home):
    (first,) = _json(["ingest", "dsr", str(YOUTUBE)])
    assert first["status"] == "ingested" and first["counts"] == {"usage": 6, "pools": 1}
    (again,) = _json(["ingest", "dsr", str(YOUTUBE)])
    assert again["status"] == "already ingested"
    (cwr,) = _json(["ingest", "cwr", str(REV)])
    assert len(cwr["works"]) == 2
    summary = _json(["match", "--period", "2015-Q4"])
    assert summary["lines"] == 6 and summary["by_method"]["none"] == 6
    queue = _json(["claims", "list"])
    assert [g["plays"] for g in queue] == [7810, 2045, 355]
    claimed = _json(["claims", "claim", queue[0]["id"], "--work", cwr["works"][0]])
    assert claimed["work_number"] == cwr["works"][0]
    assert _json(["match"])["by_method"]["claim"] == 1


def test_a_refused_report_exits_2_with_located_problems(cli_home):
    result = runner.invoke(app, ["ingest", "dsr", str(NAME_FIXTURES[0])])
    assert result.exit_code == 2
    assert "NumberOfLinesInFile" in result.output and ":7:" in result.output


def test_match_score_prints_a_decision_per_row(cli_home, tmp_path):
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("left_title,left_artist,left_album,left_duration,left_isrc,right_title,right_artist,right_album,"
                     "right_duration,right_isrc\n"
                     "Despacito (feat. Daddy Yankee),Luis Fonsi,,229,,Despacito,Luis Fonsi & Daddy Yankee,,228,\n",
                     encoding="utf-8")
    (row,) = _json(["match", "score", str(pairs)])
    assert row["decision"] == "match" and row["score"] > 0.85
    human = runner.invoke(app, ["match", "score", str(pairs)])
    assert human.exit_code == 0 and "match" in human.output


def test_matching_api(sqlite_store):
    client = TestClient(create_app(sqlite_store))
    scored = client.post("/match/score", json=[{"left": {"title": "Yesterday - Remastered 2009", "artist": "The Beatles"},
                                                "right": {"title": "Yesterday", "artist": "Beatles"}}])
    assert scored.status_code == 200 and scored.json()[0]["decision"] == "match"
    assert client.get("/claims").json() == []
    assert client.post("/claims/abc", json={"work": "X"}).status_code == 401
    root, _ = create_principal(sqlite_store, "root", AccessRole.ADMIN)
    _, token = create_principal(sqlite_store, "creator", AccessRole.CREATOR, by=root)
    missing = client.post("/claims/abc", json={"work": "X"}, headers={"Authorization": f"Bearer {token}"})
    assert missing.status_code == 404
