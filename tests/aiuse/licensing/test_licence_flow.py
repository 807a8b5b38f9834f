"""From a creator's terms to a developer's quote, a signed licence, and its offline verification."""

from __future__ import annotations

import json

import pytest

from obra.access import ANONYMOUS
from obra.aiuse.licensing.licence import LicenceError, verify_licence
from obra.errors import AuthenticationRequired, Conflict, InvalidInput, NotFound, PermissionDenied
from obra.journal import Journal
from obra.transparency.translog import TransparencyLog

from .conftest import write_manifest


def _quote(world, tmp_path, rows):
    svc = world["svc"]
    q = svc.question("ai-train-generative", days=30)
    return svc.quote(world["dev"], write_manifest(tmp_path / "m.csv", rows), q)


def test_a_manifest_is_priced_item_by_item_with_the_unlicensable_named(world, tmp_path):
    quote = _quote(world, tmp_path, [{"number": world["a"]}, {"number": world["b"]}, {"number": world["c"]},
                                     {"number": world["d"]}, {"number": "UYMVD-2026-9999999-X"}])
    s = quote["summary"]
    assert s["totals_minor"] == {"EUR": 500}          # two of Ana's works at 2.50 EUR each
    assert (s["licensable"], s["free"], s["not_licensable"]) == (2, 1, 2)
    reasons = {i["number"]: i["reason"] for i in quote["not_licensable"]}
    assert reasons[world["c"]] == "the rightholder's terms do not allow this use"
    assert reasons["UYMVD-2026-9999999-X"].startswith("not in the catalogue")
    event = Journal(world["obra"].store).verify(quote["journal_event"])
    assert event["kind"] == "aiuse.quote"


def test_accepting_a_quote_gives_a_signed_licence_that_verifies_offline(world, tmp_path):
    quote = _quote(world, tmp_path, [{"number": world["a"]}, {"number": world["b"], "count": "3"}])
    done = world["svc"].accept(world["dev"], quote["quote_id"])
    assert done["items"] == 2 and done["fee_minor"] == {"EUR": 500}
    history = TransparencyLog(world["obra"].store).key_history().to_json()
    items = world["svc"].items(world["dev"], done["licence_id"])
    checked = verify_licence(json.dumps(done["licence"]), history, items=items)
    assert checked["items_checked"] and not checked["expired"]
    proof = world["svc"].proof(world["dev"], done["licence_id"], number=world["b"])
    assert verify_licence(done["licence"], history, proof=proof)["proof_checked"]
    assert Journal(world["obra"].store).verify(done["journal_event"])["kind"] == "aiuse.licence.issued"


def test_a_tampered_licence_or_item_list_fails_naming_why(world, tmp_path):
    quote = _quote(world, tmp_path, [{"number": world["a"]}, {"number": world["b"]}])
    done = world["svc"].accept(world["dev"], quote["quote_id"])
    history = TransparencyLog(world["obra"].store).key_history()
    items = world["svc"].items(world["dev"], done["licence_id"])
    forged = dict(done["licence"], term={"valid_from": "2020-01-01", "valid_until": "2099-12-31"})
    with pytest.raises(LicenceError, match="altered after it was signed"):
        verify_licence(forged, history)
    repriced = [dict(items[0], amount_minor=1)] + items[1:]
    with pytest.raises(LicenceError, match="Merkle root"):
        verify_licence(done["licence"], history, items=repriced)
    with pytest.raises(LicenceError, match="removed"):
        verify_licence(done["licence"], history, items=items[:1])
    proof = world["svc"].proof(world["dev"], done["licence_id"], position=0)
    proof["leaf"] = dict(proof["leaf"], number=world["c"])
    with pytest.raises(LicenceError, match="not covered"):
        verify_licence(done["licence"], history, proof=proof)


def test_revocation_and_expiry_are_events(world, tmp_path):
    quote = _quote(world, tmp_path, [{"number": world["a"]}])
    done = world["svc"].accept(world["dev"], quote["quote_id"])
    with pytest.raises(PermissionDenied):
        world["svc"].revoke(world["dev"], done["licence_id"], "no")
    revoked = world["svc"].revoke(world["cmo"], done["licence_id"], "payment not received")
    assert Journal(world["obra"].store).verify(revoked["journal_event"])["kind"] == "aiuse.licence.revoked"
    assert world["svc"].verify(done["licence"])["revoked"] is True
    with pytest.raises(Conflict):
        world["svc"].revoke(world["cmo"], done["licence_id"], "again")
    quote2 = _quote(world, tmp_path, [{"number": world["b"]}])
    lic2 = world["svc"].accept(world["dev"], quote2["quote_id"])
    from datetime import date, timedelta

    expired = world["svc"].expire_due(world["office"], on=date.today() + timedelta(days=400))
    assert [e["licence_id"] for e in expired] == [lic2["licence_id"]]
    assert world["svc"].licence(world["dev"], lic2["licence_id"])["status"] == "expired"


def test_who_may_quote_accept_and_read(world, tmp_path):
    svc = world["svc"]
    q = svc.question("ai-train-generative")
    manifest = write_manifest(tmp_path / "m.csv", [{"number": world["a"]}])
    with pytest.raises(AuthenticationRequired):
        svc.quote(ANONYMOUS, manifest, q)
    with pytest.raises(PermissionDenied):
        svc.quote(world["creator"], manifest, q)
    quote = svc.quote(world["dev"], manifest, q)
    with pytest.raises(PermissionDenied, match="only they may accept"):
        svc.accept(world["other_dev"], quote["quote_id"])
    with pytest.raises(PermissionDenied):
        svc.accept(world["cmo"], quote["quote_id"])
    done = svc.accept(world["dev"], quote["quote_id"])
    with pytest.raises(Conflict):
        svc.accept(world["dev"], quote["quote_id"])
    with pytest.raises(PermissionDenied, match="not yours"):
        svc.licence(world["other_dev"], done["licence_id"])
    assert svc.licence(world["cmo"], done["licence_id"])["status"] == "active"
    assert [x["licence_id"] for x in svc.licences(world["other_dev"])] == []
    with pytest.raises(NotFound):
        svc.accept(world["dev"], "Q-NOPE")


def test_bad_manifests_are_refused_naming_line_and_field(world, tmp_path):
    svc = world["svc"]
    q = svc.question("ai-train-generative")
    bad = write_manifest(tmp_path / "bad.csv", [{"number": world["a"]}, {"count": "2"},
                                               {"number": world["b"], "count": "-1"},
                                               {"sha256": "xyz"}])
    with pytest.raises(InvalidInput) as err:
        svc.quote(world["dev"], bad, q)
    found = {(p.line, p.field) for p in err.value.problems}
    assert {(3, "number"), (4, "count"), (5, "sha256")} <= found
    with pytest.raises(InvalidInput, match="unknown use"):
        svc.question("ai-cooking")


def test_a_rightholder_reads_the_licences_covering_their_works_and_nothing_else(world, tmp_path):
    from obra.access import create_principal
    from obra.model.vocab import AccessRole

    svc = world["svc"]
    lic = svc.accept(world["dev"], _quote(world, tmp_path, [{"number": world["a"]}])["quote_id"])
    bo, _ = create_principal(world["obra"].store, "bo", AccessRole.CREATOR, party_id=world["bo"], by=world["root"])
    assert [x["licence_id"] for x in svc.licences(world["creator"])] == [lic["licence_id"]]
    assert svc.licence(world["creator"], lic["licence_id"])["your_works"] == [world["a"]]
    assert [i["number"] for i in svc.income(world["creator"])] == [world["a"]]
    assert svc.licences(bo) == [] and svc.income(bo) == []
    with pytest.raises(PermissionDenied, match="none of your works"):
        svc.licence(bo, lic["licence_id"])
    with pytest.raises(PermissionDenied):
        svc.items(world["creator"], lic["licence_id"])        # the item list is the licensee's
