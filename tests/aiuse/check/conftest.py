"""A registry for the training check: works registered with content codes, terms stated through the service."""

from __future__ import annotations

from pathlib import Path

import pytest

from obra.access import create_principal
from obra.aiuse.service import AITermsService
from obra.identify.iscc import ContentCodes
from obra.identify.registration import register_with_codes
from obra.model.vocab import AccessRole
from obra.registry.service import Registry

DATA = Path(__file__).parent / "data"
A, B, C, D = 0x0123456789ABCDEF, 0xFEDCBA9876543210, 0x0F0F0F0F0F0F0F0F, 0x3333333333333333


def codes(content: int, data: int, instance: int, tag: str) -> ContentCodes:
    """ContentCodes with the given 64-bit Content (image), Data and Instance bodies."""
    import iscc_core as ic

    def unit(mt, st, body):
        return "ISCC:" + ic.encode_component(mt, st, ic.VS.V0, 64, body.to_bytes(8, "big"))

    units = [unit(ic.MT.CONTENT, ic.ST_CC.IMAGE, content), unit(ic.MT.DATA, ic.ST.NONE, data),
             unit(ic.MT.INSTANCE, ic.ST.NONE, instance)]
    iscc = ic.gen_iscc_code_v0(units)["iscc"]
    return ContentCodes(filename=f"{tag}.png", mediatype="image/png", mode="image", iscc=iscc, meta=None,
                        content=units[0], data=units[1], instance=units[2], datahash="1e20" + "00" * 32, filesize=1)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def store_m(request, tmp_path_factory):
    """A store for a whole module (the checks below read it, they change nothing but the journal)."""
    from tests.conftest import _pg_store, _sqlite_store

    tmp = tmp_path_factory.mktemp(f"check-{request.param}")
    if request.param == "sqlite":
        with _sqlite_store(tmp) as s:
            yield s
    else:
        with _pg_store(request.getfixturevalue("pg_admin_engine"), tmp) as s:
            yield s


@pytest.fixture(scope="module")
def world(store_m):
    """The registry of :func:`build_world` in a store of each kind (SQLite, PostgreSQL)."""
    return build_world(store_m)


@pytest.fixture(scope="module")
def sqlite_world(tmp_path_factory):
    """The same registry in an embedded store only, for checks whose logic no database changes."""
    from tests.conftest import _sqlite_store

    with _sqlite_store(tmp_path_factory.mktemp("check-sqlite")) as store:
        yield build_world(store)


def build_world(store):
    """Four registered works and their terms, as the fixture manifest's items expect:
    A not allowed (own terms), B allowed (own terms), C allowed, D silent with its party's
    catalogue not allowed; and a web location under licence."""
    root, _ = create_principal(store, "root", AccessRole.ADMIN)
    principals = {"admin": (root, None)}
    for role in (AccessRole.CMO, AccessRole.REGISTRANT):
        principals[role.value] = create_principal(store, f"{role.value}-1", role, by=root)
    registry = Registry(store)
    cmo = principals["cmo"][0]
    ana = registry.add_party(root, {"kind": "person", "name": "Ana Autora", "roles": ["author"]})
    registrant = principals["registrant"][0]
    numbers = {}
    for tag, body, data, instance in (("A", A, 1, 11), ("B", B, 3, 13), ("C", C, 5, 15), ("D", D, 9, 19)):
        record = register_with_codes(registry, registrant, "work", {"title": f"Work {tag}", "shares": [
            {"party": ana.id, "right_type": "performance", "share": "100"}]}, codes(body, data, instance, tag))
        numbers[tag] = record.number
    terms = AITermsService(store)
    events = {}
    for tag, permission in (("A", "not-allowed"), ("B", "allowed"), ("C", "allowed")):
        done = terms.set_terms(cmo, {"subject_kind": "work", "subject": numbers[tag],
                                     "uses": [{"use": "ai-train-generative", "permission": permission}]})
        events[tag] = done["journal_event"]
    events["party"] = terms.set_terms(cmo, {"subject_kind": "party", "subject": str(ana.id), "uses": [
        {"use": "ai-train-generative", "permission": "not-allowed"}]})["journal_event"]
    events["location"] = terms.set_terms(cmo, {"subject_kind": "location", "subject": "https://artist.example/music/*",
                                               "uses": [{"use": "ai-train-generative", "permission": "licence",
                                                         "price": {"model": "per-item", "currency": "EUR",
                                                                   "amount_minor": 5}}]},
                                         party=ana.id)["journal_event"]
    developer, _ = create_principal(store, "dev", AccessRole.AI_DEVELOPER, by=root)
    return {"numbers": numbers, "events": events, "developer": developer, "cmo": cmo, "party": ana.id,
            "principals": principals, "store": store}
