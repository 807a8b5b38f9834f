"""A whole run's statement files written column by column are byte for byte those the per-line path
writes (``build_statements`` + ``write_statements``), on markets with awkward text and money."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from obra.model import Agreement, Share
from obra.royalties import engine, statements
from obra.royalties.distribution import distribute
from obra.royalties.records import MATCHES_SCHEMA, POOLS_SCHEMA, USAGE_SCHEMA
from obra.royalties.statement_files import write_run_statements
from obra.royalties.waterfall import ItemRights, run_waterfall

MA = "making_available"
#: text a CSV cell must quote or a JSON string must escape, other scripts, a non-BMP character
AWKWARD = st.text(alphabet=st.sampled_from(list('ab ,;:"\'\n\r\t\x01\x1f\\/ñ音\U0001F3B5\u2028>')), min_size=0,
                  max_size=8)


def market(draw) -> tuple[list[ItemRights], list[Agreement], tuple[pa.Table, pa.Table, pa.Table]]:
    items = [f"R{i}" for i in range(draw(st.integers(1, 4)))]
    titles = [draw(st.none() | AWKWARD) for _ in items]
    parties = [10, 11, 12, 99]
    rights = []
    for item, title in zip(items, titles):
        owners = draw(st.lists(st.sampled_from(parties[:3]), min_size=1, max_size=3, unique=True))
        pct = [Decimal(100) / len(owners)] * len(owners)
        pct = [p.quantize(Decimal("0.0001")) for p in pct]
        pct[0] += Decimal(100) - sum(pct)
        shares = tuple(Share(party=o, right_type=MA, share=p) for o, p in zip(owners, pct))
        rights.append(ItemRights(item, "recording", shares, tuple(owners[:1]), title))
    deals = [Agreement(id=1, kind="recording_contract", assignor=10, assignee=99, rights=(MA,),
                       start=date(2020, 1, 1), retained=Decimal("0.8"), advance=draw(st.integers(0, 5000)))]
    currency = draw(st.sampled_from(["EUR", "JPY", "BHD"]))
    services = [draw(AWKWARD.filter(bool)), "Tunebox"]
    sources = draw(st.lists(st.sampled_from(["0123456789abcdef", "fedcba9876543210", "s,o;u:r\"ce"]),
                            min_size=1, max_size=3, unique=True))
    usage, matches = [], []
    lines = draw(st.lists(st.tuples(st.sampled_from(items + [None]), st.integers(0, 10**6), st.sampled_from(["ES", "FR"]),
                                    st.sampled_from(services), st.sampled_from(sources)), min_size=1, max_size=25))
    for n, (rec, plays, terr, service, source) in enumerate(lines, start=1):
        usage.append({"source": source, "line": n, "period": "2024-05", "territory": terr, "service": service,
                      "commercial_model": "Subscription", "use_type": "OnDemandStream", "user_id": None,
                      "isrc": None, "iswc": None, "proprietary_id": None, "title": "t", "artist": None,
                      "album": None, "duration_s": 200, "plays": plays, "revenue": None, "currency": currency})
        matches.append({"source": source, "line": n, "recording_number": rec, "work_number": None, "isrc": None,
                        "iswc": None, "method": "isrc" if rec else "none", "score": 1.0 if rec else 0.0})
    pools = [{"source": sources[0], "period": "2024-05", "territory": t, "service": s,
              "commercial_model": "Subscription", "user_id": None, "currency": currency,
              "amount_minor": draw(st.integers(0, 10**12))} for t in ("ES", "FR") for s in services]
    return rights, deals, (pa.Table.from_pylist(usage, schema=USAGE_SCHEMA),
                           pa.Table.from_pylist(pools, schema=POOLS_SCHEMA),
                           pa.Table.from_pylist(matches, schema=MATCHES_SCHEMA))


def files(directory: Path) -> dict[str, bytes]:
    return {f.name: f.read_bytes() for f in sorted(directory.iterdir())}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_column_wise_files_are_the_per_line_files(data, tmp_path_factory):
    rights, deals, tables = market(data.draw)
    con = engine.connect("duckdb")
    usage, pools, matches = (engine.table(con, t) for t in tables)
    wf = run_waterfall(distribute(usage, pools, matches, model="pro-rata"), rights, deals)
    titles = {r.item: r.title for r in rights}
    built = statements.build_statements(wf, titles=titles)
    previous = {p: s for p, s in list(built.items())[:1]}     # period-over-period figures too
    built = statements.build_statements(wf, titles=titles, previous=previous)
    tmp = tmp_path_factory.mktemp("statements")
    written = statements.write_statements(built, tmp / "per-line")
    got = write_run_statements(wf, tmp / "column-wise", previous=previous, titles=titles)
    assert got is not None
    assert files(tmp / "column-wise") == files(tmp / "per-line")
    assert {p: g["content_hash"] for p, g in got.items()} == {p: s["content_hash"] for p, s in built.items()}
    assert {p: {f: Path(x).name for f, x in g["files"].items()} for p, g in got.items()} == \
        {p: {f: Path(x).name for f, x in w.items()} for p, w in written.items()}


def test_other_formats_go_line_by_line(tmp_path):
    """HTML and PDF are documents: the column-wise path declines them and writes nothing."""
    from tests.royalties.test_statements import RIGHTS, DEALS, report

    con = engine.connect("duckdb")
    usage, pools, matches = (engine.table(con, t) for t in report())
    wf = run_waterfall(distribute(usage, pools, matches, model="pro-rata"), RIGHTS, DEALS)
    assert write_run_statements(wf, tmp_path / "x", formats=("json", "html")) is None
    assert not (tmp_path / "x").exists()
