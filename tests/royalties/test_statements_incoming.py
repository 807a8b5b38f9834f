"""`obra statements --run N` and `GET /statements/{payee}?run=N` read an incoming run's statements.

An incoming split (a society's statement, AI licence royalties) keeps each right type's statements
under ``<right>/statements/``. A payee paid under one right type gets it without asking; one paid under
several names the right (``--right``, ``?right=``); a creator still reads only their own party's, on both
surfaces; SQLite and PostgreSQL (``store``).
"""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from obra.access import create_principal
from obra.api.app import create_app
from obra.app import Obra
from obra.cli.main import app
from obra.errors import InvalidInput, NotFound, PermissionDenied
from obra.model.vocab import AccessRole
from obra.registry.service import Registry
from obra.royalties.pipeline import SplitRequest


@pytest.fixture
def split(store, tmp_path):
    """Rosa's work: performance 100 % Rosa; mechanical 50 % Rosa, 50 % Editora. A statement pays 10.00 P, 4.00 M."""
    root, root_token = create_principal(store, "root", AccessRole.ADMIN)
    reg = Registry(store)
    rosa = reg.add_party(root, {"name": "Rosa Writer", "roles": ["composer"]})
    pub = reg.add_party(root, {"name": "Editora Dos", "kind": "organisation", "roles": ["publisher"]})
    work = reg.register(root, "work", {"title": "Vals", "shares": [
        {"party": rosa.id, "right_type": "performance", "share": "100"},
        {"party": rosa.id, "right_type": "mechanical", "share": "50"},
        {"party": pub.id, "right_type": "mechanical", "share": "50"}]}).number
    statement = tmp_path / "society.csv"
    statement.write_text(f'"Work ID","Right type","Amount"\n{work},P,10.00\n{work},M,4.00\n')
    report = Obra(store).royalties.split_statement(root, statement, SplitRequest(period="2026-Q1", currency="EUR"))
    tokens = {"root": root_token,
              "rosa": create_principal(store, "rosa", AccessRole.CREATOR, party_id=rosa.id, by=root)[1]}
    creator = create_principal(store, "rosa-2", AccessRole.CREATOR, party_id=rosa.id, by=root)[0]
    return {"run": report["run"], "rosa": rosa.id, "pub": pub.id, "root": root, "creator": creator,
            "tokens": tokens, "obra": Obra(store)}


def test_the_service_reads_an_incoming_run_by_right_type(split):
    obra, run = split["obra"], split["run"]
    # Editora is paid under mechanical only: found without naming the right
    _, pub = obra.royalties.statement(split["root"], str(split["pub"]), run=run)
    assert (pub["right"], pub["totals"]["EUR"]["net_minor"]) == ("mechanical", 200)
    # Rosa under both: the right must be named, and then each is hers
    with pytest.raises(InvalidInput, match="mechanical, performance") as err:
        obra.royalties.statement(split["creator"], str(split["rosa"]), run=run)
    assert err.value.problems[0].field == "right"
    _, perf = obra.royalties.statement(split["creator"], str(split["rosa"]), run=run, right="performance")
    _, mech = obra.royalties.statement(split["creator"], str(split["rosa"]), run=run, right="mechanical")
    assert (perf["totals"]["EUR"]["net_minor"], mech["totals"]["EUR"]["net_minor"]) == (1000, 200)
    with pytest.raises(NotFound, match="synchronisation"):
        obra.royalties.statement(split["root"], str(split["pub"]), run=run, right="synchronisation")
    with pytest.raises(InvalidInput, match="unknown right type"):
        obra.royalties.statement(split["root"], str(split["pub"]), run=run, right="../statements")
    # a creator sees only their own party's statements, in incoming runs too
    with pytest.raises(PermissionDenied):
        obra.royalties.statement(split["creator"], str(split["pub"]), run=run, right="mechanical")


def test_cli_statements_of_an_incoming_run(split, store, monkeypatch):
    monkeypatch.setenv("OBRA_HOME", str(store.home))
    # the PostgreSQL store lives in a schema of its own: the URL carries it as the connection's search_path
    monkeypatch.setenv("OBRA_DATABASE_URL", store.url + (f"?options=-csearch_path%3D{store.schema}"
                                                         if store.schema else ""))
    runner = CliRunner()
    base = ["statements", "--run", str(split["run"]), "--json"]
    mine = runner.invoke(app, base + ["--payee", str(split["rosa"]), "--right", "performance",
                                      "--token", split["tokens"]["rosa"]])
    assert mine.exit_code == 0, mine.output
    assert json.loads(mine.stdout)["totals"]["EUR"]["net_minor"] == 1000
    ask = runner.invoke(app, base + ["--payee", str(split["rosa"]), "--token", split["tokens"]["rosa"]])
    assert ask.exit_code == InvalidInput.exit_code and "--right" in ask.output
    denied = runner.invoke(app, base + ["--payee", str(split["pub"]), "--token", split["tokens"]["rosa"]])
    assert denied.exit_code == PermissionDenied.exit_code and "net_minor" not in denied.output
    cmo = runner.invoke(app, base + ["--payee", str(split["pub"]), "--token", split["tokens"]["root"]])
    assert cmo.exit_code == 0, cmo.output
    assert json.loads(cmo.stdout)["totals"]["EUR"]["net_minor"] == 200


def test_api_statements_of_an_incoming_run(split, store):
    client = TestClient(create_app(store))
    auth = {name: {"Authorization": f"Bearer {t}"} for name, t in split["tokens"].items()}
    url = f"/statements/{split['rosa']}"
    mine = client.get(url, params={"run": split["run"], "right": "mechanical"}, headers=auth["rosa"])
    assert mine.status_code == 200, mine.text
    assert mine.json()["totals"]["EUR"]["net_minor"] == 200 and mine.headers["X-Obra-Right"] == "mechanical"
    assert client.get(url, params={"run": split["run"]}, headers=auth["rosa"]).status_code == 422
    other = client.get(f"/statements/{split['pub']}", params={"run": split["run"]}, headers=auth["rosa"])
    assert other.status_code == 403
    assert client.get(f"/statements/{split['pub']}", params={"run": split["run"]}).status_code == 401
    staff = client.get(f"/statements/{split['pub']}", params={"run": split["run"], "format": "csv"},
                       headers=auth["root"])
    assert staff.status_code == 200 and staff.headers["X-Obra-Right"] == "mechanical"
