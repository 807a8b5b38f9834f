"""The `obra` command line, run as a user would (Typer's runner, a real store in OBRA_HOME)."""

import json

from typer.testing import CliRunner

from obra.cli.main import app

runner = CliRunner()


def _json(args):
    result = runner.invoke(app, args + ["--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_register_ai_generated_work_and_show_its_disclosure(cli_home):
    created = _json(["register", "--title", "Canción del Algoritmo", "--mode", "ai_generated",
                     "--ai-system", "Suno v4.5", "--ai-contribution", "music and vocals",
                     "--human-contribution", "lyrics", "--excluded", "AI-generated audio"])
    shown = _json(["show", created["number"]])
    disclosure = shown["record"]["disclosure"]
    assert shown["record"]["creation_mode"] == "ai_generated"
    assert disclosure["systems"] == [{"name": "Suno", "version": "v4.5", "provider": None}]
    assert disclosure["human_contribution"] == "lyrics"
    assert disclosure["excluded_material"] == "AI-generated audio"


def test_search_finds_cancion_for_cancion_without_accent(cli_home):
    _json(["register", "--title", "Canción"])
    _json(["register", "--title", "Song"])
    assert [r["title"] for r in _json(["search", "cancion"])] == ["Canción"]


def test_bad_input_exits_2_with_field_and_writes_nothing(cli_home):
    result = runner.invoke(app, ["register", "--title", "X", "--iswc", "T-034.524.680-2"])
    assert result.exit_code == 2
    assert "iswc" in result.stderr and "the digits give 1" in result.stderr
    assert _json(["search", "x"]) == []


def test_import_rejects_a_batch_with_one_bad_row(cli_home, tmp_path):
    path = tmp_path / "parties.csv"
    path.write_text("key,name,ipi\na,Ana,00014107338\nb,Bruno,00014107339\n")
    result = runner.invoke(app, ["import", str(path), "--entity", "parties"])
    assert result.exit_code == 2
    assert f"{path}:3: field 'ipi'" in result.stderr


def test_writes_with_a_bad_token_exit_4(cli_home, monkeypatch):
    monkeypatch.setenv("OBRA_TOKEN", "obra_not-a-token")
    result = runner.invoke(app, ["register", "--title", "X"])
    assert result.exit_code == 4


def test_demo_runs_end_to_end_and_is_repeatable(cli_home):
    from pathlib import Path

    summary = _json(["demo", "--works", "40"])
    assert summary["catalogue"]["works"] == 40
    assert summary["certificate_verified_offline"] is True
    verified = runner.invoke(app, ["verify", summary["certificate"], "--keys", summary["office_keys"]])
    assert verified.exit_code == 0, verified.output
    assert summary["usage_lines"] > 0 and 0.5 < summary["matched_share"] <= 1
    statements = sorted(Path(summary["statements"]).glob("*.json"))
    assert len(statements) == summary["payees_with_statements"] > 0
    decisions = summary["ai_check_decisions"]
    assert sum(decisions.values()) == 500 and decisions["reserved"] > 0 and decisions["allowed"] > 0
    assert (Path(summary["ai_signal_files"]) / "robots.txt").exists()
    receipt = runner.invoke(app, ["ai", "receipt", summary["ai_check_receipt"], "--results", summary["ai_check"]])
    assert receipt.exit_code == 0, receipt.output
    assert summary["evidence_items"] == 2 and summary["evidence_outcomes"]["DE"] == {"reserved": 2}
    evidence = runner.invoke(app, ["ai", "evidence-verify", summary["evidence_bundle"]])
    assert evidence.exit_code == 0, evidence.output
    again = _json(["demo", "--works", "40"])
    assert again["catalogue"] == summary["catalogue"]
    assert again["money_conserved"] == summary["money_conserved"]
    assert again["ai_check_decisions"] == decisions and again["ai_check"] != summary["ai_check"]


def test_titles_are_never_read_as_markup_or_terminal_escapes(cli_home, monkeypatch):
    """Issue #13, finding 8: a title `[/]` used to crash `obra search` for everyone (rich MarkupError),
    `[link=…]` became a hidden link, and ANSI escape codes reached the terminal."""
    for title in ("Broken [/] markup", "[link=https://evil.example]click[/link]", "Red alert"):
        _json(["register", "--title", title])
    # control characters are refused at registration now (finding 7); one stored before that rule is
    # still shown escaped, never sent to the terminal
    refused = runner.invoke(app, ["register", "--title", "Red \x1b[31malert"])
    assert refused.exit_code == 2 and "control character" in refused.output
    _stored_before_the_rule("Red alert", "Red \x1b[31malert")
    monkeypatch.setenv("COLUMNS", "250")  # one table row per registration
    listed = runner.invoke(app, ["search"])
    assert listed.exit_code == 0, listed.output
    assert "Broken [/] markup" in listed.stdout and "[link=https://evil.example]" in listed.stdout
    assert "\x1b[31m" not in listed.stdout and "\\x1b" in listed.stdout
    number = _json(["search", "red"])[0]["number"]
    shown = runner.invoke(app, ["show", number])
    assert shown.exit_code == 0 and "\x1b" not in shown.stdout and "Red \\x1b[31malert" in shown.stdout


def _stored_before_the_rule(title: str, raw: str) -> None:
    """Put ``raw`` back into a registration's title, as a store written before the text rule could hold it."""
    from sqlalchemy import select, update

    from obra.store import Store
    from obra.store.schema import registrations

    store = Store.open()
    with store.begin() as conn:
        row = conn.execute(select(registrations).where(registrations.c.title == title)).one()
        record = {**row.record, "work": {**row.record["work"], "title": raw}}
        conn.execute(update(registrations).where(registrations.c.id == row.id).values(title=raw, record=record))
    store.dispose()


def test_the_admin_token_file_is_owner_only(cli_home):
    import stat

    mode = stat.S_IMODE((cli_home / "credentials.json").stat().st_mode)
    assert mode == 0o600
