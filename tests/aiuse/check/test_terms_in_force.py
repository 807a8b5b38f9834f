"""The registry's terms as they stood on the question's date: a later version does not reach back,
an earlier one does not outlive its replacement (each match names the version that decided)."""

from __future__ import annotations

from datetime import date, timedelta

from obra.aiuse.check.registry import RegistryIndex
from obra.aiuse.service import AITermsService, terms_history_rows

from .test_check import by_line, run_check


def _matches(item: dict) -> list[dict]:
    return item["registry"]["matches"]


def test_terms_stated_after_the_question_date_do_not_decide(sqlite_world, tmp_path):
    yesterday = date.today() - timedelta(days=1)
    items = by_line(run_check(sqlite_world, tmp_path, on=yesterday))
    # Work A's reservation was stated today: on yesterday's date the registry had nothing to say.
    assert items[14]["registry"]["permission"] == "none" and items[14]["decision"] == "allowed"
    assert _matches(items[14])[0]["terms_version"] is None
    today = by_line(run_check(sqlite_world, tmp_path / "today"))
    assert today[14]["decision"] == "reserved" and _matches(today[14])[0]["terms_version"] == 1


def test_each_date_reads_the_version_then_in_force(sqlite_world, tmp_path):
    world = sqlite_world
    store, number = world["store"], world["numbers"]["C"]
    AITermsService(store).set_terms(world["cmo"], {"subject_kind": "work", "subject": number, "uses": [
        {"use": "ai-train-generative", "permission": "not-allowed"}]})
    rows = terms_history_rows(store)
    versions = [r for r in rows if r["subject"] == number]
    assert [(v["version"], v["until"] is None) for v in versions] == [(1, False), (2, True)]
    assert versions[0]["until"] == versions[1]["set_at"]
    # The same history, dated so that the two versions stood on different days.
    versions[0]["set_at"], versions[0]["until"] = "2026-01-01T00:00:00+00:00", "2026-06-01T12:00:00+00:00"
    versions[1]["set_at"] = "2026-06-01T12:00:00+00:00"
    live = RegistryIndex.from_store(store)
    index = RegistryIndex.from_rows(
        codes=zip(live.codes["number"].to_pylist(), live.codes["kind"].to_pylist(),
                  [v % (1 << 64) for v in live.codes["body"].to_pylist()]),
        instances=zip(live.instances["number"].to_pylist(), [v % (1 << 64) for v in live.instances["body"].to_pylist()]),
        terms=rows, parties=zip(live.parties["number"].to_pylist(), live.parties["party"].to_pylist()))

    def line_19(on: date, where: str) -> dict:
        return by_line(run_check(world, tmp_path / where, on=on, registry=index))[19]

    before = line_19(date(2025, 12, 31), "before")
    assert before["registry"]["permission"] == "none"
    spring = line_19(date(2026, 3, 1), "spring")
    assert spring["decision"] == "allowed" and _matches(spring)[0]["terms_version"] == 1
    assert _matches(spring)[0]["permission"] == "allowed"
    # 1 June: the new version was stated at noon, so by the end of that day it is in force.
    for on in (date(2026, 6, 1), date(2026, 7, 1)):
        after = line_19(on, f"after-{on}")
        assert after["decision"] == "reserved" and _matches(after)[0]["terms_version"] == 2
        assert _matches(after)[0]["terms_event"] == versions[1]["journal_event"]
    # The live store (today): version 2, as the service's own reading says.
    assert line_19(date.today(), "today")["decision"] == "reserved"
