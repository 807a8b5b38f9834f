"""Batch imports are all or nothing, and every problem is reported with file, row and field."""

import json

import pytest

from obra.errors import InvalidInput
from obra.registry.batch import import_file, import_records
from obra.registry.service import Registry
from obra_demo.catalogue import demo_catalogue


def test_a_batch_with_one_bad_row_is_rejected_whole(store, admin, tmp_path):
    path = tmp_path / "works.csv"
    path.write_text(
        "title,iswc,creation_mode,ai_systems,ai_contribution,shares\n"
        "Milonga del sur,T-034.524.680-1,human,,,\n"
        "Tango AI,,ai_generated,Suno,full track,\n"
        "Vals,T-034.524.680-2,human,,,\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as exc:
        import_file(store, admin, path, "works")
    [problem] = exc.value.problems
    assert (problem.source, problem.line, problem.field) == (str(path), 4, "iswc")
    assert Registry(store).counts().get("works", 0) == 0


def test_csv_unknown_column_is_named(store, admin, tmp_path):
    path = tmp_path / "works.csv"
    path.write_text("title,isvc\nX,T0345246801\n")
    with pytest.raises(InvalidInput) as exc:
        import_file(store, admin, path, "works")
    assert exc.value.problems[0].field == "isvc"


def test_json_batch_links_parties_and_works_by_key(store, admin, tmp_path):
    batch = {
        "parties": [{"key": "ana", "name": "Ana Conceição", "roles": ["composer"], "ipi": "00014107338"},
                    {"key": "label", "name": "Discos Sur", "kind": "organisation", "roles": ["label"]}],
        "works": [{"title": "Coração", "shares": [{"party": "ana", "right_type": "performance", "share": "100"}]}],
        "recordings": [{"title": "Coração", "isrc": "BRAB12500001", "works": ["@0"],
                        "shares": [{"party": "ana", "right_type": "neighbouring", "share": "100"}]}],
        "agreements": [{"kind": "recording_contract", "assignor": "ana", "assignee": "label",
                        "rights": ["neighbouring"], "start": "2024-01-01", "retained": "0.8"}],
    }
    path = tmp_path / "batch.json"
    path.write_text(json.dumps(batch))
    result = import_file(store, admin, path)
    assert len(result["works"]) == 1 and len(result["recordings"]) == 1 and len(result["agreements"]) == 1
    rep = store.repertoire()
    [recording] = rep.recordings.values()
    assert recording.works == (result["works"][0],)
    assert rep.agreements[0].assignee == result["parties"][1]


@pytest.mark.parametrize("method", ["bulk", "per-record"])
def test_a_batch_link_with_a_digit_that_is_not_ascii_is_a_problem_not_a_crash(store, admin, method):
    """"@²" is not a link to this batch's third work ('²' is a digit to str.isdigit(), not to int()): it is a work
    reference like any other, and no such work is on file."""
    from obra.registry.batch import Batch, import_batches

    batch = {"works": [{"title": "Coração"}, {"title": "Saudade"}, {"title": "Mar"}],
             "recordings": [{"title": "Coração", "isrc": "BRAB12500001", "works": ["@²"]}]}
    with pytest.raises(InvalidInput) as exc:
        import_batches(store, admin, [Batch(batch, "batch.json")], method=method)
    assert [p.field for p in exc.value.problems] == ["recordings[0].works.0"]


def test_demo_catalogue_imports_with_ai_works_and_resolvable_chains(store, admin):
    catalogue = demo_catalogue(seed=7, parties=80, works=60, recordings=40)
    import_records(store, admin, source="demo", **catalogue)
    counts = Registry(store).counts()
    assert counts["works"] == 60 and counts["recordings"] == 40
    assert counts.get("works_ai_assisted", 0) + counts.get("works_ai_generated", 0) > 0
    again = demo_catalogue(seed=7, parties=80, works=60, recordings=40)
    assert again == catalogue
