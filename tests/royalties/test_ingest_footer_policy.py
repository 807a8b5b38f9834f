"""A DSR whose FOOT counts disagree with the file (issue #18 item 4): refused by default; under
``accept-with-warning`` ingested, every disagreement recorded (field, stated, counted, file, line) in
the result, the source's summary and the ``usage.ingested`` journal event, so a CMO can process the
file it was sent and still prove what was wrong with it. Nothing else wrong is accepted."""

from __future__ import annotations

import gzip
import json
import re

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from obra.access import create_principal
from obra.errors import InvalidInput
from obra.journal import Journal
from obra.model.vocab import AccessRole
from obra.royalties.formats import dsr_fast, dsr_reference
from obra.royalties.formats.dsr_reference import FooterWarning
from obra.royalties.ingest import sources
from obra.royalties.pipeline import RoyaltiesService, ingest_dsr

from .samples import NAME_FIXTURES, YOUTUBE, variant

# The YouTube sample's FOOT: 35 lines in file and in report, 4 summary records, 3 blocks (twice).
RIGHT_FOOT = "FOOT\t35\t35\t4\t3\t3"
WRONG_FOOT = "FOOT\t36\t35\t4\t5\t3"      # says 36 lines and 5 blocks in the file


def wrong_footer(tmp_path, name: str = YOUTUBE.name):
    return variant(tmp_path, YOUTUBE, lambda ls: [WRONG_FOOT if l == RIGHT_FOOT else l for l in ls], name=name)


def expected_warnings(name: str = YOUTUBE.name) -> list[FooterWarning]:
    return [FooterWarning("NumberOfLinesInFile", 36, 35, name, 35),
            FooterWarning("NumberOfBlocksInFile", 5, 3, name, 35)]


@pytest.fixture
def cmo(store):
    root, _ = create_principal(store, "root", AccessRole.ADMIN)
    principal, _ = create_principal(store, "cmo-1", AccessRole.CMO, by=root)
    return principal


# --- the readers -------------------------------------------------------------------------------

def test_both_readers_refuse_a_wrong_footer_by_default_and_name_each_count(tmp_path):
    path = wrong_footer(tmp_path)
    for read in (dsr_reference.parse_dsr_reference, dsr_fast.parse_dsr):
        with pytest.raises(InvalidInput) as err:
            read(path)
        assert [(p.line, p.field, p.message) for p in err.value.problems] == [
            (35, "NumberOfLinesInFile", "FOOT says NumberOfLinesInFile = 36, but the file has 35"),
            (35, "NumberOfBlocksInFile", "FOOT says NumberOfBlocksInFile = 5, but the file has 3")]


def test_both_readers_accept_a_wrong_footer_with_warnings_and_the_same_usage(tmp_path):
    path = wrong_footer(tmp_path)
    clean_lines: list = []
    clean = dsr_reference.parse_dsr_reference(YOUTUBE, on_line=clean_lines.append)
    got = {}
    for name, read in (("reference", dsr_reference.parse_dsr_reference), ("fast", dsr_fast.parse_dsr)):
        lines: list = []
        report = read(path, on_line=lines.append, footer_policy="accept-with-warning")
        assert report.footer_warnings == expected_warnings(), name
        assert lines == clean_lines and (report.lines, report.blocks, report.summaries) == (35, 3, 4)
        assert report.foot["NumberOfBlocksInFile"] == "5"      # what the file says is kept as it is
        got[name] = report
    assert got["reference"] == got["fast"]
    assert clean.footer_warnings == [] and got["fast"].pools == clean.pools


def test_only_a_count_mismatch_is_accepted(tmp_path):
    # the name fixtures also lack mandatory HEAD/SY03 cells: refused, the footer listed with the rest
    for read in (dsr_reference.parse_dsr_reference, dsr_fast.parse_dsr):
        with pytest.raises(InvalidInput) as err:
            read(NAME_FIXTURES[0], footer_policy="accept-with-warning")
        fields = [p.field for p in err.value.problems]
        assert "NumberOfLinesInFile" in fields and len(fields) > 1
    no_foot = variant(tmp_path, YOUTUBE, lambda ls: [l for l in ls if not l.startswith("FOOT")], name="nofoot.tsv")
    malformed = variant(tmp_path, YOUTUBE, lambda ls: ["FOOT\tthirty-five\t35\t4\t3\t3" if l == RIGHT_FOOT else l
                                                       for l in ls], name="malformed.tsv")
    other = variant(tmp_path, YOUTUBE, lambda ls: [WRONG_FOOT if l == RIGHT_FOOT else l.replace("\tIS\t", "\tXX\t")
                                                   for l in ls], name="territory.tsv")
    for path, field in ((no_foot, "RecordType"), (malformed, "NumberOfLinesInFile"), (other, "Territory")):
        for read in (dsr_reference.parse_dsr_reference, dsr_fast.parse_dsr):
            with pytest.raises(InvalidInput) as err:
                read(path, footer_policy="accept-with-warning")
            assert field in [p.field for p in err.value.problems], (path.name, read)


def test_an_unknown_policy_is_refused_by_name():
    with pytest.raises(InvalidInput) as err:
        dsr_fast.parse_dsr(YOUTUBE, footer_policy="ignore")
    assert err.value.problems[0].field == "footer_policy" and "accept-with-warning" in err.value.problems[0].message


# --- ingest, on both stores ----------------------------------------------------------------------

def test_a_wrong_footer_is_refused_then_accepted_with_its_warnings_recorded(store, cmo, tmp_path):
    path = wrong_footer(tmp_path)
    with pytest.raises(InvalidInput) as err:
        ingest_dsr(store, path, cmo)
    assert {p.field for p in err.value.problems} == {"NumberOfLinesInFile", "NumberOfBlocksInFile"}
    assert sources(store) == [] and not Journal(store).events("usage.")
    result = RoyaltiesService(store).ingest_dsr(cmo, path, footer_policy="accept-with-warning")
    want = [w.as_dict() for w in expected_warnings()]
    assert result["status"] == "ingested" and result["counts"] == {"usage": 6, "pools": 1}
    assert result["footer_policy"] == "accept-with-warning" and result["footer_warnings"] == want
    assert want[0] == {"field": "NumberOfLinesInFile", "stated": 36, "counted": 35, "file": path.name, "line": 35,
                       "message": "FOOT says NumberOfLinesInFile = 36, but the file has 35"}
    (event,) = Journal(store).events("usage.ingested")
    assert event.id == result["journal_event"] and event.payload["footer_warnings"] == want
    (entry,) = sources(store)
    assert entry["footer_warnings"] == want and entry["source"] == result["source"]


def test_the_same_report_under_another_policy_is_the_same_source(store, cmo, tmp_path):
    path = wrong_footer(tmp_path)
    first = ingest_dsr(store, path, cmo, footer_policy="accept-with-warning")
    again = ingest_dsr(store, path, cmo)                      # the same bytes: known before reading
    assert again["status"] == "already ingested" and again["matched"]["source"] == first["source"]
    assert again["footer_warnings"] == first["footer_warnings"]     # what was wrong with it stays on record
    gz = tmp_path / (path.name + ".gz")
    gz.write_bytes(gzip.compress(path.read_bytes()))
    copy = ingest_dsr(store, gz, cmo, footer_policy="accept-with-warning")
    assert copy["status"] == "already ingested" and copy["matched"]["source"] == first["source"]
    with pytest.raises(InvalidInput):                        # another copy under refuse is refused, not added
        ingest_dsr(store, gz, cmo, footer_policy="refuse")
    assert len(sources(store)) == 1 and len(Journal(store).events("usage.ingested")) == 1
    # the correct report (same MessageId, same content) is that source too
    right = ingest_dsr(store, YOUTUBE, cmo, footer_policy="accept-with-warning")
    assert right["status"] == "already ingested" and right["matched"]["source"] == first["source"]


def test_a_right_footer_has_no_warnings_under_either_policy(store, cmo):
    result = ingest_dsr(store, YOUTUBE, cmo, footer_policy="accept-with-warning")
    assert result["status"] == "ingested" and result["footer_warnings"] == []


def test_an_unauthenticated_caller_is_denied_before_the_file_is_read(store, tmp_path):
    from obra.access import ANONYMOUS
    from obra.errors import AuthenticationRequired

    with pytest.raises(AuthenticationRequired):
        ingest_dsr(store, wrong_footer(tmp_path), ANONYMOUS, footer_policy="accept-with-warning")
    assert sources(store) == []


# --- the surfaces ------------------------------------------------------------------------------

def test_the_command_line_takes_footer_policy(cli_home, tmp_path):
    from obra.cli.main import app

    runner = CliRunner()
    path = wrong_footer(tmp_path)
    refused = runner.invoke(app, ["ingest", "dsr", str(path)])
    assert refused.exit_code == 2 and "NumberOfBlocksInFile" in refused.output and ":35:" in refused.output
    bad = runner.invoke(app, ["ingest", "dsr", str(path), "--footer-policy", "ignore"])
    assert bad.exit_code == 2 and "footer" in bad.output
    shown = runner.invoke(app, ["ingest", "dsr", str(path), "--footer-policy", "accept-with-warning"])
    assert shown.exit_code == 0, shown.output
    assert "ingested" in shown.output and "warning" in shown.output and ":35: field 'NumberOfBlocksInFile'" in shown.output
    gz = tmp_path / "copy.tsv.gz"
    gz.write_bytes(gzip.compress(path.read_bytes()))
    (again,) = json.loads(runner.invoke(app, ["ingest", "dsr", str(gz), "--footer-policy", "accept-with-warning",
                                              "--json"]).stdout)
    assert again["status"] == "already ingested"
    assert [w["field"] for w in again["footer_warnings"]] == ["NumberOfLinesInFile", "NumberOfBlocksInFile"]


def test_the_api_takes_footer_policy_and_denies_without_a_token(store, tmp_path):
    from obra.api.app import create_app

    root, _ = create_principal(store, "root", AccessRole.ADMIN)
    _, token = create_principal(store, "cmo-api", AccessRole.CMO, by=root)
    client = TestClient(create_app(store))
    path = wrong_footer(tmp_path)

    def upload(kind="dsr", headers=None, **form):
        with open(path, "rb") as fh:
            return client.post(f"/ingest/{kind}", files={"file": (path.name, fh)}, data=form, headers=headers or {})

    auth = {"Authorization": f"Bearer {token}"}
    assert upload(footer_policy="accept-with-warning").status_code == 401
    refused = upload(headers=auth)
    assert refused.status_code == 422 and {p["field"] for p in refused.json()["problems"]} == {
        "NumberOfLinesInFile", "NumberOfBlocksInFile"}
    assert upload(headers=auth, footer_policy="ignore").status_code == 422
    wrong_kind = upload("usage", headers=auth, footer_policy="accept-with-warning")
    assert wrong_kind.status_code == 422 and wrong_kind.json()["problems"][0]["field"] == "footer_policy"
    taken = upload(headers=auth, footer_policy="accept-with-warning")
    assert taken.status_code == 201, taken.text
    assert taken.json()["footer_warnings"] == [w.as_dict() for w in expected_warnings()]
    assert sources(store)[0]["footer_warnings"] == taken.json()["footer_warnings"]


def test_the_portal_upload_form_offers_the_policy(sqlite_store, tmp_path):
    from obra.web.app import create_app

    root, _ = create_principal(sqlite_store, "root", AccessRole.ADMIN)
    _, token = create_principal(sqlite_store, "sgae", AccessRole.CMO, by=root)
    c = TestClient(create_app(sqlite_store), base_url="https://testserver")
    csrf = re.compile(r'name="csrf_token" value="([^"]+)"')

    def token_of(page: str) -> str:
        return csrf.search(c.get(page).text).group(1)

    r = c.post("/portal/login", data={"csrf_token": token_of("/portal/login"), "name": "sgae", "token": token,
                                      "next": "/portal/"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    form = c.get("/portal/usage").text
    assert 'name="footer_policy" value="refuse" checked' in form and 'value="accept-with-warning"' in form
    path = wrong_footer(tmp_path)

    def post(policy: str):
        return c.post("/portal/usage", data={"csrf_token": token_of("/portal/usage"), "kind": "dsr",
                                             "footer_policy": policy},
                      files={"report": (path.name, path.read_bytes(), "text/tab-separated-values")})

    refused = post("refuse")
    assert refused.status_code == 422 and "nothing was saved" in refused.text and "NumberOfBlocksInFile" in refused.text
    taken = post("accept-with-warning")
    assert taken.status_code == 201, taken.text
    assert "FOOT says NumberOfBlocksInFile = 5, but the file has 3" in taken.text
    assert sources(sqlite_store)[0]["footer_warnings"][1]["stated"] == 5
