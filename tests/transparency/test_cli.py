"""`obra log`, `obra verify`, `obra certificate`, `obra keys`, `obra federation` as a user runs them."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from obra.cli.common import current_principal, open_store
from obra.cli.main import app
from obra.registry.service import Registry
from obra.transparency.translog import TransparencyLog

runner = CliRunner()


@pytest.fixture
def number(cli_home):
    store = open_store()
    registry = Registry(store, sinks=[TransparencyLog(store)])
    registry.register(current_principal(store), "work", {"title": "Mi Buenos Aires querido"})
    numbers = registry.register(current_principal(store), "work", {"title": "Volver"}).number
    store.dispose()
    return numbers


def _ok(args):
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return result


def test_certificate_then_verify_offline_and_tampered(cli_home, number):
    cert, keys = cli_home / "cert.json", cli_home / "keys.json"
    _ok(["certificate", number, "--out", str(cert), "--html", str(cli_home / "c.html"), "--pdf", str(cli_home / "c.pdf")])
    _ok(["keys", "export", "--out", str(keys)])
    assert (cli_home / "c.pdf").read_bytes().startswith(b"%PDF") and number in (cli_home / "c.html").read_text()
    verified = json.loads(_ok(["verify", str(cert), "--keys", str(keys), "--json"]).stdout)
    b = json.loads(_ok(["log", "--json"]).stdout)["size"] - 2  # entries before: the admin's journal event
    assert verified["valid"] and verified["number"] == number and verified["log_index"] == b + 1
    assert "valid" in _ok(["verify", str(cert)]).stdout  # with the store's own keys
    tampered = cert.read_bytes().replace(b"Volver", b"Volvee")
    (cli_home / "bad.json").write_bytes(tampered)
    result = runner.invoke(app, ["verify", str(cli_home / "bad.json"), "--keys", str(keys)])
    assert result.exit_code != 0 and "altered" in result.stderr


def test_log_shows_head_entries_and_proofs(cli_home, number):
    head = json.loads(_ok(["log", "--json"]).stdout)
    size = head["size"]
    assert size >= 2 and head["tree_head"]["tree_size"] == size
    rows = json.loads(_ok(["log", "--entries", f"{size - 2}:{size}", "--json"]).stdout)
    assert [r["leaf"]["number"] for r in rows][1] == number
    proof = json.loads(_ok(["log", "--inclusion", str(size - 1), "--json"]).stdout)
    assert proof["tree_size"] == size and proof["leaf_index"] == size - 1
    assert json.loads(_ok(["log", "--number", number, "--json"]).stdout)["verified"] is True


def test_key_rotation_needs_a_principal_and_old_certificates_still_verify(cli_home, number, monkeypatch):
    cert = cli_home / "cert.json"
    _ok(["certificate", number, "--out", str(cert)])
    monkeypatch.setenv("OBRA_TOKEN", "not-a-token")
    assert runner.invoke(app, ["keys", "rotate"]).exit_code == 4
    monkeypatch.delenv("OBRA_TOKEN")
    _ok(["keys", "rotate"])
    listed = json.loads(_ok(["keys", "list", "--json"]).stdout)
    assert [k["status"] for k in listed["keys"]] == ["retired", "active"]
    assert json.loads(_ok(["verify", str(cert), "--json"]).stdout)["key_status"] == "retired"


def test_federation_export_and_import_between_two_homes(cli_home, number, tmp_path, monkeypatch):
    export = tmp_path / "uymvd.json"
    _ok(["federation", "export", "--out", str(export)])
    cert = tmp_path / "cert.json"
    _ok(["certificate", number, "--out", str(cert)])
    monkeypatch.setenv("OBRA_HOME", str(tmp_path / "madrid"))
    monkeypatch.setenv("OBRA_OFFICE", "ESMAD")
    _ok(["init"])
    result = runner.invoke(app, ["verify", str(cert)])
    assert result.exit_code != 0 and "no key history of office 'UYMVD'" in result.stderr
    imported = json.loads(_ok(["federation", "import", str(export), "--json"]).stdout)
    assert imported["office"] == "UYMVD" and imported["added"] >= 2
    assert json.loads(_ok(["verify", str(cert), "--json"]).stdout)["office"] == "UYMVD"
    assert json.loads(_ok(["log", "--number", number, "--json"]).stdout)["office"] == "UYMVD"


def test_certificate_renders_in_spanish_and_portuguese(cli_home, number):
    _ok(["certificate", number, "--out", str(cli_home / "c.json"), "--html", str(cli_home / "es.html"),
         "--locale", "es-UY"])
    _ok(["certificate", number, "--out", str(cli_home / "c.json"), "--html", str(cli_home / "pt.html"),
         "--locale", "pt"])
    es, pt = (cli_home / "es.html").read_text(), (cli_home / "pt.html").read_text()
    assert 'lang="es"' in es and 'lang="pt"' in pt and number in es and number in pt
    assert "Certificado de registro" in es and "Certificado de registro" in pt
    assert "Certificado emitido el" in es and "Certificado emitido em" in pt
    assert "Registration certificate" not in es + pt
