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


# --- obra ai protect (issue #14, item 3) ---------------------------------------------------------

def test_protect_writes_every_signal_file_of_stored_terms(cli_home, tmp_path, monkeypatch):
    from cryptography.hazmat.primitives.asymmetric import ec

    from obra.aiuse.signals import cawg, robots, rsl, tdmrep
    from tests.aiuse.test_cawg import _make_ca, jpeg

    number = _json(["register", "--title", "Zamba"])["number"]
    terms = tmp_path / "terms.json"
    terms.write_text(json.dumps({"subject_kind": "work", "subject": number, "contact": "rights@example.org",
                                 "uses": [{"use": u, "permission": "licence",
                                           "price": {"model": "per-item", "currency": "EUR", "amount_minor": 500}}
                                          for u in ("ai-train-generative", "ai-train-other", "tdm")]}))
    event = _json(["ai", "terms", "set", str(terms)])["journal_event"]
    chain, key, _root = _make_ca(ec.generate_private_key(ec.SECP256R1()))
    monkeypatch.setenv("OBRA_C2PA_CERT", chain.decode())
    monkeypatch.setenv("OBRA_C2PA_KEY", key.decode())
    cover = tmp_path / "cover.jpg"
    cover.write_bytes(jpeg())
    out = tmp_path / "public"
    done = _json(["ai", "protect", "work", number, "--site", "https://example.org", "--out", str(out),
                  "--media", str(cover)])
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == sorted(done["files"])
    assert {".well-known/tdmrep.json", "tdm-policy.json", "license.xml", "robots.txt", "README.txt",
            "headers/nginx.conf", "headers/apache.conf", "headers/Caddyfile", "html-head.html",
            "media/cover.jpg"} == set(done["files"])
    robots_txt = (out / "robots.txt").read_text()
    assert not robots.crawl_rule(robots_txt, "GPTBot", "/zamba").allowed
    assert rsl.evaluate(rsl.parse_rsl((out / "license.xml").read_bytes()), "https://example.org/zamba",
                        rsl.Use.AI_TRAIN_OTHER).outcome is rsl.Outcome.LICENCE_REQUIRED
    assert tdmrep.parse_policy((out / "tdm-policy.json").read_text()).terms.compensate
    assert f"obra journal proof {event}" in (out / "README.txt").read_text()
    signed = cawg.read_media((out / "media" / "cover.jpg").read_bytes(), "image/jpeg")
    assert {e.use for e in signed.entries} == {"constrained"}
    table = runner.invoke(app, ["ai", "protect", "work", number, "--site", "https://example.org",
                                "--out", str(tmp_path / "again")])
    assert table.exit_code == 0 and "README.txt" in table.stdout
    assert (tmp_path / "again" / "robots.txt").read_text() == robots_txt     # same terms, same files


def test_protect_from_a_terms_file_and_what_it_refuses(cli_home, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)   # the default --out is ./ai-signals: a refusal writes nothing there
    terms = tmp_path / "terms.json"
    terms.write_text(json.dumps({"subject_kind": "location", "subject": "https://example.org/music/*",
                                 "uses": [{"use": "search", "permission": "allowed"}]}))
    done = _json(["ai", "protect", "--terms", str(terms), "--out", str(tmp_path / "out")])
    assert done["site"] == "https://example.org" and done["path"] == "/music/*"
    assert "Content-Usage: /music/* search=y" in (tmp_path / "out" / "robots.txt").read_text()
    both = runner.invoke(app, ["ai", "protect", "party", "1", "--terms", str(terms)])
    assert both.exit_code == 2 and "not both" in both.stderr
    nowhere = runner.invoke(app, ["ai", "protect", "--terms", str(terms), "--site", "https://elsewhere.example"])
    assert nowhere.exit_code == 2 and "site" in nowhere.stderr
    missing = runner.invoke(app, ["ai", "protect", "party", "1", "--site", "https://example.org"])
    assert missing.exit_code == 3 and "--terms" in missing.stderr
    assert not (tmp_path / "ai-signals").exists()
