"""Exact money: integer minor units, ``Decimal`` rates, and one documented rounding rule.

Floats never touch money in Obra. Amounts are integers in the currency's minor unit
(cents for EUR/USD, whole yen for JPY, fils for KWD); rates, shares and weights are
``Decimal`` or integers.

**The rounding rule** (used by every distribution): :func:`allocate` splits an integer
amount over weights by the *largest-remainder method*. Each recipient first gets the
floor of its exact share; the cents left over (fewer than the number of recipients) go
one each to the recipients with the largest fractional remainders; ties go to the
recipient that comes first in the order given (callers pass recipients in a stable,
documented order, e.g. sorted by id). The result always sums to the amount exactly and
no recipient is ever more than one minor unit away from its exact share.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from fractions import Fraction
from typing import Iterable, Sequence

from obra.errors import InternalInvariantError, InvalidInput, Problem

# ISO 4217 minor-unit exponents that differ from 2.
_EXPONENTS = {
    "JPY": 0, "KRW": 0, "CLP": 0, "ISK": 0, "PYG": 0, "UGX": 0, "VND": 0, "XOF": 0, "XAF": 0,
    "BHD": 3, "KWD": 3, "OMR": 3, "JOD": 3, "TND": 3, "IQD": 3, "LYD": 3,
}
Weight = int | Decimal | Fraction


def minor_exponent(currency: str) -> int:
    """Digits after the decimal point for a currency (2 unless ISO 4217 says otherwise)."""
    code = currency.upper()
    if len(code) != 3 or not code.isalpha():
        raise InvalidInput(Problem(f"'{currency}' is not an ISO 4217 currency code", field="currency"))
    return _EXPONENTS.get(code, 2)


def to_minor(amount: str | int | Decimal, currency: str, field: str = "amount") -> int:
    """A decimal amount → integer minor units, refusing sub-unit precision rather than guessing.

    Use :func:`round_to_minor` when the input legitimately carries more precision (e.g. a
    DSP's per-stream rate) and the rounding rule is documented at the call site.
    """
    if isinstance(amount, float):
        raise TypeError("money must not be a float; pass a str or Decimal")
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        raise InvalidInput(Problem(f"'{amount}' is not a number", field=field)) from None
    scaled = value.scaleb(minor_exponent(currency))
    if scaled != scaled.to_integral_value():
        raise InvalidInput(Problem(
            f"{amount} {currency} has more decimals than the currency allows", field=field))
    return int(scaled)


def round_to_minor(amount: Decimal | Fraction, currency: str) -> int:
    """Round an exact amount to minor units, half to even (banker's rounding)."""
    if isinstance(amount, Fraction):
        amount = Decimal(amount.numerator) / Decimal(amount.denominator)
    scaled = Decimal(amount).scaleb(minor_exponent(currency))
    return int(scaled.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def from_minor(minor: int, currency: str) -> Decimal:
    """Integer minor units → ``Decimal`` with the currency's exponent (for display)."""
    exp = minor_exponent(currency)
    return Decimal(minor).scaleb(-exp).quantize(Decimal(1).scaleb(-exp))


def format_money(minor: int, currency: str) -> str:
    return f"{from_minor(minor, currency):,} {currency.upper()}"


def allocate(amount: int, weights: Sequence[Weight]) -> list[int]:
    """Split ``amount`` minor units over ``weights`` by largest remainder (see module doc).

    Zero total weight allocates nothing (returns zeros): the caller books the amount as
    unallocated. Negative weights are refused.
    """
    if not isinstance(amount, int):
        raise TypeError("allocate() takes integer minor units")
    fracs = [Fraction(w) if not isinstance(w, Decimal) else Fraction(w) for w in weights]
    if any(f < 0 for f in fracs):
        raise ValueError("weights must not be negative")
    total = sum(fracs, Fraction(0))
    if total == 0 or not fracs:
        return [0] * len(fracs)
    sign = -1 if amount < 0 else 1
    magnitude = abs(amount)
    exact = [magnitude * f / total for f in fracs]
    floors = [e.numerator // e.denominator for e in exact]
    left = magnitude - sum(floors)
    order = sorted(range(len(exact)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += 1
    return [sign * f for f in floors]


class ConservationError(InternalInvariantError):
    """Money was created or lost: distributed + unallocated differs from revenue."""


@dataclass(frozen=True)
class Conservation:
    revenue: int
    distributed: int
    unallocated: int

    @property
    def balanced(self) -> bool:
        return self.distributed + self.unallocated == self.revenue


def assert_conserved(revenue: int, distributed: Iterable[int] | int, unallocated: int = 0,
                     context: str = "distribution") -> Conservation:
    """The invariant every distribution checks on every run, not only in tests."""
    paid = distributed if isinstance(distributed, int) else sum(distributed)
    check = Conservation(revenue, paid, unallocated)
    if not check.balanced:
        raise ConservationError(
            f"{context}: distributed {paid} + unallocated {unallocated} = {paid + unallocated}, "
            f"but revenue is {revenue} (difference {revenue - paid - unallocated} minor units)"
        )
    return check
