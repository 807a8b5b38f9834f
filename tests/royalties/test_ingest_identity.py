"""A report is known by what it is, not by its bytes (issue #13, finding 1).

The audit ingested the shared YouTube DSR as ``.tsv``, ``.tsv.gz``, with CRLF line ends and with
one NUL byte: four sources, and the 2015-Q4 pool became 6,305,432 minor units instead of
1,576,358. A CWR file with CRLF line ends registered its works a second time. Here the same
report, however it arrives, is one source; a corrected re-delivery supersedes the earlier one
(a journal event), never adds to it; and whatever would count money twice is refused by name.
"""

from __future__ import annotations

import csv
import gzip
import io

import pytest
from sqlalchemy import func, select

from obra.access import create_principal
from obra.errors import Conflict, InvalidInput
from obra.journal import Journal
from obra.model.vocab import AccessRole
from obra.royalties import engine as engines
from obra.royalties.datasets import pools_dataset, published_sources, usage_dataset
from obra.royalties.ingest import read_manifest, sources
from obra.royalties.pipeline import ingest_cwr, ingest_dsr, ingest_usage_csv, run_matching
from obra.store.schema import registrations

from .samples import NWR, REV, YOUTUBE, write_csv

POOL_2015_Q4 = 1_576_358      # 409.05 + 359.71 + 3424.29 + 11570.53 USD in cents


@pytest.fixture
def cmo(store):
    root, _ = create_principal(store, "root", AccessRole.ADMIN)
    principal, _ = create_principal(store, "cmo-1", AccessRole.CMO, by=root)
    return principal


def pool_total(store, period: str = "2015-Q4") -> int:
    """What a distribution would share out for the period: the published pools, read by the engine."""
    con = engines.connect("duckdb")
    pools = engines.read_dataset(con, pools_dataset(store), period, sources=published_sources(store))
    return 0 if pools is None else int(pools.amount_minor.sum().execute())


def usage_lines(store, period: str = "2015-Q4") -> int:
    con = engines.connect("duckdb")
    usage = engines.read_dataset(con, usage_dataset(store), period, sources=published_sources(store))
    return 0 if usage is None else int(usage.count().execute())


def dsr_variant(tmp_path, name: str, *, message_id: str | None = None, created: str | None = None,
                revenue: dict[int, str] | None = None, extra_summary: str | None = None,
                newline: str = "\n", gz: bool = False, raw_edit=None):
    """The YouTube sample with HEAD, summaries or bytes edited (FOOT counts kept right)."""
    lines = YOUTUBE.read_text(encoding="utf-8").rstrip("\n").split("\n")
    head = lines[0].split("\t")
    if message_id is not None:
        head[4] = message_id
    if created is not None:
        head[5] = created
    lines[0] = "\t".join(head)
    summaries = [i for i, line in enumerate(lines) if line.startswith("SY02.01")]
    for k, value in (revenue or {}).items():
        cells = lines[summaries[k]].split("\t")
        cells[11] = value
        lines[summaries[k]] = "\t".join(cells)
    if extra_summary is not None:
        lines.insert(summaries[-1] + 1, extra_summary)
        foot = lines[-1].split("\t")
        foot[1], foot[2], foot[3] = (str(int(foot[i]) + 1) for i in (1, 2, 3))
        lines[-1] = "\t".join(foot)
    data = (newline.join(lines) + newline).encode("utf-8")
    if raw_edit is not None:
        data = raw_edit(data)
    path = tmp_path / name
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


# --- DSR: the same report, however it arrives ------------------------------------------------

def test_the_youtube_report_sent_four_ways_is_one_source_and_one_pool(store, cmo, tmp_path):
    first = ingest_dsr(store, YOUTUBE, cmo)
    assert first["status"] == "ingested" and first["changed"]
    copies = {
        "gzipped": dsr_variant(tmp_path, YOUTUBE.name + ".gz", gz=True),
        "crlf": dsr_variant(tmp_path, "crlf.tsv", newline="\r\n"),
        "renamed, crlf, gzipped": dsr_variant(tmp_path, "youtube-q4.tsv.gz", newline="\r\n", gz=True),
        "byte-order mark": dsr_variant(tmp_path, "bom.tsv", raw_edit=lambda b: b"\xef\xbb\xbf" + b),
    }
    for how, path in copies.items():
        again = ingest_dsr(store, path, cmo)
        assert again["status"] == "already ingested" and again["changed"] is False, how
        assert again["matched"]["source"] == first["source"] and again["file"] == path.name, how
        assert "MessageId" in again["matched"]["because"], how
    # the NUL variant is not a fifth source: the format forbids the byte, and the reader says where
    nul = dsr_variant(tmp_path, "nul.tsv", raw_edit=lambda b: b.replace(b"Sexual Healing", b"Sexual\x00Healing"))
    with pytest.raises(InvalidInput) as err:
        ingest_dsr(store, nul, cmo)
    line = YOUTUBE.read_text()[:YOUTUBE.read_text().index("Sexual Healing")].count("\n") + 1
    assert (err.value.problems[0].line, err.value.problems[0].field) == (line, "Title")
    assert "U+0000" in err.value.problems[0].message
    assert pool_total(store) == POOL_2015_Q4          # the audit: 6,305,432
    assert usage_lines(store) == 6
    assert len(sources(store)) == 1 and len(list(usage_dataset(store).rglob("*.parquet"))) == 1
    assert [e.kind for e in Journal(store).events() if e.kind.startswith("usage.")] == ["usage.ingested"]


def test_the_same_bytes_again_are_known_without_reading_them(store, cmo):
    first = ingest_dsr(store, YOUTUBE, cmo)
    again = ingest_dsr(store, YOUTUBE, cmo)
    assert again["matched"] == {**again["matched"], "source": first["source"], "because": "the same bytes"}


def test_a_message_id_reused_for_other_content_is_refused(store, cmo, tmp_path):
    ingest_dsr(store, YOUTUBE, cmo)
    altered = dsr_variant(tmp_path, "altered.tsv", revenue={0: "509.05"})
    with pytest.raises(Conflict) as err:
        ingest_dsr(store, altered, cmo)
    assert "1453417766009915" in err.value.message and "never reuses a MessageId" in err.value.message
    assert "new MessageId" in err.value.hint
    assert pool_total(store) == POOL_2015_Q4 and len(sources(store)) == 1
    assert not list((store.home / ".staging").glob("*"))


# --- DSR: a corrected re-delivery supersedes ------------------------------------------------

def test_a_corrected_redelivery_supersedes_the_earlier_report(store, cmo, tmp_path):
    first = ingest_dsr(store, YOUTUBE, cmo)
    run_matching(store, cmo, "2015-Q4", fuzzy=False)
    corrected = dsr_variant(tmp_path, "DSR_TEST_YouTube_AdSupport-music_2015-Q4_IS_1of1_20160301T100000.tsv",
                            message_id="1456826400000001", created="2016-03-01T10:00:00Z",
                            revenue={0: "509.05"})
    second = ingest_dsr(store, corrected, cmo)
    assert second["status"] == "ingested" and second["supersedes"] == [first["source"]]
    assert pool_total(store) == POOL_2015_Q4 + 10_000   # the corrected pool, never both
    assert usage_lines(store) == 6
    assert published_sources(store) == {second["source"]}
    manifest = read_manifest(store)
    assert manifest[first["source"]]["status"] == "superseded"
    assert manifest[first["source"]]["superseded_by"] == manifest[second["source"]]["id"]
    events = [e for e in Journal(store).events() if e.kind == "usage.superseded"]
    assert len(events) == 1 and events[0].subject == f"source/{first['source']}"
    assert events[0].payload["superseded_by"] == second["source"]
    assert "1453417766009915 -> 1456826400000001" in events[0].payload["reason"]
    # matching reads the published report only
    assert run_matching(store, cmo, "2015-Q4", fuzzy=False)["lines"] == 6
    # the superseded report, sent again, changes nothing either
    assert ingest_dsr(store, YOUTUBE, cmo)["matched"]["status"] == "superseded"
    assert pool_total(store) == POOL_2015_Q4 + 10_000


def test_an_older_report_does_not_replace_a_newer_one(store, cmo, tmp_path):
    ingest_dsr(store, YOUTUBE, cmo)
    older = dsr_variant(tmp_path, "older.tsv", message_id="1", created="2015-12-31T00:00:00Z")
    with pytest.raises(Conflict, match="an older report does not replace a newer one") as err:
        ingest_dsr(store, older, cmo)
    assert "--replaces" in err.value.hint
    assert pool_total(store) == POOL_2015_Q4


NORWAY = "SY02.01\t2\t\t\tAdvertisementSupportedModel\tStream\tNO\tAdSupport-music\t1000\t\tUSD\t100.00\t\t\t\t\t\tPerformingRight"


def test_a_report_that_overlaps_an_earlier_one_in_part_is_refused_until_named(store, cmo, tmp_path):
    both = dsr_variant(tmp_path, "is-and-no.tsv", message_id="2", created="2016-02-01T00:00:00Z",
                       extra_summary=NORWAY)
    first = ingest_dsr(store, both, cmo)
    assert pool_total(store) == POOL_2015_Q4 + 10_000
    iceland_only = dsr_variant(tmp_path, "is-only.tsv", message_id="3", created="2016-03-01T00:00:00Z")
    with pytest.raises(Conflict) as err:
        ingest_dsr(store, iceland_only, cmo)
    assert "IS/AdSupport-music/AdSupport" in err.value.message and "twice" in err.value.message
    assert f"--replaces {first['source']}" in err.value.hint
    second = ingest_dsr(store, iceland_only, cmo, replaces=[first["source"]])
    assert second["supersedes"] == [first["source"]]
    assert pool_total(store) == POOL_2015_Q4


def test_a_corrected_report_covering_more_supersedes_the_smaller_one(store, cmo, tmp_path):
    ingest_dsr(store, YOUTUBE, cmo)
    wider = dsr_variant(tmp_path, "wider.tsv", message_id="4", created="2016-04-01T00:00:00Z", extra_summary=NORWAY)
    assert len(ingest_dsr(store, wider, cmo)["supersedes"]) == 1
    assert pool_total(store) == POOL_2015_Q4 + 10_000


# --- CSV: the same records, however they are written ----------------------------------------

ROWS = [{"period": "2026-03", "territory": "UY", "service": "Tambor", "commercial_model": "Subscription",
         "use_type": "stream", "user_id": f"u{i}", "title": f"Canción {i}", "artist": "Ana", "plays": i + 1,
         "revenue": "0.0042", "currency": "USD"} for i in range(5)]


def _csv_text(rows, columns, quoting=csv.QUOTE_MINIMAL, newline="\n") -> str:
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=columns, quoting=quoting, lineterminator=newline)
    w.writeheader()
    for r in rows:
        w.writerow({c: r.get(c, "") for c in columns})
    return out.getvalue()


def test_the_same_usage_csv_written_five_ways_is_one_source(store, cmo, tmp_path):
    columns = ["period", "territory", "service", "commercial_model", "use_type", "user_id", "title", "artist",
               "plays", "revenue", "currency"]
    first = ingest_usage_csv(store, write_csv(tmp_path / "usage.csv", ROWS, columns), cmo)
    ways = {
        "gzipped": gzip.compress(_csv_text(ROWS, columns).encode()),
        "crlf": _csv_text(ROWS, columns, newline="\r\n").encode(),
        "bom, no final newline": b"\xef\xbb\xbf" + _csv_text(ROWS, columns).rstrip("\n").encode(),
        "every cell quoted": _csv_text(ROWS, columns, quoting=csv.QUOTE_ALL).encode(),
        "columns in another order": _csv_text(ROWS, list(reversed(columns))).encode(),
        "spaces around cells": _csv_text([{k: f" {v} " if k in ("territory", "service") else v
                                           for k, v in r.items()} for r in ROWS], columns).encode(),
    }
    for how, data in ways.items():
        path = tmp_path / f"copy-{len(how)}.csv"
        path.write_bytes(data)
        again = ingest_usage_csv(store, path, cmo)
        assert again["status"] == "already ingested", how
        assert again["matched"]["source"] == first["source"], how
    assert len(sources(store)) == 1
    other = ingest_usage_csv(store, write_csv(tmp_path / "more.csv", ROWS[:4], columns), cmo)
    assert other["status"] == "ingested" and other["source"] != first["source"]


def test_a_corrected_csv_replaces_the_one_it_names(store, cmo, tmp_path):
    pools = ["period", "territory", "service", "commercial_model", "currency", "amount"]
    row = {"period": "2026-03", "territory": "UY", "service": "Tambor", "commercial_model": "Subscription",
           "currency": "USD"}
    first = ingest_usage_csv(store, write_csv(tmp_path / "pools.csv", [{**row, "amount": "100.00"}], pools), cmo)
    fixed = write_csv(tmp_path / "pools-fixed.csv", [{**row, "amount": "120.00"}], pools)
    second = ingest_usage_csv(store, fixed, cmo, replaces=[first["source"]])
    assert second["supersedes"] == [first["source"]]
    assert pool_total(store, "2026-03") == 12_000
    with pytest.raises(Conflict, match="already superseded"):
        ingest_usage_csv(store, write_csv(tmp_path / "p3.csv", [{**row, "amount": "1.00"}], pools), cmo,
                         replaces=[first["source"]])
    assert pool_total(store, "2026-03") == 12_000


# --- CWR: each file once, each work once -------------------------------------------------------

def _registrations(store) -> int:
    with store.connect() as conn:
        return conn.execute(select(func.count()).select_from(registrations)).scalar()


def test_a_cwr_file_with_crlf_line_ends_registers_nothing_twice(store, tmp_path):
    admin, _ = create_principal(store, "admin", AccessRole.ADMIN)
    first = ingest_cwr(store, NWR, admin)
    count = _registrations(store)
    assert count > 0 and first["status"] == "ingested"
    crlf = tmp_path / "nwr-crlf.V21"
    crlf.write_bytes(NWR.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
    again = ingest_cwr(store, crlf, admin)
    assert again["status"] == "already ingested" and again["matched"]["source"] == first["source"]
    assert _registrations(store) == count


def test_a_work_sent_again_in_another_file_is_not_registered_twice(store, tmp_path):
    admin, _ = create_principal(store, "admin", AccessRole.ADMIN)
    first = ingest_cwr(store, NWR, admin)
    count = _registrations(store)
    lines = NWR.read_text().split("\n")
    hdr = lines[0].ljust(86)
    lines[0] = hdr[:72] + "235959" + hdr[78:]          # another HDR creation time: another file
    later = tmp_path / "later.V21"
    later.write_text("\n".join(lines))
    second = ingest_cwr(store, later, admin)
    assert second["status"] == "ingested" and second["works"] == []
    assert len(second["already_registered"]) == len(first["works"])
    assert _registrations(store) == count


# --- both surfaces ---------------------------------------------------------------------------

def test_the_command_line_says_what_a_copy_matched_and_what_a_correction_supersedes(cli_home, tmp_path):
    import json

    from typer.testing import CliRunner

    from obra.cli.main import app

    runner = CliRunner()
    first = json.loads(runner.invoke(app, ["ingest", "dsr", str(YOUTUBE), "--json"]).stdout)[0]
    gz = dsr_variant(tmp_path, "youtube.tsv.gz", gz=True)
    shown = runner.invoke(app, ["ingest", "dsr", str(gz)])
    assert shown.exit_code == 0 and "already ingested" in shown.output
    assert f"source {first['source']}, published" in shown.output and "nothing changed" in shown.output
    pools = ["period", "territory", "service", "commercial_model", "currency", "amount"]
    row = {"period": "2026-03", "territory": "UY", "service": "Tambor", "commercial_model": "Subscription",
           "currency": "USD"}
    a = json.loads(runner.invoke(app, ["ingest", "usage", str(write_csv(tmp_path / "a.csv", [{**row, "amount": "1"}],
                                                                         pools)), "--json"]).stdout)[0]
    fixed = write_csv(tmp_path / "b.csv", [{**row, "amount": "2"}], pools)
    replaced = runner.invoke(app, ["ingest", "usage", str(fixed), "--replaces", a["source"]])
    assert replaced.exit_code == 0 and f"supersedes source {a['source']}" in replaced.output
    two = runner.invoke(app, ["ingest", "usage", str(fixed), str(gz), "--replaces", a["source"]])
    assert two.exit_code == 2 and "exactly one file" in two.output


def test_the_api_ingests_a_correction_with_replaces_and_refuses_it_for_cwr(store, tmp_path):
    from fastapi.testclient import TestClient

    from obra.api.app import create_app

    root, _ = create_principal(store, "root", AccessRole.ADMIN)
    _, token = create_principal(store, "cmo-api", AccessRole.CMO, by=root)
    auth = {"Authorization": f"Bearer {token}"}
    client = TestClient(create_app(store))
    pools = ["period", "territory", "service", "commercial_model", "currency", "amount"]
    row = {"period": "2026-03", "territory": "UY", "service": "Tambor", "commercial_model": "Subscription",
           "currency": "USD"}

    def upload(kind, path, **form):
        with open(path, "rb") as fh:
            return client.post(f"/ingest/{kind}", files={"file": (path.name, fh)}, data=form, headers=auth)

    first = upload("usage", write_csv(tmp_path / "a.csv", [{**row, "amount": "1"}], pools))
    assert first.status_code == 201, first.text
    again = upload("usage", write_csv(tmp_path / "a-again.csv", [{**row, "amount": "1"}], pools))
    assert again.json()["status"] == "already ingested"
    assert again.json()["matched"]["source"] == first.json()["source"]
    fixed = upload("usage", write_csv(tmp_path / "b.csv", [{**row, "amount": "2"}], pools),
                   replaces=first.json()["source"])
    assert fixed.status_code == 201 and fixed.json()["supersedes"] == [first.json()["source"]]
    assert pool_total(store, "2026-03") == 200
    refused = upload("cwr", NWR, replaces=first.json()["source"])
    assert refused.status_code == 422 and refused.json()["problems"][0]["field"] == "replaces"


def test_a_store_ingested_with_the_old_manifest_keeps_its_reports(store, cmo, tmp_path):
    """Before usage_sources, ingest-manifest.json listed the files by their bytes; such a store's
    partitions stay published (and are not cleaned away), and its reports are still known."""
    import json

    from sqlalchemy import delete

    from obra.store.schema import usage_sources

    first = ingest_dsr(store, YOUTUBE, cmo)
    with store.begin() as conn:                        # the store as the earlier version left it
        conn.execute(delete(usage_sources))
    store.paths.ingest_manifest.write_text(json.dumps({first["sha256"]: {
        "file": YOUTUBE.name, "sha256": first["sha256"], "source": first["source"], "kind": "dsr",
        "periods": ["2015-Q4"], "counts": {"usage": 6, "pools": 1}, "by": "cmo-1", "at": "2026-11-20T10:00:00+00:00",
        "period": "2015-Q4", "lines": 35, "summaries": 4, "blocks": 3, "usage_lines": 6,
        "message_id": "1453417766009915", "journal_event": first["journal_event"]}}))
    assert pool_total(store) == POOL_2015_Q4
    again = ingest_dsr(store, dsr_variant(tmp_path, "copy.tsv.gz", gz=True), cmo)   # cleans, then compares
    assert again["status"] == "already ingested" and again["matched"]["source"] == first["source"]
    assert pool_total(store) == POOL_2015_Q4 and usage_lines(store) == 6
