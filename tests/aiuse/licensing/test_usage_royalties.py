"""Usage reports under a licence become money on each rightholder's statement, conserved to the cent."""

from __future__ import annotations

import json

import pytest

from obra.errors import InvalidInput, NotFound, PermissionDenied
from obra.journal import Journal

from .conftest import TRAIN, licence_terms, write_manifest


def _licence(world, tmp_path, rows, use=TRAIN):
    svc = world["svc"]
    quote = svc.quote(world["dev"], write_manifest(tmp_path / "m.csv", rows), svc.question(use))
    return svc.accept(world["dev"], quote["quote_id"])


def test_from_a_licence_to_money_on_the_creators_statement(world, tmp_path):
    """Ana's catalogue: 2.50 EUR per item. Work B is 60 % Ana, 40 % Bo; ai_input is 3 cents per use."""
    obra, svc = world["obra"], world["svc"]
    obra.ai_terms.set_terms(world["cmo"], {"subject_kind": "party", "subject": str(world["ana"]), "uses": [
        {"use": TRAIN, "permission": "licence", "price": {"model": "per-item", "currency": "EUR", "amount_minor": 250}},
        {"use": "ai-input", "permission": "licence",
         "price": {"model": "per-use", "currency": "EUR", "amount_minor": 3}}]})
    fee = _licence(world, tmp_path, [{"number": world["a"]}, {"number": world["b"]}])
    assert fee["fee_minor"] == {"EUR": 500}
    per_use = _licence(world, tmp_path, [{"number": world["a"]}, {"number": world["b"]}], use="ai-input")
    report = (f"number,uses,output\n{world['a']},10,run-1\n{world['b']},7,run-1\n{world['c']},4,run-1\n").encode()
    done = svc.report_usage(world["dev"], per_use["licence_id"], report, source="run-1.csv")
    assert done["owed_minor"] == {"EUR": 51} and done["held_lines"] == 1
    assert done["held"][0]["line"] == 4 and "not among" in done["held"][0]["reason"]
    assert Journal(obra.store).verify(done["journal_event"])["kind"] == "aiuse.usage.reported"
    again = svc.report_usage(world["dev"], per_use["licence_id"], report, source="run-1.csv")
    assert again["already"] and again["report_id"] == done["report_id"]
    period = fee["licence"]["issued_at"][:7]
    paid = svc.royalties(world["cmo"], period, "EUR")
    assert paid["amount_minor"] == 551 and paid["lines"] == 4
    right = paid["rights"]["ai_training"]
    assert right["conservation"]["EUR"]["distributed"] + right["conservation"]["EUR"]["unallocated"] == 551
    # A: 250 + 30 to Ana; B: 250 + 21 = 271 split 60/40 -> Ana 162.6, Bo 108.4: largest remainder gives Ana 163
    statements = right["statements"]
    ana = json.loads(open(statements[str(world["ana"])]["json"]).read())
    bo = json.loads(open(statements[str(world["bo"])]["json"]).read())
    assert ana["totals"]["EUR"]["net_minor"] == 443 and bo["totals"]["EUR"]["net_minor"] == 108
    # every cent traceable: statement row -> income line -> licence and report line
    import csv

    trace = list(csv.DictReader(open(paid["trace"])))
    assert {(t["licence_id"], t["source"].split(":")[0]) for t in trace} == {
        (fee["licence_id"], "fee"), (per_use["licence_id"], "report")}
    assert sorted(int(t["source_line"] or 0) for t in trace if t["source"].startswith("report")) == [2, 3]
    assert sum(int(t["amount_minor"]) for t in trace) == 551
    assert Journal(obra.store).verify(paid["journal_event"])["kind"] == "aiuse.licence.royalties"
    assert {i["status"] for i in svc.income(world["cmo"], licence_id=per_use["licence_id"])} == {"distributed", "held"}
    with pytest.raises(NotFound):
        svc.royalties(world["cmo"], period, "EUR")     # nothing pending any more: never paid twice


def test_a_revenue_share_licence_is_paid_on_reported_revenue(world, tmp_path):
    obra, svc = world["obra"], world["svc"]
    obra.ai_terms.set_terms(world["cmo"], {"subject_kind": "work", "subject": world["a"],
                                           **licence_terms("revenue-share", share="12.5")})
    lic = _licence(world, tmp_path, [{"number": world["a"]}])
    assert lic["fee_minor"] == {}
    with pytest.raises(InvalidInput, match="revenue"):
        svc.report_usage(world["dev"], lic["licence_id"], f"number,revenue\n{world['a']},100.00\n".encode())
    done = svc.report_usage(world["dev"], lic["licence_id"], f"number,revenue\n{world['a']},100.05\n".encode(),
                            currency="EUR")
    assert done["owed_minor"] == {"EUR": 1251}      # 12.5 % of 10005 cents = 1250.625 -> 1251


def test_usage_reports_refuse_bad_lines_and_strangers(world, tmp_path):
    lic = _licence(world, tmp_path, [{"number": world["a"]}])
    svc = world["svc"]
    with pytest.raises(InvalidInput) as err:
        svc.report_usage(world["dev"], lic["licence_id"], b"number,uses\nX,-1\n,2\n")
    assert [(p.line, p.field) for p in err.value.problems] == [(2, "uses"), (3, "number")]
    with pytest.raises(PermissionDenied):
        svc.report_usage(world["other_dev"], lic["licence_id"], f"number\n{world['a']}\n".encode())
    with pytest.raises(PermissionDenied):
        svc.report_usage(world["creator"], lic["licence_id"], f"number\n{world['a']}\n".encode())
    with pytest.raises(PermissionDenied):
        svc.royalties(world["dev"], "2026-01", "EUR")


def test_conservation_holds_for_generated_usage_reports(world, tmp_path):
    """Hypothesis: any usage report's money reaches the statements exactly: distributed + unallocated = income."""
    import itertools

    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    obra, svc = world["obra"], world["svc"]
    obra.ai_terms.set_terms(world["cmo"], {"subject_kind": "party", "subject": str(world["ana"]), "uses": [
        {"use": "ai-input", "permission": "licence", "price": {"model": "per-use", "currency": "EUR", "amount_minor": 7}}]})
    lic = _licence(world, tmp_path, [{"number": world["a"]}, {"number": world["b"]}], use="ai-input")
    works = [world["a"], world["b"], world["c"]]
    runs = itertools.count(1)

    @settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(st.tuples(st.sampled_from(works), st.integers(0, 10**6)), min_size=1, max_size=12))
    def check(lines):
        n = next(runs)
        period = f"2030-{n:02d}"
        report = "number,uses,output\n" + "".join(f"{w},{u},run-{n}\n" for w, u in lines)
        done = svc.report_usage(world["dev"], lic["licence_id"], report.encode(), period=period)
        owed = sum(7 * u for w, u in lines if w != world["c"])
        assert done["owed_minor"].get("EUR", 0) == owed
        assert done["held_lines"] == sum(1 for w, _u in lines if w == world["c"])
        if not owed:
            return
        paid = svc.royalties(world["cmo"], period, "EUR")
        c = paid["rights"]["ai_training"]["conservation"]["EUR"]
        assert c["revenue"] == owed and c["distributed"] + c["unallocated"] == owed
        # B is 60/40: every cent on the statements, none made or lost
        statements = paid["rights"]["ai_training"]["statements"]
        total = sum(json.loads(open(s["json"]).read())["totals"]["EUR"]["net_minor"] for s in statements.values())
        assert total == c["distributed"]

    check()
