"""The licence commands: quote, accept, items, verify offline with the published keys, document, denials."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from obra.app import Obra
from obra.cli.main import app

runner = CliRunner()


def _catalogue(home) -> str:
    obra = Obra.open(home=home)
    admin = obra.authenticate(json.loads((home / "credentials.json").read_text())["token"])
    ana = obra.registry.add_party(admin, {"kind": "person", "name": "Ana Autora", "roles": ["author"]})
    number = obra.registry.register(admin, "work", {"title": "Canción", "shares": [
        {"party": ana.id, "right_type": "ai_training", "share": "100"}]}).number
    obra.ai_terms.set_terms(admin, {"subject_kind": "party", "subject": str(ana.id), "uses": [
        {"use": u, "permission": "licence", "price": {"model": "per-item", "currency": "EUR", "amount_minor": 125}}
        for u in ("ai-train-generative", "ai-train-other")]})
    obra.store.dispose()
    return number


def test_quote_accept_and_verify_offline(cli_home, tmp_path):
    number = _catalogue(cli_home)
    offered = runner.invoke(app, ["ai", "offers", "--json"])
    assert offered.exit_code == 0 and json.loads(offered.stdout)[0]["unit_minor"] == 125
    manifest = tmp_path / "m.csv"
    manifest.write_text(f"number,url\n{number},https://ana.example/a.mp3\nOBRA-2026-0999999-X,\n")
    quoted = runner.invoke(app, ["ai", "quote", str(manifest), "--json"])
    assert quoted.exit_code == 0, quoted.output
    q = json.loads(quoted.stdout)
    assert q["summary"]["totals_minor"] == {"EUR": 125} and q["summary"]["not_licensable"] == 1
    text = runner.invoke(app, ["ai", "quote", str(manifest)])
    assert "not in the catalogue" in text.stdout and "accept it: obra ai licence accept" in text.stdout
    accepted = runner.invoke(app, ["ai", "licence", "accept", q["quote_id"], "--out", str(tmp_path / "lic.json"),
                                   "--json"])
    assert accepted.exit_code == 0, accepted.output
    licence_id = json.loads(accepted.stdout)["licence_id"]
    assert runner.invoke(app, ["ai", "licence", "items", licence_id, "--out", str(tmp_path / "items.jsonl")]).exit_code == 0
    assert runner.invoke(app, ["keys", "export", "--out", str(tmp_path / "keys.json")]).exit_code == 0
    args = ["ai", "licence", "verify", str(tmp_path / "lic.json"), "--items", str(tmp_path / "items.jsonl"),
            "--key-history", str(tmp_path / "keys.json")]
    ok = runner.invoke(app, args)
    assert ok.exit_code == 0 and "the item list matches" in ok.stdout, ok.output
    items = (tmp_path / "items.jsonl").read_text().replace('"amount_minor": 125', '"amount_minor": 1')
    (tmp_path / "items.jsonl").write_text(items)
    tampered = runner.invoke(app, args)
    assert tampered.exit_code == 8 and "Merkle root" in tampered.stderr
    html = runner.invoke(app, ["ai", "licence", "document", licence_id, "--out", str(tmp_path / "l.html"),
                               "--locale", "es"])
    assert html.exit_code == 0 and "Licencia de uso por IA" in (tmp_path / "l.html").read_text()


def test_licence_commands_need_a_principal(cli_home, tmp_path):
    (cli_home / "credentials.json").unlink()
    manifest = tmp_path / "m.csv"
    manifest.write_text("number\nOBRA-2026-0000001-K\n")
    denied = runner.invoke(app, ["ai", "quote", str(manifest)])
    assert denied.exit_code == 4 and "ai quote" in denied.stderr
    assert runner.invoke(app, ["ai", "licence", "list"]).exit_code == 4
