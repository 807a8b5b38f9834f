"""`obra ai terms` as a user runs it: state terms, read them back, ask what they say."""

import json

from typer.testing import CliRunner

from obra.cli.main import app

runner = CliRunner()


def _json(args):
    result = runner.invoke(app, args + ["--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_state_show_and_decide(cli_home, tmp_path):
    number = _json(["register", "--title", "Milonga"])["number"]
    terms = tmp_path / "terms.json"
    terms.write_text(json.dumps({"subject_kind": "work", "subject": number, "uses": [
        {"use": "ai-train-generative", "permission": "licence",
         "price": {"model": "per-item", "currency": "UYU", "amount_minor": 500}},
        {"use": "ai-train-generative", "permission": "allowed", "purposes": ["research"]}]}))
    done = _json(["ai", "terms", "set", str(terms)])
    assert done["version"] == 1 and done["journal_event"]
    shown = _json(["ai", "terms", "show", "work", number])
    assert shown["terms_hash"] == done["terms_hash"]
    assert _json(["ai", "terms", "decide", number, "ai-train-generative"])["permission"] == "licence"
    assert _json(["ai", "terms", "decide", number, "ai-train-generative", "--purpose", "research"])["permission"] \
        == "allowed"
    assert _json(["ai", "terms", "decide", number, "search"])["permission"] is None
    text = runner.invoke(app, ["ai", "terms", "show", "work", number, "--history"])
    assert text.exit_code == 0 and "per-item" in text.stdout and "journal event" in text.stdout


def test_bad_terms_and_unknown_subjects_are_named(cli_home, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"subject_kind": "work", "subject": "x", "uses": [
        {"use": "train-ai", "permission": "allowed"}]}))
    result = runner.invoke(app, ["ai", "terms", "set", str(bad)])
    assert result.exit_code == 2 and "uses.0.use" in result.stderr
    missing = runner.invoke(app, ["ai", "terms", "show", "work", "UYMVD-2026-0000001-8"])
    assert missing.exit_code in (2, 3)


def test_stating_terms_needs_a_principal(cli_home, tmp_path, monkeypatch):
    number = _json(["register", "--title", "Vidala"])["number"]
    terms = tmp_path / "t.json"
    terms.write_text(json.dumps({"subject_kind": "work", "subject": number,
                                 "uses": [{"use": "search", "permission": "allowed"}]}))
    (cli_home / "credentials.json").unlink()
    result = runner.invoke(app, ["ai", "terms", "set", str(terms)])
    assert result.exit_code == 4
