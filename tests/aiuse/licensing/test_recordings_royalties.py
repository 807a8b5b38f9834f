"""Licence money for a licensed recording reaches the recording's rightholders, not only a work's.

A licence covering work A (Ana 100 %) and a recording R of A (featured performer Cai 50 %, session
player Eli 20 %, producer Dora 30 %, as ``ai_training`` shares of the recording) pays each of them; the
work's authors are paid from the work's line, the recording's performers and producer from the
recording's, conserved to the cent and traced to the licence, on SQLite and PostgreSQL (``store``).
"""

from __future__ import annotations

import csv
import json

from obra.registry.service import Registry

from .conftest import TRAIN, licence_terms, write_manifest


def _recording(world, shares: dict[str, str]) -> dict:
    """Register Cai, Eli, Dora and recording R of work A with ``ai_training`` shares ``shares`` (name -> %)."""
    registry = Registry(world["obra"].store)
    root = world["root"]
    people = {name: registry.add_party(root, {"kind": "person" if name != "Dora" else "organisation",
                                              "name": name, "roles": [role]}).id
              for name, role in (("Cai", "performer"), ("Eli", "performer"), ("Dora", "producer"))}
    rec = registry.register(world["registrant"], "recording", {
        "title": "Canción A (en vivo)", "works": [world["a"]],
        "performers": [{"party": people["Cai"], "role": "featured_performer"},
                       {"party": people["Eli"], "role": "non_featured_performer"}],
        "shares": [{"party": people[n], "right_type": "ai_training", "share": s} for n, s in shares.items()]})
    return {"number": rec.number, **people}


def _statement_cents(right: dict, party) -> int:
    found = right["statements"].get(str(party))
    if not found:
        return 0
    return json.loads(open(found["json"]).read())["totals"]["EUR"]["net_minor"]


def test_a_licensed_recording_pays_its_performers_and_producer(world, tmp_path):
    obra, svc = world["obra"], world["svc"]
    r = _recording(world, {"Cai": "50", "Eli": "20", "Dora": "30"})
    # the recording's own offer: 3.33 EUR per item (work A keeps Ana's party offer: 2.50 EUR)
    obra.ai_terms.set_terms(world["cmo"], {"subject_kind": "recording", "subject": r["number"],
                                           **licence_terms("per-item", 333)})
    quote = svc.quote(world["dev"], write_manifest(tmp_path / "m.csv", [{"number": world["a"]},
                                                                         {"number": r["number"]}]),
                      svc.question(TRAIN))
    lic = svc.accept(world["dev"], quote["quote_id"])
    assert lic["fee_minor"] == {"EUR": 583}
    paid = svc.royalties(world["cmo"], lic["licence"]["issued_at"][:7], "EUR")
    right = paid["rights"]["ai_training"]
    assert right["conservation"]["EUR"] == {**right["conservation"]["EUR"], "revenue": 583, "distributed": 583,
                                            "unallocated": 0}
    # A: 250 to Ana. R: 333 split 50/20/30 = 166.5 / 66.6 / 99.9 -> floors 166/66/99 (331), the two cents
    # left go to the largest remainders, Dora (.9) and Eli (.6): Cai 166, Eli 67, Dora 100.
    cents = {name: _statement_cents(right, party) for name, party in
             (("Ana", world["ana"]), ("Bo", world["bo"]), ("Cai", r["Cai"]), ("Eli", r["Eli"]), ("Dora", r["Dora"]))}
    assert cents == {"Ana": 250, "Bo": 0, "Cai": 166, "Eli": 67, "Dora": 100}
    # the statement rows say which item paid them, and the trace ties each row to the licence and its fee
    dora = json.loads(open(right["statements"][str(r["Dora"])]["json"]).read())
    assert {line["item"] for line in dora["lines"]} == {r["number"]}
    trace = list(csv.DictReader(open(paid["trace"])))
    assert {(t["number"], t["licence_id"], t["source"].split(":")[0], int(t["amount_minor"])) for t in trace} == {
        (world["a"], lic["licence_id"], "fee", 250), (r["number"], lic["licence_id"], "fee", 333)}
    assert sorted(int(t["statement_line"]) for t in trace) == [2, 3]


def test_a_recording_without_shares_keeps_its_money_unallocated(world, tmp_path):
    """A recording with no ``ai_training`` shares is not paid to anyone: its fee is held, to the cent."""
    obra, svc = world["obra"], world["svc"]
    r = _recording(world, {})
    obra.ai_terms.set_terms(world["cmo"], {"subject_kind": "recording", "subject": r["number"],
                                           **licence_terms("per-item", 101)})
    quote = svc.quote(world["dev"], write_manifest(tmp_path / "m.csv", [{"number": r["number"]}]),
                      svc.question(TRAIN))
    lic = svc.accept(world["dev"], quote["quote_id"])
    paid = svc.royalties(world["cmo"], lic["licence"]["issued_at"][:7], "EUR")
    c = paid["rights"]["ai_training"]["conservation"]["EUR"]
    assert (c["revenue"], c["distributed"], c["unallocated"]) == (101, 0, 101)


def test_conservation_holds_for_generated_recording_and_work_income(world, tmp_path):
    """Hypothesis: per-use income on a work and a recording with any shares reaches the statements exactly."""
    import itertools

    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    obra, svc = world["obra"], world["svc"]
    r = _recording(world, {"Cai": "33.33", "Eli": "33.33", "Dora": "33.34"})
    for subject_kind, subject in (("recording", r["number"]), ("party", str(world["ana"]))):
        obra.ai_terms.set_terms(world["cmo"], {"subject_kind": subject_kind, "subject": subject, "uses": [
            {"use": "ai-input", "permission": "licence",
             "price": {"model": "per-use", "currency": "EUR", "amount_minor": 7}}]})
    quote = svc.quote(world["dev"], write_manifest(tmp_path / "m.csv", [{"number": world["b"]},
                                                                         {"number": r["number"]}]),
                      svc.question("ai-input"))
    lic = svc.accept(world["dev"], quote["quote_id"])
    items = [world["b"], r["number"]]
    runs = itertools.count(1)

    @settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(st.tuples(st.sampled_from(items), st.integers(1, 10**6)), min_size=1, max_size=8))
    def check(lines):
        n = next(runs)
        period = f"2031-{n:02d}"
        report = "number,uses,output\n" + "".join(f"{i},{u},run-{n}\n" for i, u in lines)
        svc.report_usage(world["dev"], lic["licence_id"], report.encode(), period=period)
        owed = {i: 7 * sum(u for j, u in lines if j == i) for i in items}
        paid = svc.royalties(world["cmo"], period, "EUR")
        right = paid["rights"]["ai_training"]
        c = right["conservation"]["EUR"]
        assert c["revenue"] == sum(owed.values()) and c["distributed"] == c["revenue"] and c["unallocated"] == 0
        cents = {p: _statement_cents(right, p) for p in (world["ana"], world["bo"], r["Cai"], r["Eli"], r["Dora"])}
        assert sum(cents.values()) == c["distributed"]
        # the work's money stays with the work's authors, the recording's with its performers and producer
        assert cents[world["ana"]] + cents[world["bo"]] == owed[world["b"]]
        assert cents[r["Cai"]] + cents[r["Eli"]] + cents[r["Dora"]] == owed[r["number"]]

    check()
