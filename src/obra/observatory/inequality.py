"""Concentration and inequality of incomes: top shares, Gini, Theil (with its group breakdown), Lorenz curves.

Every function takes the incomes of the units being compared (creators, works, payees: one
non-negative integer per unit, in minor units or plays) as a sequence or NumPy array, and returns
plain numbers. The indices are ratios, not money, so they are computed in float64 (``numpy``)
from exact integer inputs; amounts are never rounded here.

Definitions (the ones the literature and ``pysal/inequality`` use):

* **Gini** — half the relative mean absolute difference, computed from the sorted incomes
  ``x(1) ≤ … ≤ x(n)`` as ``G = 2·Σ i·x(i) / (n·Σ x) − (n + 1)/n``; 0 when everyone has the same,
  ``(n − 1)/n`` when one unit has everything.
* **Theil T** — ``T = (1/n)·Σ (x/μ)·ln(x/μ)`` (a unit with nothing contributes 0); 0 for equality,
  ``ln n`` when one unit has everything.
* **Theil decomposition** — for groups ``g`` with income shares ``s_g``, sizes ``n_g`` and means
  ``μ_g``: ``T = Σ s_g·T_g`` (within groups) ``+ Σ s_g·ln(μ_g/μ)`` (between groups), exactly.
* **Top shares** — the share of the total held by the top ``p`` of units, the top
  ``ceil(p·n)`` units (at least one), so tiers are comparable across markets of any size.
* **Lorenz curve** — the cumulative income share of the poorest ``p`` of units, at evenly spaced
  population shares, the poorest first.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

from obra.errors import InvalidInput, Problem

#: The population shares whose top income shares reports show (0.1 %, 1 %, 10 %).
TOP_SHARES = (0.001, 0.01, 0.1)


def _incomes(values: Sequence[int] | np.ndarray, what: str = "incomes") -> np.ndarray:
    x = np.asarray(values)
    if x.ndim != 1:
        raise InvalidInput(Problem(f"{what} must be one number per unit", field=what))
    if x.size and not (np.issubdtype(x.dtype, np.integer) or np.issubdtype(x.dtype, np.floating)):
        raise InvalidInput(Problem(f"{what} must be numbers, not {x.dtype}", field=what))
    x = x.astype(np.float64)
    if x.size and (np.isnan(x).any() or (x < 0).any()):
        raise InvalidInput(Problem(f"{what} must be non-negative numbers (a debt is not an income)", field=what))
    return x


def gini(values: Sequence[int] | np.ndarray) -> float:
    """The Gini index of ``values`` (0 = equality; 0 for no units or a zero total)."""
    x = np.sort(_incomes(values))
    n, total = x.size, x.sum()
    if n == 0 or total == 0:
        return 0.0
    ranks = np.arange(1, n + 1, dtype=np.float64)
    return float(2.0 * np.dot(ranks, x) / (n * total) - (n + 1) / n)


def theil(values: Sequence[int] | np.ndarray) -> float:
    """The Theil T index of ``values`` (0 = equality, ``ln n`` = one unit has everything)."""
    x = _incomes(values)
    n, total = x.size, x.sum()
    if n == 0 or total == 0:
        return 0.0
    r = x[x > 0] / (total / n)
    return float(np.sum(r * np.log(r)) / n)


@dataclass(frozen=True)
class TheilGroup:
    """One group's part in the Theil decomposition."""

    group: str
    units: int
    income_share: float
    theil: float          # the group's own Theil index T_g
    within: float         # s_g · T_g
    between: float        # s_g · ln(μ_g / μ)


@dataclass(frozen=True)
class TheilDecomposition:
    """``total = within + between``, and each group's part of both."""

    total: float
    within: float
    between: float
    groups: tuple[TheilGroup, ...]

    def to_dict(self) -> dict:
        return {"total": self.total, "within": self.within, "between": self.between,
                "groups": [g.__dict__ for g in self.groups]}


def theil_decomposition(values: Sequence[int] | np.ndarray, groups: Sequence[str] | np.ndarray) -> TheilDecomposition:
    """Theil T of ``values`` split into inequality within and between ``groups`` (one label per unit)."""
    x = _incomes(values)
    labels = np.asarray(groups, dtype=object)
    if labels.shape != x.shape:
        raise InvalidInput(Problem(f"{labels.size} group labels for {x.size} incomes; give one per unit",
                                   field="groups"))
    n, total = x.size, x.sum()
    if n == 0 or total == 0:
        return TheilDecomposition(0.0, 0.0, 0.0, ())
    mu = total / n
    keys, inverse = np.unique(labels.astype(str), return_inverse=True)
    parts = []
    for k, name in enumerate(keys):
        xg = x[inverse == k]
        sg = xg.sum() / total
        tg = theil(xg)
        between = float(sg * math.log((xg.sum() / xg.size) / mu)) if sg > 0 else 0.0
        parts.append(TheilGroup(str(name), int(xg.size), float(sg), tg, float(sg * tg), between))
    within = float(sum(p.within for p in parts))
    between = float(sum(p.between for p in parts))
    return TheilDecomposition(theil(x), within, between, tuple(parts))


def top_share(values: Sequence[int] | np.ndarray, fraction: float) -> float:
    """The share of the total held by the top ``fraction`` of units (the top ``ceil(fraction·n)``, at least one)."""
    if not 0 < fraction <= 1:
        raise InvalidInput(Problem(f"a top share is of a fraction in (0, 1], not {fraction}", field="fraction"))
    x = _incomes(values)
    n, total = x.size, x.sum()
    if n == 0 or total == 0:
        return 0.0
    k = max(1, math.ceil(fraction * n - 1e-9))
    top = np.partition(x, n - k)[n - k:]
    return float(top.sum() / total)


def top_shares(values: Sequence[int] | np.ndarray, fractions: Iterable[float] = TOP_SHARES) -> dict[str, float]:
    """``{"0.1%": share, "1%": share, "10%": share}`` for the population shares ``fractions``."""
    return {f"{fraction * 100:g}%": top_share(values, fraction) for fraction in fractions}


def lorenz(values: Sequence[int] | np.ndarray, points: int = 20) -> list[tuple[float, float]]:
    """``points + 1`` points ``(population share, income share)`` of the Lorenz curve, from (0, 0) to (1, 1)."""
    if points < 1:
        raise InvalidInput(Problem("a Lorenz curve needs at least one step", field="points"))
    x = np.sort(_incomes(values))
    n, total = x.size, x.sum()
    if n == 0 or total == 0:
        return [(i / points, i / points) for i in range(points + 1)]
    cum = np.concatenate([[0.0], np.cumsum(x)])
    out = []
    for i in range(points + 1):
        p = i / points
        pos = p * n                       # units below p, possibly fractional: interpolate inside a unit
        whole = int(math.floor(pos))
        part = cum[whole] + (x[whole] * (pos - whole) if whole < n else 0.0)
        out.append((p, float(part / total)))
    return out


def at_least(values: Sequence[int] | np.ndarray, thresholds: Iterable[int]) -> dict[int, int]:
    """How many units reach each threshold (``value ≥ threshold``)."""
    x = np.asarray(values)
    return {int(t): int(np.count_nonzero(x >= t)) for t in thresholds}


def summary(values: Sequence[int] | np.ndarray) -> dict:
    """The concentration figures of one population: units, total, mean, median, Gini, Theil, top shares."""
    x = np.asarray(values)
    return {"units": int(x.size), "total": int(x.sum()) if x.size else 0,
            "median": float(np.median(x)) if x.size else 0.0,
            "zero_units": int(np.count_nonzero(x == 0)),
            "gini": gini(x), "theil": theil(x), "top_shares": top_shares(x)}
