"""Fixtures for documents: a real certificate (real store, real registration, real log) and a statement.

The certificate is built the way the office builds one (tests/transparency/conftest.py):
parties, a work with creators and shares registered through the registry with the
transparency log as its sink, then :func:`issue_certificate`. The statement is a literal
dict of exactly the shape :func:`obra.royalties.statements.build_statements` produces,
kept small; ``test_documents.py`` also renders one built by the real pipeline.
"""

from __future__ import annotations

import pytest

from obra.access import create_principal
from obra.model.vocab import AccessRole
from obra.registry.certificates import issue_certificate
from obra.registry.service import Registry
from obra.store import Store
from obra.transparency.translog import TransparencyLog

ISCC = "ISCC:AAAWKLHFXM75OAMK"
JAPANESE_TITLE = "夜の港"


@pytest.fixture(scope="session")
def certificate(tmp_path_factory) -> dict:
    """Certificate of a tango with two named creators, shares in Uruguay and the world, a content code."""
    home = tmp_path_factory.mktemp("render-store")
    store = Store.open(f"sqlite:///{home / 'obra.db'}", home / "home", office="UYMVD", migrate=True)
    try:
        admin, _ = create_principal(store, "oficina-montevideo", AccessRole.ADMIN)
        log = TransparencyLog(store)
        registry = Registry(store, sinks=[log])
        composer = registry.add_party(admin, {"name": "Gerardo Matos Rodríguez", "roles": ["composer"]})
        lyricist = registry.add_party(admin, {"name": "Pascual Contursi", "roles": ["lyricist"]})
        work = registry.register(admin, "work", {
            "title": "La Cumparsita",
            "contributors": [{"party": composer.id, "role": "composer"}, {"party": lyricist.id, "role": "lyricist"}],
            "shares": [
                {"party": composer.id, "role": "composer", "right_type": "performance", "territory": "UY", "share": "50"},
                {"party": lyricist.id, "role": "lyricist", "right_type": "performance", "territory": "UY", "share": "50"},
                {"party": composer.id, "role": "composer", "right_type": "performance", "territory": "2WL",
                 "share": "66.6667"},
                {"party": lyricist.id, "role": "lyricist", "right_type": "performance", "territory": "2WL",
                 "share": "33.3333"},
            ],
        })
        yield issue_certificate(log, work.record, [{"kind": "meta", "iscc": ISCC}])
    finally:
        store.dispose()


def _line(territory: str, item: str, title: str | None, amount_minor: int, plays: int, first: int, last: int,
          role: str = "share", path: list[str] | None = None, share: str = "171/1000") -> dict:
    return {"period": "2024-05", "territory": territory, "service": "Tunebox", "commercial_model": "Subscription",
            "currency": "EUR", "item": item, "title": title, "role": role,
            "agreement_path": ["1"] if path is None else path, "share": share,
            "amount_minor": amount_minor, "amount": f"{amount_minor // 100}.{amount_minor % 100:02d}",
            "plays": plays, "usage": [{"source": "0123456789abcdef", "lines": f"{first}..{last}",
                                       "line_count": last - first + 1, "plays": plays}]}


@pytest.fixture
def statement() -> dict:
    """Payee 10's May 2024 statement: 1 234,56 € earned in Uruguay, 0,50 € in Spain, an advance recouped."""
    lines = [
        _line("UY", "UYMVD-R-2024-000001-7", JAPANESE_TITLE, 123456, 12345, 1, 3),
        _line("ES", "UYMVD-R-2024-000002-5", "Adiós Nonino", 50, 1, 4, 4, role="equitable_remuneration",
              path=["law:ES"], share="1/20"),
    ]
    return {
        "statement_version": 1,
        "payee": "10",
        "periods": ["2024-05"],
        "model": {"name": "user-centric", "params": None, "target": "recording"},
        "lines": lines,
        "adjustments": [{"kind": "recoupment", "agreement": "1", "currency": "EUR", "amount_minor": -150,
                         "amount": "-1.50", "counterparty": "99",
                         "note": "advance 150; unrecouped at start 150, carried forward 0"}],
        "advance_balances": [{"agreement": "1", "currency": "EUR", "unrecouped_opening_minor": 150,
                              "unrecouped_closing_minor": 0}],
        "guarantee_shortfalls": [],
        "totals": {"EUR": {"gross_minor": 123506, "adjustments_minor": -150, "net_minor": 123356, "net": "1233.56",
                           "previous_net_minor": 100000, "change_minor": 23356}},
        "notes": ["ES: equitable remuneration 5%"],
        "rounding": "each item's money is split once over exact fractions by largest remainder; ties go to the "
                    "recipient listed first (commission, equitable remuneration, shares by party and agreement path)",
        "content_hash": "5e" * 32,
    }


NAMES = {10: "María Pérez", "99": "Sello Sur"}
