"""Taker fee models of both venues (PROTOCOLS §2, §4.4), in exact integer arithmetic.

Money unit: every amount of money in `arbkit.core` is an ``int`` of **micro-dollars**
($0.000001, `MICROS_PER_DOLLAR` per dollar). Fees land on that grid exactly (Kalshi fees are whole
cents, Polymarket fees multiples of $0.00001). A price × size product (ticks of $0.0001 × millionths
of a contract) is a multiple of $0.0000000001 (`FINE_PER_DOLLAR`), finer than a micro-dollar; code
that adds such products keeps them in these *fine* units and rounds to micro-dollars once, where it
says so. Sizes of whole hundredths of a contract (every Kalshi order) make that exact.

Fee rates come from config as Decimals and are turned into integer fractions once, so a fee is a
few integer multiplications and one division.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Final

from arbkit.core.fixedpoint import PRICE_ONE, PRICE_SCALE, SIZE_SCALE

if TYPE_CHECKING:
    from arbkit.config import Pair

MICROS_PER_DOLLAR: Final = 1_000_000
FINE_PER_DOLLAR: Final = PRICE_SCALE * SIZE_SCALE  # one fine unit = price tick × size millionth
FINE_PER_MICRO: Final = FINE_PER_DOLLAR // MICROS_PER_DOLLAR

KALSHI_TAKER_RATE = Decimal("0.07")
_CENT_MICROS: Final = MICROS_PER_DOLLAR // 100
_POLY_UNIT_MICROS: Final = MICROS_PER_DOLLAR // 100_000  # Polymarket fees are rounded to $0.00001
# size millionths × price ticks × price ticks = 1e-14 dollars
_SPP_PER_DOLLAR: Final = SIZE_SCALE * PRICE_SCALE * PRICE_SCALE
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def micros_to_decimal(micros: int) -> Decimal:
    """Render micro-dollars as a Decimal dollar amount, exactly."""
    return Decimal(micros).scaleb(-6)


def decimal_to_micros(value: Decimal | str | int) -> int:
    """Convert a dollar amount to micro-dollars; raise ValueError if it is finer than $0.000001."""
    scaled = Decimal(value) * MICROS_PER_DOLLAR
    if not scaled.is_finite() or scaled != scaled.to_integral_value():
        raise ValueError(f"not a whole number of micro-dollars: {value!r}")
    return int(scaled)


def _fraction(value: Decimal) -> tuple[int, int]:
    if not value.is_finite() or value < 0:
        raise ValueError(f"fee parameter must be a finite non-negative number: {value!r}")
    num, den = value.as_integer_ratio()
    return num, den


def kalshi_taker_fee(size: int, price: int, multiplier: Decimal = Decimal(1)) -> int:
    """Return the Kalshi taker fee in micro-dollars for `size` millionths filled at `price` ticks.

    `ceil_to_cent(M × 0.07 × C × P × (1 − P))`, charged once per price level an order fills at.
    """
    return FeeParams(multiplier, Decimal(0)).kalshi(size, price)


def polymarket_taker_fee(size: int, price: int, rate: Decimal) -> int:
    """Return the Polymarket taker fee in micro-dollars: `C × rate × p × (1 − p)`, half-up to $1e-5."""
    return FeeParams(Decimal(0), rate).polymarket(size, price)


class FeeParams:
    """The fee parameters in force for one pair at one time, as integer fractions."""

    __slots__ = (
        "kalshi_multiplier",
        "polymarket_rate",
        "k_num",
        "k_den",
        "p_num",
        "p_den",
        "scale",
        "k_weight",
        "p_weight",
        "margins_fall",
    )

    def __init__(self, kalshi_multiplier: Decimal, polymarket_rate: Decimal) -> None:
        self.kalshi_multiplier = Decimal(kalshi_multiplier)
        self.polymarket_rate = Decimal(polymarket_rate)
        m_num, m_den = _fraction(self.kalshi_multiplier * KALSHI_TAKER_RATE)
        r_num, r_den = _fraction(self.polymarket_rate)
        # fee in cents = m × size × p × q / 1e14 × 100
        self.k_num = m_num
        self.k_den = m_den * (_SPP_PER_DOLLAR // 100)
        # fee in $1e-5 units = r × size × p × q / 1e14 × 1e5
        self.p_num = r_num
        self.p_den = r_den * (_SPP_PER_DOLLAR // 100_000)
        # Unrounded, a fee per millionth of a contract at price p is, in fine units,
        # k_num * p * (1 - p) / k_unit and p_num * p * (1 - p) / p_unit: over their least common
        # denominator `scale` both are integers, k_weight * p * (1 - p) and p_weight * p * (1 - p),
        # small enough to stay within a machine word where the detector multiplies them by sizes.
        k_unit = self.k_den // (FINE_PER_MICRO * _CENT_MICROS)
        p_unit = self.p_den // (FINE_PER_MICRO * _POLY_UNIT_MICROS)
        self.scale = math.lcm(k_unit, p_unit)
        self.k_weight = m_num * (self.scale // k_unit)
        self.p_weight = r_num * (self.scale // p_unit)
        # Whether a price plus its unrounded fee rises with the price on both venues (each rate
        # under 1, the fee being rate x p x (1 - p)): then a margin only falls along a ladder.
        self.margins_fall = k_unit >= m_num * PRICE_ONE and p_unit >= r_num * PRICE_ONE

    def kalshi(self, size: int, price: int) -> int:
        """Kalshi taker fee (micro-dollars) for one fill of `size` at `price`, rounded up to the cent."""
        # The size last and a ceiling without negation: compiled, products of small non-negative
        # factors stay in machine words (others take Python's arbitrary-precision path).
        raw = size * (self.k_num * price * (PRICE_ONE - price))
        den = self.k_den
        return (raw + den - 1) // den * _CENT_MICROS

    def polymarket(self, size: int, price: int) -> int:
        """Polymarket taker fee (micro-dollars) for one fill, rounded half-up to $0.00001."""
        raw = size * (self.p_num * price * (PRICE_ONE - price))
        den = self.p_den
        return (raw + raw + den) // (den + den) * _POLY_UNIT_MICROS

    def __repr__(self) -> str:
        return (
            f"FeeParams(kalshi_multiplier={self.kalshi_multiplier}, "
            f"polymarket_rate={self.polymarket_rate})"
        )


def datetime_to_ns(when: dt.datetime) -> int:
    """Convert a datetime to integer UTC nanoseconds, exactly; a naive datetime is taken as UTC."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    delta = when - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000


class FeeSchedule:
    """A pair's fee parameters over time: base values plus dated overrides.

    Each override sets the values it names from its `since` on; a value it leaves out keeps what
    was in force before it (the base value or an earlier override's).
    """

    __slots__ = ("base", "_since", "_params")

    def __init__(
        self,
        kalshi_multiplier: Decimal,
        polymarket_rate: Decimal,
        overrides: Iterable[tuple[int, Decimal | None, Decimal | None]] = (),
    ) -> None:
        self.base = FeeParams(kalshi_multiplier, polymarket_rate)
        self._since: list[int] = []
        self._params: list[FeeParams] = []
        current = self.base
        for since_ns, multiplier, rate in sorted(overrides, key=lambda o: o[0]):
            current = FeeParams(
                current.kalshi_multiplier if multiplier is None else multiplier,
                current.polymarket_rate if rate is None else rate,
            )
            self._since.append(since_ns)
            self._params.append(current)

    @classmethod
    def from_pair(cls, pair: Pair) -> FeeSchedule:
        """Build the schedule from an `arbkit.config.Pair`."""
        return cls(
            pair.kalshi_fee_multiplier,
            pair.polymarket_fee_rate,
            [
                (datetime_to_ns(o.since), o.kalshi_fee_multiplier, o.polymarket_fee_rate)
                for o in pair.fee_overrides
            ],
        )

    @property
    def change_times(self) -> tuple[int, ...]:
        """The instants (UTC ns) at which an override takes effect, ascending."""
        return tuple(self._since)

    def for_time(self, now_ns: int) -> FeeParams:
        """Return the parameters of the latest override whose `since` <= now_ns, else the base."""
        if not self._since or now_ns < self._since[0]:
            return self.base
        return self._params[bisect.bisect_right(self._since, now_ns) - 1]
