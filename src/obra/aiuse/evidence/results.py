"""A training check's results, read back as evidence: found, verified against their receipt, filtered.

A check keeps its results in one directory (``receipt.json``, ``anchor.json``, ``items.parquet``
and the rest; see :mod:`obra.aiuse.check.service`). Before anything in it becomes evidence, the
receipt's office signature is verified and the per-item Parquet must still hash to what the
receipt records: results edited after the check are refused, not quoted. The items matched to
one registration are then selected in the engine (DuckDB over the Parquet file or Spark's part
files), so a million-item check is never loaded into Python.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from obra.aiuse.check.receipt import ReceiptError, receipt_hash, verify_receipt
from obra.errors import InvalidInput, NotFound, Problem, Unverifiable
from obra.transparency.signing import KeyHistory, format_time

__all__ = ["CheckResults", "MAX_ITEMS", "SIGNAL_COLUMNS", "locate", "open_check", "matched_items"]

MAX_ITEMS = 1000
"""At most this many matched items are quoted one by one in a bundle (all are counted)."""

SIGNAL_COLUMNS = ("crawl", "aipref", "content_signals", "tdmrep", "rsl", "noai", "cawg")
"""The per-standard readings the check keeps per item (what its decision depended on)."""

_REF = re.compile(r"(?:\d{1,12}|[0-9a-f]{8,64})")


@dataclass(frozen=True)
class CheckResults:
    """One check's verified results: its receipt, the journal event anchoring it, the items file."""

    directory: Path
    receipt: dict
    receipt_sha256: str
    journal_event: int
    items_path: Path
    decisions: dict

    @property
    def question(self) -> dict:
        return self.receipt["question"]


def locate(home: Path, ref: str) -> Path:
    """The results directory of the check kept under ``home/ai-checks`` whose journal event id or receipt
    hash (a prefix of 8 or more hex digits) is ``ref``. Only that folder is searched: a reference is never
    a path, so an API caller cannot point the office at files of its choosing."""
    ref = str(ref).strip().lower()
    if not _REF.fullmatch(ref):
        raise InvalidInput(Problem(f"{ref[:80]!r} is neither a journal event id nor a receipt hash", field="check"),
                           hint="give the check's journal event id (`obra ai check` prints it) or the first 8+ "
                                "hex digits of its receipt hash")
    root = Path(home) / "ai-checks"
    found = []
    for anchor in sorted(root.glob("*/anchor.json")) if root.is_dir() else ():
        try:
            data = json.loads(anchor.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if str(data.get("journal_event")) == ref or str(data.get("receipt_sha256", "")).startswith(ref):
            found.append(anchor.parent)
    if not found:
        raise NotFound(f"no training check kept by this office has journal event or receipt hash {ref!r}",
                       hint="run `obra ai check` (or POST /ai/check) without --out so its results are kept, "
                            "then give its journal event id")
    if len(found) > 1:
        raise InvalidInput(Problem(f"{ref!r} names {len(found)} checks; give more digits of the receipt hash",
                                   field="check"))
    return found[0]


def _items_path(directory: Path) -> Path:
    path = directory / "items.parquet"
    if not path.exists():
        raise NotFound(f"{directory.name} holds no items.parquet: it is not the results directory of a check")
    return path


def open_check(directory: Path, key_history: KeyHistory) -> CheckResults:
    """Read and verify a check's results: the receipt's signature (office key valid when it was issued), the
    anchor's receipt hash, and the per-item Parquet's hash against the receipt."""
    directory = Path(directory)
    try:
        receipt = json.loads((directory / "receipt.json").read_text(encoding="utf-8"))
        anchor = json.loads((directory / "anchor.json").read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise NotFound(f"{directory} is not a check's results directory: {Path(exc.filename).name} is missing",
                       hint="give the directory `obra ai check` wrote (it holds receipt.json and anchor.json)") from None
    except ValueError as exc:
        raise Unverifiable(f"the check's receipt or anchor is not JSON ({exc})") from None
    items = _items_path(directory)
    try:
        verify_receipt(receipt, key_history, outputs={"parquet": items})
    except ReceiptError as exc:
        raise Unverifiable(f"the check's results do not verify, so they cannot be evidence: {exc}") from None
    digest = receipt_hash(receipt)
    if anchor.get("receipt_sha256") != digest or not isinstance(anchor.get("journal_event"), int):
        raise Unverifiable("anchor.json does not name this receipt's journal event: the results were mixed up")
    decisions: dict = {}
    parts = directory / "parts.json"
    if parts.exists():
        raw = json.loads(parts.read_text(encoding="utf-8")).get("decisions", {})
        decisions = {int(k): v for k, v in raw.items()}
    return CheckResults(directory, receipt, digest, anchor["journal_event"], items, decisions)


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return format_time(value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc))
    return str(value)


def matched_items(results: CheckResults, number: str, *, limit: int = MAX_ITEMS) -> tuple[list[dict], int]:
    """The items the check matched to registration ``number`` (nearest first per item, in item order), at
    most ``limit`` of them, and how many there are in all."""
    import duckdb

    source = results.items_path
    pattern = str(source / "*.parquet") if source.is_dir() else str(source)
    con = duckdb.connect()
    try:
        columns = {r[0] for r in con.execute("DESCRIBE SELECT * FROM read_parquet($p)", {"p": pattern}).fetchall()}
        if "matches" not in columns:
            raise Unverifiable("the check's items carry no registry matches (results of an older format)")
        wanted = ["item", "line", "url", "decision", "registry", "crawled_at", "error", "decision_id",
                  *SIGNAL_COLUMNS]
        present = [c for c in wanted if c in columns]
        mine = "list_filter(matches, lambda x: x.number = $n)"
        where = f"FROM read_parquet($p) WHERE len({mine}) > 0"
        total = con.execute(f"SELECT count(*) {where}", {"p": pattern, "n": number}).fetchone()[0]
        cursor = con.execute(f"SELECT {', '.join(present)}, {mine} AS mine {where} ORDER BY item LIMIT {int(limit)}",
                             {"p": pattern, "n": number})
        names = [d[0] for d in cursor.description]
        rows = [dict(zip(names, r)) for r in cursor.fetchall()]
    finally:
        con.close()
    out = []
    for row in rows:
        decision = results.decisions.get(row.get("decision_id"), {})
        matches = sorted(row["mine"], key=lambda m: (m.get("distance") or 0))
        out.append({
            "item": row["item"], "line": row.get("line"), "url": row.get("url"), "crawled_at": _iso(row.get("crawled_at")),
            "matches": [{"number": m["number"], "how": m["how"], "distance": m.get("distance"),
                         "permission_now": m.get("permission"), "from": m.get("from"),
                         "terms_event": m.get("terms_event"), "terms_version": m.get("terms_version")} for m in matches],
            "check": {"decision": row.get("decision"), "rule": decision.get("rule"), "registry": row.get("registry")},
            "signals": {c: row.get(c) for c in SIGNAL_COLUMNS},
            "error": row.get("error")})
    return out, int(total)
