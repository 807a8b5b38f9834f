"""The training check end to end: the fixture manifest and site captures against a real registry and store."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from obra.access import ANONYMOUS, create_principal
from obra.aiuse.check.receipt import ReceiptError, receipt_hash, verify_receipt
from obra.aiuse.check.service import CheckService
from obra.errors import AuthenticationRequired, InvalidInput, PermissionDenied
from obra.journal import Journal
from obra.model.vocab import AccessRole
from obra.transparency.translog import TransparencyLog

from .conftest import DATA

# line of the fixture manifest → (decision in DE for commercial generative training by GPTBot, why)
EXPECTED_DE = {
    1: ("reserved", "aipref"),             # robots.txt Content-Usage: train-ai=n for GPTBot
    2: ("reserved", "aipref"),             # robots.txt says y for /ok/, the header says n: AIPREF disallow wins
    3: ("reserved", "robots-agent"),       # Disallow: /private/ in the GPTBot group
    4: ("reserved", "tdmrep"),             # tdmrep.json /books/* reserved (and Content-Signal ai-train=no)
    5: ("reserved", "content-signals"),    # tdmrep.json says 0, Content-Signal no, noai: a conflict
    6: ("allowed", None),                  # robots.txt answered 503: a server state, not a reservation
    7: ("licence-required", "rsl"),        # RSL: permitted under a paid licence
    8: ("allowed", None),                  # RSL: a free licence
    9: ("reserved", "rsl"),                # RSL: prohibits ai-train
    10: ("allowed", None),                 # junk headers and robots.txt: every signal unknown
    11: ("allowed", None),                 # no capture of the site, nothing reserved
    12: ("unknown", None),                 # not JSON
    13: ("unknown", None),                 # no url
    14: ("reserved", "registry"),          # 5 bits from work A, whose terms say not allowed
    15: ("allowed", None),                 # Instance-Code of work B (allowed): the registry decides over tdm-reservation 1
    16: ("licence-required", "registry"),  # under the registered location https://artist.example/music/*
    17: ("reserved", "registry"),          # 1 bit from work D: its party's catalogue says not allowed
    18: ("allowed", None),                 # 9 bits from work C: no match
    19: ("allowed", None),                 # 8 bits from work C (allowed)
    20: ("allowed", None),                 # a bad ISCC code and sha256, read as absent
}


def run_check(world, tmp_path, **kw):
    kw = {"jurisdiction": "DE", "purpose": "commercial", "user_agent": "GPTBot", "inline": 50,
          "out_dir": tmp_path / "out"} | kw
    return CheckService(world["store"]).check(world["developer"], kw.pop("manifest", DATA / "manifest.jsonl"),
                                              kw.pop("sites", DATA / "sites.jsonl"), **kw)


@pytest.fixture(scope="module")
def checked(world, tmp_path_factory):
    """One check in Germany (commercial generative training by GPTBot), read by the tests below."""
    return run_check(world, tmp_path_factory.mktemp("de"))


def by_line(result) -> dict[int, dict]:
    return {item["line"]: item for item in result["items"]}


def test_every_item_is_decided_in_germany_with_its_reasons(checked):
    result = checked
    items = by_line(result)
    assert set(items) == set(EXPECTED_DE)
    for line, (decision, signal) in EXPECTED_DE.items():
        item = items[line]
        assert item["decision"] == decision, (line, item["rule"])
        if signal is not None:
            assert signal in item["rule"] or any(r["signal"] == signal and r.get("counts")
                                                 for r in item["reservations"]), (line, item["rule"])
    summary = result["summary"]
    assert summary["items"] == 20 and summary["unreadable"] == 2
    assert sum(summary["decisions"].values()) == 20


def test_reasons_name_the_standard_the_raw_value_how_it_was_read_and_its_date(checked):
    items = by_line(checked)
    aipref = items[2]["signals"]["aipref"]
    header, robots = aipref["evidence"][0], aipref["evidence"][1]
    assert header["source"] == "Content-Usage header" and header["raw"] == "train-ai=n"
    assert header["date"] == "2026-11-02T09:30:00+00:00"          # the item's crawl time
    assert robots["source"] == "robots.txt Content-Usage" and robots["reading"] == "allowed"
    assert robots["date"] == "2026-10-30T08:00:00+00:00"          # the site capture's time
    assert "any disallow wins" in aipref["evidence"][2]["rule"]
    crawl = items[3]["signals"]["robots.txt"]["evidence"][0]
    assert crawl["reading"] == "crawl-disallowed" and "Disallow: /private/" in crawl["rule"] and crawl["line"] == 2
    rsl = items[7]["signals"]["rsl"]["evidence"][0]
    assert rsl["outcome"] == "licence-required" and rsl["documents"][0]["url"] == "https://lic.example/license.xml"
    assert "payment training" in rsl["rule"]


def test_registry_evidence_names_the_registration_how_it_matched_and_the_terms_event(checked, world):
    items = by_line(checked)
    (match,) = items[14]["registry"]["matches"]
    assert match["number"] == world["numbers"]["A"] and match["how"] == "iscc" and match["distance"] == 5
    assert match["terms_event"] == world["events"]["A"] and match["from"] == "own terms"
    (exact,) = items[15]["registry"]["matches"]
    assert exact["how"] == "instance" and exact["distance"] == 0 and exact["permission"] == "allowed"
    (catalogue,) = items[17]["registry"]["matches"]
    assert catalogue["from"] == f"catalogue of party {world['party']}"
    assert catalogue["terms_event"] == world["events"]["party"]
    assert items[16]["registry"]["location"] == "https://artist.example/music/*"
    assert items[16]["registry"]["location_terms_event"] == world["events"]["location"]
    assert items[18]["registry"]["matches"] == [] and items[19]["registry"]["matches"][0]["distance"] == 8


def test_conflicts_are_listed_with_the_rule_that_decided(checked):
    items = by_line(checked)
    (conflict,) = items[15]["conflicts"]
    assert conflict["allowing"] == ["registry"] and "tdmrep" in conflict["reserving"]
    assert "registry" in conflict["decided_by"]
    (shop,) = items[5]["conflicts"]
    assert "tdmrep" in shop["allowing"] and {"content-signals", "noai"} <= set(shop["reserving"])


def test_broken_rows_are_reported_by_line_and_the_rest_processed(checked):
    result = checked
    problems = {(p["line"], p["field"]) for p in result["problems"]}
    assert {(12, None), (13, "url"), (20, "sha256"), (20, "iscc"), (10, "crawled_at"), (10, "headers")} <= problems
    items = by_line(result)
    assert items[12]["error"] == "not valid JSON" and items[12]["decision"] == "unknown"
    assert "sha256" in items[20]["notes"] and items[20]["decision"] == "allowed"
    site_problems = [p for p in result["problems"] if p["source"] == "sites.jsonl"]
    assert {p["line"] for p in site_problems} >= {6, 8}   # an origin that is not one, and a broken line


def test_junk_headers_and_robots_are_read_as_unknown_never_a_crash(checked):
    junk = by_line(checked)[10]
    assert junk["signals"]["aipref"]["value"] == "unknown"          # TRAIN-AI: an upper-case key voids the field
    assert junk["signals"]["tdmrep"]["value"] in ("absent", "unknown")
    assert junk["signals"]["robots.txt"]["value"] == "crawl-allowed"


def test_the_receipt_verifies_offline_and_tampering_is_detected(checked, world, tmp_path):
    result = checked
    history = TransparencyLog(world["store"]).key_history()
    receipt_text = Path(result["files"]["receipt"]).read_text()
    receipt = verify_receipt(receipt_text, history.to_json(), outputs={"parquet": result["files"]["parquet"],
                                                                      "json": result["files"]["json"]})
    assert receipt["manifest"]["sha256"] == result["receipt"]["manifest"]["sha256"]
    assert receipt["law"]["rule_pack_version"] == result["law"]["rule_pack_version"]
    assert receipt["parsers"]["protego"] and receipt["parsers"]["http-sf"] and receipt["parsers"]["c2pa-python"]
    tampered = json.loads(receipt_text)
    tampered["summary"]["decisions"]["allowed"] += 1
    with pytest.raises(ReceiptError, match="altered"):
        verify_receipt(tampered, history)
    forged = tmp_path / "items.json"
    forged.write_text('[{"url": "https://x", "decision": "allowed"}]')
    with pytest.raises(ReceiptError, match="json"):
        verify_receipt(receipt_text, history, outputs={"json": forged})


def test_the_check_is_a_journal_event_anchoring_the_receipt(checked, world):
    result = checked
    store = world["store"]
    (event,) = [e for e in Journal(store).events(kind="aiuse.check") if e.id == result["journal_event"]]
    assert event.id == result["journal_event"] and event.actor == "dev"
    assert event.payload["receipt_sha256"] == receipt_hash(result["receipt"]) == result["receipt_sha256"]
    assert Journal(store).verify(event.id)["kind"] == "aiuse.check"
    anchor = json.loads(Path(result["files"]["anchor"]).read_text())
    assert anchor["journal_event"] == event.id


def test_outputs_are_parquet_plus_the_manifests_own_format_by_default(checked, world, tmp_path):
    assert checked["formats"] == ["parquet", "json"]   # a JSON Lines manifest
    assert {"parquet", "json"} <= set(checked["files"]) and "csv" not in checked["files"]
    assert not (Path(checked["directory"]) / "items.csv").exists()
    assert set(checked["receipt"]["outputs"]) == {"parquet", "json", "parts", "summary", "problems"}
    csv_manifest = tmp_path / "manifest.csv"
    csv_manifest.write_text("url\nhttps://example.org/a\n")
    done = run_check(world, tmp_path, manifest=csv_manifest, sites=None, out_dir=tmp_path / "csv")
    assert done["formats"] == ["parquet", "csv"]
    only = run_check(world, tmp_path, manifest=csv_manifest, sites=None, out_dir=tmp_path / "only", formats="json")
    assert only["formats"] == ["json"] and not (tmp_path / "only" / "items.parquet").exists()
    assert json.loads((tmp_path / "only" / "items.json").read_text())[0]["url"] == "https://example.org/a"


def test_unknown_result_formats_are_named(world, tmp_path):
    for bad in ("xlsx", ["parquet", "pdf"], ","):
        with pytest.raises(InvalidInput) as caught:
            run_check(world, tmp_path, formats=bad)
        assert caught.value.problems[0].field == "formats"
    assert not (tmp_path / "out").exists()


def test_outputs_are_parquet_csv_and_json_one_row_per_item(world, tmp_path):
    result = run_check(world, tmp_path, formats="all")
    assert result["formats"] == ["parquet", "csv", "json"]
    table = pq.read_table(result["files"]["parquet"])
    assert table.num_rows == 20 and table["item"].to_pylist() == list(range(20))
    assert len(Path(result["files"]["csv"]).read_text().strip().splitlines()) == 21
    assert len(json.loads(Path(result["files"]["json"]).read_text())) == 20
    parts = json.loads(Path(result["files"]["parts"]).read_text())
    assert parts["decisions"] and parts["parts"]["site"]


def test_who_may_check(world, tmp_path):
    store = world["store"]
    service = CheckService(store)
    before = len(Journal(store).events(kind="aiuse.check"))
    args = dict(jurisdiction="DE", purpose="commercial")
    with pytest.raises(AuthenticationRequired):
        service.check(ANONYMOUS, DATA / "manifest.jsonl", **args)
    creator, _ = create_principal(store, "ana", AccessRole.CREATOR, party_id=world["party"],
                                  by=world["principals"]["admin"][0])
    with pytest.raises(PermissionDenied):
        service.check(creator, DATA / "manifest.jsonl", **args)
    assert len(Journal(store).events(kind="aiuse.check")) == before


def test_bad_questions_are_named_and_nothing_is_written(world, tmp_path):
    before = len(Journal(world["store"]).events(kind="aiuse.check"))
    for kw, field in ((dict(use="ai-dreaming"), "use"), (dict(jurisdiction="Atlantis"), "jurisdiction"),
                      (dict(engine="excel"), "engine"), (dict(user_agent="  "), "user_agent"),
                      (dict(radius=40), "radius")):
        with pytest.raises(InvalidInput) as caught:
            run_check(world, tmp_path, **kw)
        assert caught.value.problems[0].field == field
    assert not (tmp_path / "out").exists()
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "x").write_text("mine")
    with pytest.raises(InvalidInput, match="already holds"):
        run_check(world, tmp_path, out_dir=tmp_path / "busy")
    assert len(Journal(world["store"]).events(kind="aiuse.check")) == before


def test_an_empty_manifest_is_refused(world, tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n")
    with pytest.raises(InvalidInput, match="no items"):
        run_check(world, tmp_path, manifest=empty)


def test_the_near_duplicate_search_started_while_reading_finds_what_the_engine_would(world, tmp_path):
    """A file manifest's Content-Codes are searched while its other columns are read; a manifest
    already read is searched by the engine itself: the same matches, and an unreadable row's code
    (no url) matches nothing either way."""
    from obra.aiuse.check.manifest import read_manifest

    near_a = "ISCC:KEAQCI2FM6E2XTPQAAAAAAAAAAAAEAAAAAAAAAAABQ"   # 5 bits from work A
    manifest = tmp_path / "m.csv"
    manifest.write_text(f"url,iscc\nhttps://www.example/img/a.png,{near_a}\n,{near_a}\nnot a url,{near_a}\n"
                        "https://www.example/img/b.png,\n")
    early = run_check(world, tmp_path, manifest=manifest, sites=None, out_dir=tmp_path / "early")
    late = run_check(world, tmp_path, manifest=read_manifest(manifest), sites=None, out_dir=tmp_path / "late")
    seen = [(i["line"], i["decision"], [(m["number"], m["how"]) for m in i["registry"]["matches"]])
            for i in early["items"]]
    assert seen == [(i["line"], i["decision"], [(m["number"], m["how"]) for m in i["registry"]["matches"]])
                    for i in late["items"]]
    assert seen == [(2, "reserved", [(world["numbers"]["A"], "iscc")]), (3, "unknown", []), (4, "unknown", []),
                    (5, "allowed", [])]
    assert "near_duplicates_done_at" in early["timings"]


def test_the_search_in_a_worker_with_the_registry_prepared_ahead_finds_the_same(world, tmp_path, monkeypatch):
    """A large manifest's search runs in a worker process, which builds the registry's tables while
    the manifest is read: forced here for a small one, the same matches as the engine's own search."""
    from obra.aiuse.check import engine as engine_mod
    from obra.aiuse.check import service as service_mod
    from obra.identify.near_worker import NearWorker

    near_a = "ISCC:KEAQCI2FM6E2XTPQAAAAAAAAAAAAEAAAAAAAAAAABQ"   # 5 bits from work A
    manifest = tmp_path / "m.csv"
    manifest.write_text(f"url,iscc\nhttps://www.example/img/a.png,{near_a}\n,{near_a}\n"
                        "https://www.example/img/b.png,\n")
    inline = run_check(world, tmp_path, manifest=manifest, sites=None, out_dir=tmp_path / "inline")
    monkeypatch.setattr(service_mod, "PROCESS_MANIFEST_BYTES", 0)
    monkeypatch.setattr(engine_mod, "PROCESS_QUERIES", 1)
    searched = []
    original = NearWorker.search

    def search(self, *args, **kw):
        searched.append(kw.get("prepared"))
        return original(self, *args, **kw)

    monkeypatch.setattr(NearWorker, "search", search)
    worker = run_check(world, tmp_path, manifest=manifest, sites=None, out_dir=tmp_path / "worker")
    assert searched == ["content-image"]   # the worker searched, with the tables it had built ahead
    assert [(i["line"], i["decision"], i["registry"]["matches"]) for i in worker["items"]] == \
        [(i["line"], i["decision"], i["registry"]["matches"]) for i in inline["items"]]
    assert [(m["number"], m["how"]) for m in worker["items"][0]["registry"]["matches"]] == \
        [(world["numbers"]["A"], "iscc")]
