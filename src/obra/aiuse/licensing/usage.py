"""AI developers' usage reports under a licence: read at the edge, priced against the licence, lines outside it held.

A report is a CSV file, one line per item used in a training run or per output attribution:

* ``number``, ``url`` or ``sha256`` — the item, as the licence names it (at least one);
* ``uses`` — how many uses or outputs it contributed to (a whole number, default 1);
* ``revenue`` — for a revenue-share licence, the revenue the line earned, in the licence's
  currency (a decimal, at most the currency's minor digits);
* ``output`` — optional: the output or training run the line is about, kept as given.

**Pricing** (integer minor units; :mod:`obra.money`): an item priced ``per-use`` or ``per-crawl``
owes its unit price times ``uses``; ``revenue-share`` owes the share of the line's revenue,
rounded half to even to the minor unit, once per line (so each line's amount is traceable by
itself); ``flat`` and ``per-item`` items were paid in the licence fee and owe nothing more (the
line is kept as usage evidence). A line naming an item the licence does not cover, or reported
under a revoked licence, is **held**: recorded with why, never paid, listed in the answer. A
malformed line refuses the whole report, each problem named by line and column.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Iterable

from obra.errors import InvalidInput, Problem
from obra.ids import ascii_digits
from obra.money import minor_exponent

__all__ = ["UsageLine", "read_usage_report", "price_line", "MAX_USES"]

MAX_USES = 10**9
COLUMNS = ("number", "url", "sha256", "uses", "revenue", "output")


@dataclass(frozen=True)
class UsageLine:
    line: int
    number: str | None
    url: str | None
    sha256: str | None
    uses: int
    revenue: Decimal | None
    output: str | None


def read_usage_report(data: bytes, source: str) -> list[UsageLine]:
    """Every line of the report, or :class:`InvalidInput` naming each bad one (nothing is kept then)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(Problem(f"the report is not UTF-8 text: {exc}", source=source)) from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    fields = [f.strip() for f in reader.fieldnames or []]
    if not {"number", "url", "sha256"} & set(fields):
        raise InvalidInput(Problem("the report has none of the columns number, url, sha256", source=source, line=1),
                           hint=f"columns: {', '.join(COLUMNS)}")
    problems: list[Problem] = []
    lines: list[UsageLine] = []
    for n, row in enumerate(reader, 2):
        row = {(k or "").strip(): (v or "").strip() for k, v in row.items() if k is not None}
        number, url, sha = row.get("number") or None, row.get("url") or None, (row.get("sha256") or "").lower() or None
        if not (number or url or sha):
            problems.append(Problem("the line names no item (number, url or sha256)", "number", n, source))
            continue
        uses_text = row.get("uses") or "1"
        if not ascii_digits(uses_text) or int(uses_text) > MAX_USES:
            problems.append(Problem(f"uses must be a whole number from 0 to {MAX_USES}, not {uses_text!r}", "uses",
                                    n, source))
            continue
        revenue = None
        if row.get("revenue"):
            try:
                revenue = Decimal(row["revenue"])
            except InvalidOperation:
                problems.append(Problem(f"revenue {row['revenue']!r} is not a decimal number", "revenue", n, source))
                continue
            if not revenue.is_finite() or revenue < 0:
                problems.append(Problem("revenue must be a finite amount of 0 or more", "revenue", n, source))
                continue
        lines.append(UsageLine(n, number.upper() if number else None, url, sha, int(uses_text), revenue,
                               row.get("output") or None))
    if problems:
        raise InvalidInput(problems[:200], hint="fix these lines and send the report again; nothing was recorded")
    if not lines:
        raise InvalidInput(Problem("the report has no lines", source=source))
    return lines


def price_line(line: UsageLine, item: dict, source: str) -> int:
    """What one covered line owes, in minor units (see the module docstring)."""
    model = item["model"]
    if model in ("per-use", "per-crawl"):
        return int(item["unit_minor"]) * line.uses
    if model == "revenue-share":
        currency = item.get("currency")
        if line.revenue is None or currency is None:
            raise InvalidInput(Problem("a revenue-share item needs the line's revenue, in the currency the licence "
                                       "names with --currency", "revenue", line.line, source))
        digits = minor_exponent(currency)
        scaled = line.revenue.scaleb(digits)
        if scaled != scaled.to_integral_value():
            raise InvalidInput(Problem(f"revenue {line.revenue} has more decimals than {currency} allows", "revenue",
                                       line.line, source))
        owed = scaled * Decimal(item["share_percent"]) / 100
        return int(owed.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
    return 0


def items_by_key(rows: Iterable[dict]) -> tuple[dict, dict, dict]:
    """The licence's items by number, URL and SHA-256 (the first item of each)."""
    by_number: dict[str, dict] = {}
    by_url: dict[str, dict] = {}
    by_sha: dict[str, dict] = {}
    for r in rows:
        if r.get("number"):
            by_number.setdefault(r["number"], r)
        if r.get("url"):
            by_url.setdefault(r["url"], r)
        if r.get("sha256"):
            by_sha.setdefault(r["sha256"], r)
    return by_number, by_url, by_sha
