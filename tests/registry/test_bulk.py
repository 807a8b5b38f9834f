"""Bulk registration (issue #18): the same records, numbers, leaves, events and problems as one at a time,
set-based; every registration individually provable; numbers gapless beside concurrent single registrations."""

from __future__ import annotations

import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from obra.errors import InvalidInput
from obra.journal import Journal
from obra.registry.batch import Batch, import_batches
from obra.registry.certificates import certificate_bytes, certificate_for, verify_certificate
from obra.registry.service import Registry
from obra.store.schema import contributors, journal_events, registrations, shares, titles
from obra.transparency.translog import TransparencyLog, log_heads


def _catalogue(n: int = 30) -> dict:
    return {
        "parties": [{"key": "ana", "name": "Ana Compositora", "ipi": "00014107338"},
                    {"key": "luis", "name": "Luis Letrista"}],
        "works": [{"title": f"Canción {i}", "iswc": "T-034.524.680-1" if i == 0 else None,
                   "alternate_titles": [{"title": f"Song {i}"}] if i % 3 == 0 else [],
                   "contributors": [{"party": "ana", "role": "composer"}],
                   "shares": [{"party": "ana", "right_type": "performance", "share": "50"},
                              {"party": "luis", "right_type": "performance", "share": "50"}]}
                  for i in range(n)],
        "recordings": [{"title": "Canción 0 (en vivo)", "works": ["@0"], "performers": [{"party": "luis"}]},
                       {"title": "Canción 1", "works": ["T-034.524.680-1"]}],
    }


def _state(store) -> dict:
    with store.connect() as conn:
        rows = conn.execute(select(registrations.c.number, registrations.c.title, registrations.c.record)
                            .order_by(registrations.c.number)).all()
        counts = {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                  for t in (registrations, titles, shares, contributors, journal_events)}
    bare = [(n, t, {k: v for k, v in r.items() if k not in ("registered_at", "registrant")}) for n, t, r in rows]
    return {"records": bare, "counts": counts, "log": TransparencyLog(store).size()}


def test_bulk_writes_what_registering_one_at_a_time_writes(store, admin, tmp_path):
    import shutil

    from obra.store import Store

    import_batches(store, admin, [Batch(_catalogue(), "cat.json")], method="bulk")
    bulk = _state(store)
    other = Store.open(f"sqlite:///{tmp_path / 'other.db'}", tmp_path / "other", migrate=True)
    try:
        from obra.access import create_principal
        from obra.model.vocab import AccessRole

        admin2, _ = create_principal(other, "admin", AccessRole.ADMIN)
        import_batches(other, admin2, [Batch(_catalogue(), "cat.json")], method="per-record")
        one_by_one = _state(other)
    finally:
        other.dispose()
        shutil.rmtree(tmp_path / "other", ignore_errors=True)
    assert bulk == one_by_one
    # 32 registration leaves, the import's repertoire.imported event and the admin's principal.created
    assert bulk["counts"]["registrations"] == 32 and bulk["log"] == 32 + 1 + 1


def test_every_bulk_registration_is_individually_provable(store, admin):
    heads_before = _heads(store)
    result = import_batches(store, admin, [Batch(_catalogue(5), "cat.json")])[0]
    assert _heads(store) == heads_before + 1  # one signed tree head for the whole import
    log = TransparencyLog(store)
    for number in result["works"] + result["recordings"]:
        cert = certificate_for(store, number)
        verified = verify_certificate(certificate_bytes(cert), log.key_history())
        assert verified.number == number
    journal = Journal(store)
    mirrors = journal.events("registration.", limit=None)
    assert [e.subject for e in mirrors] == [f"{n}/v1" for n in result["works"] + result["recordings"]]
    assert journal.verify(mirrors[3].id)["valid"]
    imported = journal.events("repertoire.imported")
    assert imported[-1].payload["works"] == 5 and journal.verify(imported[-1].id)["valid"]


def _heads(store) -> int:
    with store.connect() as conn:
        return conn.execute(select(func.count()).select_from(log_heads)).scalar_one()


def test_bad_rows_anywhere_give_every_problem_and_write_nothing(store, admin):
    bad = _catalogue(10)
    bad["works"][2]["shares"][0]["share"] = "40"              # 90 %
    bad["works"][5]["contributors"][0]["party"] = "nobody"     # unknown key
    bad["works"][7]["title"] = ""                              # required
    bad["works"][8]["shares"][1]["party"] = 999999             # no such id
    bad["recordings"][0]["works"] = ["@50"]                    # past the batch's works
    bad["recordings"][1]["works"] = ["T-123.456.789-5"]        # not registered
    before = _state(store)
    problems = {}
    for method in ("bulk", "per-record"):
        with pytest.raises(InvalidInput) as err:
            import_batches(store, admin, [Batch(bad, "cat.json")], method=method)
        problems[method] = [(p.field, p.message, p.source) for p in err.value.problems]
        assert _state(store) == before
    assert problems["bulk"] == problems["per-record"]
    fields = [f for f, _, _ in problems["bulk"]]
    assert fields == ["works[2].shares", "works[5].contributors.0.party", "works[7].title",
                      "works[8].shares.1.party", "recordings[0].works", "recordings[1].works.0"]


def test_a_csv_batch_names_lines(store, admin, tmp_path):
    from obra.registry.batch import import_files

    path = tmp_path / "works.csv"
    path.write_text("title,iswc\nMilonga,T-034.524.680-1\nVals,T-034.524.680-2\nTango,\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as err:
        import_files(store, admin, [path])
    assert [(p.line, p.field) for p in err.value.problems] == [(3, "iswc")]
    assert _state(store)["counts"]["registrations"] == 0


def test_numbers_stay_unique_and_gapless_beside_single_registrations(store, admin):
    registry = Registry(store)
    errors: list[BaseException] = []
    singles: list[str] = []

    def one_at_a_time():
        try:
            for i in range(15):
                singles.append(registry.register(admin, "work", {"title": f"Single {i}"}).number)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    def bulk():
        try:
            for k in range(3):
                import_batches(store, admin, [Batch({"works": [{"title": f"Bulk {k}.{i}"} for i in range(200)]},
                                                    f"b{k}.json")])
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=one_at_a_time), threading.Thread(target=bulk)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    with store.connect() as conn:
        numbers = conn.execute(select(registrations.c.number)).scalars().all()
    assert len(numbers) == len(set(numbers)) == 615
    assert sorted(int(n.split("-")[2]) for n in numbers) == list(range(1, 616))
    log = TransparencyLog(store)
    assert log.size() == 615 + 3 + 1  # + one repertoire.imported event per batch, the admin's principal.created
    proof = log.consistency_proof(10, log.size())
    assert proof["new_size"] == log.size()
    assert set(singles) <= set(numbers)


def test_a_json_lines_batch_is_imported_and_its_problems_name_lines(store, admin, tmp_path):
    from obra.registry.batch import import_files

    good = tmp_path / "works.jsonl"
    good.write_text('{"title": "Milonga"}\n\n{"title": "Vals", "iswc": "T-034.524.680-1"}\n', encoding="utf-8")
    assert len(import_files(store, admin, [good], "works")[0]["works"]) == 2
    register = tmp_path / "register.jsonl"  # one file, each line naming its kind: keys used by later lines
    register.write_text('{"party": {"key": "w1", "name": "Ana García"}}\n'
                        '{"work": {"title": "Tango", "shares": [{"party": "w1", "right_type": "performance", '
                        '"share": "100"}]}}\n{"recording": {"title": "Tango", "works": ["@0"]}}\n', encoding="utf-8")
    made = import_files(store, admin, [register])[0]
    assert (len(made["parties"]), len(made["works"]), len(made["recordings"])) == (1, 1, 1)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"title": "Tango"}\n[1]\n{"title": ""}\n{"title": "x", "title": "y"}\n', encoding="utf-8")
    before = _state(store)
    with pytest.raises(InvalidInput) as err:
        import_files(store, admin, [bad], "works")
    assert [p.line for p in err.value.problems] == [2, 4]  # reading stops the file before the models are checked
    assert _state(store) == before
    bad.write_text('{"title": "Tango"}\n{"title": ""}\n', encoding="utf-8")
    with pytest.raises(InvalidInput) as err:
        import_files(store, admin, [bad], "works")
    assert [(p.line, p.field) for p in err.value.problems] == [(2, "title")]
    with pytest.raises(InvalidInput) as err:
        import_files(store, admin, [bad])  # no --entity: each line must name its kind
    assert [p.line for p in err.value.problems] == [1, 2] and "names its kind" in err.value.problems[0].message
    assert _state(store) == before


_BAD_EDITS = [
    ("works", "title", ""), ("works", "iswc", "T-123"), ("works", "creation_mode", "ai_generated"),
    ("works", "shares", [{"party": "ana", "right_type": "performance", "share": "101"}]),
    ("works", "shares", [{"party": "ghost", "right_type": "performance", "share": "100"}]),
    ("works", "contributors", [{"party": "123456789012", "role": "composer"}]),
    ("works", "unknown_field", 1), ("recordings", "works", ["OBRA-2026-0000001-X"]), ("recordings", "isrc", "XX"),
    ("recordings", "label", 0), ("parties", "ipi", "123"), ("parties", "name", " "),
]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(range(len(_BAD_EDITS))), st.integers(0, 1)), min_size=1, max_size=6))
def test_bulk_reports_exactly_the_problems_of_the_per_record_path(sqlite_store, edits):
    from obra.access import Principal
    from obra.model.vocab import AccessRole

    admin = Principal("admin", AccessRole.ADMIN)  # nothing is written: no principal row needed
    batch = _catalogue(4)
    for which, i in edits:
        section, key, value = _BAD_EDITS[which]
        batch[section][i] = {**batch[section][i], key: value}
    found = {}
    for method in ("bulk", "per-record"):
        with pytest.raises(InvalidInput) as err:
            import_batches(sqlite_store, admin, [Batch(batch, "b.json")], method=method)
        found[method] = [(p.field, p.message, p.line, p.source) for p in err.value.problems]
    assert found["bulk"] == found["per-record"]


def test_an_import_past_the_last_number_of_the_year_is_refused_and_writes_nothing(store, admin):
    """Seven digits per office and year: 9,999,999 registrations. A block that would run past the last one is
    refused with what is left, before anything is written, instead of minting numbers no parser accepts."""
    from datetime import datetime, timezone

    from sqlalchemy import update

    from obra.errors import Conflict
    from obra.store.schema import sequences

    year = datetime.now(timezone.utc).year
    Registry(store).register(admin, "work", {"title": "First of the year"})
    with store.begin() as conn:
        conn.execute(update(sequences).where(sequences.c.office == store.office, sequences.c.year == year)
                     .values(next_value=9_999_996))
    before = _state(store)
    with pytest.raises(Conflict) as err:
        import_batches(store, admin, [Batch({"works": [{"title": f"Late {i}"} for i in range(5)]}, "late.json")],
                       method="bulk")
    assert "4 registration numbers left" in str(err.value)
    assert _state(store) == before
    numbers = import_batches(store, admin, [Batch({"works": [{"title": f"Last {i}"} for i in range(4)]},
                                                  "last.json")], method="bulk")[0]["works"]
    assert numbers[-1].split("-")[2] == "9999999"
