"""CWR interested parties are found again by (sender, Interested Party #), not created again per file.

The files are the real ``revexample.V21`` sample (sender 000000199, DMP DEMO PUBLISHING:
publisher DMP with IPI 00000000199, writer W000001 JOHN JAMES SMITH with IPI 00000000395,
writer W000003 AARON ADAMS with no IPI) and copies of it edited as a publisher's next
month would be: another HDR date, other submitter work numbers, or another sender.
"""

from __future__ import annotations

import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from obra.errors import InvalidInput
from obra.ids import ipi_name_check
from obra.model import Party
from obra.model.party import PartyIdentifier
from obra.registry.parties import find_or_insert_party, get_party
from obra.registry.service import Registry
from obra.royalties.formats.cwr import parse_cwr
from obra.royalties.ingest import read_manifest
from obra.royalties.pipeline import ingest_cwr
from obra.store.schema import contributors, parties, party_identifiers, registrations, shares

from .samples import REV, variant

# 1-based lines of revexample.V21
HDR, WORK_1, SWR_SMITH_1, WORK_2, SWR_SMITH_2, OWR_ADAMS = 1, 3, 6, 16, 19, 22


def _ipi(body: str) -> str:
    return body + ipi_name_check(body)


def _put(line: str, first: int, last: int, value: str) -> str:
    """Overwrite columns first..last (1-based, inclusive) of a fixed-width record."""
    assert len(value) == last - first + 1, value
    return line[:first - 1] + value + line[last:]


def _month(tmp_path, name: str, *, sender: str | None = None, sender_name: str | None = None,
           works: tuple[str, str] = ("DMP000011", "DMP000012"), titles: tuple[str, str] = ("THE TWO", "THIRD BEST"),
           ipis: dict[int, str] | None = None, names: dict[int, tuple[str, str]] | None = None):
    """revexample.V21 as a later file: new HDR date, new works (numbers, titles), optional edits."""
    def edit(lines: list[str]) -> list[str]:
        lines = list(lines)
        hdr = _put(lines[HDR - 1], 65, 72, "20190315")
        if sender:
            hdr = _put(hdr, 6, 14, sender)
        if sender_name:
            hdr = _put(hdr, 15, 59, sender_name.ljust(45))
        lines[HDR - 1] = hdr
        for line, number, title in ((WORK_1, works[0], titles[0]), (WORK_2, works[1], titles[1])):
            lines[line - 1] = _put(_put(lines[line - 1], 20, 79, title.ljust(60)), 82, 95, number.ljust(14))
        for line, ipi in (ipis or {}).items():
            lines[line - 1] = _put(lines[line - 1], 116, 126, ipi)
        for line, (last, first) in (names or {}).items():
            lines[line - 1] = _put(_put(lines[line - 1], 29, 73, last.ljust(45)), 74, 103, first.ljust(30))
        return lines

    return variant(tmp_path, REV, edit, name)


def _counts(store) -> dict[str, int]:
    with store.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in (parties, party_identifiers, registrations, shares, contributors)}


def _party_ids(store, number: str) -> tuple[set[int], set[int]]:
    """(share holders, contributors) of a registered work, as party ids."""
    item = store.repertoire().works[number]
    return ({s.party for s in item.shares}, {c["party"] for c in item.record["work"]["contributors"]})


def _named(store, name: str) -> list[int]:
    return [p.id for p in store.repertoire().parties.values() if p.name == name]


def test_next_months_file_from_the_same_sender_reuses_its_parties(store, admin, tmp_path):
    first = ingest_cwr(store, REV, admin)
    before = _counts(store)
    assert before["parties"] == 3 and before["party_identifiers"] == 3
    [adams] = _named(store, "AARON ADAMS")  # no IPI: only his number W000003 can find him again

    second = ingest_cwr(store, _month(tmp_path, "revexample-2019-03.V21"), admin)

    assert second["changed"] and len(second["works"]) == 2 and second["revised"] == []
    after = _counts(store)
    assert after["parties"] == 3 and after["party_identifiers"] == 3  # nothing new, nothing attached twice
    assert _named(store, "AARON ADAMS") == [adams]
    for old, new in zip(first["works"], second["works"]):
        assert _party_ids(store, new) == _party_ids(store, old)
    holders, writers = _party_ids(store, second["works"][1])
    assert adams in holders and adams in writers
    # Ingesting the same file again stays a no-op.
    again = ingest_cwr(store, _month(tmp_path, "revexample-2019-03.V21"), admin)
    assert not again["changed"] and _counts(store) == after


def test_two_senders_using_the_same_party_number_do_not_merge(store, admin, tmp_path):
    ingest_cwr(store, REV, admin)
    [adams] = _named(store, "AARON ADAMS")
    [smith] = _named(store, "JOHN JAMES SMITH")
    other = _month(tmp_path, "other-sender.V21", sender="000000777", sender_name="OTHER MUSIC PUBLISHING",
                   names={OWR_ADAMS: ("BAKER", "BETTY")})

    result = ingest_cwr(store, other, admin)

    # The other sender's W000003 is Betty Baker, a party of her own, though the number is the same.
    [baker] = _named(store, "BETTY BAKER")
    assert baker != adams and _named(store, "AARON ADAMS") == [adams]
    holders, writers = _party_ids(store, result["works"][1])
    assert baker in writers and adams not in writers and adams not in holders
    # Smith's IPI names him in both files: the other sender's number for him is attached to him.
    assert smith in writers
    registry = Registry(store)
    assert set(registry.party(smith).identifiers) == {PartyIdentifier(scheme="cwr:000000199", value="W000001"),
                                                       PartyIdentifier(scheme="cwr:000000777", value="W000001")}
    assert registry.party(baker).identifiers == (PartyIdentifier(scheme="cwr:000000777", value="W000003"),)
    assert _counts(store)["parties"] == 4


def test_a_conflicting_ipi_for_a_known_party_number_is_refused_and_nothing_written(store, admin, tmp_path):
    ingest_cwr(store, REV, admin)
    before = _counts(store)
    other_ipi = _ipi("000141073")  # 00014107338, a valid IPI that is not Smith's 00000000395
    bad = _month(tmp_path, "revexample-bad-ipi.V21", ipis={SWR_SMITH_1: other_ipi, SWR_SMITH_2: other_ipi})

    with pytest.raises(InvalidInput) as err:
        ingest_cwr(store, bad, admin)

    located = {(p.source, p.line, p.field): p.message for p in err.value.problems}
    message = located[("revexample-bad-ipi.V21", SWR_SMITH_1, "ipi")]
    assert "00014107338" in message and "00000000395" in message and "W000001" in message
    assert "000000199" in message
    assert _counts(store) == before
    assert "revexample-bad-ipi.V21" not in {e["file"] for e in read_manifest(store).values()}


def test_a_later_file_may_give_the_ipi_a_known_party_lacked(store, admin, tmp_path):
    ingest_cwr(store, REV, admin)
    [adams] = _named(store, "AARON ADAMS")
    ipi = _ipi("000000500")
    ingest_cwr(store, _month(tmp_path, "revexample-adams-ipi.V21", ipis={OWR_ADAMS: ipi}), admin)
    assert _named(store, "AARON ADAMS") == [adams]
    assert Registry(store).party(adams).ipi == ipi


def test_a_known_partys_new_ipi_may_not_be_another_partys(store, admin, tmp_path):
    ingest_cwr(store, REV, admin)
    before = _counts(store)
    smiths = "00000000395"  # Smith's IPI, given to Adams's number
    bad = _month(tmp_path, "revexample-adams-smith.V21", ipis={OWR_ADAMS: smiths})
    with pytest.raises(InvalidInput) as err:
        ingest_cwr(store, bad, admin)
    [problem] = [p for p in err.value.problems if p.field == "ipi"]
    assert (problem.line, "JOHN JAMES SMITH" in problem.message, "AARON ADAMS" in problem.message) == (
        OWR_ADAMS, True, True)
    assert _counts(store) == before


def test_a_party_known_by_ipi_gets_the_senders_number(store, admin):
    registry = Registry(store)
    smith = registry.add_party(admin, {"name": "John James Smith", "ipi": "00000000395", "roles": ["composer"]})
    assert registry.party(smith.id).identifiers == ()
    result = ingest_cwr(store, REV, admin)
    holders, writers = _party_ids(store, result["works"][0])
    assert smith.id in writers and smith.id in holders
    assert registry.party(smith.id).identifiers == (PartyIdentifier(scheme="cwr:000000199", value="W000001"),)
    assert _named(store, "JOHN JAMES SMITH") == []  # the name on file is kept: no second Smith


def test_one_party_number_with_two_ipis_in_one_file_is_refused_at_the_second(tmp_path):
    bad = _month(tmp_path, "two-ipis.V21", ipis={SWR_SMITH_2: _ipi("000141073")})
    with pytest.raises(InvalidInput) as err:
        parse_cwr(bad)
    [problem] = err.value.problems
    assert (problem.source, problem.line, problem.field) == ("two-ipis.V21", SWR_SMITH_2, "Writer IPI Name #")
    assert f"line {SWR_SMITH_1}" in problem.message


def test_a_later_mention_in_the_same_file_may_supply_the_ipi(tmp_path):
    blank_first = _month(tmp_path, "late-ipi.V21", ipis={SWR_SMITH_1: "00000000000"})
    smith = next(p for p in parse_cwr(blank_first).parties if p.key == "cwr:W000001")
    assert smith.ipi == "00000000395"


def test_parties_carry_their_senders_numbers():
    parsed = parse_cwr(REV)
    assert {p.key: p.identifiers for p in parsed.parties} == {
        f"cwr:{n}": (PartyIdentifier(scheme="cwr:000000199", value=n),) for n in ("DMP", "W000001", "W000003")}


# An invariant over any order of mentions: one party per (sender, number), always the same one.
_MENTIONS = st.lists(st.tuples(st.sampled_from(["A", "B"]), st.sampled_from(["W1", "W2", "W3"])),
                     min_size=1, max_size=12)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mentions=_MENTIONS)
def test_one_party_per_sender_number_whatever_the_order(sqlite_store, mentions):
    run = uuid.uuid4().hex[:8]  # the store is shared by the examples: each gets senders of its own
    seen: dict[tuple[str, str], int] = {}
    with sqlite_store.begin() as conn:
        for sender, number in mentions:
            party = Party(name=f"Writer {number}", identifiers=(
                PartyIdentifier(scheme=f"cwr:{run}{sender}", value=number),))
            stored, created = find_or_insert_party(conn, party, "test")
            assert created == ((sender, number) not in seen)
            assert seen.setdefault((sender, number), stored.id) == stored.id
        ours = conn.execute(select(func.count()).select_from(party_identifiers)
                            .where(party_identifiers.c.scheme.like(f"cwr:{run}%"))).scalar_one()
        assert ours == len(set(seen.values())) == len(seen)
        assert get_party(conn, seen[mentions[0]]).identifiers == (
            PartyIdentifier(scheme=f"cwr:{run}{mentions[0][0]}", value=mentions[0][1]),)


def test_numbers_that_name_two_different_parties_are_refused(sqlite_store):
    a, b = (PartyIdentifier(scheme="cwr:000000199", value=v) for v in ("W000001", "W000003"))
    with sqlite_store.begin() as conn:
        first, _ = find_or_insert_party(conn, Party(name="John James Smith", identifiers=(a,)), "test")
        second, _ = find_or_insert_party(conn, Party(name="Aaron Adams", identifiers=(b,)), "test")
        with pytest.raises(InvalidInput) as err:
            find_or_insert_party(conn, Party(name="Smith or Adams", identifiers=(a, b)), "test")
    [problem] = err.value.problems
    assert problem.field == "identifiers"
    assert f"#W000001 of CWR sender 000000199 is party {first.id}" in problem.message
    assert f"#W000003 of CWR sender 000000199 is party {second.id}" in problem.message


def test_the_ingest_report_counts_parties_already_on_file(sqlite_store, tmp_path):
    from obra.access import create_principal
    from obra.model.vocab import AccessRole

    admin = create_principal(sqlite_store, "root", AccessRole.ADMIN)[0]
    first = ingest_cwr(sqlite_store, REV, admin)
    assert first["known_parties"] == 0 and first["parties"] > 0
    second = ingest_cwr(sqlite_store, _month(tmp_path, "revexample-2019-03.V21"), admin)
    assert second["known_parties"] == second["parties"] == first["parties"]
