"""Royalty statements: what each payee is paid, and why, down to the usage lines.

A statement is one JSON document per payee and period. Every amount line names the
pool it came from (period, territory, service, commercial model), the recording or
work, the distribution model, the agreement path and the exact fraction (share) that
produced it, and the usage lines behind it (per source file: line ranges, or first/last
line and count when ``detail="summary"``). Period-level adjustments (recoupment of
advances, minimum-guarantee top-ups) and the advance balances carried forward follow,
then totals per currency and the change from the previous period's statement.

Statements are deterministic: the same inputs give byte-identical JSON, CSV, HTML and
PDF files, and ``content_hash`` (SHA-256 of the canonical JSON without the hash itself)
identifies the content whatever the format.

Access (a creator reads only statements addressed to their own party) is checked by the
pipeline, from the one permission table (:mod:`obra.access`).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections import defaultdict
from pathlib import Path
from typing import Iterable

import ibis

from obra.canonical import canonical, canonical_plain
from obra.canonical import content_hash as obra_content_hash
from obra.errors import NotFound
from obra.money import from_minor
from obra.royalties.records import POOL_KEYS
from obra.royalties.waterfall import Waterfall

FORMATS = ("json", "csv", "html", "pdf")
STATEMENT_VERSION = 1


class Statement(dict):
    """A built statement: a plain JSON-ready dict that also keeps the canonical JSON it was hashed
    over, so that writing it (:func:`to_json`) does not canonicalise it a second time. A statement
    is not to be changed once built (its ``content_hash`` would no longer be its hash)."""

    canonical_json: bytes | None = None
    sealed_hash: str | None = None


def _sealed(statement: dict, plain: frozenset[str] = frozenset()) -> Statement:
    """The statement with its ``content_hash``: the SHA-256 of the RFC 8785 JSON of the rest, built
    member by member (RFC 8785 sorts an object's members and canonicalises each value on its own), so
    that the same members with the hash added are the canonical JSON of the whole.

    ``plain`` names members the caller has already proved plain (strings, null, booleans and integers
    within ±2^53, ASCII member names: see :func:`obra.canonical._plain`), as :func:`build_statements`
    does for a whole run's lines with one pass over its integer columns: those skip the walk over every
    value and go straight to the standard library's encoder, whose bytes are then the RFC's."""
    digest, sealed = _seal(statement, {k: canonical_plain(statement[k]) for k in plain if k in statement})
    out = Statement(statement)
    out["content_hash"] = out.sealed_hash = digest
    out.canonical_json = sealed
    return out


def _seal(statement: dict, encoded: dict[str, bytes]) -> tuple[str, bytes]:
    """(content_hash, canonical JSON of the statement with it) — ``encoded``: members whose canonical
    JSON the caller already has (the rest are canonicalised here)."""
    members = {k: canonical(k) + b":" + (encoded[k] if k in encoded else canonical(v))
               for k, v in statement.items() if k != "content_hash"}
    order = sorted(members)           # member names are ASCII: code point order is UTF-16 order
    digest = hashlib.sha256(b"{" + b",".join(members[k] for k in order) + b"}").hexdigest()
    members["content_hash"] = canonical("content_hash") + b":" + canonical(digest)
    return digest, b"{" + b",".join(members[k] for k in sorted(members)) + b"}"


_SAFE_INT = 2**53
_PLAIN_LINES = frozenset({"lines"})


def _safe_ints(table, names: Iterable[str]) -> bool:
    """Are all the integer columns ``names`` of ``table`` within ±2^53 (JSON numbers RFC 8785 prints as
    Python does)? One vectorised pass instead of a check per value."""
    import pyarrow.compute as pc

    for name in names:
        mm = pc.min_max(table.column(name))
        lo, hi = mm["min"].as_py(), mm["max"].as_py()
        if lo is not None and not (-_SAFE_INT <= lo and hi <= _SAFE_INT):
            return False
    return True


# --------------------------------------------------------------------------- build
def _ranges(numbers: list[int]) -> str:
    numbers = sorted(numbers)
    out, start, prev = [], None, None
    for n in numbers:
        if start is None:
            start = prev = n
        elif n == prev + 1:
            prev = n
        else:
            out.append(f"{start}" if start == prev else f"{start}-{prev}")
            start = prev = n
    if start is not None:
        out.append(f"{start}" if start == prev else f"{start}-{prev}")
    return ",".join(out)


def _usage(run: Waterfall, items: list[str] | None, detail: str) -> dict[tuple, list[dict]]:
    """Drill-down per (pool, item): the usage lines, per source file."""
    lines = run.distribution.lines
    lines = lines.filter(lines.item.notnull())
    if items is not None:
        lines = lines.filter(lines.item.isin(items))
    keys = list(POOL_KEYS) + ["item", "source"]
    if detail == "lines":
        island = lines.line - ibis.row_number().over(group_by=keys, order_by=lines.line)
        lines = lines.mutate(island=island)
        rows = lines.group_by(keys + ["island"]).aggregate(
            first=lines.line.min(), last=lines.line.max(), plays=lines.plays.sum())
    elif run.distribution.summed is not None:
        sm = run.distribution.summed
        sm = sm.filter(sm.item.notnull())
        if items is not None:
            sm = sm.filter(sm.item.isin(items))
        rows = sm.group_by(keys).aggregate(first=sm.first_line.min(), last=sm.last_line.max(),
                                           count=sm.usage_lines.sum(), plays=sm.plays.sum())
    else:
        rows = lines.group_by(keys).aggregate(first=lines.line.min(), last=lines.line.max(),
                                              count=lines.count(), plays=lines.plays.sum())
    if detail != "lines" and run.distribution.summed is not None:
        fast = _usage_summary(rows)
        if fast is not None:
            return fast
    out: dict[tuple, dict[str, dict]] = defaultdict(dict)
    for r in rows.to_pyarrow().to_pylist():
        key = tuple(r[k] for k in POOL_KEYS) + (r["item"],)
        entry = out[key].setdefault(r["source"], {"source": r["source"], "spans": [], "plays": 0, "lines": 0})
        entry["plays"] += int(r["plays"])
        if detail == "lines":
            entry["spans"].append((int(r["first"]), int(r["last"])))
            entry["lines"] += int(r["last"]) - int(r["first"]) + 1
        else:
            entry["spans"].append((int(r["first"]), int(r["last"])))
            entry["lines"] += int(r["count"])
    result = {}
    for key, by_source in out.items():
        items_out = []
        for source in sorted(by_source):
            e = by_source[source]
            spans = sorted(e["spans"])
            if detail == "lines":
                text = ",".join(f"{a}" if a == b else f"{a}-{b}" for a, b in spans)
            else:
                text = f"{spans[0][0]}..{spans[-1][1]}"
            items_out.append({"source": source, "lines": text, "line_count": e["lines"], "plays": e["plays"]})
        result[key] = items_out
    return result


class _PlainUsage(dict):
    """The drill-down of :func:`_usage_summary`, whose every value is plain JSON (checked once)."""


def _usage_summary(rows: ibis.Table) -> "_PlainUsage | None":
    """The summary drill-down from rows already summed per (pool, item, source): one entry per source,
    in source order, read column by column (the general loop of :func:`_usage` gives the same). None
    when a count is beyond 2^53 (then the general loop, and the checked canonical JSON, take it)."""
    keys = list(POOL_KEYS) + ["item", "source"]
    table = rows.order_by(keys).to_pyarrow()
    if not _safe_ints(table, ("first", "last", "count", "plays")):
        return None
    result = _PlainUsage()
    cols = [table.column(k).to_pylist() for k in (*keys, "first", "last", "count", "plays")]
    for period, territory, service, model, item, source, first, last, count, plays in zip(*cols):
        entry = {"source": source, "lines": f"{first}..{last}", "line_count": int(count), "plays": int(plays)}
        key = (period, territory, service, model, item)
        found = result.get(key)
        if found is None:
            result[key] = [entry]
        else:
            found.append(entry)
    return result


def build_statements(run: Waterfall, payees: Iterable[str | int] | None = None, detail: str = "summary",
                     previous: dict[str, dict] | None = None, titles: dict[str, str] | None = None) -> dict[str, dict]:
    """One statement (a JSON-ready dict with its ``content_hash``) per payee of the run.

    ``payees`` limits the statements built (default: every payee). ``detail`` is
    ``"lines"`` (exact line ranges per source; for one payee or a few) or ``"summary"``
    (first..last line and the count per source; for whole runs). ``previous`` maps a
    payee to its previous statement, for period-over-period figures.
    """
    lines = run.lines
    wanted = None if payees is None else sorted({str(p) for p in payees})
    if wanted is not None:
        lines = lines.filter(lines.payee.isin(wanted))
    order = list(POOL_KEYS) + ["currency", "item", "recipient_order"]
    table = lines.order_by(["payee"] + order).to_pyarrow()
    # column by column (a row dict each would cost more than the statements' own dicts)
    c = {name: table.column(name).to_pylist() for name in
         (*POOL_KEYS, "payee", "currency", "item", "role", "path", "fraction", "amount_minor", "plays")}
    n = table.num_rows
    items = sorted(set(c["item"])) if wanted is not None else None
    usage = _usage(run, items, detail) if n else _PlainUsage()
    by_payee: dict[str, list[dict]] = defaultdict(list)
    amounts: dict[tuple[int, str], str] = {}        # the same amounts recur: each formatted once
    titles = titles or {}
    # the lines are plain JSON when their integers are within ±2^53 and so is the drill-down
    plain = isinstance(usage, _PlainUsage) and _safe_ints(table, ("amount_minor", "plays"))
    gross: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    periods_of: dict[str, set] = defaultdict(set)
    for period, territory, service, model, payee, currency, item, role, path, share, minor, plays in zip(*(
            c[k] for k in (*POOL_KEYS, "payee", "currency", "item", "role", "path", "fraction", "amount_minor",
                           "plays"))):
        minor = int(minor)
        amount = amounts.get((minor, currency))
        if amount is None:
            amount = amounts[(minor, currency)] = str(from_minor(minor, currency))
        by_payee[payee].append({
            "period": period, "territory": territory, "service": service, "commercial_model": model,
            "currency": currency, "item": item, "title": titles.get(item), "role": role,
            "agreement_path": path.split(">") if path else [], "share": share,
            "amount_minor": minor, "amount": amount, "plays": int(plays),
            "usage": usage.get((period, territory, service, model, item), []),
        })
        gross[payee][currency] += minor
        periods_of[payee].add(period)
    out = {}
    for payee, statement in _documents(run, set(by_payee), wanted, gross, periods_of, previous,
                                       lambda payee: by_payee.get(payee, [])):
        out[payee] = _sealed(statement, _PLAIN_LINES if plain else frozenset())
    return out


def _documents(run: Waterfall, paid_payees: set[str], wanted: list[str] | None,
               gross: dict[str, dict[str, int]], periods_of: dict[str, set], previous: dict[str, dict] | None,
               lines_of) -> Iterable[tuple[str, dict]]:
    """Each payee's statement document, in payee order, with ``lines_of(payee)`` as its lines: what
    :func:`build_statements` seals and :mod:`obra.royalties.statement_files` writes (one code, so the
    two give the same documents). ``gross``: payee → currency → the lines' minor units; ``periods_of``:
    payee → the periods of its lines."""
    dist = run.distribution
    adjustments: dict[str, list[dict]] = defaultdict(list)
    for a in run.adjustments:
        for party, sign in ((a.from_party, -1), (a.to_party, 1)):
            adjustments[party].append({"kind": a.kind, "agreement": str(a.agreement), "currency": a.currency,
                                       "amount_minor": sign * a.amount_minor,
                                       "amount": str(from_minor(sign * a.amount_minor, a.currency)),
                                       "counterparty": a.to_party if sign < 0 else a.from_party, "note": a.note})
    agreements = {str(a.id): a for a in run.agreements}
    advances_of: dict[str, list[str]] = defaultdict(list)
    for aid in sorted(set(run.opening_balances) | set(run.closing_balances)):
        if aid in agreements:
            advances_of[str(agreements[aid].assignor)].append(aid)
    shortfalls_of: dict[str, list[dict]] = defaultdict(list)
    for sf in run.shortfalls:
        shortfalls_of[str(sf["owed_to"])].append(sf)
        if str(sf["owed_by"]) != str(sf["owed_to"]):
            shortfalls_of[str(sf["owed_by"])].append(sf)
    everyone = sorted(paid_payees | (set(adjustments) if wanted is None else set(adjustments) & set(wanted)))
    for payee in everyone:
        totals: dict[str, dict] = {}
        paid = gross.get(payee, {})
        for cur in sorted(set(paid) | {a["currency"] for a in adjustments.get(payee, [])}):
            g = paid.get(cur, 0)
            adj = sum(a["amount_minor"] for a in adjustments.get(payee, []) if a["currency"] == cur)
            prev = ((previous or {}).get(payee) or {}).get("totals", {}).get(cur, {}).get("net_minor")
            totals[cur] = {"gross_minor": g, "adjustments_minor": adj, "net_minor": g + adj,
                           "net": str(from_minor(g + adj, cur)),
                           "previous_net_minor": prev,
                           "change_minor": None if prev is None else g + adj - prev}
        balances = []
        for aid in advances_of.get(payee, ()):
            a = agreements[aid]
            balances.append({"agreement": aid, "currency": a.currency,
                             "unrecouped_opening_minor": run.opening_balances.get(aid, a.advance),
                             "unrecouped_closing_minor": run.closing_balances.get(aid, a.advance)})
        shortfalls = shortfalls_of.get(payee, [])
        yield payee, {
            "statement_version": STATEMENT_VERSION,
            "payee": payee,
            "periods": sorted(periods_of.get(payee, ())),
            "model": {"name": dist.model, "params": dist.params, "target": dist.target},
            "lines": lines_of(payee),
            "adjustments": adjustments.get(payee, []),
            "advance_balances": balances,
            "guarantee_shortfalls": [{**s, "agreement": str(s["agreement"])} for s in shortfalls],
            "totals": totals,
            "notes": list(run.notes),
            "rounding": "each item's money is split once over exact fractions by largest remainder; "
                        "ties go to the recipient listed first (commission, equitable remuneration, shares "
                        "by party and agreement path)",
        }


def content_hash(statement: dict) -> str:
    """SHA-256 of the RFC 8785 canonical JSON of a statement without its ``content_hash``.

    Any RFC 8785 implementation recomputes it (see docs/royalties.md, "Checking a statement").
    """
    return obra_content_hash(statement)


# --------------------------------------------------------------------------- render
CSV_COLUMNS = ("payee", "period", "territory", "service", "commercial_model", "currency", "item", "title",
               "role", "agreement_path", "share", "plays", "amount_minor", "amount", "usage")


def to_json(statement: dict) -> bytes:
    """RFC 8785 canonical JSON, one document per file (a :class:`Statement` as it was sealed)."""
    sealed = getattr(statement, "canonical_json", None)
    if sealed is None or statement.get("content_hash") != getattr(statement, "sealed_hash", None):
        sealed = canonical(statement)
    return sealed + b"\n"


def to_csv(statement: dict) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for ln in statement["lines"]:
        usage = "; ".join(f"{u['source']}:{u['lines']}" for u in ln["usage"])
        w.writerow([statement["payee"], ln["period"], ln["territory"], ln["service"], ln["commercial_model"],
                    ln["currency"], ln["item"], ln["title"] or "", ln["role"], ">".join(ln["agreement_path"]),
                    ln["share"], ln["plays"], ln["amount_minor"], ln["amount"], usage])
    for a in statement["adjustments"]:
        w.writerow([statement["payee"], "", "", "", "", a["currency"], "", "", a["kind"], a["agreement"], "",
                    "", a["amount_minor"], a["amount"], a["note"]])
    w.writerow([])
    w.writerow(["content_hash", statement["content_hash"]])
    return buf.getvalue().encode("utf-8")


def to_html(statement: dict, locale: str = "en", names: dict | None = None) -> bytes:
    """The statement as a page, in ``locale``, naming the payee and counterparties (:mod:`obra.render`)."""
    from obra.render import statement_html

    return statement_html(statement, locale, names).encode("utf-8")


def to_pdf(statement: dict, locale: str = "en", names: dict | None = None) -> bytes:
    """The statement as PDF (:mod:`obra.render`: local fonts for every script, reproducible bytes)."""
    from obra.render import statement_pdf

    return statement_pdf(statement, locale, names)


RENDERERS = {"json": to_json, "csv": to_csv, "html": to_html, "pdf": to_pdf}


def render(statement: dict, fmt: str, locale: str = "en", names: dict | None = None) -> bytes:
    """The statement in ``fmt`` (json, csv: the data; html, pdf: documents in ``locale``)."""
    if fmt in ("html", "pdf"):
        return RENDERERS[fmt](statement, locale, names)
    if fmt not in RENDERERS:
        from obra.errors import InvalidInput, Problem
        raise InvalidInput(Problem(f"unknown statement format '{fmt}'; use one of {', '.join(FORMATS)}",
                                   field="format"))
    return RENDERERS[fmt](statement)


def write_statements(statements: dict[str, dict], directory: Path, formats: Iterable[str] = ("json", "csv")) -> dict:
    """Write each statement in ``formats`` under ``directory``; returns payee → {format: path}."""
    directory.mkdir(parents=True, exist_ok=True)
    written: dict[str, dict[str, str]] = {}
    for payee, st in sorted(statements.items()):
        periods = "_".join(st["periods"]) or "none"
        safe = safe_name(payee)
        for fmt in formats:
            path = directory / f"statement-{safe}-{periods}.{fmt}"
            path.write_bytes(render(st, fmt))
            written.setdefault(payee, {})[fmt] = str(path)
    return written


def safe_name(payee: str) -> str:
    """The payee as it appears in a statement's file name (letters, digits, ``-_.``; the rest ``_``)."""
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in payee)


def load_statement(path: Path) -> dict:
    if not path.exists():
        raise NotFound(f"no statement at {path}")
    return json.loads(path.read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- run reports
def money_summary(run: Waterfall) -> dict:
    """A run's checked totals per currency and its unallocated money by reason, for reports."""
    held = run.unallocated.group_by(["currency", "reason"]).aggregate(
        amount_minor=run.unallocated.amount_minor.sum()).order_by(["currency", "reason"]).to_pyarrow().to_pylist()
    return {"conservation": {c: {"revenue": v.revenue, "distributed": v.distributed, "unallocated": v.unallocated}
                             for c, v in sorted(run.conservation.items())},
            "unallocated": [{**r, "amount_minor": int(r["amount_minor"])} for r in held]}



# --------------------------------------------------------------------------- bulk export (whole runs)
def statement_lines(run: Waterfall) -> ibis.Table:
    """Every payee's statement lines as one engine table, with the usage drill-down aggregated.

    The drill-down per line is ``source:first..last(count)`` for each source file behind
    the (pool, item), in source order, computed in the engine.
    """
    keys = list(POOL_KEYS) + ["item"]
    summed = run.distribution.summed
    if summed is not None:
        summed = summed.filter(summed.item.notnull())
        per_source = summed.group_by(keys + ["source"]).aggregate(
            first=summed.first_line.min(), last=summed.last_line.max(), n=summed.usage_lines.sum())
    else:
        lines = run.distribution.lines
        lines = lines.filter(lines.item.notnull())
        per_source = lines.group_by(keys + ["source"]).aggregate(
            first=lines.line.min(), last=lines.line.max(), n=lines.count())
    per_source = per_source.mutate(ref=per_source.source + ":" + per_source.first.cast("string") + ".."
                                   + per_source.last.cast("string") + "(" + per_source.n.cast("string") + ")")
    usage = per_source.group_by(keys).aggregate(
        usage=per_source.ref.group_concat("; ", order_by=per_source.source))
    p = run.lines.join(usage, keys, how="left")
    p = p.drop(*[c for c in p.columns if c.endswith("_right")])
    return p.select("payee", *POOL_KEYS, "currency", "item", "role", "path", "fraction", "plays",
                    "amount_minor", "usage", "recipient_order")


def export_statements(run: Waterfall, directory: Path) -> dict:
    """Write all payees' statement lines (one Parquet dataset sorted by payee) and a totals file.

    Done in the engine, for whole runs with many payees (one file per payee costs more in
    file-system operations than the computation itself); :func:`build_statements` gives
    the full per-payee documents (JSON/CSV/HTML/PDF with balances and hashes).
    """
    directory.mkdir(parents=True, exist_ok=True)
    table = statement_lines(run).order_by(["payee", *POOL_KEYS, "currency", "item", "recipient_order"])
    target = directory / "statement_lines.parquet"
    table.to_parquet(target)
    totals = run.lines.group_by(["payee", "currency"]).aggregate(
        gross_minor=run.lines.amount_minor.sum(), lines=run.lines.count()).order_by(["payee", "currency"])
    rows = totals.to_pyarrow().to_pylist()
    out: dict[str, dict] = {}
    for r in rows:
        out.setdefault(r["payee"], {})[r["currency"]] = {"gross_minor": int(r["gross_minor"]),
                                                         "lines": int(r["lines"])}
    for a in run.adjustments:
        for party, sign in ((a.from_party, -1), (a.to_party, 1)):
            t = out.setdefault(party, {}).setdefault(a.currency, {"gross_minor": 0, "lines": 0})
            t["adjustments_minor"] = t.get("adjustments_minor", 0) + sign * a.amount_minor
    for cur_totals in out.values():
        for t in cur_totals.values():
            t["net_minor"] = t["gross_minor"] + t.get("adjustments_minor", 0)
    body = {"model": run.distribution.describe(), "payees": out, "closing_balances": run.closing_balances}
    data = canonical(body)
    (directory / "totals.json").write_bytes(data + b"\n")
    return {"payees": len(out), "lines": str(target), "content_hash": hashlib.sha256(data).hexdigest()}
