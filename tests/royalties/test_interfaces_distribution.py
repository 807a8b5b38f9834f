"""`obra distribute` / `obra statements` and the royalty API over a real store: registry → usage → statements."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from obra.access import create_principal
from obra.api.app import create_app
from obra.cli.main import app
from obra.model.vocab import AccessRole
from obra.registry.service import Registry
from obra.royalties.pipeline import ingest_usage_csv

from .samples import POOL_COLUMNS, write_csv


def seed(store) -> dict:
    """An artist with a label deal, one registered recording, and a month of usage with pools."""
    root, root_token = create_principal(store, "root", AccessRole.ADMIN)
    reg = Registry(store)
    artist = reg.add_party(root, {"name": "Ana García", "roles": ["performer"]})
    label = reg.add_party(root, {"name": "Sello Uno", "kind": "organisation", "roles": ["label"]})
    reg.add_agreement(root, {"kind": "recording_contract", "assignor": artist.id, "assignee": label.id,
                             "rights": ["making_available"], "start": "2020-01-01", "retained": "0.8"})
    rec = reg.register(root, "recording", {
        "title": "Canción del Mar", "isrc": "USRH10903879", "artist": "Ana García",
        "performers": [{"party": artist.id}],
        "shares": [{"party": artist.id, "right_type": "making_available", "territory": "2WL", "share": "100"}]})
    # a month of usage and its pool, ingested as a service would send them (Obra's CSV formats)
    usage = write_csv(store.home.parent / "usage-2026-03.csv",
                      [{"period": "2026-03", "territory": "FR", "service": "Tunebox", "commercial_model": "Subscription",
                        "use_type": "OnDemandStream", "user_id": u, "isrc": isrc, "title": "x", "artist": "y",
                        "plays": p, "currency": "EUR"}
                       for u, isrc, p in [("u1", "USRH10903879", 3), ("u2", None, 1)]])
    ingest_usage_csv(store, usage, root)
    pools = write_csv(store.home.parent / "pools-2026-03.csv",
                      [{"period": "2026-03", "territory": "FR", "service": "Tunebox", "commercial_model": "Subscription",
                        "currency": "EUR", "amount": "10.00"}], POOL_COLUMNS)
    ingest_usage_csv(store, pools, root)
    tokens = {"root": root_token}
    for name, role, party in (("cmo", AccessRole.CMO, None), ("ana", AccessRole.CREATOR, artist.id),
                              ("label", AccessRole.CREATOR, label.id)):
        tokens[name] = create_principal(store, name, role, party_id=party, by=root)[1]
    return {"artist": artist.id, "label": label.id, "recording": rec.number, "tokens": tokens}


def test_api_distribution_and_a_creator_reads_only_their_own_statement(sqlite_store):
    s = seed(sqlite_store)
    client = TestClient(create_app(sqlite_store))
    auth = {name: {"Authorization": f"Bearer {t}"} for name, t in s["tokens"].items()}
    denied = client.post("/distributions", json={"period": "2026-03"}, headers=auth["ana"])
    assert denied.status_code == 403
    run = client.post("/distributions", json={"period": "2026-03", "model": "pro-rata"}, headers=auth["cmo"])
    assert run.status_code == 201, run.text
    report = run.json()
    # 3 matched plays of 4: 750 distributed (artist 20 %, label 80 %), 250 held for claims.
    assert report["conservation"]["EUR"] == {"revenue": 1000, "distributed": 750, "unallocated": 250}
    mine = client.get(f"/statements/{s['artist']}", headers=auth["ana"])
    assert mine.status_code == 200
    body = mine.json()
    assert body["totals"]["EUR"]["net_minor"] == 150
    assert body["lines"][0]["item"] == s["recording"] and body["lines"][0]["usage"][0]["line_count"] == 1
    assert mine.headers["X-Content-Hash"] == body["content_hash"]
    assert client.get(f"/statements/{s['label']}", headers=auth["ana"]).status_code == 403
    assert client.get(f"/statements/{s['artist']}").status_code == 401
    html = client.get(f"/statements/{s['artist']}", params={"format": "html"}, headers=auth["cmo"])
    assert html.status_code == 200 and "Royalty statement" in html.text


def test_cli_distribute_then_statements(sqlite_store, monkeypatch, tmp_path):
    s = seed(sqlite_store)
    monkeypatch.setenv("OBRA_HOME", str(sqlite_store.home))
    monkeypatch.setenv("OBRA_DATABASE_URL", str(sqlite_store.engine.url))
    runner = CliRunner()
    ran = runner.invoke(app, ["distribute", "--period", "2026-03", "--model", "user-centric", "--json"],
                        env={"OBRA_TOKEN": s["tokens"]["cmo"]})
    assert ran.exit_code == 0, ran.output
    # No subscriber pools in this report: user-centric shares the whole-pool money pro rata.
    assert json.loads(ran.stdout)["conservation"]["EUR"]["distributed"] == 750
    out = tmp_path / "ana.csv"
    got = runner.invoke(app, ["statements", "--payee", str(s["label"]), "--format", "csv", "-o", str(out), "--json"],
                        env={"OBRA_TOKEN": s["tokens"]["label"]})
    assert got.exit_code == 0, got.output
    assert out.read_text().splitlines()[1].split(",")[12] == "600"
    refused = runner.invoke(app, ["statements", "--payee", str(s["artist"])], env={"OBRA_TOKEN": s["tokens"]["label"]})
    assert refused.exit_code == 5


def test_cli_distribute_with_a_cmo_commission(sqlite_store, monkeypatch):
    s = seed(sqlite_store)
    monkeypatch.setenv("OBRA_HOME", str(sqlite_store.home))
    monkeypatch.setenv("OBRA_DATABASE_URL", str(sqlite_store.engine.url))
    runner = CliRunner()
    env = {"OBRA_TOKEN": s["tokens"]["cmo"]}
    bad = runner.invoke(app, ["distribute", "--period", "2026-03", "--cmo-commission", "making_available=1.5",
                              "--cmo-party", "99"], env=env)
    assert bad.exit_code == 2 and "below 1" in bad.stderr
    ran = runner.invoke(app, ["distribute", "--period", "2026-03", "--cmo-party", str(s["label"]),
                              "--cmo-commission", "making_available=0.1", "--json"], env=env)
    assert ran.exit_code == 0, ran.output
    assert json.loads(ran.stdout)["conservation"]["EUR"] == {"revenue": 1000, "distributed": 750, "unallocated": 250}
    # 10 % of the 750 comes off the top; the rest follows the 20/80 recording contract.
    artist = runner.invoke(app, ["statements", "--payee", str(s["artist"]), "--json"],
                           env={"OBRA_TOKEN": s["tokens"]["ana"]})
    assert artist.exit_code == 0, artist.output
    assert json.loads(artist.stdout)["totals"]["EUR"]["net_minor"] == 135


def test_cli_split_statement_pays_a_registered_work_by_iswc_and_holds_the_unknown(sqlite_store, monkeypatch,
                                                                                 tmp_path):
    root, root_token = create_principal(sqlite_store, "root", AccessRole.ADMIN)
    reg = Registry(sqlite_store)
    writer = reg.add_party(root, {"name": "Rosa Writer", "roles": ["composer"]})
    pub = reg.add_party(root, {"name": "Editora Dos", "kind": "organisation", "roles": ["publisher"]})
    reg.add_agreement(root, {"kind": "administration", "assignor": writer.id, "assignee": pub.id,
                             "rights": ["performance"], "start": "2020-01-01", "retained": "0.2"})
    reg.register(root, "work", {"title": "Vals", "iswc": "T-034.524.680-1",
                                "contributors": [{"party": writer.id, "role": "composer"}],
                                "shares": [{"party": writer.id, "right_type": "performance", "territory": "2WL",
                                            "share": "100"}]})
    statement = tmp_path / "society-2026Q1.csv"
    statement.write_text('"Work ID","Right type","Amount"\nT0345246801,P,10.00\nT0345246801,P,2.50\n'
                         'T9999999999,P,1.25\n')
    monkeypatch.setenv("OBRA_HOME", str(sqlite_store.home))
    monkeypatch.setenv("OBRA_DATABASE_URL", str(sqlite_store.engine.url))
    runner = CliRunner()
    args = ["split-statement", str(statement), "--period", "2026-Q1", "--currency", "eur", "--id", "iswc", "--json"]
    creator = create_principal(sqlite_store, "rosa", AccessRole.CREATOR, party_id=writer.id, by=root)[1]
    denied = runner.invoke(app, args + ["--token", creator])
    assert denied.exit_code != 0 and "may not distribute" in denied.output
    ran = runner.invoke(app, args + ["--token", root_token])
    assert ran.exit_code == 0, ran.output
    report = json.loads(ran.output)
    perf = report["rights"]["performance"]
    assert report["rows"] == 3
    assert perf["conservation"]["EUR"] == {"revenue": 1375, "distributed": 1250, "unallocated": 125}
    assert perf["unallocated"] == [{"currency": "EUR", "reason": "no shares registered for this territory",
                                    "amount_minor": 125}]
    statements = {p: json.loads(open(f["json"]).read()) for p, f in perf["statements"].items()}
    assert statements[str(writer.id)]["totals"]["EUR"]["net_minor"] == 1000  # 80 % of 12.50
    assert statements[str(pub.id)]["totals"]["EUR"]["net_minor"] == 250
    assert statements[str(writer.id)]["lines"][0]["usage"][0]["lines"] == "2..3"
    # the split is a kept run and an `incoming.split` journal event carrying its conservation per right
    from obra.journal import Journal

    (event,) = Journal(sqlite_store).events("incoming.split")
    assert event.payload["run"] == report["run"] and event.payload["supersedes"] == []
    assert event.payload["conservation"] == {"performance": perf["conservation"]} | {
        r: v["conservation"] for r, v in report["rights"].items() if r != "performance"}
    assert str(sqlite_store.home) not in json.dumps(event.payload)  # no server paths in the journal


def test_api_splits_an_uploaded_statement_and_refuses_bad_or_unauthorised_uploads(sqlite_store, monkeypatch):
    s = seed(sqlite_store)
    client = TestClient(create_app(sqlite_store))
    auth = {name: {"Authorization": f"Bearer {t}"} for name, t in s["tokens"].items()}
    form = {"period": "2026-Q1", "currency": "eur", "right_type_column": "-", "right_type": "performance"}
    good = ("society.csv", b"Work ID,Amount\nOBRA-2026-0000001-K,1.00\nT9999999999,2.50\n", "text/csv")
    assert client.post("/statements-in", data=form, files={"file": good}).status_code == 401
    assert client.post("/statements-in", data=form, files={"file": good}, headers=auth["ana"]).status_code == 403
    ran = client.post("/statements-in", data=form, files={"file": good}, headers=auth["cmo"])
    assert ran.status_code == 201, ran.text
    report = ran.json()
    assert report["file"] == "society.csv" and report["rows"] == 2
    assert report["rights"]["performance"]["conservation"]["EUR"] == {"revenue": 350, "distributed": 0,
                                                                     "unallocated": 350}
    bad = ("bad.csv", b"Work ID,Amount\nW1,1.00\nW2,12,5\n", "text/csv")
    refused = client.post("/statements-in", data=form, files={"file": bad}, headers=auth["cmo"])
    assert refused.status_code == 422
    problem = refused.json()["problems"][0]
    assert problem["source"] == "bad.csv" and problem["line"] == 3
    import obra.api.uploads as uploads

    monkeypatch.setattr(uploads, "MAX_UPLOAD", 10)
    big = client.post("/statements-in", data=form, files={"file": good}, headers=auth["cmo"])
    assert big.status_code == 413 and "upload limit" in big.json()["message"]
