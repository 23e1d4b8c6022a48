"""Specification of exact price/size units (DESIGN §5): wire strings to integers, no floats."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arbkit.core.fixedpoint import (
    PRICE_ONE,
    PRICE_SCALE,
    SIZE_SCALE,
    cents_to_ticks,
    contracts_to_size,
    decimal_to_price,
    decimal_to_size,
    parse_price,
    parse_size,
    plain_millionths,
    plain_ticks,
    price_to_decimal,
    size_to_decimal,
)


@pytest.mark.parametrize(
    ("text", "ticks"),
    [
        ("0.4700", 4700),  # Kalshi era C, 4 dp
        ("0.47", 4700),  # Polymarket, 2 dp
        ("0.960", 9600),  # Kalshi examples with 3 dp
        ("0.0125", 125),  # sub-penny tick
        ("0.001", 10),
        ("1", PRICE_ONE),
        ("0", 0),
        (".5", 5000),
        ("-0.25", -2500),
        ("0.47000000", 4700),  # extra zero places are exact
    ],
)
def test_parse_price_is_exact(text, ticks):
    assert parse_price(text) == ticks


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("1300.5", 1_300_500_000),
        ("9000023.58", 9_000_023_580_000),
        ("-25.00", -25_000_000),  # Kalshi delta_fp
        ("31.54", 31_540_000),  # fractional Kalshi count
        ("51200", 51_200_000_000),
        ("0.000001", 1),
        ("10500100", 10_500_100_000_000),
    ],
)
def test_parse_size_is_exact(text, size):
    assert parse_size(text) == size


def test_parsing_the_same_text_twice_gives_the_same_value():
    # The second call is served from the cache.
    assert parse_price("0.3300") == parse_price("0.3300") == 3300
    assert parse_size("75.50") == parse_size("75.50") == 75_500_000


@pytest.mark.parametrize("text", ["0.47001", "0.00001"])
def test_a_price_finer_than_a_tick_is_rejected(text):
    with pytest.raises(ValueError, match="decimal places"):
        parse_price(text)


def test_a_size_finer_than_a_millionth_is_rejected():
    with pytest.raises(ValueError, match="decimal places"):
        parse_size("1.0000001")


@pytest.mark.parametrize(
    "garbage", ["", " ", ".", "-", "+", "abc", "1e5", "0x10", "1_000", "0.4.7", "--1", "NaN", "inf", "٣", None, 47, 0.47, [1]]
)
def test_anything_but_a_plain_decimal_string_is_a_value_error(garbage):
    with pytest.raises(ValueError):
        parse_price(garbage)
    with pytest.raises(ValueError):
        parse_size(garbage)


def test_legacy_integer_units_convert_exactly():
    assert cents_to_ticks(33) == parse_price("0.33")
    assert contracts_to_size(210) == parse_size("210.00")


def test_units_render_as_exact_decimals():
    assert price_to_decimal(4700) == Decimal("0.47")
    assert str(price_to_decimal(125)) == "0.0125"
    assert size_to_decimal(1_300_500_000) == Decimal("1300.5")
    assert size_to_decimal(-25_000_000) == Decimal("-25")


def test_decimals_convert_to_units_exactly():
    assert decimal_to_price(Decimal("0.47")) == 4700
    assert decimal_to_price("0.0125") == 125
    assert decimal_to_price(Decimal("1E-2")) == 100
    assert decimal_to_size(Decimal("9000023.58")) == 9_000_023_580_000


@pytest.mark.parametrize("value", [Decimal("0.00001"), Decimal("NaN"), Decimal("Infinity"), "abc", 0.5, None])
def test_inexact_or_non_decimal_values_are_rejected_by_decimal_to_price(value):
    with pytest.raises(ValueError):
        decimal_to_price(value)


def test_scales_match_the_unit_definitions():
    assert parse_price("1") == PRICE_SCALE
    assert parse_size("1") == SIZE_SCALE


@given(st.integers(-(10**12), 10**12))
def test_price_ticks_round_trip_through_decimal_and_text(ticks):
    dollars = price_to_decimal(ticks)

    assert decimal_to_price(dollars) == ticks
    assert parse_price(format(dollars, "f")) == ticks


@given(st.integers(-(10**15), 10**15))
def test_size_millionths_round_trip_through_decimal_and_text(size):
    contracts = size_to_decimal(size)

    assert decimal_to_size(contracts) == size
    assert parse_size(format(contracts, "f")) == size


@given(st.decimals(min_value=-10**6, max_value=10**6, places=4, allow_nan=False, allow_infinity=False))
def test_any_four_place_decimal_parses_to_its_exact_tick_count(value):
    assert parse_price(format(value, "f")) * Decimal(1) == value * PRICE_SCALE


PLAIN_DECIMAL = re.compile(r" *[-+]?(\d+\.?\d*|\.\d+) *")


@given(st.text(alphabet="0123456789.-+ e", max_size=14))
def test_a_string_parses_to_its_exact_value_or_is_rejected_when_not_plain_or_too_fine(text):
    exact = Decimal(text.strip()) * SIZE_SCALE if PLAIN_DECIMAL.fullmatch(text) else None
    representable = exact is not None and exact == exact.to_integral_value()

    if representable:
        assert parse_size(text) == exact
    else:
        with pytest.raises(ValueError):
            parse_size(text)


# The plain readers answer (or pass, with -1) for what decoders take on their hot paths.
_plain_text = st.builds(
    lambda whole, frac: whole + frac,
    st.text(alphabet="0123456789", min_size=1, max_size=12),
    st.one_of(st.just(""), st.text(alphabet="0123456789", max_size=7).map(lambda f: "." + f)),
)
_near_plain_text = st.one_of(
    _plain_text,
    st.text(alphabet="0123456789.+-e _\u0663\u00b2", max_size=22),
    st.text(max_size=10),
)


def _parsed(parse, text: str) -> int | None:
    try:
        return parse(text)
    except ValueError:
        return None


@given(_near_plain_text)
def test_plain_readers_agree_with_the_parsers_wherever_they_answer(text):
    size = plain_millionths(text)
    ticks = plain_ticks(text)

    assert size == -1 or size == _parsed(parse_size, text)
    assert ticks == -1 or ticks == _parsed(parse_price, text)


@given(_plain_text)
def test_plain_readers_answer_every_plain_decimal_they_can_hold(text):
    places = len(text.partition(".")[2])

    assert plain_millionths(text) == (parse_size(text) if places <= 6 else -1)
    assert plain_ticks(text) == (parse_price(text) if places <= 4 else -1)


def test_plain_millionths_reads_from_an_offset_and_refuses_what_is_not_plain():
    assert plain_millionths("-25.5", 1) == 25_500_000
    assert plain_millionths("1300.") == 1_300_000_000
    for text in ("", ".5", "1.2.3", "+1", " 1", "1e3", "1234567890123", "1.0000001"):
        assert plain_millionths(text) == -1, text
