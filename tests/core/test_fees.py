"""Fee models: Kalshi per-level cent rounding, Polymarket half-up to 5 decimals, dated overrides.

Money is int micro-dollars ($1 = 1_000_000); sizes are millionths of a contract, prices ticks of
$0.0001 (arbkit.core.fixedpoint).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from arbkit.config import parse_config
from arbkit.core.fees import (
    FeeParams,
    FeeSchedule,
    datetime_to_ns,
    decimal_to_micros,
    kalshi_taker_fee,
    micros_to_decimal,
    polymarket_taker_fee,
)
from arbkit.core.fixedpoint import parse_price, parse_size

UTC = dt.timezone.utc


def kalshi(count: str, price: str, multiplier: str = "1") -> Decimal:
    return micros_to_decimal(
        kalshi_taker_fee(parse_size(count), parse_price(price), Decimal(multiplier))
    )


def poly(count: str, price: str, rate: str) -> Decimal:
    return micros_to_decimal(
        polymarket_taker_fee(parse_size(count), parse_price(price), Decimal(rate))
    )


@pytest.mark.parametrize(
    ("count", "price", "expected"),
    [
        ("10", "0.50", "0.18"),  # 0.07 * 10 * 0.5 * 0.5 = 0.175 -> up to 0.18
        ("1", "0.50", "0.02"),  # 0.07 * 1 * 0.25 = 0.0175 -> 0.02
        ("100", "0.37", "1.64"),  # 0.07 * 100 * 0.37 * 0.63 = 7 * 0.2331 = 1.6317 -> 1.64
        ("4", "0.50", "0.07"),  # 0.07 * 4 * 0.25 = 0.07 exactly: no extra cent
        ("100", "0.50", "1.75"),  # 0.07 * 100 * 0.25 = 1.75 exactly
        ("1", "0.9999", "0.01"),  # 0.07 * 0.9999 * 0.0001 = 0.0000069993 -> 0.01
        ("0", "0.50", "0"),  # nothing filled, nothing charged
    ],
)
def test_kalshi_taker_fee_rounds_up_to_the_cent(count, price, expected):
    assert kalshi(count, price) == Decimal(expected)


@pytest.mark.parametrize(
    ("count", "price", "expected"),
    [
        ("1.5", "0.50", "0.03"),  # 0.07 * 1.5 * 0.25 = 0.02625 -> 0.03
        ("0.01", "0.50", "0.01"),  # 0.07 * 0.01 * 0.25 = 0.000175 -> 0.01
        ("2.37", "0.83", "0.03"),  # 0.07 * 2.37 * 0.83 * 0.17 = 0.02340849 -> 0.03
    ],
)
def test_kalshi_taker_fee_on_fractional_counts(count, price, expected):
    assert kalshi(count, price) == Decimal(expected)


def test_kalshi_fee_multiplier_half_and_zero():
    # 0.5 * 0.07 * 10 * 0.25 = 0.0875 -> 0.09
    assert kalshi("10", "0.50", "0.5") == Decimal("0.09")
    # 0.5 * 0.07 * 100 * 0.37 * 0.63 = 0.81585 -> 0.82
    assert kalshi("100", "0.37", "0.5") == Decimal("0.82")
    # free series (multiplier 0) pay nothing at any size
    assert kalshi("1000", "0.50", "0") == Decimal(0)


@pytest.mark.parametrize(
    ("count", "price", "rate", "expected"),
    [
        ("100", "0.50", "0.07", "1.75"),  # 100 * 0.07 * 0.25 = 1.75 (PROTOCOLS §4.4 example)
        ("1", "0.37", "0.03", "0.00699"),  # 0.03 * 0.2331 = 0.006993 -> 0.00699 (down)
        ("1", "0.45", "0.03", "0.00743"),  # 0.03 * 0.2475 = 0.007425 -> 0.00743 (half-up)
        ("0.2", "0.50", "0.0001", "0.00001"),  # 0.2 * 0.0001 * 0.25 = 0.000005 -> 0.00001
        ("0.1", "0.50", "0.0001", "0"),  # 0.0000025 -> below half a unit -> 0
        # 12.345678 * 0.05 * 0.4321 * 0.5679 = 0.151475043... -> 0.15148
        ("12.345678", "0.4321", "0.05", "0.15148"),
        ("1000", "0.50", "0", "0"),  # fee-free market
    ],
)
def test_polymarket_taker_fee_rounds_half_up_to_five_decimals(count, price, rate, expected):
    assert poly(count, price, rate) == Decimal(expected)


def test_polymarket_half_up_differs_from_bankers_rounding_at_an_exact_half():
    # 0.007425 sits exactly between 0.00742 and 0.00743; half-even would keep 0.00742.
    fee = polymarket_taker_fee(parse_size("1"), parse_price("0.45"), Decimal("0.03"))

    assert fee == 7_430  # micro-dollars


def test_fee_params_charge_kalshi_and_polymarket_with_their_own_parameters():
    fees = FeeParams(Decimal("0.5"), Decimal("0.04"))

    # Kalshi: 0.5 * 0.07 * 10 * 0.25 = 0.0875 -> 0.09; Polymarket: 10 * 0.04 * 0.25 = 0.1
    assert fees.kalshi(parse_size("10"), parse_price("0.5")) == 90_000
    assert fees.polymarket(parse_size("10"), parse_price("0.5")) == 100_000


def test_negative_fee_parameters_are_rejected():
    with pytest.raises(ValueError, match="fee parameter must be a finite non-negative number"):
        FeeParams(Decimal("-1"), Decimal(0))


def test_money_converters_round_trip_exactly():
    assert decimal_to_micros(Decimal("0.01")) == 10_000
    assert decimal_to_micros("1.234567") == 1_234_567
    assert micros_to_decimal(1_234_567) == Decimal("1.234567")
    with pytest.raises(ValueError, match=r"not a whole number of micro-dollars: '0\.0000001'"):
        decimal_to_micros("0.0000001")


def test_datetime_to_ns_counts_the_seconds_and_microseconds_of_the_day():
    # 2026-09-21T14:13:20.123456Z is 1_790_000_000.123456 s after the epoch
    when = dt.datetime(2026, 9, 21, 14, 13, 20, 123_456, tzinfo=UTC)

    assert datetime_to_ns(when) == 1_790_000_000_123_456_000


def test_datetime_to_ns_is_exact_utc_and_treats_naive_as_utc():
    # 2026-03-30T00:00:00Z is 1_774_828_800 s after the epoch (calendar.timegm)
    aware = dt.datetime(2026, 3, 30, tzinfo=UTC)
    naive = dt.datetime(2026, 3, 30, 0, 0, 0, 7)

    assert datetime_to_ns(aware) == 1_774_828_800 * 10**9
    assert datetime_to_ns(naive) == 1_774_828_800 * 10**9 + 7_000
    assert datetime_to_ns(dt.datetime(2026, 3, 30, 2, tzinfo=dt.timezone(dt.timedelta(hours=2)))) == (
        1_774_828_800 * 10**9
    )


def test_fee_schedule_picks_the_latest_override_in_force_and_keeps_unset_values():
    t1 = datetime_to_ns(dt.datetime(2026, 3, 30, tzinfo=UTC))
    t2 = datetime_to_ns(dt.datetime(2026, 7, 10, tzinfo=UTC))
    schedule = FeeSchedule(
        Decimal("1"),
        Decimal("0"),
        # given out of order on purpose
        [(t2, Decimal("0.5"), None), (t1, None, Decimal("0.04"))],
    )

    before = schedule.for_time(t1 - 1)
    at_first = schedule.for_time(t1)
    between = schedule.for_time(t2 - 1)
    after = schedule.for_time(t2 + 10**18)

    assert (before.kalshi_multiplier, before.polymarket_rate) == (1, 0)
    assert (at_first.kalshi_multiplier, at_first.polymarket_rate) == (1, Decimal("0.04"))
    assert (between.kalshi_multiplier, between.polymarket_rate) == (1, Decimal("0.04"))
    # the second override only sets the Kalshi multiplier; the 0.04 rate stays in force
    assert (after.kalshi_multiplier, after.polymarket_rate) == (Decimal("0.5"), Decimal("0.04"))
    assert schedule.change_times == (t1, t2)


def test_fee_schedule_from_config_pair_with_dated_overrides():
    config = parse_config(
        """
        [[pairs]]
        name = "p"
        kalshi_ticker = "K"
        polymarket_yes_token = "Y"
        polymarket_no_token = "N"
        kalshi_fee_multiplier = 1.0
        polymarket_fee_rate = 0.03

        [[pairs.fee_overrides]]
        since = 2026-07-10T00:00:00Z
        polymarket_fee_rate = 0.05
        """
    )
    schedule = FeeSchedule.from_pair(config.pairs[0])
    switch = datetime_to_ns(dt.datetime(2026, 7, 10, tzinfo=UTC))
    one = parse_size("100")
    half = parse_price("0.5")

    # 100 * 0.03 * 0.25 = 0.75 before the switch, 100 * 0.05 * 0.25 = 1.25 from it on
    assert schedule.for_time(switch - 1).polymarket(one, half) == 750_000
    assert schedule.for_time(switch).polymarket(one, half) == 1_250_000
    # Kalshi multiplier unchanged: 0.07 * 100 * 0.25 = 1.75
    assert schedule.for_time(switch).kalshi(one, half) == 1_750_000
