"""A small real catalogue for the fairness tests: parties, agreements, recordings, months of usage, runs.

Everything goes through the product: the registry adds parties and agreements, usage and pools are
ingested as Obra CSV files, each month is distributed by the royalty pipeline and kept as a run.
"""

from __future__ import annotations

from obra.access import authenticate, create_principal
from obra.app import Obra
from obra.model.vocab import AccessRole
from obra.registry.service import Registry
from obra.royalties.pipeline import DistributionRequest, ingest_usage_csv
from tests.royalties.samples import POOL_COLUMNS, write_csv


def build(store, months=("2025-01", "2025-02", "2025-03"), pool="100000.00", creator_country="DE",
          retained="1", territory="DE", with_idle=True) -> dict:
    """A camera operator who sold her rights in a film score for a lump sum (retained 1: the producer keeps
    all the streaming money), a songwriter on a 20 % royalty deal, and (``with_idle``) a novelist whose
    rights were granted in 2020 and never used. One service streams the two recordings every month."""
    root, root_token = create_principal(store, "root", AccessRole.ADMIN)
    reg = Registry(store)
    jost = reg.add_party(root, {"name": "Jost V.", "roles": ["performer"], "country": creator_country})
    producer = reg.add_party(root, {"name": "Bavaria Klang", "kind": "organisation", "roles": ["label"]})
    ana = reg.add_party(root, {"name": "Ana García", "roles": ["performer"], "country": "ES"})
    label = reg.add_party(root, {"name": "Sello Uno", "kind": "organisation", "roles": ["label"]})
    buyout = reg.add_agreement(root, {"kind": "recording_contract", "assignor": jost.id, "assignee": producer.id,
                                      "rights": ["making_available"], "start": "2020-01-01", "retained": retained})
    royalty = reg.add_agreement(root, {"kind": "recording_contract", "assignor": ana.id, "assignee": label.id,
                                       "rights": ["making_available"], "start": "2020-01-01", "retained": "0.8"})
    out = {"root": root, "jost": jost.id, "producer": producer.id, "ana": ana.id, "label": label.id,
           "buyout": buyout.id, "royalty": royalty.id}
    if with_idle:
        novelist = reg.add_party(root, {"name": "Nora N.", "roles": ["performer"], "country": "DE"})
        publisher = reg.add_party(root, {"name": "Verlag Still", "kind": "organisation", "roles": ["label"]})
        idle = reg.add_agreement(root, {"kind": "recording_contract", "assignor": novelist.id,
                                        "assignee": publisher.id, "rights": ["making_available"],
                                        "start": "2020-01-01", "retained": "0.5"})
        out |= {"nora": novelist.id, "idle": idle.id}
    score = reg.register(root, "recording", {
        "title": "Das Boot (Main Theme)", "isrc": "DEA170000001", "artist": "Jost V.",
        "performers": [{"party": jost.id}],
        "shares": [{"party": jost.id, "right_type": "making_available", "territory": "2WL", "share": "100"}]})
    song = reg.register(root, "recording", {
        "title": "Canción del Mar", "isrc": "USRH10903879", "artist": "Ana García",
        "performers": [{"party": ana.id}],
        "shares": [{"party": ana.id, "right_type": "making_available", "territory": "2WL", "share": "100"}]})
    obra = Obra(store)
    tokens = {}
    for name, role, party in (("cmo", AccessRole.CMO, None), ("jost", AccessRole.CREATOR, jost.id),
                              ("ana", AccessRole.CREATOR, ana.id)):
        tokens[name] = create_principal(store, name, role, party_id=party, by=root)[1]
    cmo = authenticate(store, tokens["cmo"])
    for month in months:
        usage = write_csv(store.home.parent / f"usage-{month}.csv", [
            {"period": month, "territory": territory, "service": "Tunebox", "commercial_model": "Subscription",
             "use_type": "OnDemandStream", "user_id": u, "isrc": isrc, "title": "x", "artist": "y", "plays": p,
             "currency": "EUR"}
            for u, isrc, p in [("u1", "DEA170000001", 9), ("u2", "USRH10903879", 1)]])
        ingest_usage_csv(store, usage, root)
        pools = write_csv(store.home.parent / f"pools-{month}.csv", [
            {"period": month, "territory": territory, "service": "Tunebox", "commercial_model": "Subscription",
             "currency": "EUR", "amount": pool}], POOL_COLUMNS)
        ingest_usage_csv(store, pools, root)
        obra.royalties.distribute(cmo, DistributionRequest(period=month))
    out |= {"obra": obra, "tokens": tokens, "cmo": cmo, "score": score.number, "song": song.number,
            "jost_p": authenticate(store, tokens["jost"]), "ana_p": authenticate(store, tokens["ana"])}
    return out
