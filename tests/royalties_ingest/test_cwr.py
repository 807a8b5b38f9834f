"""CISAC CWR: the public samples parse into works whose shares add up; bad files are refused whole."""

from __future__ import annotations

from decimal import Decimal

import pytest

from obra.errors import InvalidInput
from obra.model import share_problems
from obra.royalties.cwr import parse_cwr
from obra.royalties.usage_store import ingest_cwr
from obra.registry.service import Registry

from .samples import DEMO_22, NWR, REV, variant


def test_nwr_sample_reconciles_and_shares_make_100_percent():
    parsed = parse_cwr(NWR)
    assert parsed.version == "2.1" and parsed.groups == 1 and parsed.records == 12
    assert parsed.transactions == {"NWR": 1}
    (work,) = parsed.works
    assert work.title == "THE WORK"
    assert share_problems(list(work.shares)) == []
    performance = {s.party: s.share for s in work.shares if s.right_type == "performance"}
    # writer John Doe collects 25 (SWT), administrator The Sender 25 (SPT), other writer Jane Doe 50 (OWR).
    assert performance == {"cwr:2RDRB3FHX": Decimal("25"), "cwr:ILE7GIQMJ": Decimal("25"),
                           "cwr:JZL2GMGV3": Decimal("50")}
    assert {p.key: p.name for p in parsed.parties}["cwr:2RDRB3FHX"] == "JOHN DOE"


def test_rev_sample_has_two_works_with_alternate_titles():
    parsed = parse_cwr(REV)
    assert parsed.transactions == {"REV": 2}
    assert [w.title for w in parsed.works] == ["THE ONE", "SECOND BEST"]
    assert [t.title for t in parsed.works[0].alternate_titles] == [
        "THE ONE BED", "THE ONE DRUMS ONLY", "THE ONE NO DRUMS", "THE ONE STING"]
    assert all(share_problems(list(w.shares)) == [] for w in parsed.works)


def test_cut_down_22_sample_is_refused_for_its_stale_counts():
    # demo_cwr_cleaned.v22 was trimmed from a larger file: GRT/TRL still count 39 transactions.
    with pytest.raises(InvalidInput) as err:
        parse_cwr(DEMO_22)
    located = {(p.line, p.field) for p in err.value.problems}
    assert (92, "Transaction Count") in located and (93, "Record Count") in located
    assert (38, "Record Type") in located          # an ACK transaction inside a REV group


def test_wrong_group_record_count(tmp_path):
    bad = variant(tmp_path, NWR, lambda ls: [l.replace("GRT000010000000100000010", "GRT000010000000100000011")
                                             for l in ls])
    with pytest.raises(InvalidInput) as err:
        parse_cwr(bad)
    assert [(p.line, p.field) for p in err.value.problems] == [(11, "Record Count")]


def test_overlong_record_and_bad_share(tmp_path):
    def edit(ls):
        ls[5] = ls[5][:34] + "0A500" + ls[5][39:]      # SPT PR collection share not digits
        ls[6] = ls[6].ljust(180) + "XYZ"                # SWR longer than 180 characters
        return ls
    with pytest.raises(InvalidInput) as err:
        parse_cwr(variant(tmp_path, NWR, edit))
    assert {(p.line, p.field) for p in err.value.problems} == {(6, "PR Collection Share"), (7, "Record Length")}


def test_invalid_iswc_is_located(tmp_path):
    def edit(ls):
        ls[2] = ls[2][:95] + "T1234567890" + ls[2][106:]
        return ls
    with pytest.raises(InvalidInput) as err:
        parse_cwr(variant(tmp_path, NWR, edit))
    assert [(p.line, p.field) for p in err.value.problems] == [(3, "ISWC")]


def test_cwr_import_registers_works_once(store, admin):
    first = ingest_cwr(store, REV, admin)
    assert first["changed"] and len(first["works"]) == 2
    again = ingest_cwr(store, REV, admin)
    assert not again["changed"] and again["works"] == first["works"]
    record = Registry(store).show(first["works"][0]).to_dict()
    assert "THE ONE" in str(record)
    assert len(store.repertoire().works) == 2
