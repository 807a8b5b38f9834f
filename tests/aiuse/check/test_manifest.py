"""Reading manifests: every row kept or reported by line and field, the vectorised readings equal to the reference ones."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from obra.aiuse.check.manifest import decode_iscc, manifest_from_table, read_manifest
from obra.aiuse.signals.paths import normalize_path, path_of
from obra.errors import InvalidInput
from obra.identify.iscc import parse_code

from .conftest import DATA

LONG = 20 if __import__("os").environ.get("OBRA_LONG_TESTS") == "1" else 1


def test_jsonl_broken_lines_are_reported_and_kept_as_unreadable_items():
    manifest = read_manifest(DATA / "manifest.jsonl")
    assert manifest.rows == 20 and manifest.unreadable == 2
    assert manifest.items["line"].to_pylist() == list(range(1, 21))
    found = {(p.line, p.field) for p in manifest.problems}
    assert {(12, None), (13, "url"), (20, "sha256"), (20, "iscc"), (10, "crawled_at")} <= found
    assert len(manifest.sha256) == 64 and manifest.size == (DATA / "manifest.jsonl").stat().st_size


def test_jsonl_fast_and_line_by_line_readings_agree(tmp_path):
    good = [json.loads(line) for line in (DATA / "manifest.jsonl").read_text().splitlines() if line.startswith("{")]
    clean = tmp_path / "clean.jsonl"
    clean.write_text("".join(json.dumps(x) + "\n" for x in good))
    broken = tmp_path / "broken.jsonl"
    broken.write_text("".join(json.dumps(x) + "\n" for x in good) + "{oops\n\n")
    fast, slow = read_manifest(clean), read_manifest(broken)
    columns = ["url", "origin", "path", "sha256", "content_kind", "content_body", "instance_body", "hsig", "crawled_at"]
    assert fast.items.select(columns).to_pylist() == slow.items.select(columns).slice(0, fast.rows).to_pylist()
    assert slow.rows == fast.rows + 1
    assert (len(good) + 1, None) in {(p.line, p.field) for p in slow.problems}


def test_csv_lines_are_physical_lines_even_with_values_over_two_lines():
    manifest = read_manifest(DATA / "manifest.csv")
    rows = manifest.items.select(["line", "url", "error"]).to_pylist()
    assert [r["line"] for r in rows] == [2, 3, 5, 7, 8, 9, 10]          # line 6 is blank: not an item
    assert rows[2]["error"] == "6 cells where the header row has 5"
    assert rows[4]["error"].startswith("no url") and rows[5]["error"].startswith("url is not")
    assert {(p.line, p.field) for p in manifest.problems} >= {(5, None), (8, "url"), (9, "url"), (3, "headers")}
    assert json.loads(manifest.items["hsig"][0].as_py()) == [["Content-Usage", "train-ai=n"]]


def test_csv_without_a_url_column_is_refused_with_a_hint(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("link,sha256\nhttps://a.example/,\n")
    with pytest.raises(InvalidInput) as caught:
        read_manifest(path)
    assert caught.value.problems[0].field == "url" and "header row" in caught.value.hint


def test_parquet_rows_are_numbered_and_headers_may_be_a_map(tmp_path):
    table = pa.table({
        "url": ["https://a.example/x", None, "https://a.example/y"],
        "headers": pa.array([[("Content-Usage", "train-ai=n")], [], [("X-Robots-Tag", "noai")]],
                            pa.map_(pa.string(), pa.string())),
        "crawled_at": pa.array([1_700_000_000_000_000, None, None], pa.timestamp("us", tz="UTC")),
    })
    path = tmp_path / "m.parquet"
    pq.write_table(table, path)
    manifest = read_manifest(path)
    assert manifest.items["line"].to_pylist() == [1, 2, 3]
    assert manifest.problems[0].line == 2 and manifest.problems[0].field == "url"
    bundles = {b.get("content-usage") or b.get("x-robots-tag") for b in manifest.bundles.values()}
    assert bundles == {("train-ai=n",), ("noai",)}
    assert manifest.items["crawled_at"][0].as_py().year == 2023
    same = manifest_from_table(table)
    assert same.items["hsig"].to_pylist() == manifest.items["hsig"].to_pylist() and len(same.sha256) == 64


def test_header_names_are_case_insensitive_and_field_lines_kept_in_order(tmp_path):
    path = tmp_path / "m.jsonl"
    path.write_text(json.dumps({"url": "https://a.example/", "headers": {
        "content-usage": "train-ai=n", "CONTENT-USAGE": ["search=y", "train-ai=y"], "Link": "<https://l/>; rel=x",
        "Date": "today", "tdm-reservation": None}}) + "\n")
    manifest = read_manifest(path)
    (bundle,) = manifest.bundles.values()
    assert bundle.get("content-usage") == ("train-ai=n", "search=y", "train-ai=y")
    assert bundle.get("link") == ("<https://l/>; rel=x",) and "date" not in bundle.fields
    assert any("tdm-reservation" in p for p in bundle.problems)


# --- the vectorised readings equal the reference ones ----------------------------------------------

def _unit(mt: int, st_: int, body: bytes) -> str:
    import iscc_core as ic

    return "ISCC:" + ic.encode_component(mt, st_, ic.VS.V0, 64, body)


@st.composite
def iscc_codes(draw):
    import iscc_core as ic

    content_type = draw(st.sampled_from([ic.ST_CC.TEXT, ic.ST_CC.IMAGE, ic.ST_CC.AUDIO, ic.ST_CC.VIDEO]))
    bodies = [draw(st.binary(min_size=8, max_size=8)) for _ in range(4)]
    units = []
    if draw(st.booleans()):
        units.append(_unit(ic.MT.META, ic.ST.NONE, bodies[0]))
    if draw(st.booleans()):
        units.append(_unit(ic.MT.CONTENT, content_type, bodies[1]))
    units += [_unit(ic.MT.DATA, ic.ST.NONE, bodies[2]), _unit(ic.MT.INSTANCE, ic.ST.NONE, bodies[3])]
    shape = draw(st.sampled_from(["composite", "content-unit", "instance-unit", "junk"]))
    if shape == "composite":
        code = ic.gen_iscc_code_v0(units)["iscc"]
    elif shape == "content-unit":
        code = _unit(ic.MT.CONTENT, content_type, bodies[1])
    elif shape == "instance-unit":
        code = units[-1]
    else:
        code = draw(st.text(alphabet="ISCC:ABCDEFGHIJKLMNOPQRSTUVWXYZ234567-!a", max_size=40))
    if draw(st.booleans()):
        code = code.removeprefix("ISCC:").lower()
    return code


@settings(max_examples=40 * LONG, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(iscc_codes(), min_size=1, max_size=25))
def test_vectorised_iscc_decoding_equals_the_reference_parser(codes):
    kind, content, instance, errors = decode_iscc(pa.array(codes, pa.string()))
    bad = dict(errors)
    for i, code in enumerate(codes):
        try:
            units = parse_code(code)
        except InvalidInput:
            assert i in bad, code
            continue
        assert i not in bad, (code, bad.get(i))
        want_content = next((u for u in units if u.kind.startswith("content")), None)
        want_instance = next((u for u in units if u.kind == "instance"), None)
        assert kind[i].as_py() == (want_content.kind if want_content else None)
        got = content[i].as_py()
        assert (None if got is None else got % 2**64) == (want_content.body if want_content else None)
        got = instance[i].as_py()
        assert (None if got is None else got % 2**64) == (want_instance.body if want_instance else None)


url_paths = st.lists(st.sampled_from(list("/abcXYZ09-._~%*$?=&:;@+,!'()#") + ["%41", "%2f", "%zz", "é", "💡"]),
                     max_size=30).map("".join)


@settings(max_examples=60 * LONG, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(["https://a.example", "http://B.Example:80", "https://u:p@c.example:8443"]),
                          url_paths), min_size=1, max_size=20))
def test_vectorised_paths_equal_rfc_9309_normalisation_of_path_of(pairs):
    urls = [origin + ("/" if path and not path.startswith(("/", "?", "#")) else "") + path for origin, path in pairs]
    manifest = manifest_from_table(pa.table({"url": urls}))
    for url, path, origin in zip(urls, manifest.items["path"].to_pylist(), manifest.items["origin"].to_pylist()):
        if manifest.items["error"][urls.index(url)].as_py():
            continue
        assert path == normalize_path(path_of(url)), url
        assert origin in ("https://a.example", "http://b.example", "https://c.example:8443")


@settings(max_examples=30 * LONG, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.dictionaries(st.sampled_from(["url", "headers", "sha256", "iscc", "crawled_at", "c2pa", "x"]),
                                st.one_of(st.none(), st.integers(), st.text(max_size=20), st.lists(st.text(max_size=5)),
                                          st.dictionaries(st.text(max_size=15), st.one_of(
                                              st.text(max_size=20), st.integers(), st.lists(st.text(max_size=8))),
                                              max_size=4)),
                                max_size=6), min_size=1, max_size=15))
def test_junk_rows_never_crash_and_every_row_is_an_item_or_a_reported_problem(tmp_path_factory, rows):
    path = tmp_path_factory.mktemp("junk") / "m.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    manifest = read_manifest(path)
    assert manifest.rows == len(rows)
    errors = manifest.items["error"].to_pylist()
    lines_with_errors = {p.line for p in manifest.problems if p.field in (None, "url")}
    assert {i + 1 for i, e in enumerate(errors) if e} == lines_with_errors
    assert np.all(manifest.items["line"].to_numpy() == np.arange(1, len(rows) + 1))
