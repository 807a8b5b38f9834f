"""CISAC CWR: the public samples parse into works whose shares add up; bad files are refused whole."""

from __future__ import annotations

from decimal import Decimal

import pytest

from obra.errors import InvalidInput
from obra.model import share_problems
from obra.royalties.formats.cwr import parse_cwr
from obra.royalties.pipeline import ingest_cwr
from obra.registry.service import Registry

from ..samples import DEMO_22, NWR, REV, variant


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
    # Synchronisation (SR): the administrator's SPT collects 50, Jane Doe's OWR holds 50.
    sync = {s.party: s.share for s in work.shares if s.right_type == "synchronisation"}
    assert sync == {"cwr:ILE7GIQMJ": Decimal("50"), "cwr:JZL2GMGV3": Decimal("50")}


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


def test_a_digit_that_is_not_ascii_is_a_located_problem_not_a_crash(tmp_path):
    """'²' is a digit to str.isdigit() and not to int(): a numeric field holding it is named, not a crash."""
    def edit(ls):
        ls[5] = ls[5][:34] + "0²500" + ls[5][39:]      # SPT PR collection share
        return ls
    with pytest.raises(InvalidInput) as err:
        parse_cwr(variant(tmp_path, NWR, edit))
    assert {(p.line, p.field) for p in err.value.problems} == {(6, "PR Collection Share")}


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


def _repaired_demo(tmp_path):
    """The 2.2 demo with what the trimming broke put right: drop the stray ACK/MSG, renumber
    sequences, recount GRT/TRL, and give the made-up IPI numbers valid check digits."""
    from obra.ids import ipi_name_check

    def fix_ipi(line: str, start: int) -> str:
        body = line[start - 1:start + 8]
        return line[:start - 1] + body + ipi_name_check(body) + line[start + 10:] if body.strip("0 ") else line

    kept = [l for i, l in enumerate(DEMO_22.read_text().split("\n"), start=1) if i not in (38, 39) and l]
    out, tx, rec = [], -1, 0
    for line in kept:
        kind = line[:3]
        if kind in ("SPU", "OPU"):
            line = fix_ipi(line, 88)
        elif kind in ("SWR", "OWR"):
            line = fix_ipi(line, 116)
        if kind in ("NWR", "REV"):
            tx, rec = tx + 1, 0
            line = f"{kind}{tx:08d}{0:08d}{line[19:]}"
        elif kind not in ("HDR", "GRH", "GRT", "TRL"):
            rec += 1
            line = f"{kind}{tx:08d}{rec:08d}{line[19:]}"
        out.append(line)
    out = [f"GRT00001{tx + 1:08d}{len(out) - 2:08d}{l[24:]}" if l.startswith("GRT") else
           f"TRL00001{tx + 1:08d}{len(out):08d}" if l.startswith("TRL") else l for l in out]
    path = tmp_path / "demo_repaired.v22"
    path.write_text("\n".join(out) + "\n")
    return path


def test_repaired_22_sample_gives_territorial_shares(tmp_path):
    parsed = parse_cwr(_repaired_demo(tmp_path))
    assert parsed.version == "2.2" and sum(parsed.transactions.values()) == 9
    # Two of the demo's made-up works really do not add up (writers' MR ownership on top of a
    # full publisher MR share; a writer who collects only in BE and NL): the registry refuses those.
    unbalanced = {w.title: [p.message for p in share_problems(list(w.shares))] for w in parsed.works}
    assert {t for t, p in unbalanced.items() if p} == {"MIDNIGHT SERENADE", "FORGOTTEN MELODY"}
    golden = next(w for w in parsed.works if w.title == "GOLDEN HORIZON")
    shares = {(s.party, s.right_type.value, s.territory): s.share for s in golden.shares}
    # Crown collects 50% PR world-wide but is excluded from Belgium, where Hops collects instead.
    assert shares[("cwr:P00000001", "performance", "2WL")] == Decimal("50")
    assert ("cwr:P00000001", "performance", "BE") not in shares
    assert shares[("cwr:P00000002", "performance", "BE")] == Decimal("50")
    assert shares[("cwr:C00000001", "performance", "BE")] == Decimal("50")
    assert shares[("cwr:P00000002", "mechanical", "BE")] == Decimal("100")
    forgotten = next(w for w in parsed.works if w.title == "FORGOTTEN MELODY")
    shares = {(s.party, s.right_type.value, s.territory): s.share for s in forgotten.shares}
    # In one chain, Tulip (sub-publisher for NL) displaces Hops (world) in the Netherlands only.
    assert shares[("cwr:P00000003", "mechanical", "NL")] == Decimal("100")
    assert ("cwr:P00000002", "mechanical", "NL") not in shares
    assert shares[("cwr:P00000002", "mechanical", "2WL")] == Decimal("100")


def test_a_rev_transaction_corrects_the_work_its_submitter_number_names(store, admin, tmp_path):
    first = ingest_cwr(store, REV, admin)
    assert first["revised"] == []  # nothing registered under those numbers yet: registered as new
    original = REV.read_text()
    revised_text = original.replace("THE ONE" + " " * 5, "THE ONLY ONE", 1)
    assert len(revised_text) == len(original) and revised_text != original
    revised_file = tmp_path / "revexample-2.V21"
    revised_file.write_text(revised_text)
    second = ingest_cwr(store, revised_file, admin)
    assert second["works"] == [] and sorted(second["revised"]) == sorted(first["works"])
    registry = Registry(store)
    history = registry.history(first["works"][0])
    assert [h.version for h in history] == [1, 2]
    assert history[-1].record["work"]["title"] == "THE ONLY ONE"
    assert history[-1].reason == "revised by revexample-2.V21"
    assert len(store.repertoire().works) == 2
