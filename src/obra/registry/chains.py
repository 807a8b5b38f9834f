"""Chains of agreements resolved to who is paid what, for one use, in one country, on one day.

Start from the shares that govern the right in that country (the most specific territory
wins, see :func:`obra.model.applicable_shares`). Each holder's fraction then flows through
the holder's active agreements that cover the right, the country and the work: the
assignee keeps ``retained`` of it and the rest goes back to the assignor; the assignee's
part can flow on through the assignee's own agreements (a publisher sub-publishing
abroad). The result is exact (``Fraction``) and every payee line carries the path of
agreement ids that produced it, so a statement can show why each cent went where.

When a holder has several agreements covering the same use, the most recent start date
wins (a later deal supersedes an earlier one); ties go to the lower agreement id.
A cycle (A assigns to B, B back to A) stops at the first repeated party and the money
stays with it; that is reported in the path.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Iterable

from obra.model import Agreement, RightType, Share, applicable_shares


@dataclass(frozen=True)
class PayeeShare:
    party: int | str
    fraction: Fraction
    path: tuple[int | str, ...]  # agreement ids, outermost first


def _governing(agreements: list[Agreement], party, right_type, country, on_date, work) -> Agreement | None:
    found = [a for a in agreements if a.assignor == party and a.active_on(on_date)
             and a.covers(right_type, country, work)]
    if not found:
        return None
    return sorted(found, key=lambda a: (-a.start.toordinal(), a.id if a.id is not None else 0))[0]


def resolve_payees(shares: Iterable[Share], agreements: Iterable[Agreement], right_type: RightType | str,
                   country: str, on_date: date, work: str | None = None) -> list[PayeeShare]:
    """Who receives which exact fraction of the money for this use (fractions sum to the shares' total / 100)."""
    agreements = list(agreements)
    out: dict[tuple, Fraction] = defaultdict(Fraction)

    def flow(party, fraction: Fraction, path: tuple, seen: frozenset) -> None:
        if fraction == 0:
            return
        deal = None if party in seen else _governing(agreements, party, right_type, country, on_date, work)
        if deal is None:
            out[(party, path)] += fraction
            return
        kept = fraction * Fraction(deal.retained)
        flow(deal.assignee, kept, path + (deal.id,), seen | {party})
        if fraction - kept:
            out[(party, path + (deal.id,))] += fraction - kept

    for share in applicable_shares(list(shares), right_type, country):
        flow(share.party, Fraction(share.share) / 100, (), frozenset())
    return [PayeeShare(party, frac, path) for (party, path), frac in sorted(
        out.items(), key=lambda kv: (str(kv[0][0]), tuple(str(p) for p in kv[0][1])))]


def payee_totals(payees: Iterable[PayeeShare]) -> dict:
    """Sum fractions per party (for summaries; statements keep the paths)."""
    totals: dict = defaultdict(Fraction)
    for p in payees:
        totals[p.party] += p.fraction
    return dict(totals)
