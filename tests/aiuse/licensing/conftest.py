"""A small catalogue with offers: two authors, three works, terms that reserve, allow and license."""

from __future__ import annotations

import pytest

from obra.access import create_principal
from obra.app import Obra
from obra.model.vocab import AccessRole
from obra.registry.service import Registry

TRAIN = "ai-train-generative"


def licence_terms(model: str, amount: int | None = None, currency: str = "EUR", share: str | None = None) -> dict:
    price = {"model": model, "currency": currency, "amount_minor": amount} if share is None else \
        {"model": model, "share_percent": share}
    # both kinds of training: RSL's ai-train covers them together, so the licence server can publish the offer
    return {"uses": [{"use": use, "permission": "licence", "price": price}
                     for use in (TRAIN, "ai-train-other")]}


@pytest.fixture
def world(store, principals):
    """Ana (party) licenses her catalogue per item at 2.50 EUR; work C is reserved; work D allows training.

    Works A and B are Ana's (A 100 %; B 60 % Ana, 40 % Bo, ai_training shares), C is Bo's.
    """
    obra = Obra(store)
    registry = Registry(store)
    root = principals["admin"][0]
    ana = registry.add_party(root, {"kind": "person", "name": "Ana Autora", "roles": ["author"]})
    bo = registry.add_party(root, {"kind": "person", "name": "Bo Bajista", "roles": ["author"]})
    creator, _ = create_principal(store, "ana", AccessRole.CREATOR, party_id=ana.id, by=root)
    registrant = principals["registrant"][0]

    def work(title: str, shares: list[tuple[int, str]]) -> str:
        return registry.register(registrant, "work", {"title": title, "shares": [
            {"party": p, "right_type": rt, "share": s} for p, s in shares for rt in ("performance", "ai_training")]
        }).number

    a = work("Canción A", [(ana.id, "100")])
    b = work("Canción B", [(ana.id, "60"), (bo.id, "40")])
    c = work("Canción C", [(bo.id, "100")])
    d = work("Canción D", [(bo.id, "100")])
    cmo = principals["cmo"][0]
    obra.ai_terms.set_terms(cmo, {"subject_kind": "party", "subject": str(ana.id), **licence_terms("per-item", 250)})
    obra.ai_terms.set_terms(cmo, {"subject_kind": "work", "subject": c,
                                  "uses": [{"use": TRAIN, "permission": "not-allowed"}]})
    obra.ai_terms.set_terms(cmo, {"subject_kind": "work", "subject": d,
                                  "uses": [{"use": TRAIN, "permission": "allowed"}]})
    dev = principals["ai_developer"][0]
    other_dev, other_token = create_principal(store, "dev-2", AccessRole.AI_DEVELOPER, by=root)
    return {"obra": obra, "svc": obra.ai_licences, "a": a, "b": b, "c": c, "d": d, "ana": ana.id, "bo": bo.id,
            "dev": dev, "dev_token": principals["ai_developer"][1], "other_dev": other_dev, "cmo": cmo,
            "cmo_token": principals["cmo"][1], "creator": creator, "registrant": registrant, "root": root,
            "office": principals["office_staff"][0]}


def write_manifest(path, rows: list[dict]) -> str:
    import csv

    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=["number", "sha256", "url", "count"])
        w.writeheader()
        for r in rows:
            w.writerow(r)
    return str(path)
