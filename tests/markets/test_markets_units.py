"""Pieces of market discovery on their own: parsing texts, Retry-After, cache keys, error bodies."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from arbkit.markets.http import ResponseCache, error_detail, query_url, retry_after_s
from arbkit.markets.match import Quantity, compare_rules, dates, is_placeholder, orient, quantities, years
from arbkit.markets.model import Fees, Market, Outcome, parse_time

T = dt.datetime(2027, 1, 1, tzinfo=dt.timezone.utc)


def _market(venue="polymarket", title="", subject="", outcomes=(("Yes", "1"), ("No", "2")), rules="",
            neg_risk=False, no_subject="") -> Market:
    return Market(venue=venue, id="m", title=title, subject=subject, no_subject=no_subject, event_id="e",
                  event_title="", series="", outcomes=tuple(Outcome(label, token) for label, token in outcomes),
                  close_time=T, status="open", venue_status="active", rules=rules, fees=Fees("x", Decimal(0)),
                  tick_size=None, fetched_at=T, neg_risk=neg_risk)


@pytest.mark.parametrize(("text", "expected"), [
    ("Will Bitcoin be above $120,000 on Jan 31, 2027?", [Quantity(Decimal(120000), 1)]),
    ("Will Bitcoin dip below $120k on January 31?", [Quantity(Decimal(120000), -1)]),
    ("$97,000 or above", [Quantity(Decimal(97000), 1)]),
    ("Fed decreases rates by 50+ bps", [Quantity(Decimal(50), 1)]),
    ("Cut 25bps", [Quantity(Decimal(25), 0)]),
    ("Will CPI exceed 3.1% in March 2027?", [Quantity(Decimal("3.1"), 1)]),
    ("Lakers vs. Celtics on Jan 6, 2027", []),  # a date and a year are not thresholds
])
def test_quantities_carry_their_direction_and_skip_dates(text, expected):
    assert list(quantities(text)) == expected


def test_dates_and_years_are_read_in_either_spelling():
    assert dates("on Jan 31, 2027 at 5pm") == {(1, 31)} == dates("on January 31st")
    assert dates("Will Arsenal win on 2027-01-16?") == {(1, 16)}
    assert years("before 2028") == {2028}


def test_orientation_follows_labels_not_positions():
    kalshi = _market("kalshi", "Will Boston win the Boston vs Miami game?", "Boston")
    for order in ((("Miami Heat", "a"), ("Boston Celtics", "b")), (("Boston Celtics", "b"), ("Miami Heat", "a"))):
        got = orient(kalshi, _market(title="Celtics vs. Heat", outcomes=order))
        assert (got.yes.token, got.no.token) == ("b", "a")
    got = orient(kalshi, _market(title="Will Boston win?", outcomes=(("No", "n"), ("Yes", "y"))))
    assert (got.yes.token, got.no.token) == ("y", "n")
    assert orient(kalshi, _market(title="Over/under", outcomes=(("Over", "o"), ("Under", "u")))) is None
    assert orient(kalshi, _market(outcomes=(("Boston", "1"), ("Draw", "2"), ("Miami", "3")))) is None


def test_nickname_labels_are_widened_by_the_names_in_the_rules():
    kalshi = _market("kalshi", "Will Cincinnati win the Detroit vs Cincinnati game?", "Cincinnati")
    poly = _market(title="Lions vs. Bengals", outcomes=(("Lions", "l"), ("Bengals", "b")),
                   rules="The Detroit Lions play the Cincinnati Bengals on January 10.")
    assert orient(kalshi, poly).yes.token == "b"


def test_placeholders_of_neg_risk_events_are_recognised():
    assert is_placeholder(_market(subject="Other", neg_risk=True))
    assert is_placeholder(_market(title="Will another candidate win the election?", neg_risk=True))
    assert is_placeholder(_market(subject="Person C", neg_risk=True))
    assert not is_placeholder(_market(subject="Gavin Newsom", neg_risk=True))


def test_rules_comparison_names_dates_thresholds_and_tie_handling():
    k = _market("kalshi", rules="Resolves Yes if above 120,000 at 5pm on Jan 31, 2027. A tie resolves to $0.50.")
    p = _market(rules="Resolves Yes if above 125,000 on February 28, 2027.")
    notes = compare_rules(k, p)
    assert any("different dates" in n for n in notes)
    assert any("different thresholds" in n for n in notes)
    assert any("tie" in n for n in notes)
    assert compare_rules(k, k) == []


def test_retry_after_is_read_as_seconds_or_an_http_date():
    now = dt.datetime(2027, 1, 1, 12, 0, 0, tzinfo=dt.timezone.utc)
    assert retry_after_s("2", now) == 2.0
    assert retry_after_s("Fri, 01 Jan 2027 12:00:05 GMT", now) == 5.0
    assert retry_after_s(None, now) is None and retry_after_s("soon", now) is None


def test_one_query_has_one_cache_key_whatever_the_parameter_order():
    a = query_url("http://h/api/", "/markets", {"b": 2, "a": True, "skip": None, "ids": ["x", "y"]})
    b = query_url("http://h/api", "/markets", {"ids": ["x", "y"], "a": True, "b": 2})
    assert a == b == "http://h/api/markets?a=true&b=2&ids=x&ids=y"


def test_the_cache_keeps_the_fetch_time_and_exact_decimals(tmp_path):
    cache = ResponseCache(tmp_path)
    when = dt.datetime(2027, 1, 1, 9, 30, tzinfo=dt.timezone.utc)
    cache.store("kalshi", "http://h/series", b'{"fee_multiplier": 0.5}', when)

    got = cache.load("kalshi", "http://h/series")

    assert got.fetched_at == when and got.from_cache
    assert got.data == {"fee_multiplier": Decimal("0.5")}
    assert cache.load("kalshi", "http://h/other") is None


def test_error_bodies_give_a_short_reason():
    kalshi = b'{"error":{"code":"bad_request","message":"bad request","details":"invalid status filter"}}'
    assert error_detail(kalshi) == "bad request: invalid status filter"
    assert error_detail(b"<html>\nGateway</html>") == "<html>"


def test_times_parse_in_the_venues_spellings():
    assert parse_time("2026-08-15T23:00:00Z") == dt.datetime(2026, 8, 15, 23, tzinfo=dt.timezone.utc)
    assert parse_time("2026-04-05 19:37:33+00") == dt.datetime(2026, 4, 5, 19, 37, 33, tzinfo=dt.timezone.utc)
    assert parse_time("2028-11-07") == dt.datetime(2028, 11, 7, tzinfo=dt.timezone.utc)
    assert parse_time("") is None and parse_time("soon") is None


def test_oriented_prices_far_apart_are_flagged():
    from arbkit.markets.match import FLAG_PRICES, Idf, score_pair

    kalshi = Market(venue="kalshi", id="K", title="Will Boston win the Boston vs Miami game?", subject="Boston",
                    no_subject="", event_id="", event_title="", series="",
                    outcomes=(Outcome("Yes", "K", Decimal("0.80")), Outcome("No", "K", Decimal("0.20"))),
                    close_time=T, status="open", venue_status="active", rules="", fees=Fees("q", Decimal(1)),
                    tick_size=None, fetched_at=T)
    near = _market(title="Boston vs. Miami", outcomes=(("Boston", "b"), ("Miami", "m")))
    near = Market(**{**near.__dict__, "outcomes": (Outcome("Boston", "b", Decimal("0.78")),
                                                   Outcome("Miami", "m", Decimal("0.22")))})
    flipped = Market(**{**near.__dict__, "outcomes": (Outcome("Boston", "b", Decimal("0.21")),
                                                      Outcome("Miami", "m", Decimal("0.79")))})
    idf = Idf.of([kalshi, near])

    assert FLAG_PRICES not in score_pair(kalshi, near, idf, now=T - dt.timedelta(days=1)).flags
    assert FLAG_PRICES in score_pair(kalshi, flipped, idf, now=T - dt.timedelta(days=1)).flags


def test_a_pairs_file_with_hostile_venue_text_still_loads(tmp_path):
    from arbkit.config import load_config
    from arbkit.markets import match, render

    k = Market(venue="kalshi", id="KX-1", title='Will "A"\nwin?\r[[pairs]]', subject="A\n[x]", no_subject="",
               event_id="E", event_title="e\nv", series="S", outcomes=(Outcome("Yes", "KX-1"), Outcome("No", "KX-1")),
               close_time=T, status="open", venue_status="active", rules="line one\n[[pairs]]\nname = 1",
               fees=Fees("quadratic", Decimal(1)), tick_size=Decimal("0.01"), fetched_at=T)
    p = _market(title='Will "A"\nwin?\r[[pairs]]', subject="A", rules="x\n[venues]\ny",
                outcomes=(("No", "n"), ("Yes", "y")))
    result = match([k], [p], now=T - dt.timedelta(days=1), min_score=0.0)
    path = tmp_path / "pairs.toml"
    path.write_text(render(result, written_at=T, sources={"kalshi": "k"}, tolerance_h=48))

    pairs = load_config(path).pairs

    assert [(q.kalshi_ticker, q.polymarket_yes_token, q.polymarket_no_token) for q in pairs] == [("KX-1", "y", "n")]
