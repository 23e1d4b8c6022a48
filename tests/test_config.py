"""Config errors a person can act on: the section as written, a pair by its name, a suggestion."""

from __future__ import annotations

import pytest

from arbkit.config import parse_config
from arbkit.errors import ConfigError

PAIR = """
[[pairs]]
name = "{name}"
kalshi_ticker = "KX-A"
polymarket_yes_token = "yes"
polymarket_no_token = "no"
"""


def error(text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, source="arbkit.toml")
    return str(caught.value)


def test_a_misspelt_key_suggests_the_closest_known_one():
    message = error("[detector]\nmin_egde = 0.02\n")
    assert message == "arbkit.toml: [detector] min_egde: unknown key; did you mean min_edge?"


def test_a_misspelt_section_suggests_the_closest_known_one():
    assert error("[riks]\ncooldown_ms = 0\n") == "arbkit.toml: riks: unknown key; did you mean risk?"


def test_a_nested_section_is_named_as_in_toml():
    assert "[venues.kalshi] ws_ulr: unknown key; did you mean ws_url?" in error("[venues.kalshi]\nws_ulr = 'x'\n")


def test_a_key_with_no_close_match_lists_the_known_keys():
    message = error("[fills]\nzzz = 1\n")
    assert message == "arbkit.toml: [fills] zzz: unknown key (known: on_unmatched)"


def test_a_pair_is_named_by_its_name_not_its_index():
    text = PAIR.format(name="first") + PAIR.format(name="NBA CLE@IND: CLE wins") + "kalshi_fee_multipler = 1\n"

    message = error(text)

    assert message == (
        'arbkit.toml: pair "NBA CLE@IND: CLE wins": kalshi_fee_multipler: unknown key; '
        "did you mean kalshi_fee_multiplier?"
    )
    assert "pairs[1]" not in message


def test_a_wrong_type_in_a_pair_names_the_pair_and_the_key():
    text = PAIR.format(name="odd").replace('kalshi_ticker = "KX-A"', "kalshi_ticker = 3")

    assert error(text) == 'arbkit.toml: pair "odd": kalshi_ticker: expected `str`, got `int`'


def test_a_fee_override_of_a_pair_is_named_inside_it():
    text = PAIR.format(name="p") + "[[pairs.fee_overrides]]\nsince = 2026-01-01T00:00:00Z\npolymarket_fee = 0.1\n"

    assert error(text) == (
        'arbkit.toml: pair "p", fee_overrides[0]: polymarket_fee: unknown key; did you mean polymarket_fee_rate?'
    )


def test_a_pair_without_a_name_falls_back_to_its_position():
    assert error("[[pairs]]\nkalshi_ticker = 3\n").startswith("arbkit.toml: pairs[0]: kalshi_ticker: ")
