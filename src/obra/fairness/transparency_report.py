"""The yearly transparency report every creator is owed, signed by the office.

DSM Directive Art. 19 (at least once a year: modes of exploitation, all revenues generated and
remuneration due), UrhG § 32d, CPI L131-5-1 (electronically, yearly, all revenues by mode of
exploitation with the remuneration due for each) and the UK's voluntary code (broken down by
work, service, territory, DSP and units) ask the same figures of whoever took a creator's
rights. Obra has them in its stored runs (:mod:`obra.fairness.runs`); this module arranges
them, per creator, year and transferee:

* **transferees**: per agreement the creator granted, every work × platform (DSP) × service
  (commercial offer) × territory × right, with the units, the revenue generated through the
  agreement and the remuneration due to the creator, and the totals per mode of exploitation
  (right × offer);
* **direct**: income the creator received without a transferee (own shares, statutory
  equitable remuneration);
* **non-attributable income**: money each run could not attribute to single works (held as
  unallocated, by reason), with the creator's indicative pro-rata share by revenue generated,
  as the WIN *Fair Digital Deals Declaration* asks to be shown; stated as held, not paid.

The report is RFC 8785 canonical JSON signed with the office's Ed25519 key exactly as
certificates and receipts are (``key_id``, ``signature``): :func:`verify_report` checks it
offline against the office's published key history and fails on any change. The JSON schema
is documented in ``docs/fairness.md``. One DuckDB pass serves one creator or a whole catalogue.
"""

from __future__ import annotations

import csv
import hashlib
import io
import multiprocessing
import os
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

from obra.canonical import canonical
from obra.errors import Unverifiable
from obra.fairness.runs import StoredRun, lines_relation
from obra.transparency.signing import (KeyHistory, OfficeKeys, format_time, load_private_key, sign_with,
                                       verify_signed)

REPORT_FORMAT = "obra.transparency_report/1"
MEMBERS = {"format", "office", "issued_at", "creator", "year", "law", "runs", "transferees", "direct",
           "non_attributable", "totals", "law_version", "key_id", "signature"}
CSV_COLUMNS = ("creator", "year", "agreement", "transferee", "work", "title", "platform", "service", "territory",
               "right_type", "currency", "units", "revenue_minor", "remuneration_due_minor")


class ReportError(Unverifiable):
    """The report is malformed, not signed by the office, or was altered after signing."""


def report_rows(con: Any, runs: list[StoredRun], agreements: Any, creators: list[str] | None = None) -> Any:
    """Per creator, agreement, work, platform, service, territory, right, currency: units, revenue, due.

    ``agreements`` is an Arrow table (aid, assignor, assignee). Direct income has agreement NULL.
    Returns a DuckDB relation ordered by creator.
    """
    import pyarrow as pa

    lines_relation(con, runs, "rep_lines")
    con.register("rep_agreements", agreements)
    con.register("rep_creators", pa.table({"creator": creators or []}, schema=pa.schema([("creator", pa.string())])))
    only = "WHERE creator IN (SELECT creator FROM rep_creators)" if creators is not None else ""
    con.execute(f"""CREATE OR REPLACE TEMP TABLE rep_rows AS
        WITH x AS (SELECT period, right_type, service, territory, commercial_model, item, currency, payee, plays,
                          amount_minor, TRY_CAST(unnest(parts) AS BIGINT) AS aid_n,
                          TRY_CAST(parts[-1] AS BIGINT) AS last_n
                   FROM (SELECT *, string_split(path, '>') AS parts FROM rep_lines
                         WHERE path <> '' AND NOT starts_with(path, 'law:'))),
        ag AS (SELECT aid, TRY_CAST(aid AS BIGINT) AS aid_n, assignor, assignee FROM rep_agreements),
        through AS (
            SELECT any_value(a.assignor) AS creator, any_value(a.aid) AS agreement,
                   any_value(a.assignee) AS transferee, x.period, x.item,
                   x.service AS platform, x.commercial_model AS service, x.territory, x.right_type, x.currency,
                   sum(x.amount_minor) AS revenue,
                   sum(CASE WHEN x.payee = a.assignor AND x.last_n = x.aid_n THEN x.amount_minor ELSE 0 END) AS due,
                   max(x.plays) AS units
            FROM x JOIN ag a ON a.aid_n = x.aid_n
            GROUP BY x.aid_n, x.period, x.item, x.service, x.commercial_model, x.territory, x.right_type, x.currency),
        direct AS (
            SELECT payee AS creator, NULL::VARCHAR AS agreement, NULL::VARCHAR AS transferee, period, item,
                   service AS platform, commercial_model AS service, territory,
                   CASE WHEN starts_with(path, 'law:') THEN 'equitable_remuneration' ELSE right_type END AS right_type,
                   currency, sum(amount_minor) AS revenue, sum(amount_minor) AS due, max(plays) AS units
            FROM rep_lines WHERE path = '' OR starts_with(path, 'law:')
            GROUP BY ALL),
        alls AS (SELECT * FROM through UNION ALL SELECT * FROM direct)
        SELECT creator, agreement, transferee, period, item, platform, service, territory, right_type, currency,
               units::BIGINT AS units, revenue::BIGINT AS revenue, due::BIGINT AS due
        FROM alls {only}""")
    return con.sql("""SELECT creator, agreement, transferee, item, platform, service, territory, right_type, currency,
                             sum(units)::BIGINT AS units, sum(revenue)::BIGINT AS revenue, sum(due)::BIGINT AS due
                      FROM rep_rows GROUP BY ALL
                      ORDER BY creator, agreement NULLS LAST, item, platform, service, territory, right_type, currency""")


def generated_by_period(con: Any) -> dict[tuple[str, str, str], int]:
    """(creator, period, currency) → revenue generated (from the last :func:`report_rows`)."""
    rows = con.execute("SELECT creator, period, currency, sum(revenue)::BIGINT FROM rep_rows GROUP BY ALL").fetchall()
    return {(c, p, cur): int(v) for c, p, cur, v in rows}


def build_report(creator: str, year: int, rows: list[dict], runs: list[StoredRun], generated: dict,
                 *, office: str, issued_at: datetime, names: dict[str, str], titles: dict[str, str],
                 clauses: dict[str, dict], law: dict, law_version: str) -> dict:
    """The unsigned report of one creator and year from its rows (see :func:`report_rows`)."""
    transferees: dict[str, dict] = {}
    direct_lines: list[dict] = []
    totals: dict[str, dict] = defaultdict(lambda: {"revenue_generated_minor": 0, "remuneration_due_minor": 0,
                                                   "units": 0})
    for r in rows:
        line = {"work": r["item"], "title": titles.get(r["item"]), "platform": r["platform"], "service": r["service"],
                "territory": r["territory"], "right_type": r["right_type"], "currency": r["currency"],
                "units": int(r["units"]), "revenue_minor": int(r["revenue"]), "remuneration_due_minor": int(r["due"])}
        t = totals[r["currency"]]
        t["revenue_generated_minor"] += line["revenue_minor"]
        t["remuneration_due_minor"] += line["remuneration_due_minor"]
        t["units"] += line["units"]
        if r["agreement"] is None:
            direct_lines.append(line)
            continue
        entry = transferees.setdefault(r["agreement"], {
            "agreement": r["agreement"], "transferee": {"party": r["transferee"], "name": names.get(r["transferee"])},
            "clause": clauses.get(r["agreement"]), "lines": [], "modes": [], "totals": {}})
        entry["lines"].append(line)
    for entry in transferees.values():
        entry["modes"] = _modes(entry["lines"])
        entry["totals"] = _totals(entry["lines"])
    non_attributable = []
    for run in runs:
        for held in run.unallocated:
            cur = held["currency"]
            mine = generated.get((creator, run.period, cur), 0)
            distributed = run.distributed.get(cur, 0)
            share = Fraction(int(held["amount_minor"]) * mine, distributed) if distributed else Fraction(0)
            non_attributable.append({
                "period": run.period, "run": run.run, "right_type": run.right_type, "currency": cur,
                "reason": held["reason"], "amount_minor": int(held["amount_minor"]),
                "indicative_share_minor": (share.numerator * 2 + share.denominator) // (2 * share.denominator),
                "how_shared": "held by the run as unallocated, not paid to anyone yet; the indicative share is this "
                              "creator's revenue generated in the period divided by all money distributed in it"})
    return {
        "format": REPORT_FORMAT, "office": office, "issued_at": format_time(issued_at),
        "creator": {"party": creator, "name": names.get(creator)}, "year": year, "law": law,
        "runs": [{"run": r.run, "period": r.period, "right_type": r.right_type} for r in runs],
        "transferees": [transferees[k] for k in sorted(transferees, key=lambda s: (len(s), s))],
        "direct": {"lines": direct_lines, "modes": _modes(direct_lines), "totals": _totals(direct_lines)},
        "non_attributable": non_attributable,
        "totals": dict(sorted(totals.items())), "law_version": law_version,
    }


def _modes(lines: list[dict]) -> list[dict]:
    """Totals per mode of exploitation (right used × commercial offer × currency): CPI L131-5-1's breakdown."""
    out: dict[tuple, dict] = {}
    for ln in lines:
        key = (ln["right_type"], ln["service"], ln["currency"])
        m = out.setdefault(key, {"right_type": key[0], "service": key[1], "currency": key[2], "units": 0,
                                 "revenue_minor": 0, "remuneration_due_minor": 0})
        for k in ("units", "revenue_minor", "remuneration_due_minor"):
            m[k] += ln[k]
    return [out[k] for k in sorted(out, key=lambda k: tuple(str(x) for x in k))]


def _totals(lines: list[dict]) -> dict:
    out: dict[str, dict] = {}
    for ln in lines:
        t = out.setdefault(ln["currency"], {"units": 0, "revenue_minor": 0, "remuneration_due_minor": 0})
        for k in t:
            t[k] += ln[k]
    return dict(sorted(out.items()))


def sign_report(keys: OfficeKeys, body: dict, at: datetime) -> dict:
    """The report signed by the office key active at ``at`` (``key_id`` and ``signature`` added)."""
    return keys.sign_object(body, at)


def sign_reports(keys: OfficeKeys, bodies: list[dict], at: datetime) -> list[dict]:
    """Many reports signed as :func:`sign_report` signs one, the key loaded and checked once."""
    return keys.sign_objects(bodies, at)


#: Below this many reports a catalogue is signed in this process (starting workers costs more).
PARALLEL_FROM = 2_000


def _sign_and_write_share(key_id: str, key_file: str, bodies: list[dict], directory: str) -> list[tuple[str, str]]:
    """One worker's share: sign each report, write it as ``report-<party>.json``, return (party, hash)."""
    out = []
    for report in sign_with(load_private_key(Path(key_file)), key_id, bodies):
        blob = canonical(report)
        (Path(directory) / f"report-{report['creator']['party']}.json").write_bytes(blob + b"\n")
        out.append((report["creator"]["party"], hashlib.sha256(blob).hexdigest()))
    return out


def sign_and_write(keys: OfficeKeys, bodies: list[dict], at: datetime, directory: Path, *, workers: int | None = None,
                   parallel_from: int = PARALLEL_FROM) -> dict[str, str]:
    """Sign every report and write it as ``report-<party>.json`` (its RFC 8785 form and a newline) in
    ``directory``; returns party → :func:`report_hash`, in the order given. A catalogue of
    ``parallel_from`` reports or more is shared among ``workers`` processes (default: the cores),
    each loading the office key after this process has made the checks signing makes."""
    key_id, key_file = keys.active_key_file(at)
    n = max(1, workers or min(os.cpu_count() or 1, 8))
    if len(bodies) < parallel_from or n == 1:
        return dict(_sign_and_write_share(key_id, str(key_file), bodies, str(directory)))
    step = -(-len(bodies) // n)
    shares = [bodies[i:i + step] for i in range(0, len(bodies), step)]
    with ProcessPoolExecutor(len(shares), mp_context=multiprocessing.get_context("spawn")) as pool:
        done = pool.map(_sign_and_write_share, [key_id] * len(shares), [str(key_file)] * len(shares), shares,
                        [str(directory)] * len(shares))
        return dict(pair for share in done for pair in share)


def report_hash(report: dict) -> str:
    """SHA-256 of the signed report's RFC 8785 canonical JSON: what the journal anchors."""
    return hashlib.sha256(canonical(report)).hexdigest()


def verify_report(report: bytes | str | dict, key_history: KeyHistory | bytes | str | dict) -> dict:
    """Check a report offline: its shape and the office's signature by a key valid when it was issued.

    Returns the report; raises :class:`ReportError` naming the check that failed (any change
    to any figure breaks the signature).
    """
    report, _keys = verify_signed(report, key_history, format=REPORT_FORMAT, members=MEMBERS,
                                  what="the transparency report", error=ReportError)
    return report


def to_csv(report: dict) -> bytes:
    """Every line of the report, one row each (transferees, then direct income)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    creator = report["creator"]["party"]
    for t in report["transferees"]:
        for ln in t["lines"]:
            w.writerow([creator, report["year"], t["agreement"], t["transferee"]["party"], ln["work"], ln["title"] or "",
                        ln["platform"], ln["service"], ln["territory"], ln["right_type"], ln["currency"], ln["units"],
                        ln["revenue_minor"], ln["remuneration_due_minor"]])
    for ln in report["direct"]["lines"]:
        w.writerow([creator, report["year"], "", "", ln["work"], ln["title"] or "", ln["platform"], ln["service"],
                    ln["territory"], ln["right_type"], ln["currency"], ln["units"], ln["revenue_minor"],
                    ln["remuneration_due_minor"]])
    w.writerow([])
    w.writerow(["sha256", report_hash(report)])
    return buf.getvalue().encode("utf-8")
