"""The contract waterfall: from money per recording or work to money per payee.

For each item (a recording or work, by registration number) and each pool territory,
the exact fractions of the money are worked out first, in this order:

1. **CMO commission**: a collecting society's commission (``Deductions.cmo_commission``,
   per right type) comes off the top and goes to the society.
2. **Statutory equitable remuneration** for performers, where the territory's law grants
   performers an unwaivable streaming remuneration (the :class:`RulePack`, built from
   the law data of :mod:`obra.law`) *and* an operator has configured its rate. The share
   goes to the recording's performers in equal parts.
3. **Shares and agreement chains**: the rest follows the registered shares for the
   right type and territory through the registry's agreement chains
   (:func:`obra.registry.chains.resolve_payees`). Label royalty rates, publisher
   administration fees and sub-publishing splits are agreements whose ``retained``
   fraction the assignee keeps, so they appear in each line's agreement path.
   Shares that do not add up to 100 % in that territory leave a remainder that is held
   as unallocated ("no shares registered").

The item's money is then split *once* over all these exact fractions by largest
remainder (:func:`obra.royalties.distribution.allocate_expr`, the rule of
:func:`obra.money.allocate`, ties in the documented recipient order), in the engine.

Two rules work on the period's totals per agreement, after the split:

* **Minimum guarantee** (``Agreement.minimum_guarantee``, minor units per use): when the
  assignor's earnings through the agreement are below ``uses × floor``, the assignee
  tops them up from its own earnings through that agreement; what it cannot cover is
  reported as a shortfall owed by the assignee (it is not revenue, so it is not paid
  out of the pool).
* **Advances and recoupment** (``Agreement.advance``): the assignor's earnings through the
  agreement repay the unrecouped balance first (the money goes to the assignee, who
  paid the advance); the balance is carried forward to the next period.

* **Statutory floors** (``floors``, a :class:`~obra.law.fairness.FloorPack` from the law data:
  the French streaming accord's 10 % for featured performers, a per-use floor an operator
  configures where the law names one without an amount): in a pool territory whose law sets a
  floor, an assignor earning less through an agreement is topped up from what the assignee
  kept there, reported as a ``statutory_floor`` adjustment citing the law. Applied before the
  guarantee and recoupment, whose earnings include it.

All are transfers between payees and sum to zero. Every run asserts distributed +
unallocated = revenue to the minor unit.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any, Iterable, Mapping

import ibis
import pyarrow as pa

from obra.errors import InvalidInput, Problem
from obra.law import RulePack
from obra.law.fairness import FloorPack
from obra.model import Agreement, RightType, Share
from obra.money import Conservation, ConservationError, assert_conserved
from obra.registry.chains import resolve_payees
from obra.royalties import engine as engines
from obra.royalties.distribution.common import Distribution, allocate_expr
from obra.royalties.records import ALLOCATION_KEYS

#: Roles of waterfall lines, in the order recipients are listed for tie-breaking.
ROLES = ("cmo_commission", "equitable_remuneration", "share", "unregistered")


@dataclass(frozen=True)
class Deductions:
    """Commissions taken off the top: ``cmo_commission`` maps a right type to a rate."""

    cmo_party: int | str | None = None
    cmo_commission: Mapping[str, Decimal] = field(default_factory=dict)

    def __post_init__(self) -> None:
        problems = []
        for right, rate in self.cmo_commission.items():
            if right not in {r.value for r in RightType}:
                problems.append(Problem(f"unknown right type '{right}'", field="cmo_commission"))
            try:
                value = Decimal(str(rate))
            except InvalidOperation:
                problems.append(Problem(f"commission '{rate}' for {right} is not a number", field="cmo_commission"))
                continue
            if not Decimal(0) <= value < Decimal(1):
                problems.append(Problem(f"commission {value} for {right} must be at least 0 and below 1",
                                        field="cmo_commission"))
        if self.cmo_commission and self.cmo_party is None:
            problems.append(Problem("a CMO commission needs the CMO's party (cmo_party)", field="cmo_party"))
        if problems:
            raise InvalidInput(problems)

    def rate(self, right_type: str) -> Decimal:
        return Decimal(str(self.cmo_commission.get(str(right_type), 0)))


# --------------------------------------------------------------------------- inputs
@dataclass(frozen=True)
class ItemRights:
    """What the waterfall needs to know about one recording or work (plain data)."""

    item: str  # registration number, as in the distribution's ``item`` column
    kind: str = "recording"  # "recording" | "work"
    shares: tuple[Share, ...] = ()
    performers: tuple[int | str, ...] = ()
    title: str | None = None


def period_start(period: str) -> date:
    """First day of a period: ``2015-02`` → 2015-02-01, ``2015-Q4`` → 2015-10-01, ``2015`` → 2015-01-01."""
    try:
        if "-Q" in period:
            year, q = period.split("-Q")
            return date(int(year), 3 * (int(q) - 1) + 1, 1)
        if len(period) == 4:
            return date(int(period), 1, 1)
        year, month = period.split("-")[:2]
        return date(int(year), int(month), 1)
    except (ValueError, IndexError):
        raise InvalidInput(Problem(f"'{period}' is not a period (use YYYY-MM, YYYY-Qn or YYYY)",
                                   field="period")) from None


@dataclass(frozen=True)
class Recipient:
    party: str | None  # None: held as unallocated
    role: str
    path: str  # agreement ids joined with ">" (or the law cited for equitable remuneration)
    fraction: Fraction


class AgreementIndex:
    """Agreements by assignor, so each item's chain only looks at the deals that can apply."""

    def __init__(self, agreements: Iterable[Agreement]):
        self.all = list(agreements)
        self.by_assignor: dict[str, list[Agreement]] = defaultdict(list)
        for a in self.all:
            self.by_assignor[str(a.assignor)].append(a)


def _reachable(agreements: "AgreementIndex | list[Agreement]", shares: Iterable[Share]) -> list[Agreement]:
    if not isinstance(agreements, AgreementIndex):
        return list(agreements)
    out, todo, seen = [], [str(s.party) for s in shares], set()
    while todo:
        party = todo.pop()
        if party in seen:
            continue
        seen.add(party)
        for a in agreements.by_assignor.get(party, ()):
            out.append(a)
            todo.append(str(a.assignee))
    return out


def split_item(rights: ItemRights | None, agreements: "AgreementIndex | list[Agreement]", right_type: str, country: str,
               on_date: date, rules: RulePack | None, deductions: Deductions | None) -> list[Recipient]:
    """The exact fractions of one item's money in one country, summing to exactly 1."""
    out: list[Recipient] = []
    rest = Fraction(1)
    if deductions and deductions.cmo_party is not None:
        c = Fraction(deductions.rate(right_type))
        if c:
            out.append(Recipient(str(deductions.cmo_party), "cmo_commission", "", c))
            rest -= c
    if rights is None:
        out.append(Recipient(None, "unregistered", "", rest))
        return out
    rule = rules.rule_for(country) if rules and rights.kind == "recording" else None
    if rule and rights.performers:
        er = rest * Fraction(rule.rate)
        each = er / len(rights.performers)
        for performer in sorted({str(p) for p in rights.performers}):
            out.append(Recipient(performer, "equitable_remuneration", f"law:{rule.jurisdiction}", each))
        rest -= each * len({str(p) for p in rights.performers})
    placed = Fraction(0)
    for payee in resolve_payees(rights.shares, _reachable(agreements, rights.shares), right_type, country,
                                on_date, rights.item):
        f = rest * payee.fraction
        out.append(Recipient(str(payee.party), "share", ">".join(str(a) for a in payee.path), f))
        placed += f
    if rest - placed:
        out.append(Recipient(None, "unregistered", "", rest - placed))
    total = sum((r.fraction for r in out), Fraction(0))
    if total != 1:
        raise ConservationError(f"the waterfall of {rights.item} in {country} sums to {total}, not 1")
    return out


def _item_key(rights: ItemRights | None, index: AgreementIndex) -> tuple | None:
    """The part of :func:`_split_key` that depends on the item alone (worked out once per item, not
    once per item and territory): (kind, shares, performers, deals, local), or None (no sharing)."""
    if rights is None:
        return ("unregistered",)
    deals = _reachable(index, rights.shares)
    if any(a.works for a in deals):
        return None
    local = any(s.territory != "2WL" for s in rights.shares) or any(a.territories != ("2WL",) for a in deals)
    return (rights.kind, tuple((str(s.party), str(s.right_type), s.territory, s.share) for s in rights.shares),
            tuple(sorted(str(p) for p in rights.performers)), tuple(sorted(str(a.id) for a in deals)), local)


def _split_key(item_key: tuple | None, rights: ItemRights | None, country: str, day: date,
               rules: RulePack | None) -> tuple | None:
    """A cache key for items whose split cannot differ (same shares, performers, rule, deals), from
    the item's part (:func:`_item_key`) and the territory and day.

    Territory-specific shares or deals make the country part of the key; deals limited
    to named works make the item part of it. None means "do not share the cache".
    """
    if item_key is None or rights is None:
        return item_key
    kind, shares, performers, deals, local = item_key
    rule = rules.rule_for(country) if rules and kind == "recording" else None
    return (kind, shares, performers, day, rule.jurisdiction if rule else None, country if local else None, deals)


def _integer_weights(recipients: list[Recipient]) -> list[int]:
    den = 1
    for r in recipients:
        den = den * r.fraction.denominator // math.gcd(den, r.fraction.denominator)
    weights = [r.fraction.numerator * (den // r.fraction.denominator) for r in recipients]
    if max(weights, default=0) >= 2 ** 62:
        raise InvalidInput(Problem("the shares and agreement rates of one item have too many decimals "
                                   "to split exactly (the common denominator exceeds 2^62)", field="shares"))
    return weights


# --------------------------------------------------------------------------- run
@dataclass(frozen=True)
class Adjustment:
    """A period-level transfer between two payees (recoupment or minimum-guarantee top-up)."""

    kind: str  # "recoupment" | "minimum_guarantee"
    agreement: int | str
    currency: str
    from_party: str
    to_party: str
    amount_minor: int
    note: str


@dataclass
class Waterfall:
    """Payee lines (lazy Ibis table), period adjustments, balances and the checked totals."""

    distribution: Distribution
    lines: ibis.Table  # pool keys, currency, item, payee, role, path, fraction, amount_minor, plays, usage_lines
    unallocated: ibis.Table
    adjustments: list[Adjustment]
    opening_balances: dict[str, int]
    closing_balances: dict[str, int]
    shortfalls: list[dict]
    notes: list[str]
    conservation: dict[str, Conservation]
    agreements: list[Agreement] = field(default_factory=list)


def run_waterfall(distribution: Distribution, rights: Iterable[ItemRights], agreements: Iterable[Agreement],
                  right_type: str | None = None, rules: RulePack | None = None,
                  deductions: Deductions | None = None, balances: Mapping[str, int] | None = None,
                  con: Any = None, floors: "FloorPack | None" = None) -> Waterfall:
    """Split a distribution's money per item over payees; apply guarantees and recoupment.

    ``balances`` maps an agreement id (as a string) to its unrecouped advance at the start
    of the period (from the previous period's ``closing_balances``); an agreement with an
    advance that is not in it starts with its whole advance unrecouped.
    """
    right_type = str(right_type or (RightType.MAKING_AVAILABLE if distribution.target == "recording"
                                    else RightType.PERFORMANCE))
    rights_by_item = {r.item: r for r in rights}
    agreements = list(agreements)
    alloc = distribution.allocations
    con = con or alloc._find_backend()
    keys = alloc.select("period", "territory", "item").distinct().to_pyarrow().to_pylist()

    index = AgreementIndex(agreements)
    # split key -> the recipients' columns (payee, role, path, fraction, weight, order), each list once
    cache: dict[tuple, tuple[list, ...]] = {}
    item_keys: dict[str, tuple | None] = {}
    cols: dict[str, list] = defaultdict(list)
    starts = {p: period_start(p) for p in {k["period"] for k in keys}}
    for k in keys:
        item, country, day = k["item"], k["territory"], starts[k["period"]]
        rights_i = rights_by_item.get(item)
        if item not in item_keys:
            item_keys[item] = _item_key(rights_i, index)
        key = _split_key(item_keys[item], rights_i, country, day, rules) or (item, country, day)
        split = cache.get(key)
        if split is None:
            recipients = split_item(rights_i, index, right_type, country, day, rules, deductions)
            split = cache[key] = (
                [r.party for r in recipients], [r.role for r in recipients], [r.path for r in recipients],
                [f"{r.fraction.numerator}/{r.fraction.denominator}" for r in recipients],
                _integer_weights(recipients), list(range(len(recipients))))
        width = len(split[0])
        cols["period"] += [k["period"]] * width
        cols["territory"] += [k["territory"]] * width
        cols["item"] += [item] * width
        for name, values in zip(("payee", "role", "path", "fraction", "weight", "recipient_order"), split):
            cols[name] += values
    schema = pa.schema([("period", pa.string()), ("territory", pa.string()), ("item", pa.string()),
                        ("payee", pa.string()), ("role", pa.string()), ("path", pa.string()),
                        ("fraction", pa.string()), ("weight", pa.int64()), ("recipient_order", pa.int32())])
    splits = engines.table(con, pa.table({n: cols.get(n, []) for n in schema.names}, schema=schema), copy=False)

    j = alloc.join(splits, ["period", "territory", "item"])
    j = allocate_expr(j, list(ALLOCATION_KEYS) + ["item"], "amount_minor", "weight",
                      lambda t: [t.recipient_order], out="payee_minor")
    j = j.select(*ALLOCATION_KEYS, "item", "payee", "role", "path", "fraction", "recipient_order",
                 "plays", "usage_lines", amount_minor=j.payee_minor).cache()
    lines = j.filter(j.payee.notnull())
    residual = j.filter(j.payee.isnull())
    held = distribution.unallocated.select(*ALLOCATION_KEYS, "amount_minor", "reason").union(
        residual.select(*ALLOCATION_KEYS, "amount_minor",
                        reason=ibis.literal("no shares registered for this territory")))

    # --- period-level rules per agreement, on totals pulled from the engine
    by_id = {str(a.id): a for a in agreements if a.id is not None}
    special = [a for a in by_id.values() if a.advance or a.minimum_guarantee]
    adjustments: list[Adjustment] = []
    shortfalls: list[dict] = []
    opening = {k: int(v) for k, v in (balances or {}).items()}
    closing = dict(opening)
    floor_moved: dict[str, int] = defaultdict(int)  # agreement id -> statutory floor top-ups to its assignor
    floor_notes: list[str] = []
    if floors is not None:
        floor_moved, floor_notes = _apply_floors(lines, by_id, floors, distribution.target, right_type, adjustments)
    if special:
        tot = lines.filter(lines.path != "").group_by(["payee", "path", "currency"]).aggregate(
            amount=lines.amount_minor.sum(), plays=lines.plays.sum()).to_pyarrow().to_pylist()
        owner = {str(a.id): (str(a.assignor), str(a.assignee), a.currency) for a in special}
        earned_by: dict[str, int] = defaultdict(int)  # the assignor's earnings through the deal
        uses_by: dict[str, int] = defaultdict(int)
        kept_by: dict[str, int] = defaultdict(int)  # the assignee's earnings through the deal
        for r in tot:
            path = r["path"].split(">")
            for aid in path:
                o = owner.get(aid)
                if o is None or o[2] != r["currency"]:
                    continue
                if r["payee"] == o[0] and path[-1] == aid:
                    earned_by[aid] += int(r["amount"])
                    uses_by[aid] += int(r["plays"])
                elif r["payee"] == o[1]:
                    kept_by[aid] += int(r["amount"])
        for a in sorted(special, key=lambda a: str(a.id)):
            aid = str(a.id)
            assignor, assignee = str(a.assignor), str(a.assignee)
            earned = earned_by.get(aid, 0) + floor_moved.get(aid, 0)
            kept = kept_by.get(aid, 0) - floor_moved.get(aid, 0)
            if a.minimum_guarantee:
                uses = uses_by.get(aid, 0)
                floor = uses * a.minimum_guarantee
                if earned < floor:
                    top_up = min(floor - earned, kept)
                    if top_up:
                        adjustments.append(Adjustment(
                            "minimum_guarantee", a.id, a.currency, assignee, assignor, top_up,
                            f"per-use floor {a.minimum_guarantee} x {uses} uses = {floor}; earned {earned}"))
                        earned += top_up
                        kept -= top_up
                    if floor - earned > 0:
                        shortfalls.append({"agreement": a.id, "owed_by": assignee, "owed_to": assignor,
                                           "currency": a.currency, "amount_minor": floor - earned})
            if a.advance:
                balance = opening.get(aid, a.advance)
                recouped = min(balance, max(earned, 0))
                if recouped:
                    adjustments.append(Adjustment(
                        "recoupment", a.id, a.currency, assignor, assignee, recouped,
                        f"advance {a.advance}; unrecouped at start {balance}, carried forward {balance - recouped}"))
                closing[aid] = balance - recouped
                opening.setdefault(aid, balance)

    run = Waterfall(distribution, lines, held, adjustments, opening, closing, shortfalls,
                    (rules.notes() if rules else []) + floor_notes, {}, agreements)
    run.conservation = check_waterfall(run)
    return run


def _apply_floors(lines: ibis.Table, by_id: Mapping[str, Agreement], floors: "FloorPack", target: str,
                  right_type: str, adjustments: list[Adjustment]) -> tuple[dict[str, int], list[str]]:
    """Statutory and sector floors (``obra.law.fairness``), per agreement and pool territory.

    In each territory whose law sets a floor for the run's target and right type (a royalty
    rate: the assignor's share of the money through the agreement; or an amount per use), an
    assignor earning less is topped up from what the assignee kept through that agreement in
    that territory, as a ``statutory_floor`` adjustment whose note cites the law; what the
    assignee kept bounds the top-up (a floor moves money between the parties, it never creates
    revenue). A rate floor is rounded half up to the minor unit. Returns the top-ups per
    agreement (which then count as the assignor's earnings for guarantees and recoupment) and
    notes on floors the law names but gives no amount for.
    """
    moved: dict[str, int] = defaultdict(int)
    if not by_id:
        return moved, []
    tot = lines.filter(lines.path != "").group_by(["payee", "path", "currency", "territory"]).aggregate(
        amount=lines.amount_minor.sum(), plays=lines.plays.sum()).to_pyarrow().to_pylist()
    earned: dict[tuple, int] = defaultdict(int)
    kept: dict[tuple, int] = defaultdict(int)
    uses: dict[tuple, int] = defaultdict(int)
    territories: set[str] = set()
    for r in tot:
        path = r["path"].split(">")
        territories.add(r["territory"])
        for aid in path:
            a = by_id.get(aid)
            if a is None or a.currency != r["currency"]:
                continue
            key = (aid, r["territory"])
            if r["payee"] == str(a.assignor) and path[-1] == aid:
                earned[key] += int(r["amount"])
                uses[key] += int(r["plays"])
            elif r["payee"] == str(a.assignee):
                kept[key] += int(r["amount"])
    for aid, country in sorted(set(earned) | set(kept)):
        a = by_id[aid]
        key = (aid, country)
        required, why = 0, []
        for floor in floors.for_territory(country):
            if floor.target != target or (floor.rights and right_type not in floor.rights):
                continue
            if floor.kind == "royalty_rate":
                base = Fraction(earned[key] + kept[key]) * floor.value
                amount = (base.numerator * 2 + base.denominator) // (2 * base.denominator)
            else:
                amount = uses[key] * int(floor.value)
            if amount > required:
                required, why = amount, [floor.describe()]
        if required > earned[key] and kept[key] > 0:
            top_up = min(required - earned[key], kept[key])
            adjustments.append(Adjustment(
                "statutory_floor", a.id, a.currency, str(a.assignee), str(a.assignor), top_up,
                f"{country}: {why[0]}; required {required}, earned {earned[key]}"))
            moved[aid] += top_up
    return moved, floors.notes(sorted(territories))


def check_waterfall(run: Waterfall) -> dict[str, Conservation]:
    """Per currency: payee lines + unallocated = the distribution's revenue; adjustments net to zero."""
    paid = {r["currency"]: int(r["t"] or 0) for r in run.lines.group_by("currency").aggregate(
        t=run.lines.amount_minor.sum()).to_pyarrow().to_pylist()}
    held = {r["currency"]: int(r["t"] or 0) for r in run.unallocated.group_by("currency").aggregate(
        t=run.unallocated.amount_minor.sum()).to_pyarrow().to_pylist()}
    out = {}
    for cur, c in run.distribution.conservation.items():
        out[cur] = assert_conserved(c.revenue, paid.get(cur, 0), held.get(cur, 0),
                                    context=f"waterfall in {cur}")
    net: dict[tuple, int] = defaultdict(int)
    for a in run.adjustments:
        net[(a.currency, a.from_party)] -= a.amount_minor
        net[(a.currency, a.to_party)] += a.amount_minor
    if sum(net.values()) != 0:
        raise ConservationError("waterfall adjustments do not net to zero")
    return out


def payee_totals(run: Waterfall) -> dict[tuple[str, str], int]:
    """(payee, currency) → net amount for the period (lines plus adjustments)."""
    rows = run.lines.group_by(["payee", "currency"]).aggregate(t=run.lines.amount_minor.sum()) \
        .to_pyarrow().to_pylist()
    out = {(r["payee"], r["currency"]): int(r["t"]) for r in rows}
    for a in run.adjustments:
        out[(a.from_party, a.currency)] = out.get((a.from_party, a.currency), 0) - a.amount_minor
        out[(a.to_party, a.currency)] = out.get((a.to_party, a.currency), 0) + a.amount_minor
    return out


def rights_from_repertoire(repertoire: Any, target: str = "recording") -> list[ItemRights]:
    """The waterfall's view of the registry (:meth:`obra.store.Store.repertoire`)."""
    items = repertoire.recordings if target == "recording" else repertoire.works
    out = []
    for number, item in sorted(items.items()):
        record = item.record if isinstance(item.record, dict) else {}
        body = record.get(item.entity, record)
        performers = tuple(p["party"] if isinstance(p, dict) else p for p in body.get("performers", ()) or ())
        out.append(ItemRights(number, item.entity, tuple(item.shares), performers, item.title))
    return out
