"""The standalone statement verifier (tests/royalties/statement_verifier.py, printed in docs/royalties.md)
recomputes real statements' hashes, agrees with the ``jcs`` package byte for byte, and refuses
a statement changed by one byte.

The runs are real: the public YouTube DSR sample (tests/data/dsr) is ingested into a store whose
catalogue holds two of its recordings, then distributed pro rata (twice: the second run supersedes
the first), and artist-centric with the Deezer 2023 preset.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import jcs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from obra.access import create_principal
from obra.app import Obra
from obra.canonical import content_hash as obra_content_hash
from obra.model.vocab import AccessRole
from obra.registry.service import Registry
from obra.royalties.pipeline import ingest_dsr, run_period
from obra.store import Store
from tests.royalties import statement_verifier as verifier

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "royalties.md"
YOUTUBE = ROOT / "tests" / "data" / "dsr" / "DSR_TEST_YouTube_AdSupport-music_2015-Q4_IS_1of1_20160121T150926.tsv"
#: A title with Icelandic letters, CJK and an emoji outside the Basic Multilingual Plane.
TITLE = "Þessi beiska jörð — 苦い大地 🌍"


@pytest.fixture(scope="module")
def distributed(tmp_path_factory) -> dict:
    """Three kept runs of the DSR sample's period 2015-Q4, with their reports and journal events."""
    home = tmp_path_factory.mktemp("statement-verifier")
    store = Store.open(f"sqlite:///{home / 'obra.db'}", home / "home", migrate=True)
    root, _ = create_principal(store, "root", AccessRole.ADMIN)
    cmo, _ = create_principal(store, "clerk", AccessRole.CMO, by=root)
    reg = Registry(store)
    singer = reg.add_party(root, {"name": "Sigrún Jónsdóttir", "roles": ["performer"]})
    label = reg.add_party(root, {"name": "Útgáfan Hljómur", "kind": "organisation", "roles": ["label"]})
    player = reg.add_party(root, {"name": "Kári Björnsson", "roles": ["performer"]})
    reg.add_agreement(root, {"kind": "recording_contract", "assignor": singer.id, "assignee": label.id,
                             "rights": ["making_available"], "start": "2010-01-01", "retained": "0.8"})
    for party, isrc, title in ((singer, "USRH10903879", TITLE), (player, "USUV71101875", "All I Want Is You")):
        reg.register(root, "recording", {
            "title": title, "isrc": isrc, "performers": [{"party": party.id}],
            "shares": [{"party": party.id, "right_type": "making_available", "territory": "2WL", "share": "100"}]})
    ingest_dsr(store, YOUTUBE, cmo)
    reports = [run_period(store, cmo, "2015-Q4", model="pro-rata"),
               run_period(store, cmo, "2015-Q4", model="pro-rata"),
               run_period(store, cmo, "2015-Q4", model="artist-centric", params="deezer-2023")]
    events = {e["payload"]["run"]: e for e in Obra(store).read_journal(cmo, kind="distribution.run", limit=None)}
    yield {"reports": reports, "events": events, "payees": {str(singer.id), str(label.id), str(player.id)}}
    store.dispose()


def statement_files(report: dict) -> list[Path]:
    return sorted(Path(report["directory"]).glob("statements/*.json"))


# --------------------------------------------------------------------------- (a) real statements and runs
def test_the_verifier_recomputes_every_statement_and_each_runs_hash(distributed):
    first, second, artist_centric = distributed["reports"]
    assert second["supersedes"] == [first["run"]]  # the superseded run is checked like the others
    for report in distributed["reports"]:
        files = statement_files(report)
        assert {verifier.check_statement(f)["payee"] for f in files} == distributed["payees"]
        for path in files:
            statement = verifier.check_statement(path)
            assert statement["content_hash"] == report["statements"][statement["payee"]]["content_hash"]
            assert verifier.content_hash(statement) == obra_content_hash(statement)
        run_hash = verifier.check_run(Path(report["directory"]))
        assert run_hash == report["statements_hash"]
        assert run_hash == distributed["events"][report["run"]]["payload"]["statements_hash"]
    assert json.loads(statement_files(artist_centric)[0].read_text())["model"]["params"]["per_user_cap"] == 1000


def test_the_statements_carry_what_canonicalisation_must_get_right(distributed):
    """Guards the test above: non-ASCII and non-BMP titles, nulls, lists and integers are really there."""
    text = b"".join(p.read_bytes() for p in statement_files(distributed["reports"][0])).decode("utf-8")
    assert TITLE in text and "§" in text and "null" in text and '"amount_minor":' in text


# --------------------------------------------------------------------------- (b) agreement with jcs
def test_agrees_with_jcs_on_every_real_statement_byte_for_byte(distributed):
    for report in distributed["reports"]:
        for path in statement_files(report):
            statement = json.loads(path.read_bytes())
            assert verifier.canonicalize(statement) == jcs.canonicalize(statement)
            assert path.read_bytes() == verifier.canonicalize(statement) + b"\n"  # the file is its JCS form


SPECIAL = ["\x00", "\x01", "\b", "\t", "\n", "\x0b", "\f", "\r", "\x1f", '"', "\\", "/", "\x7f", "\u0080",
           "\u2028", "\u20ac", "\ufb33", "\uffff", "平", "和", "🎵", "😀", "\U0010ffff", "é", "ß"]
TEXT = st.text(st.sampled_from(SPECIAL) | st.characters(exclude_categories=["Cs"]), max_size=12)
SCALARS = (st.none() | st.booleans() | st.integers(-(2**53), 2**53) | TEXT
           | st.floats(allow_nan=False, allow_infinity=False))
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=5),
                    max_leaves=25)


@settings(max_examples=400, deadline=None)
@given(JSON)
def test_agrees_with_jcs_on_generated_json(value):
    assert verifier.canonicalize(value) == jcs.canonicalize(value)


@settings(max_examples=150, deadline=None)
@given(title=TEXT, payee=TEXT, notes=st.lists(TEXT, max_size=3), amount=st.integers(-(2**53), 2**53),
       share=st.floats(allow_nan=False, allow_infinity=False))
def test_agrees_with_jcs_on_statements_with_generated_content(distributed, title, payee, notes, amount, share):
    statement = json.loads(statement_files(distributed["reports"][0])[0].read_bytes())
    assert statement["lines"], "the first payee (the singer) has an amount line"
    statement.update(payee=payee, notes=notes)
    statement["lines"][0].update(title=title, amount_minor=amount, share=share)
    statement["model"]["params"] = {title: amount, payee: [share, None, True]}
    assert verifier.canonicalize(statement) == jcs.canonicalize(statement)
    assert verifier.content_hash(statement) == obra_content_hash(statement)


#: RFC 8785 Appendix B: IEEE 754 doubles (as hex) and their canonical form.
APPENDIX_B = [
    ("0000000000000000", "0"), ("8000000000000000", "0"), ("0000000000000001", "5e-324"),
    ("8000000000000001", "-5e-324"), ("7fefffffffffffff", "1.7976931348623157e+308"),
    ("ffefffffffffffff", "-1.7976931348623157e+308"), ("4340000000000000", "9007199254740992"),
    ("c340000000000000", "-9007199254740992"), ("4430000000000000", "295147905179352830000"),
    ("44b52d02c7e14af5", "9.999999999999997e+22"), ("44b52d02c7e14af6", "1e+23"),
    ("44b52d02c7e14af7", "1.0000000000000001e+23"), ("444b1ae4d6e2ef4e", "999999999999999700000"),
    ("444b1ae4d6e2ef4f", "999999999999999900000"), ("444b1ae4d6e2ef50", "1e+21"),
    ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"), ("3eb0c6f7a0b5ed8d", "0.000001"),
    ("41b3de4355555553", "333333333.3333332"), ("41b3de4355555554", "333333333.33333325"),
    ("41b3de4355555555", "333333333.3333333"), ("41b3de4355555556", "333333333.3333334"),
    ("41b3de4355555557", "333333333.33333343"), ("becbf647612f3696", "-0.0000033333333333333333"),
    ("43143ff3c1cb0959", "1424953923781206.2"),
]


@pytest.mark.parametrize(("bits", "expected"), APPENDIX_B)
def test_numbers_are_written_as_rfc_8785_appendix_b_says(bits, expected):
    assert verifier.es6_number(struct.unpack(">d", bytes.fromhex(bits))[0]) == expected


def test_the_rfc_example_sorts_members_by_utf16_code_units_not_code_points():
    # RFC 8785 §3.2.3: the emoji (surrogates D83D DE00) sorts before U+FB33, unlike in code point order.
    value = json.loads('{"\\u20ac": "Euro Sign", "\\r": "Carriage Return", "\\ufb33": "Hebrew Letter Dalet With '
                       'Dagesh", "1": "One", "\\ud83d\\ude00": "Emoji: Grinning Face", "\\u0080": "Control", '
                       '"\\u00f6": "Latin Small Letter O With Diaeresis"}')
    order = [v for v in json.loads(verifier.canonicalize(value)).values()]
    assert order == ["Carriage Return", "One", "Control", "Latin Small Letter O With Diaeresis", "Euro Sign",
                     "Emoji: Grinning Face", "Hebrew Letter Dalet With Dagesh"]


def test_escaping_and_numbers_of_the_reference_test_data():
    # cyberphone/json-canonicalization testdata/input/values.json and output/values.json (the RFC's example)
    given_text = ('{"numbers": [1E30, 4.50, 333333333.33333329, 2e-3, 0.000000000000000000000000001], '
                  '"escaping": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/", '
                  '"literals": [null, true, false]}')
    expected = ('{"escaping":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/","literals":[null,true,false],'
                '"numbers":[1e+30,4.5,333333333.3333333,0.002,1e-27]}')
    assert verifier.canonicalize(json.loads(given_text)) == expected.encode("utf-8")


@pytest.mark.parametrize(("value", "reason"), [
    (float("nan"), "finite numbers only"), (float("-inf"), "finite numbers only"),
    (2**53 + 1, "beyond ±2\\*\\*53"), ({"title": "bad \ud800 text"}, "lone surrogate"),
    ({"\udfff": 1}, "lone surrogate"), ({1: "one"}, "member names must be strings"), (b"bytes", "not a JSON value"),
])
def test_values_without_an_rfc_8785_form_are_refused_with_the_reason(value, reason):
    with pytest.raises(verifier.Refused, match=reason):
        verifier.canonicalize(value)


def test_a_member_named_twice_is_refused(tmp_path):
    path = tmp_path / "twice.json"
    path.write_text('{"payee": "1", "content_hash": "00", "payee": "2"}')
    with pytest.raises(verifier.Refused, match="'payee' appears twice"):
        verifier.check_statement(path)


# --------------------------------------------------------------------------- (c) one byte changed
def test_one_amount_changed_makes_the_statement_fail(distributed, tmp_path):
    source = next(p for p in statement_files(distributed["reports"][1]) if json.loads(p.read_bytes())["lines"])
    statement = json.loads(source.read_bytes())
    statement["lines"][0]["amount_minor"] += 1
    tampered = tmp_path / source.name
    tampered.write_bytes(verifier.canonicalize(statement) + b"\n")
    with pytest.raises(verifier.Refused, match="does not match the content"):
        verifier.check_statement(tampered)


def test_any_digit_changed_in_the_file_makes_the_statement_fail(distributed, tmp_path):
    data = statement_files(distributed["reports"][1])[0].read_bytes()
    amount = re.search(rb'"amount_minor":(\d)', data)
    at = amount.start(1)
    tampered = tmp_path / "statement.json"
    tampered.write_bytes(data[:at] + str((int(data[at:at + 1]) + 1) % 10).encode() + data[at + 1:])
    with pytest.raises(verifier.Refused, match="does not match the content"):
        verifier.check_statement(tampered)


def test_a_run_with_a_statement_changed_or_removed_fails(distributed, tmp_path):
    report = distributed["reports"][1]
    changed = shutil.copytree(report["directory"], tmp_path / "changed")
    path = max(changed.glob("statements/*.json"))
    statement = json.loads(path.read_bytes())
    statement["totals"][next(iter(statement["totals"]))]["net_minor"] -= 1
    statement["content_hash"] = verifier.content_hash(statement)  # re-hashed: only the run hash can tell
    path.write_bytes(verifier.canonicalize(statement) + b"\n")
    with pytest.raises(verifier.Refused, match="run.json records content_hash"):
        verifier.check_run(changed)
    removed = shutil.copytree(report["directory"], tmp_path / "removed")
    min(removed.glob("statements/*.json")).unlink()
    with pytest.raises(verifier.Refused, match="statements hash to"):
        verifier.check_run(removed)


# --------------------------------------------------------------------------- (d) the code in the docs
@pytest.fixture
def documented(tmp_path) -> Path:
    """The "Checking a statement" code block of docs/royalties.md, written out as a script."""
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.DOTALL)
    [code] = [b for b in blocks if b.startswith("# statement_verifier.py")]
    assert code == Path(verifier.__file__).read_text(encoding="utf-8"), "docs/royalties.md differs from the file"
    imported = {(node.module if isinstance(node, ast.ImportFrom) else alias.name).split(".")[0]
                for node in ast.walk(ast.parse(code)) if isinstance(node, (ast.Import, ast.ImportFrom))
                for alias in node.names}
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}, imported - set(sys.stdlib_module_names)
    script = tmp_path / "statement_verifier.py"
    script.write_text(code, encoding="utf-8")
    return script


def run_script(script: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-I", str(script), *args], capture_output=True, text=True,
                          timeout=60, check=False)


def test_the_documented_script_accepts_a_real_statement_and_refuses_a_tampered_one(distributed, documented,
                                                                                  tmp_path):
    report = distributed["reports"][1]
    good = statement_files(report)[0]
    result = run_script(documented, str(good))
    assert result.returncode == 0, result.stderr
    assert json.loads(good.read_bytes())["content_hash"] in result.stdout

    statement = json.loads(good.read_bytes())
    statement["totals"][next(iter(statement["totals"]))]["net_minor"] += 100
    tampered = tmp_path / good.name
    tampered.write_text(json.dumps(statement, indent=2, ensure_ascii=False), encoding="utf-8")
    result = run_script(documented, str(tampered))
    assert result.returncode == 1 and "FAILED" in result.stderr and "does not match" in result.stderr

    result = run_script(documented, "--run", report["directory"])
    assert result.returncode == 0, result.stderr
    assert report["statements_hash"] in result.stdout


def test_the_documented_script_reads_a_pretty_printed_copy_by_its_content(distributed, documented, tmp_path):
    """The hash covers the content, not the layout: an indented copy of a statement still checks."""
    good = statement_files(distributed["reports"][0])[-1]
    pretty = tmp_path / good.name
    pretty.write_text(json.dumps(json.loads(good.read_bytes()), indent=2), encoding="utf-8")  # \u escapes too
    assert hashlib.sha256(pretty.read_bytes()).hexdigest() != hashlib.sha256(good.read_bytes()).hexdigest()
    assert run_script(documented, str(pretty)).returncode == 0
