"""The observatory report of a real store: reconciles with the statements to the cent, charts drawn and
looked at as images, the signed manifest verified offline, DuckDB = Spark, bad input named, access."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
import resvg_py
from PIL import Image

from obra.access import create_principal
from obra.app import Obra
from obra.errors import AuthenticationRequired, InvalidInput, PermissionDenied, Unverifiable
from obra.model.vocab import AccessRole
from obra.observatory.market import load_market
from obra.observatory.report import build_report, verify_manifest
from obra.observatory.service import ReportRequest
from obra.registry.service import Registry
from obra.royalties.pipeline import ingest_dsr, run_period
from obra.store import Store

ROOT = Path(__file__).resolve().parents[2]
YOUTUBE = ROOT / "tests" / "data" / "dsr" / "DSR_TEST_YouTube_AdSupport-music_2015-Q4_IS_1of1_20160121T150926.tsv"
PERIOD = "2015-Q4"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A store with two registered recordings (one AI-assisted), the public YouTube DSR sample ingested,
    and a pro-rata run with a CMO commission."""
    home = tmp_path_factory.mktemp("observatory")
    store = Store.open(f"sqlite:///{home / 'obra.db'}", home / "home", migrate=True)
    root, _ = create_principal(store, "root", AccessRole.ADMIN)
    cmo, cmo_token = create_principal(store, "clerk", AccessRole.CMO, by=root)
    creator, creator_token = create_principal(store, "maker", AccessRole.CREATOR, by=root)
    reg = Registry(store)
    singer = reg.add_party(root, {"name": "Sigrún Jónsdóttir", "roles": ["performer"]})
    label = reg.add_party(root, {"name": "Útgáfan Hljómur", "kind": "organisation", "roles": ["label"]})
    player = reg.add_party(root, {"name": "Kári Björnsson", "roles": ["performer"]})
    society = reg.add_party(root, {"name": "STEF", "kind": "organisation", "roles": ["cmo"]})
    reg.add_agreement(root, {"kind": "recording_contract", "assignor": singer.id, "assignee": label.id,
                             "rights": ["making_available"], "start": "2010-01-01", "retained": "0.8"})
    disclosure = {"systems": [{"name": "a model"}], "ai_contribution": "a first draft of the melody",
                  "human_contribution": "lyrics and the edit"}
    for party, isrc, title, genre in ((singer, "USRH10903879", "Þessi beiska jörð", "folk"),
                                      (player, "USUV71101875", "All I Want Is You", "rock")):
        work = reg.register(root, "work", {"title": title, "genre": genre})
        reg.register(root, "recording", {
            "title": title, "isrc": isrc, "artist": title.split()[0], "works": [work.number],
            "performers": [{"party": party.id}],
            "shares": [{"party": party.id, "right_type": "making_available", "territory": "2WL", "share": "100"}]})
    reg.register(root, "work", {"title": "Lag með hjálp", "kind": "audiovisual", "creation_mode": "ai_assisted",
                                "disclosure": disclosure})
    ingest_dsr(store, YOUTUBE, cmo)
    run = run_period(store, cmo, PERIOD, model="pro-rata", cmo_party=str(society.id),
                     cmo_commission={"making_available": "0.1"})
    obra = Obra(store)
    yield {"store": store, "obra": obra, "cmo": cmo, "creator": creator, "root": root, "run": run, "home": home,
           "tokens": {"cmo": cmo_token, "creator": creator_token}}
    store.dispose()


@pytest.fixture(scope="module")
def written(world):
    out = world["home"] / "report"
    scenario = {"name": "a floor under user-centric", "rules": {"model": "pro-rata", "per_play_floor_minor": "0.01",
                                                                "cmo_commission": "0.12"}}
    result = world["obra"].observatory.write(world["cmo"], ReportRequest(period=PERIOD, scenario=scenario), out,
                                             pdf_locales=("en", "es"))
    return {"result": result, "out": out, "report": json.loads((out / "report.json").read_text())}


def test_the_totals_reconcile_with_the_statements_to_the_cent(world, written):
    report = written["report"]
    run_dir = Path(world["run"]["directory"])
    totals = json.loads((run_dir / "totals.json").read_text())
    gross = sum(t["gross_minor"] for per in totals["payees"].values() for t in per.values())
    rec = report["reconciliation"]
    assert list(rec) == list(world["run"]["conservation"])
    for cur, r in rec.items():
        assert r["ok"] is True
        assert r["statements_gross_minor"] == gross == r["run_distributed_minor"]
        assert r["run_revenue_minor"] == world["run"]["conservation"][cur]["revenue"] == r["pools_revenue_minor"]
    split = report["figures"]["value_split"]["rows"]
    roles = {r["role"] for r in split["roles"]}
    assert any(role.startswith("unallocated") for role in roles)
    assert {"performers", "labels and producers", "collecting society"} <= roles   # who the payees are
    assert written["result"]["reconciled"] is True


def test_every_figure_names_its_method_and_the_engine_figures_their_query(written):
    figures = written["report"]["figures"]
    for name in ("revenue", "plays", "play_sources", "matching", "value_split"):
        assert figures[name]["method"].startswith("obra.observatory.indicators.")
        assert figures[name]["query"].lstrip().startswith(("SELECT", "WITH"))
        assert re.search(r"ibis_[a-z0-9_]{20,}", figures[name]["query"]) is None   # reproducible text
    assert "FROM usage" in figures["plays"]["query"].replace('"', "")
    report = written["report"]
    assert report["data"]["fingerprint"]["sources"][0]["sha256"]
    assert report["data"]["fingerprint"]["registry"]["registrations"] == 5


def test_the_same_data_gives_the_same_report(world, written):
    again = world["obra"].observatory.build(world["cmo"], ReportRequest(
        period=PERIOD, scenario={"name": "a floor under user-centric",
                                 "rules": {"model": "pro-rata", "per_play_floor_minor": "0.01",
                                           "cmo_commission": "0.12"}}))
    assert again["data"]["hash"] == written["report"]["data"]["hash"]
    assert again["figures"] == written["report"]["figures"]


def test_registrations_by_creation_mode_and_kind(written):
    reg = written["report"]["figures"]["registrations"]["rows"]
    assert reg["by_creation_mode"] == {"ai_assisted": 1, "human": 4}
    assert {"entity": "work", "kind": "audiovisual", "creation_mode": "ai_assisted", "registrations": 1} in reg["rows"]


def test_the_site_pdf_tables_and_signed_manifest(world, written):
    out = written["out"]
    for name in ("index.html", "es.html", "fr.html", "pt.html", "report.pdf", "report.es.pdf",
                 "tables/revenue.csv", "tables/winners_and_losers.parquet", "tables/lorenz.csv"):
        assert (out / name).stat().st_size > 0, name
    html = (out / "index.html").read_text()
    assert "<script" not in html and "<link" not in html                  # nothing runs, nothing is fetched
    assert re.search(r'(src|href)="https?://', html) is None and "@import" not in html
    assert "@media (max-width" in html and 'name="viewport" content="width=device-width' in html   # on a phone
    es = (out / "es.html").read_text()
    assert "Observatorio" in es and "Concentración" in es
    manifest = verify_manifest(out, world["obra"].log.key_history())
    assert manifest["report_sha256"] == written["result"]["manifest"]["report_sha256"]
    events = world["obra"].read_journal(world["cmo"], kind="observatory.report")
    assert events[-1]["payload"]["report_sha256"] == manifest["report_sha256"]


def test_a_changed_file_fails_verification(written, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(written["out"], copy)
    (copy / "tables" / "revenue.csv").write_text("service,amount_minor\nall,1\n")
    with pytest.raises(Unverifiable, match="tables/revenue.csv hashes to"):
        verify_manifest(copy)


def _svgs(html: str) -> list[str]:
    return re.findall(r"<svg.*?</svg>", html, flags=re.S)


def test_the_charts_are_images_with_axes_and_labels(written):
    html = (written["out"] / "index.html").read_text()
    charts = _svgs(html)
    assert len(charts) >= 6
    lorenz = next(c for c in charts if "Lorenz curve" in c)
    for text in ("Share of artists, poorest first", "Share of income", "equality", "100%"):
        assert text in lorenz
    # resvg_py refuses sizes in points (Matplotlib writes "453.5pt"): give it the same numbers as pixels
    unitless = re.sub(r'(width|height)="([0-9.]+)pt"', r'\1="\2"', lorenz, count=2)
    png = bytes(resvg_py.svg_to_bytes(svg_string=unitless, zoom=2))
    image = Image.open(io.BytesIO(png)).convert("RGB")
    assert image.width > 300 and image.height > 100
    colours = image.getcolors(maxcolors=1 << 20)
    inked = sum(n for n, c in colours if c != (255, 255, 255))
    assert len(colours) > 20 and 0.01 < inked / (image.width * image.height) < 0.6
    blue = sum(n for n, (r, g, b) in colours if b > r + 40)              # the two curves are drawn in colour
    red = sum(n for n, (r, g, b) in colours if r > b + 60)
    assert blue > 50 and red > 50


def test_a_chart_without_data_says_why(written):
    html = (written["out"] / "index.html").read_text()
    ai = next(c for c in _svgs(html) if "AI licensing income" in c)
    assert "No AI licences in this installation yet" in ai


def test_spark_gives_the_same_numbers_as_duckdb(world, spark):
    store = world["store"]
    figures = {}
    for engine in ("duckdb", "spark"):
        market = load_market(store, PERIOD, engine, session=spark if engine == "spark" else None)
        figures[engine] = build_report(market, store=store, run=None, models=("pro-rata", "user-centric"))["figures"]
    for name in ("revenue", "plays", "matching", "concentration", "models", "by_kind"):
        assert figures["spark"][name]["rows"] == figures["duckdb"][name]["rows"], name


def test_a_period_with_no_runs_names_the_runs_there_are(world):
    with pytest.raises(InvalidInput) as exc:
        world["obra"].observatory.build(world["cmo"], ReportRequest(period="2016-Q1"))
    assert "no distribution run for period 2016-Q1; runs there are: 2015-Q4 (pro-rata, run" in str(exc.value)


def test_a_bad_scenario_is_named(world):
    with pytest.raises(InvalidInput, match="unknown rule 'ceiling' in rules; known rules"):
        world["obra"].observatory.build(world["cmo"], ReportRequest(period=PERIOD,
                                                                    scenario={"rules": {"ceiling": 3}}))


def test_only_the_cmo_and_the_office_read_the_market(world):
    with pytest.raises(PermissionDenied, match="may not observatory"):
        world["obra"].observatory.build(world["creator"], ReportRequest(period=PERIOD))
    with pytest.raises(AuthenticationRequired):
        world["obra"].observatory.build(None, ReportRequest(period=PERIOD))


def test_registrations_and_ai_income_on_postgresql_and_sqlite(store, admin):
    from obra.observatory import indicators

    Registry(store).register(admin, "work", {"title": "Imagen", "kind": "visual", "creation_mode": "ai_generated",
                                             "disclosure": {"systems": [{"name": "a model"}],
                                                            "ai_contribution": "the image"}})
    reg = indicators.registrations(store).rows
    assert reg["by_creation_mode"] == {"ai_generated": 1} and reg["shares"] == {"ai_generated": "1.000000"}
    ai = indicators.ai_licensing(store, PERIOD)
    assert ai.rows == [] or ai.rows is None


def test_thresholds_are_the_operators_to_set(world):
    report = world["obra"].observatory.build(world["cmo"], ReportRequest(
        period=PERIOD, income_thresholds=[1, 0], play_thresholds=[1]))
    for cur, c in report["figures"]["concentration"]["rows"].items():
        assert [t["major"] for t in c["income_thresholds"]] == [0, 1]
        assert c["income_thresholds"][0]["artists"] == c["artists"]["units"]     # everyone earns at least 0
        assert c["play_thresholds"] == [{"plays": 1, "artists": c["artists_by_plays"]["units"]
                                         - c["artists_by_plays"]["zero_units"]}]
    assert report["rules"]["thresholds"] == {"income_major": [0, 1], "plays": [1]}
    with pytest.raises(InvalidInput, match="a threshold must not be negative"):
        world["obra"].observatory.build(world["cmo"], ReportRequest(period=PERIOD, play_thresholds=[-5]))


def test_the_api_answers_the_same_report_as_json_html_and_pdf(world, written):
    from fastapi.testclient import TestClient

    from obra.api.app import create_app

    client = TestClient(create_app(world["store"]))
    cmo = {"Authorization": f"Bearer {world['tokens']['cmo']}"}
    body = {"period": PERIOD, "scenario": "user-centric"}
    answer = client.post("/observatory/report", json=body, headers=cmo)
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert report["data"]["hash"] == written["report"]["data"]["hash"]
    assert report["figures"]["revenue"] == written["report"]["figures"]["revenue"]
    assert report["rules"]["scenario"]["rules"] == {"model": "user-centric"}
    page = client.post("/observatory/report?format=html", json=body, headers={**cmo, "Accept-Language": "pt-BR"})
    assert page.headers["content-type"].startswith("text/html") and "Observatório de direitos" in page.text
    pdf = client.post("/observatory/report?format=pdf", json={"period": PERIOD}, headers=cmo)
    assert pdf.content.startswith(b"%PDF")
    denied = client.post("/observatory/report", json=body,
                         headers={"Authorization": f"Bearer {world['tokens']['creator']}"})
    assert denied.status_code == 403
    bad = client.post("/observatory/report", json={"period": PERIOD, "scenario": {"rules": {"model": "x"}}},
                      headers=cmo)
    assert bad.status_code == 422 and "unknown model 'x'" in bad.text
    assert "spotify-2024" in client.get("/observatory/scenarios").json()


def test_unmatched_money_that_a_later_run_pays_is_shown_as_recovered(store, admin):
    """Sexual Healing is unmatched at the first run (its money held); once its recording is registered, the
    period's new run pays it: the ageing table shows what was held, what is held now and what was recovered.
    On SQLite and PostgreSQL, the report of the new run reconciles with its statements."""
    from obra.observatory import indicators
    from obra.royalties.pipeline import run_matching

    root = admin
    reg = Registry(store)
    singer = reg.add_party(root, {"name": "Dinah", "roles": ["performer"]})
    later = reg.add_party(root, {"name": "Marvin", "roles": ["performer"]})
    reg.register(root, "recording", {"title": "This Bitter Earth", "isrc": "USRH10903879", "shares": [
        {"party": singer.id, "right_type": "making_available", "territory": "2WL", "share": "100"}]})
    ingest_dsr(store, YOUTUBE, root)
    first = run_period(store, root, PERIOD)
    reg.register(root, "recording", {"title": "Sexual Healing", "isrc": "USSM19803037", "shares": [
        {"party": later.id, "right_type": "making_available", "territory": "2WL", "share": "100"}]})
    run_matching(store, root, PERIOD, fuzzy=False)
    second = run_period(store, root, PERIOD)
    rows = indicators.unmatched_ageing(store, "2016-Q2").rows
    assert len(rows) == 1
    row = rows[0]
    held_first, held_now = first["conservation"]["USD"]["unallocated"], second["conservation"]["USD"]["unallocated"]
    assert held_now < held_first
    assert (row["held_first_minor"], row["held_now_minor"], row["recovered_minor"]) == (
        held_first, held_now, held_first - held_now)
    assert row["age_months"] == 6 and row["runs"] == 2
    report = Obra(store).observatory.build(root, ReportRequest(period=PERIOD, scenario="performer-remuneration"))
    assert report["run"]["id"] == second["run"] and report["reconciliation"]["USD"]["ok"] is True
    assert report["figures"]["unmatched_ageing"]["rows"][0]["age_months"] == 0
