"""The training check reports items a licence covers as ``licensed``, with the licence as evidence."""

from __future__ import annotations

import json

from obra.aiuse.check.service import CheckService

from .conftest import write_manifest


def _check(world, tmp_path, principal, name="out"):
    manifest = tmp_path / "train.jsonl"
    manifest.write_text("\n".join(json.dumps({"url": u, "headers": {"Content-Usage": "train-ai=n"},
                                              "crawled_at": "2026-11-02T09:30:00Z"})
                                  for u in ("https://ana.example/a.mp3", "https://ana.example/b.mp3",
                                            "https://other.example/x.mp3")) + "\n")
    return CheckService(world["obra"].store).check(principal, manifest, None, jurisdiction="DE",
                                                   purpose="commercial", inline=10, out_dir=tmp_path / name)


def test_licensed_items_are_licensed_with_the_licence_as_evidence(world, tmp_path):
    before = _check(world, tmp_path, world["dev"], "before")
    assert {i["decision"] for i in before["items"]} == {"reserved"}
    svc = world["svc"]
    quote = svc.quote(world["dev"], write_manifest(tmp_path / "m.csv", [
        {"number": world["a"], "url": "https://ana.example/a.mp3"},
        {"number": world["b"], "url": "https://ana.example/b.mp3"}]), svc.question("ai-train-generative"))
    lic = svc.accept(world["dev"], quote["quote_id"])
    after = _check(world, tmp_path, world["dev"], "after")
    by_url = {i["url"]: i for i in after["items"]}
    assert by_url["https://ana.example/a.mp3"]["decision"] == "licensed"
    assert by_url["https://ana.example/a.mp3"]["licence"]["licence_id"] == lic["licence_id"]
    assert by_url["https://ana.example/a.mp3"]["licence"]["merkle_root"] == lic["licence"]["items"]["merkle_root"]
    assert by_url["https://other.example/x.mp3"]["decision"] == "reserved"
    assert [x["licence_id"] for x in after["licences"]] == [lic["licence_id"]]
    # another developer does not hold it; a revoked licence no longer covers anything
    assert {i["decision"] for i in _check(world, tmp_path, world["cmo"], "cmo")["items"]} == {"reserved"}
    svc.revoke(world["cmo"], lic["licence_id"], "terms breached")
    assert {i["decision"] for i in _check(world, tmp_path, world["dev"], "revoked")["items"]} == {"reserved"}


def test_a_licence_for_another_use_does_not_license_training(world, tmp_path):
    svc = world["svc"]
    world["obra"].ai_terms.set_terms(world["cmo"], {"subject_kind": "party", "subject": str(world["ana"]), "uses": [
        {"use": "ai-input", "permission": "licence",
         "price": {"model": "per-use", "currency": "EUR", "amount_minor": 3}}]})
    quote = svc.quote(world["dev"], write_manifest(tmp_path / "m.csv", [
        {"number": world["a"], "url": "https://ana.example/a.mp3"}]), svc.question("ai-input"))
    svc.accept(world["dev"], quote["quote_id"])
    assert {i["decision"] for i in _check(world, tmp_path, world["dev"])["items"]} == {"reserved"}
